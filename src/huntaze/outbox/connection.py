"""The outbox's connections: transactions for claims and outcomes, and one kept driver
connection for the send loop's hot path."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import Connection, Engine

from huntaze.db.dialect import is_postgres

log = structlog.get_logger("huntaze.outbox")


class OutboxConnections:
    """Opens the outbox's connections on one engine.

    Claims and outcomes are short transactions: on SQLite they take the write lock at
    ``BEGIN IMMEDIATE`` (https://sqlite.org/lang_transaction.html), so a read never has to be
    upgraded to a write under a concurrent writer.

    Args:
        engine: the database (SQLite or PostgreSQL).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: True on PostgreSQL, where claims and outcomes use its set-based statements
        self.pg = is_postgres(engine)
        self._raw_conn: Any = None

    def begin(self) -> Connection:
        """A connection whose transactions take the write lock at once on SQLite."""
        conn = self.engine.connect()
        if not self.pg:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        return conn

    def record(self) -> Connection:
        """A connection for recording outcomes. On PostgreSQL these small commits do not wait
        for the WAL flush (``synchronous_commit = off``): a killed worker loses nothing the
        server acknowledged, and a server crash can only lose the last fraction of a second of
        outcomes, whose messages are then sent again (at-least-once, with their idempotency
        keys)."""
        conn = self.begin()
        if self.pg:
            conn = conn.execution_options(postgresql_synchronous_commit_off=True)
        return conn

    def raw(self) -> Any:
        """This outbox's own driver connection for the hot path, in autocommit mode (one
        statement, one transaction); on PostgreSQL without waiting for the WAL flush."""
        if self._raw_conn is None:
            raw = self.engine.raw_connection()
            driver: Any = raw.driver_connection
            if self.pg:
                driver.rollback()  # end the pool's pre-ping transaction
                driver.autocommit = True
                driver.execute("SET synchronous_commit = off")
            raw.detach()  # its session settings must never reach the pool
            self._raw_conn = raw
        return self._raw_conn

    def close(self) -> None:
        """Give the hot-path connection back (workers call this when they stop)."""
        if self._raw_conn is not None:
            raw, self._raw_conn = self._raw_conn, None
            try:
                raw.close()
            except Exception:
                log.warning("outbox_connection_close_failed")
