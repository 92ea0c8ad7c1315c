"""A large first import loads its fans with the fan list's sort indexes dropped, then
rebuilds them.

Each sort of the fan list has its own index on ``fans`` (``ix_fans_sort_*``, migration 0006).
Rows arrive in file order, which is random order for most of those indexes (last activity,
lifetime value, subscription date…): once an index outgrows the database's page cache, every
row costs a page read and a page write per index, and a 1,000,000-row first import took
185 s on SQLite instead of about 20 (``python -m bench.import_bench``; docs/benchmarks.md).
Building an index after the load sorts its entries once instead (SQLite
https://www.sqlite.org/lang_createindex.html; PostgreSQL
https://www.postgresql.org/docs/current/populate.html#POPULATE-RM-INDEXES).

On PostgreSQL the foreign key from ``fans`` to ``creators`` is deferred the same way: its
check is one query per inserted row, about 7 µs of the server's time, a third of a ``COPY``
into ``fans`` (same page, "Remove Foreign Key Constraints"). It is added back ``NOT VALID``
and then validated, which checks every row in one pass.

An index covers every creator, so this only pays when the rows to load are many and the
rows already stored are few. It is used when all of these hold:

* the creator has no fans yet (a first import);
* the file is at least :data:`BULK_MIN_BYTES`;
* ``fans`` holds at most one stored row per :data:`BYTES_PER_STORED_ROW` bytes of the file
  (about the rows the file brings), so the rebuild sorts at most about twice the new rows.

While the indexes are away, the fan lists of other creators are served without them (slower,
never wrong). They are rebuilt when the import ends, whether it succeeded or not, and
:func:`repair` (run by every import, by ``huntaze db upgrade`` and by every command that opens
the database) puts back whatever a killed process left missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import (
    Engine,
    ForeignKeyConstraint,
    Index,
    Table,
    func,
    inspect,
    select,
)
from sqlalchemy.exc import DBAPIError

from huntaze.imports.writing.store import store_for
from huntaze.models.crm import Fan

#: The smallest file (bytes) loaded with the sort indexes deferred (about 130,000 Patreon rows).
BULK_MIN_BYTES = 32 * 1024 * 1024
#: Bytes of a file counted as one row to come, when weighing the rows already stored.
BYTES_PER_STORED_ROW = 256


def sort_indexes() -> list[Index]:
    """The fan list's sort indexes, as the model declares them."""
    table: Table = Fan.__table__  # type: ignore[assignment]
    found = [index for index in table.indexes if str(index.name).startswith("ix_fans_sort_")]
    return sorted(found, key=lambda index: str(index.name))


def ensure_sort_indexes(engine: Engine) -> None:
    """Create any sort index of ``fans`` that is missing (a no-op when all exist).

    Raises:
        sqlalchemy.exc.SQLAlchemyError: on a database failure other than another session
            creating the same index at the same moment.
    """
    with engine.connect() as conn:
        present = {index["name"] for index in inspect(conn).get_indexes("fans")}
    for index in sort_indexes():
        if index.name in present:
            continue
        try:
            with engine.connect() as conn, store_for(conn).index_build(conn), conn.begin():
                index.create(conn, checkfirst=True)
        except DBAPIError:
            with engine.connect() as conn:
                if not engine.dialect.has_index(conn, "fans", str(index.name)):
                    raise


def _creator_fk() -> ForeignKeyConstraint:
    table: Table = Fan.__table__  # type: ignore[assignment]
    for key in table.foreign_keys:
        if key.column.table.name == "creators":
            return key.constraint  # type: ignore[return-value]
    raise LookupError("fans has no foreign key to creators")


def ensure_creator_fk(engine: Engine) -> None:
    """PostgreSQL: add back the foreign key from ``fans`` to ``creators`` if it is missing,
    and validate it if it is not yet (a no-op when it is in place, and on SQLite).

    Raises:
        sqlalchemy.exc.SQLAlchemyError: when validation finds a fan whose creator is gone
            (the key then stays, enforced on new rows, and the next import tries again).
    """
    store_for(engine).ensure_creator_fk(engine, str(_creator_fk().name))


def repair(engine: Engine) -> None:
    """Put back whatever a bulk load killed half-way left out: the sort indexes and, on
    PostgreSQL, the foreign key to ``creators`` (a no-op when nothing is missing).

    Raises:
        sqlalchemy.exc.SQLAlchemyError: as :func:`ensure_sort_indexes` and
            :func:`ensure_creator_fk`.
    """
    ensure_sort_indexes(engine)
    ensure_creator_fk(engine)


def should_defer(engine: Engine, creator_id: str, size_hint: int | None) -> bool:
    """Whether an import of ``size_hint`` bytes for ``creator_id`` loads with the sort indexes
    deferred (see the module docstring)."""
    if size_hint is None or size_hint < BULK_MIN_BYTES:
        return False
    with engine.connect() as conn:
        own = conn.execute(select(Fan.id).where(Fan.creator_id == creator_id).limit(1)).first()
        if own is not None:
            return False
        stored = conn.execute(select(func.count()).select_from(Fan)).scalar_one()
    return int(stored) * BYTES_PER_STORED_ROW <= size_hint


@contextmanager
def deferred_sort_indexes(engine: Engine, creator_id: str, size_hint: int | None) -> Iterator[bool]:
    """Run the block with the sort indexes dropped when :func:`should_defer` says so, and
    rebuild them afterwards, whatever happens; yields whether they were deferred."""
    repair(engine)
    if not should_defer(engine, creator_id, size_hint):
        yield False
        return
    with engine.begin() as conn:
        for index in sort_indexes():
            index.drop(conn, checkfirst=True)
        store_for(conn).drop_creator_fk(conn, str(_creator_fk().name))
    try:
        yield True
    finally:
        repair(engine)
