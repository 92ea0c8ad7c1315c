"""Which sending accounts a claim serves, and what it reads of them.

An account is due when it is active, not worked by hand (``manual`` accounts are claimed by
chatters through the API), and holds a queued row whose ``not_before`` has come or a row whose
lease ran out with attempts left. Due accounts come in round-robin order: least recently
served first (``last_served_at``, never served first), so one account's backlog cannot starve
another's (design.md §8 "Outbox claim").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select

from huntaze.models.messaging import AccountStatus
from huntaze.outbox.tables import ACCOUNTS, OUTBOX, PROCESSING, QUEUED

__all__ = ["ACCOUNT_COLUMNS", "EXHAUSTED", "due_accounts"]


#: What a claim reads of a sending account.
ACCOUNT_COLUMNS = select(
    ACCOUNTS.c.id,
    ACCOUNTS.c.platform,
    ACCOUNTS.c.channel,
    ACCOUNTS.c.send_limits,
    ACCOUNTS.c.breaker_state,
    ACCOUNTS.c.breaker_opened_at,
    ACCOUNTS.c.breaker_failures,
    ACCOUNTS.c.last_served_at,
    ACCOUNTS.c.config_version,
)

#: Why a row whose last attempt never reported back is failed instead of claimed again.
EXHAUSTED = (
    "the last attempt's outcome was never recorded before its lease ran out (no attempts left)"
)


def due_accounts(now: datetime) -> Select[Any]:
    """Active, non-manual accounts with a due queued row or an expired lease, in round-robin
    order (least recently served first)."""
    return ACCOUNT_COLUMNS.where(
        ACCOUNTS.c.status == AccountStatus.ACTIVE,
        ACCOUNTS.c.channel != "manual",
        or_(
            # scalar subqueries with ORDER BY … LIMIT 1 walk the indexes in their order; as
            # EXISTS the planner may pick a sequential scan that wades through every row
            # already claimed
            select(OUTBOX.c.id)
            .where(
                OUTBOX.c.account_id == ACCOUNTS.c.id,
                OUTBOX.c.status == QUEUED,
                OUTBOX.c.not_before <= now,
            )
            .order_by(OUTBOX.c.priority, OUTBOX.c.created_at, OUTBOX.c.id)
            .limit(1)
            .scalar_subquery()
            .is_not(None),
            select(OUTBOX.c.id)
            .where(
                OUTBOX.c.account_id == ACCOUNTS.c.id,
                OUTBOX.c.status == PROCESSING,
                OUTBOX.c.claimed_until < now,
                OUTBOX.c.attempts < OUTBOX.c.max_attempts,
            )
            .order_by(OUTBOX.c.claimed_until)
            .limit(1)
            .scalar_subquery()
            .is_not(None),
        ),
    ).order_by(ACCOUNTS.c.last_served_at.asc().nulls_first(), ACCOUNTS.c.id)
