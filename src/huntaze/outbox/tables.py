"""The outbox's tables for Core queries, and the claimed-row value the worker holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, String, Table, literal_column

from huntaze.models.messaging import OutboxMessage, SendAttempt, SendingAccount
from huntaze.platforms.base import OutgoingMessage

OUTBOX = cast(Table, OutboxMessage.__table__)

#: Status values written into the SQL text rather than bound. A partial index (such as
#: ``ix_outbox_queued``) serves a query only when the planner proves the query's WHERE implies
#: the index's, at planning time: PostgreSQL's generic plan for a prepared statement (psycopg
#: prepares a statement after 5 runs) cannot prove it from a parameter
#: (https://www.postgresql.org/docs/current/indexes-partial.html, "parameterized query clauses
#: do not work with a partial index"). SQLite 3.40 (this machine's) picked the index with a
#: bound value as well (EXPLAIN QUERY PLAN); the literal holds on both, whatever the version.
QUEUED: ColumnElement[str] = literal_column("'queued'", String)
PROCESSING: ColumnElement[str] = literal_column("'processing'", String)
ACCOUNTS = cast(Table, SendingAccount.__table__)
ATTEMPTS = cast(Table, SendAttempt.__table__)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row a worker holds under lease, ready to hand to its account's channel.

    Attributes:
        message: what to send.
        account_id, channel: the sending account and its channel name.
        attempts, max_attempts: this attempt's number (already counted) and the budget.
        claimed_at: when its ``send_attempts`` row says the attempt started (UTC); moved
            forward by :meth:`huntaze.outbox.service.Outbox.restamp` when the send starts
            later.
        breaker_clean: the account's breaker was closed with no failures at claim time.
        limited: the account has send-rate windows (its sends are restamped when late).
        config_version: the account's ``config_version`` at claim time (the channel cache key).
    """

    message: OutgoingMessage
    account_id: str
    channel: str
    attempts: int
    max_attempts: int
    claimed_at: datetime
    breaker_clean: bool = True
    limited: bool = False
    config_version: int = 0
