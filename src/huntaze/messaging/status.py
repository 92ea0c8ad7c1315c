"""Reading the outbox: a message's status and honest delivery estimate, queue depth, redrive,
bulk progress and cancel."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from huntaze.kit.errors import ApiError, not_found
from huntaze.messaging.limits import schedule_time
from huntaze.messaging.outbox import Outbox
from huntaze.messaging.tables import QUEUED
from huntaze.models.messaging import (
    PRIORITY_NAMES,
    BulkSend,
    OutboxMessage,
    SendAttempt,
    SendingAccount,
)


def get_message(session: Session, creator_id: str, message_id: str) -> OutboxMessage:
    """Return the creator's outbox message.

    Raises:
        ApiError: 404 ``message_not_found`` (also for another creator's).
    """
    msg = session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.id == message_id, OutboxMessage.creator_id == creator_id
        )
    )
    if msg is None:
        raise not_found("message")
    return msg


def estimate_delivery(
    session: Session, outbox: Outbox, msg: OutboxMessage, now: datetime
) -> datetime | None:
    """When ``msg`` should be sent, from its place in its account's queue and the account's
    limits; ``None`` once it is sent, failed or cancelled.

    Its position counts the queued rows the claim order serves first (priority with the age
    bump, then age); :func:`huntaze.messaging.limits.schedule_time` turns that position into
    a time at the account's full rate, so a 100,000-message backlog at 10 per minute is
    estimated at about a week, not "soon". An open breaker adds its cooldown; a retry waits
    for its ``not_before``.
    """
    if msg.status not in ("queued", "processing"):
        return None
    if msg.status == "processing":
        return now
    account = session.get(SendingAccount, msg.account_id)
    if account is None:
        return None
    windows = outbox.limits_for(account.platform, account.send_limits)
    aged = now - timedelta(seconds=outbox.low_priority_max_age)
    eff = case((OutboxMessage.created_at < aged, 0), else_=OutboxMessage.priority)
    mine = 0 if msg.created_at < aged else msg.priority
    ahead = (
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.account_id == msg.account_id,
                OutboxMessage.status == QUEUED,
                or_(
                    eff < mine,
                    and_(
                        eff == mine,
                        or_(
                            OutboxMessage.created_at < msg.created_at,
                            and_(
                                OutboxMessage.created_at == msg.created_at,
                                OutboxMessage.id < msg.id,
                            ),
                        ),
                    ),
                ),
            )
        )
        or 0
    )
    starts: list[datetime] = []
    if windows:
        since = now - max(w.span for w in windows)
        starts = list(
            session.scalars(
                select(SendAttempt.started_at)
                .where(SendAttempt.account_id == msg.account_id, SendAttempt.started_at > since)
                .order_by(SendAttempt.started_at)
            )
        )
    start = max(now, msg.not_before)
    if account.breaker_state != "closed" and account.breaker_opened_at is not None:
        start = max(
            start, account.breaker_opened_at + timedelta(seconds=outbox.breaker.cooldown_seconds)
        )
    return schedule_time(windows, starts, start, int(ahead))


def status_view(
    session: Session, outbox: Outbox, msg: OutboxMessage, now: datetime
) -> dict[str, Any]:
    """The seed's status shape: ``{messageId, status, sentAt, attempts, lastError?,
    estimatedDelivery?}`` plus platform, priority and ids for context."""
    view: dict[str, Any] = {
        "messageId": msg.id,
        "status": msg.status,
        "sentAt": msg.sent_at,
        "attempts": msg.attempts,
        "platform": msg.platform,
        "priority": PRIORITY_NAMES.get(msg.priority, "medium"),
        "fanId": msg.fan_id,
        "accountId": msg.account_id,
        "externalId": msg.external_id,
    }
    if msg.last_error:
        view["lastError"] = msg.last_error
    estimate = estimate_delivery(session, outbox, msg, now)
    if estimate is not None:
        view["estimatedDelivery"] = estimate
    return view


def retry_message(
    session: Session, creator_id: str, message_id: str, now: datetime
) -> OutboxMessage:
    """Redrive a failed message: queued again now with a fresh attempt budget.

    Raises:
        ApiError: 404 ``message_not_found``; 409 ``not_failed`` unless it failed.
    """
    msg = get_message(session, creator_id, message_id)
    if msg.status != "failed":
        raise ApiError(
            409, "not_failed", f"Only failed messages can be retried (this one is {msg.status})"
        )
    msg.status = "queued"
    msg.attempts = 0
    msg.not_before = now
    msg.updated_at = now
    session.flush()
    return msg


def queue_stats(session: Session, creator_id: str, now: datetime) -> list[dict[str, Any]]:
    """Depth and the oldest queued message's age (seconds), per account and priority."""
    rows = session.execute(
        select(
            OutboxMessage.account_id,
            SendingAccount.platform,
            OutboxMessage.priority,
            func.count(),
            func.min(OutboxMessage.created_at),
        )
        .join(SendingAccount, SendingAccount.id == OutboxMessage.account_id)
        .where(
            OutboxMessage.creator_id == creator_id,
            OutboxMessage.status.in_(("queued", "processing")),
        )
        .group_by(OutboxMessage.account_id, SendingAccount.platform, OutboxMessage.priority)
        .order_by(OutboxMessage.account_id, OutboxMessage.priority)
    ).all()
    out = []
    for account_id, platform, priority, depth, oldest in rows:
        if isinstance(oldest, str):  # SQLite's MIN() returns the stored text
            oldest = datetime.fromisoformat(oldest).replace(tzinfo=now.tzinfo)
        out.append(
            {
                "accountId": account_id,
                "platform": platform,
                "priority": PRIORITY_NAMES.get(priority, "medium"),
                "depth": int(depth),
                "oldestAgeSeconds": max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
            }
        )
    return out


def get_bulk(session: Session, creator_id: str, bulk_id: str) -> BulkSend:
    """Return the creator's bulk send.

    Raises:
        ApiError: 404 ``bulk_not_found``.
    """
    bulk = session.scalar(
        select(BulkSend).where(BulkSend.id == bulk_id, BulkSend.creator_id == creator_id)
    )
    if bulk is None:
        raise not_found("bulk")
    return bulk


def bulk_counts(session: Session, bulk: BulkSend) -> dict[str, int]:
    """Messages of a bulk by status."""
    counts = {s: 0 for s in ("queued", "processing", "sent", "failed", "cancelled")}
    for status, n in session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.bulk_id == bulk.id, OutboxMessage.creator_id == bulk.creator_id)
        .group_by(OutboxMessage.status)
    ):
        counts[status] = int(n)
    return counts


def cancel_bulk(session: Session, creator_id: str, bulk_id: str, now: datetime) -> int:
    """Cancel a bulk's messages that have not been claimed yet; return how many.

    Raises:
        ApiError: 404 ``bulk_not_found``.
    """
    bulk = get_bulk(session, creator_id, bulk_id)
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.bulk_id == bulk.id,
            OutboxMessage.creator_id == creator_id,
            OutboxMessage.status == "queued",
        )
        .values(status="cancelled", updated_at=now)
    )
    bulk.status = "cancelled"
    bulk.updated_at = now
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)
