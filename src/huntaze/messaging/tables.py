"""The outbox's tables for Core queries, and the claimed-row value the worker holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, case, or_

from huntaze.models.messaging import OutboxMessage, SendAttempt, SendingAccount
from huntaze.platforms.base import OutgoingMessage

OUTBOX = cast(Table, OutboxMessage.__table__)
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


def due_condition(now: datetime) -> Any:
    """Rows that may be claimed: queued and due, or processing under an expired lease."""
    return or_(
        and_(OUTBOX.c.status == "queued", OUTBOX.c.not_before <= now),
        and_(OUTBOX.c.status == "processing", OUTBOX.c.claimed_until < now),
    )


def claim_order(now: datetime, low_priority_max_age: float) -> list[Any]:
    """Priority, then age; a row older than ``low_priority_max_age`` seconds counts as high."""
    aged = now - timedelta(seconds=low_priority_max_age)
    return [
        case((OUTBOX.c.created_at < aged, 0), else_=OUTBOX.c.priority),
        OUTBOX.c.created_at,
        OUTBOX.c.id,
    ]
