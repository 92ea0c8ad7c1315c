"""Engine set-up that the outbox's hot path relies on."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from huntaze.db.engine import make_engine


def test_sqlite_pooled_connections_never_hold_a_driver_transaction(tmp_path: Path) -> None:
    """A connection once used in AUTOCOMMIT comes back from the pool reset to the driver's
    implicit BEGIN; a raw writer on it would keep the write lock and lock out every claim."""
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("SELECT 1"))
    raw = engine.raw_connection()  # the same pooled connection, as the outbox takes it
    cur = raw.driver_connection.cursor()  # type: ignore[union-attr]
    cur.execute("INSERT INTO t VALUES (1)")
    other = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with other.connect() as conn:
        conn.connection.driver_connection.execute("PRAGMA busy_timeout = 500")  # type: ignore[union-attr]
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():  # would raise "database is locked"
            assert conn.scalar(text("SELECT count(*) FROM t")) == 1
    raw.close()
    engine.dispose()
    other.dispose()
