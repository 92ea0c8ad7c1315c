"""Reading the outbox: a message's status and honest delivery estimate, queue depth, redrive,
bulk progress and cancel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select, type_coerce, union_all, update
from sqlalchemy.orm import Session

from huntaze.db.base import UTCDateTime
from huntaze.db.session import get_owned, is_storable
from huntaze.kit.errors import ApiError
from huntaze.messaging.errors import BulkNotFound, MessageNotFound
from huntaze.models.crm import Message
from huntaze.models.messaging import (
    PRIORITY_NAMES,
    BreakerState,
    BulkSend,
    OutboxMessage,
    OutboxStatus,
    SendAttempt,
    SendingAccount,
)
from huntaze.outbox.limits import longest, schedule_time, widened
from huntaze.outbox.service import Outbox
from huntaze.outbox.tables import PROCESSING, QUEUED


def get_message(session: Session, creator_id: str, message_id: str) -> OutboxMessage:
    """Return the creator's outbox message (``msg_…``).

    An inbox message has an id of its own (``cmsg_…``, or ``msg_…`` for inbox rows written
    before the prefixes were split) and is not an outbox message: for one of the creator's,
    the 404 says so and, when the inbox message was sent through the outbox, names the
    ``outboxId`` to ask for instead (docs/inbox.md, "Ids").

    Raises:
        ApiError: 404 ``message_not_found`` (also for another creator's, and for an id that
            is not valid text).
    """
    if not is_storable(message_id):
        raise MessageNotFound()
    msg = session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.id == message_id, OutboxMessage.creator_id == creator_id
        )
    )
    if msg is not None:
        return msg
    inbox = session.execute(
        select(Message.id, Message.outbox_id).where(
            Message.id == message_id, Message.creator_id == creator_id
        )
    ).first()
    if inbox is None:
        raise MessageNotFound()
    hint = (
        f"its delivery status is under its outboxId {inbox.outbox_id}"
        if inbox.outbox_id
        else "it was not sent through the outbox, so it has no delivery status"
    )
    raise MessageNotFound(
        f"{message_id} is an inbox message, not an outbox message: {hint}",
        [{"inboxMessageId": message_id, "outboxId": inbox.outbox_id}],
    )


@dataclass(frozen=True, slots=True)
class Estimate:
    """A message's delivery estimate.

    Attributes:
        when: the instant (UTC) it should be sent, or ``None`` when none can be promised (sent,
            failed, cancelled, or its account waits to be reconnected).
        delay_reason: why it waits longer than the send rate alone, or ``None``:
            ``account_paused``, ``circuit_open``, ``retry_backoff``, or ``beyond_calendar``
            (the queue ahead is so deep at the account's limits that its time would fall
            after year 9999; ``when`` is then ``None``).
    """

    when: datetime | None
    delay_reason: str | None = None


def _ahead(msg: OutboxMessage, aged: datetime) -> Any:
    """Queued rows of the account that the claim order serves before ``msg``: by effective
    priority (rows older than ``aged`` count as high), then age, then id."""
    eff = case((OutboxMessage.created_at < aged, 0), else_=OutboxMessage.priority)
    mine = 0 if msg.created_at < aged else msg.priority
    return and_(
        OutboxMessage.account_id == msg.account_id,
        OutboxMessage.status == QUEUED,
        or_(
            eff < mine,
            and_(
                eff == mine,
                or_(
                    OutboxMessage.created_at < msg.created_at,
                    and_(OutboxMessage.created_at == msg.created_at, OutboxMessage.id < msg.id),
                ),
            ),
        ),
    )


def estimate(session: Session, outbox: Outbox, msg: OutboxMessage, now: datetime) -> Estimate:
    """When ``msg`` should be sent, from its place in its account's queue and the account's
    limits.

    Its position counts the queued rows the claim order serves first (priority with the age
    bump, then age); :func:`huntaze.outbox.limits.schedule_time` turns that position into
    a time at the account's full rate, each window widened by the outbox's guard exactly as
    the claim counts it, so a 100,000-message backlog at 10 per minute is estimated at about
    a week, not "soon". The position, the account's recent attempts and the promises of the
    rows ahead are read in one statement, so they come from one snapshot (a claim that
    commits in between is seen whole or not at all). The estimate is never earlier than a
    delivery already promised to a row ahead of it or in flight (:func:`promise`), so
    messages queued one after another on one account and priority get non-decreasing
    estimates. An open breaker adds its cooldown; a retry waits for its ``not_before``; an
    account waiting to be reconnected gets no time at all.
    """
    if msg.status not in (OutboxStatus.QUEUED, OutboxStatus.PROCESSING):
        return Estimate(None)
    account = session.get(SendingAccount, msg.account_id)
    if account is None:
        return Estimate(None)
    if account.status != "active":
        return Estimate(None, "account_paused")
    if msg.status == "processing":
        return Estimate(now)
    windows = widened(outbox.limits_for(account.platform, account.send_limits), outbox.guard)
    aged = now - timedelta(seconds=outbox.low_priority_max_age)
    stamp = type_coerce(SendAttempt.started_at, UTCDateTime())
    parts: list[Any] = [
        select(
            literal(1).label("kind"),
            type_coerce(func.max(OutboxMessage.estimated_delivery), UTCDateTime()).label("t"),
            func.count().label("n"),
        ).where(_ahead(msg, aged)),
        select(
            literal(2),
            type_coerce(func.max(OutboxMessage.estimated_delivery), UTCDateTime()),
            literal(0),
        ).where(
            OutboxMessage.account_id == msg.account_id,
            OutboxMessage.status == PROCESSING,
            OutboxMessage.created_at <= msg.created_at,
        ),
    ]
    if windows:
        since = now - longest(windows)
        parts.append(
            select(literal(0), stamp, literal(0)).where(
                SendAttempt.account_id == msg.account_id, SendAttempt.started_at > since
            )
        )
    ahead = 0
    floor: datetime | None = None
    starts: list[datetime] = []
    for kind, t, n in session.execute(union_all(*parts)):
        if kind == 0:
            starts.append(t)
        else:
            ahead += int(n or 0) if kind == 1 else 0
            if t is not None and (floor is None or t > floor):
                floor = t
    starts.sort()
    start = max(now, msg.not_before)
    reason = "retry_backoff" if msg.not_before > now else None
    if account.breaker_state != BreakerState.CLOSED and account.breaker_opened_at is not None:
        reopens = account.breaker_opened_at + timedelta(seconds=outbox.breaker.cooldown_seconds)
        if reopens > start:
            start, reason = reopens, "circuit_open"
    when = schedule_time(windows, starts, start, ahead)
    if when is None:
        return Estimate(None, "beyond_calendar")
    if floor is not None and floor > when:
        when = floor
    return Estimate(when, reason)


def estimate_delivery(
    session: Session, outbox: Outbox, msg: OutboxMessage, now: datetime
) -> datetime | None:
    """:func:`estimate`'s instant alone."""
    return estimate(session, outbox, msg, now).when


def promise(session: Session, outbox: Outbox, msg: OutboxMessage, now: datetime) -> Estimate:
    """:func:`estimate` ``msg`` and keep the time promised on its row (flushed with the
    caller's transaction), so the messages queued after it are never promised earlier."""
    result = estimate(session, outbox, msg, now)
    if result.when is not None:
        msg.estimated_delivery = result.when
        session.flush()
    return result


def status_view(
    session: Session, outbox: Outbox, msg: OutboxMessage, now: datetime
) -> dict[str, Any]:
    """The seed's status shape: ``{messageId, status, sentAt, attempts, lastError?,
    estimatedDelivery?, delayReason?}`` plus platform, priority and ids for context."""
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
    result = estimate(session, outbox, msg, now)
    if result.when is not None:
        view["estimatedDelivery"] = result.when
    if result.delay_reason is not None:
        view["delayReason"] = result.delay_reason
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
    msg.status = OutboxStatus.QUEUED
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
            OutboxMessage.status.in_((OutboxStatus.QUEUED, OutboxStatus.PROCESSING)),
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
        ApiError: 404 ``bulk_not_found`` (also for an id that is not valid text).
    """
    return get_owned(session, BulkSend, creator_id, bulk_id, BulkNotFound)


def bulk_counts(session: Session, bulk: BulkSend) -> dict[str, int]:
    """Messages of a bulk by status."""
    counts: dict[str, int] = {str(s): 0 for s in OutboxStatus}
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
            OutboxMessage.status == OutboxStatus.QUEUED,
        )
        .values(status=OutboxStatus.CANCELLED, updated_at=now)
    )
    bulk.status = OutboxStatus.CANCELLED
    bulk.updated_at = now
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)
