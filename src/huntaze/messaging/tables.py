"""The outbox's tables for Core queries, and the claimed-row value the worker holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, String, Table, literal_column

from huntaze.models.messaging import OutboxMessage, SendAttempt, SendingAccount
from huntaze.platforms.base import OutgoingMessage

OUTBOX = cast(Table, OutboxMessage.__table__)

#: Status values written into the SQL text rather than bound: SQLite uses a partial index
#: (``ix_outbox_queued``) only when the query's WHERE literally implies the index's WHERE, and
#: a bound parameter never does (https://www.sqlite.org/partialindex.html, "Queries Using
#: Partial Indexes").
QUEUED: ColumnElement[str] = literal_column("'queued'", String)
PROCESSING: ColumnElement[str] = literal_column("'processing'", String)
ACCOUNTS = cast(Table, SendingAccount.__table__)
ATTEMPTS = cast(Table, SendAttempt.__table__)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row a worker holds under lease, ready to hand to its account's channel."""

    message: OutgoingMessage
    account_id: str
    channel: str
    attempts: int
    max_attempts: int
    claimed_at: datetime
    breaker_clean: bool = True
