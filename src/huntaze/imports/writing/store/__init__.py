"""The import writer's SQL, one store per engine (:class:`ImportStore`).

:func:`store_for` picks the store of a bind's engine once; nothing else in the import
writer tests which database it runs on.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from huntaze.db.dialect import is_postgres
from huntaze.imports.writing.store.base import (
    FAN_INSERT_COLUMNS,
    PURCHASE_COLUMNS,
    TIMESTAMP_COLUMNS,
    ImportStore,
)
from huntaze.imports.writing.store.postgres import PostgresImportStore
from huntaze.imports.writing.store.sqlite import SqliteImportStore

__all__ = [
    "FAN_INSERT_COLUMNS",
    "PURCHASE_COLUMNS",
    "TIMESTAMP_COLUMNS",
    "ImportStore",
    "PostgresImportStore",
    "SqliteImportStore",
    "store_for",
]

_POSTGRES = PostgresImportStore()
_SQLITE = SqliteImportStore()


def store_for(bind: Connection | Engine) -> ImportStore:
    """The import store of ``bind``'s engine (PostgreSQL's, else SQLite's)."""
    return _POSTGRES if is_postgres(bind) else _SQLITE
