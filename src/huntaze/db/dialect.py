"""The one place that asks which database engine is in use, and hands out the driver's own
cursor for the statements SQLAlchemy Core would slow down (``COPY``, ``= ANY(%s)`` arrays,
``executemany`` batches).

Huntaze runs on two engines: PostgreSQL through psycopg 3, and SQLite through the standard
library's ``sqlite3``. Their SQL differs where one has a feature the other lacks (arrays,
``COPY``, ``FOR UPDATE SKIP LOCKED``); the modules that hold such SQL ask :func:`is_postgres`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session


def is_postgres(bind: Connection | Engine | Session) -> bool:
    """True when ``bind`` talks to PostgreSQL, False for SQLite."""
    if isinstance(bind, Session):
        return bind.get_bind().dialect.name == "postgresql"
    return bind.dialect.name == "postgresql"


def writer_bind(engine: Engine) -> Engine:
    """``engine`` for transactions that may write: on SQLite they begin with ``BEGIN
    IMMEDIATE``, taking the one write lock at once, so a read that turns into a write never
    fails on a snapshot another writer has moved past (``SQLITE_BUSY_SNAPSHOT``,
    https://sqlite.org/rescode.html#busy_snapshot); PostgreSQL's ``engine`` as it is."""
    if is_postgres(engine):
        return engine
    return engine.execution_options(sqlite_begin="IMMEDIATE")


def driver_connection(conn: Connection) -> Any:
    """``conn``'s DB-API connection: a ``psycopg.Connection`` or a ``sqlite3.Connection``
    (typed ``Any``: SQLAlchemy types it as either driver's, or None once closed)."""
    return conn.connection.driver_connection


def driver_cursor(conn: Connection) -> Any:
    """A new cursor on ``conn``'s DB-API connection, inside ``conn``'s transaction; it closes
    with the connection, or earlier when the caller closes it."""
    return driver_connection(conn).cursor()
