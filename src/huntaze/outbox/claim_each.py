"""Claims one account at a time, in a few prepared statements: every claim on SQLite (where a
statement costs microseconds and the write lock is already held), and a chatter's claim of a
manual account on either database.

The statements are built once with bind parameters, so a claim pays for execution, not for
SQL construction and compilation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, insert, select, union_all, update

from huntaze.models.messaging import BreakerState, OutboxStatus
from huntaze.outbox.plan import Plan
from huntaze.outbox.tables import ACCOUNTS, ATTEMPTS, OUTBOX, PROCESSING, QUEUED

__all__ = ["claim_account_rows"]

_ACCOUNT = OUTBOX.c.account_id == bindparam("account_id")
_NOW = bindparam("now", type_=OUTBOX.c.not_before.type)
_TAKE: Any = bindparam("take")


def _aged_rows(lock: bool) -> Select[Any]:
    """Queued rows created before ``aged`` that are not high priority, oldest first: one
    index seek per priority level (medium, low), each stopping after ``take`` rows, so a deep
    backlog older than the age costs no more than a fresh one. ``lock`` locks in the seeks
    (PostgreSQL refuses ``FOR UPDATE`` over a ``UNION``)."""
    seeks = [
        select(OUTBOX.c.id, OUTBOX.c.created_at)
        .where(
            _ACCOUNT,
            OUTBOX.c.status == QUEUED,
            OUTBOX.c.priority == level,
            OUTBOX.c.created_at < bindparam("aged", type_=OUTBOX.c.created_at.type),
            OUTBOX.c.not_before <= _NOW,
        )
        .order_by(OUTBOX.c.created_at, OUTBOX.c.id)
        .limit(_TAKE)
        for level in (1, 2)
    ]
    if lock:
        seeks = [q.with_for_update(skip_locked=True) for q in seeks]
    levels = [q.subquery(f"aged{level}") for level, q in zip((1, 2), seeks, strict=True)]
    both = union_all(*(select(q.c.id, q.c.created_at) for q in levels)).subquery("aged")
    return select(both.c.id).order_by(both.c.created_at, both.c.id).limit(_TAKE)


#: expired leases, oldest first; rows past the low-priority age, oldest first; then the due
#: queue by priority and age (the partial index ``ix_outbox_queued``)
def _picks(lock: bool) -> tuple[Select[Any], ...]:
    expired = (
        select(OUTBOX.c.id)
        .where(
            _ACCOUNT,
            OUTBOX.c.status == PROCESSING,
            OUTBOX.c.claimed_until < _NOW,
            OUTBOX.c.attempts < OUTBOX.c.max_attempts,
        )
        .order_by(OUTBOX.c.created_at, OUTBOX.c.id)
        .limit(_TAKE)
    )
    due = (
        select(OUTBOX.c.id)
        .where(_ACCOUNT, OUTBOX.c.status == QUEUED, OUTBOX.c.not_before <= _NOW)
        .order_by(OUTBOX.c.priority, OUTBOX.c.created_at, OUTBOX.c.id)
        .limit(_TAKE)
    )
    if lock:
        expired = expired.with_for_update(skip_locked=True)
        due = due.with_for_update(skip_locked=True)
    return expired, _aged_rows(lock), due


_PICKS = _picks(lock=False)
_PICKS_LOCKING = _picks(lock=True)

_CLAIM = (
    update(OUTBOX)
    .where(OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        status=OutboxStatus.PROCESSING,
        claimed_until=bindparam("until", type_=OUTBOX.c.claimed_until.type),
        claimed_by=bindparam("worker"),
        attempts=OUTBOX.c.attempts + 1,
        updated_at=bindparam("stamp", type_=OUTBOX.c.updated_at.type),
    )
    .returning(
        OUTBOX.c.id,
        OUTBOX.c.account_id,
        OUTBOX.c.idempotency_key,
        OUTBOX.c.platform,
        OUTBOX.c.recipient,
        OUTBOX.c.content,
        OUTBOX.c.media,
        OUTBOX.c.price_cents,
        OUTBOX.c.subject,
        OUTBOX.c.fan_id,
        OUTBOX.c.campaign_id,
        OUTBOX.c.attempts,
        OUTBOX.c.max_attempts,
    )
)
_LOG = insert(ATTEMPTS).from_select(
    ["account_id", "message_id", "started_at"],
    select(
        OUTBOX.c.account_id,
        OUTBOX.c.id,
        bindparam("stamp", type_=ATTEMPTS.c.started_at.type),
    ).where(OUTBOX.c.id.in_(bindparam("ids", expanding=True))),
)
_SERVED = (
    update(ACCOUNTS)
    .where(ACCOUNTS.c.id == bindparam("account"))
    .values(last_served_at=bindparam("stamp", type_=ACCOUNTS.c.last_served_at.type))
)
_PROBED = (
    update(ACCOUNTS)
    .where(ACCOUNTS.c.id == bindparam("account"))
    .values(
        last_served_at=bindparam("stamp", type_=ACCOUNTS.c.last_served_at.type),
        breaker_state=BreakerState.HALF_OPEN,
    )
)


def pick(
    conn: Connection, account_id: str, now: datetime, aged: datetime, take: int, lock: bool
) -> list[str]:
    """Up to ``take`` claimable ids of one account, in claim order: expired leases first,
    then rows created before ``aged`` that are not high priority (served as high), then by
    priority and age. Each read walks an index and stops after ``take`` rows, however deep
    the backlog; ``lock`` adds ``FOR UPDATE SKIP LOCKED`` (PostgreSQL)."""
    picked: dict[str, None] = {}
    params = {"account_id": account_id, "now": now, "aged": aged}
    for query in _PICKS_LOCKING if lock else _PICKS:
        room = take - len(picked)
        if room <= 0:
            break
        # ask for what is already picked too: the aged rows reappear in the due queue
        for (message_id,) in conn.execute(query, {**params, "take": room + len(picked)}):
            if len(picked) < take:
                picked.setdefault(message_id, None)
    return list(picked)


def claim_account_rows(
    conn: Connection,
    plan: Plan,
    worker_id: str,
    now: datetime,
    until: datetime,
    aged: datetime,
    lock: bool,
) -> list[Any]:
    """Claim one account's planned rows under a lease until ``until``; return them in claim
    order (see :func:`pick`), with the columns of :func:`huntaze.outbox.claim_many.claim_rows`.
    Writes one ``send_attempts`` row per claimed message and stamps the account served.

    Raises:
        sqlalchemy.exc.DBAPIError: as the driver raises it; the caller's transaction rolls
            back and nothing is claimed.
    """
    account_id = plan.account.id
    ids = pick(conn, account_id, now, aged, plan.take, lock)
    if not ids:
        return []
    rows = list(
        conn.execute(_CLAIM, {"ids": ids, "until": until, "worker": worker_id, "stamp": now})
    )
    # RETURNING follows the table's physical order, not the claim order: restore it
    rank = {message_id: n for n, message_id in enumerate(ids)}
    rows.sort(key=lambda r: rank[r.id])
    conn.execute(_LOG, {"ids": [r.id for r in rows], "stamp": now})
    conn.execute(_PROBED if plan.probe else _SERVED, {"account": account_id, "stamp": now})
    return rows
