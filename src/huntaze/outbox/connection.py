"""The outbox's connections, one kind per engine: transactions for claims and outcomes, one
kept driver connection for the send loop's hot path, and the locks and statements that
differ between the engines.

The two engines keep claims apart in different ways, and the outbox asks its connections
which way rather than testing the dialect:

* PostgreSQL locks rows (:class:`RowLockingConnections`): a claim locks the accounts it
  serves with ``FOR UPDATE SKIP LOCKED``, so workers claim for disjoint accounts at once,
  and reads that must not race a claim hold the account row
  (https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-ROWS).
* SQLite has one writer at a time (:class:`SingleWriterConnections`): every claim and
  outcome transaction takes the write lock at ``BEGIN IMMEDIATE``
  (https://sqlite.org/lang_transaction.html), so a read is never upgraded to a write under
  a concurrent writer and no row lock is needed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

import structlog
from sqlalchemy import Connection, Engine, Select

from huntaze.db.base import db_timestamp
from huntaze.db.dialect import is_postgres, writer_bind

log = structlog.get_logger("huntaze.outbox")

_Q = TypeVar("_Q", bound=Select[Any])

#: ``(message id, external id)`` of each message a send loop delivered.
Delivered = Sequence[tuple[str, str | None]]


class OutboxConnections(ABC):
    """Opens the outbox's connections on one engine; :func:`connections_for` picks the
    subclass.

    Args:
        engine: the database.
    """

    #: Whether claims lock the rows they take (PostgreSQL), so that one set-based
    #: statement can claim for many accounts while other workers claim for others; False
    #: where one writer at a time already keeps claims apart (SQLite).
    locks_rows: bool = False

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._raw_conn: Any = None

    def begin(self) -> Connection:
        """A connection for a claim's or an outcome's transaction."""
        return self.engine.connect()

    def record(self) -> Connection:
        """A connection for recording outcomes."""
        return self.begin()

    def hold(self, query: _Q, *, exclusive: bool = False) -> _Q:
        """``query`` (a SELECT of account rows) made to hold what it reads until the
        transaction ends: shared with inserts that check a key to the row, or ``exclusive``.
        Unchanged where the transaction already excludes other writers."""
        return query

    def raw(self) -> Any:
        """This outbox's own driver connection for the hot path (one statement, one
        transaction), detached from the pool: its session settings must never reach it."""
        if self._raw_conn is None:
            raw = self.engine.raw_connection()
            self._configure(raw.driver_connection)
            raw.detach()
            self._raw_conn = raw
        return self._raw_conn

    def _configure(self, driver: Any) -> None:
        """Set up the hot path's driver connection (nothing by default)."""
        return None

    @abstractmethod
    def mark_sent(self, worker_id: str, now: datetime, delivered: Delivered) -> int:
        """Mark ``delivered`` messages sent at ``now`` (UTC), in one transaction on the
        hot-path connection, where ``worker_id`` still holds them; return how many changed.

        Raises:
            Exception: the driver's error (the caller then closes the connection, which is
                replaced on next use).
        """

    def close(self) -> None:
        """Give the hot-path connection back (workers call this when they stop)."""
        if self._raw_conn is not None:
            raw, self._raw_conn = self._raw_conn, None
            try:
                raw.close()
            except Exception:
                log.warning("outbox_connection_close_failed")


# one statement for a whole group (rows found through the primary key)
_MARK_SENT_MANY = (
    "UPDATE outbox o SET status = 'sent', sent_at = %(now)s, external_id = v.external_id, "
    "claimed_until = NULL, last_error = NULL, updated_at = %(now)s "
    "FROM unnest(%(ids)s::text[], %(external_ids)s::text[]) AS v(id, external_id) "
    "WHERE o.id = v.id AND o.status = 'processing' AND o.claimed_by = %(worker)s"
)
_MARK_SENT_ONE = (
    "UPDATE outbox SET status = 'sent', sent_at = ?, external_id = ?, claimed_until = NULL, "
    "last_error = NULL, updated_at = ? WHERE id = ? AND status = 'processing' AND claimed_by = ?"
)


class RowLockingConnections(OutboxConnections):
    """PostgreSQL. Outcomes are small commits that do not wait for the WAL flush
    (``synchronous_commit = off``): a killed worker loses nothing the server acknowledged,
    and a server crash can only lose the last fraction of a second of outcomes, whose
    messages are then sent again (at-least-once, with their idempotency keys)."""

    locks_rows = True

    def record(self) -> Connection:
        """A connection whose commits do not wait for the WAL flush."""
        return self.begin().execution_options(postgresql_synchronous_commit_off=True)

    def hold(self, query: _Q, *, exclusive: bool = False) -> _Q:
        """``FOR NO KEY UPDATE`` (``FOR UPDATE`` when ``exclusive``): a claim changes no key,
        so inserts checking a foreign key to the account (``FOR KEY SHARE``) do not wait."""
        return query.with_for_update(key_share=not exclusive)

    def _configure(self, driver: Any) -> None:
        """Autocommit, without waiting for the WAL flush."""
        driver.rollback()  # end the pool's pre-ping transaction
        driver.autocommit = True
        driver.execute("SET synchronous_commit = off")

    def mark_sent(self, worker_id: str, now: datetime, delivered: Delivered) -> int:
        """One ``UPDATE … FROM unnest(ids, external_ids)``."""
        cur = self.raw().cursor()
        cur.execute(
            _MARK_SENT_MANY,
            {
                "now": now,
                "ids": [message_id for message_id, _ in delivered],
                "external_ids": [external_id for _, external_id in delivered],
                "worker": worker_id,
            },
        )
        changed = int(max(cur.rowcount, 0))
        cur.close()
        return changed


class SingleWriterConnections(OutboxConnections):
    """SQLite: every transaction takes the write lock when it begins."""

    def begin(self) -> Connection:
        """A connection whose transactions start with ``BEGIN IMMEDIATE``."""
        return writer_bind(self.engine).connect()

    def mark_sent(self, worker_id: str, now: datetime, delivered: Delivered) -> int:
        """One ``BEGIN IMMEDIATE`` transaction of one ``UPDATE`` per message
        (``executemany``; the SQLAlchemy path costs several times more per message)."""
        stamp = db_timestamp(now, pg=False)
        cur = self.raw().cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.executemany(
                _MARK_SENT_ONE,
                [
                    (stamp, external_id, stamp, message_id, worker_id)
                    for message_id, external_id in delivered
                ],
            )
            changed = int(max(cur.rowcount, 0))
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.close()
        return changed


def connections_for(engine: Engine) -> OutboxConnections:
    """The outbox's connections on ``engine``: row locks on PostgreSQL, one writer at a time
    on SQLite."""
    if is_postgres(engine):
        return RowLockingConnections(engine)
    return SingleWriterConnections(engine)
