"""The sending use cases behind the HTTP routes: queue one message, queue a bulk, read and
redrive a message, cancel a bulk, the queue's depth, and a chatter's manual sends.

Every function adds to the caller's session and flushes; the request's session dependency
commits (:func:`huntaze.context.get_session`). Times are aware UTC; money is in cents.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from huntaze.context import AppContext
from huntaze.fans.service import get_fan, get_fan_on_platform
from huntaze.messaging import manual
from huntaze.messaging.accounts import get_account, resolve_account
from huntaze.messaging.errors import NotHeld, NotManual
from huntaze.messaging.schemas import (
    BulkOut,
    BulkSendIn,
    ManualItem,
    ManualList,
    ManualReport,
    MessageSend,
    MessageStatus,
    OnlyFansSend,
    QueueOut,
    QueueRow,
    SendQueued,
    Skipped,
)
from huntaze.messaging.send import queue_bulk, queue_message
from huntaze.messaging.status import (
    bulk_counts,
    get_bulk,
    get_message,
    promise,
    queue_stats,
    retry_message,
    status_view,
)
from huntaze.models.crm import Fan
from huntaze.models.messaging import BulkSend


def send_message(
    session: Session,
    ctx: AppContext,
    creator_id: str,
    data: MessageSend | OnlyFansSend,
    now: datetime,
    platform: str,
) -> SendQueued:
    """Queue one message to a fan (``fanId``, or the platform's ``recipientId``) through the
    platform's sending account, and promise a delivery time.

    Raises:
        ApiError: 404 ``fan_not_found``; 409 ``fan_opted_out``, ``no_sending_account``;
            422 ``no_channel`` (:func:`huntaze.messaging.send.check_sendable`).
    """
    fan = _recipient(session, creator_id, data, platform)
    account = resolve_account(session, creator_id, platform, ctx.settings, ctx.box, now)
    msg = queue_message(
        session,
        account,
        fan,
        data.content,
        now,
        priority=data.priority,
        media_urls=data.media_urls,
        price_cents=data.price_cents,
        subject=getattr(data, "subject", None),
    )
    ctx.metrics.queued(platform, 1)
    promised = promise(session, ctx.outbox, msg, now)
    return SendQueued(
        message_id=msg.id,
        status="queued",
        estimated_delivery=promised.when,
        delay_reason=promised.delay_reason,
    )


def _recipient(
    session: Session, creator_id: str, data: MessageSend | OnlyFansSend, platform: str
) -> Fan:
    fan_id = getattr(data, "fan_id", None)
    if fan_id is not None:
        return get_fan(session, creator_id, fan_id)
    return get_fan_on_platform(session, creator_id, platform, data.recipient_id or "")


def message_status(
    session: Session, ctx: AppContext, creator_id: str, message_id: str, now: datetime
) -> MessageStatus:
    """An outbox message's status and, while it waits, its estimated delivery.

    Raises:
        ApiError: 404 ``message_not_found``.
    """
    msg = get_message(session, creator_id, message_id)
    return MessageStatus.model_validate(status_view(session, ctx.outbox, msg, now))


def send_bulk(
    session: Session, ctx: AppContext, creator_id: str, data: BulkSendIn, now: datetime
) -> BulkOut:
    """Queue one personalised message per recipient (fan ids, or the audience filter) in one
    set-based insert (:func:`huntaze.messaging.send.queue_bulk`).

    Raises:
        ApiError: 409 ``no_sending_account``; 422 ``no_recipients``.
    """
    account = resolve_account(session, creator_id, data.platform, ctx.settings, ctx.box, now)
    result = queue_bulk(
        session,
        account,
        now,
        template=data.template,
        default=data.default,
        fan_ids=data.recipients.fan_ids,
        flt=data.recipients.filter,
        priority=data.priority,
        subject=data.subject,
        media_urls=data.media_urls,
        price_cents=data.price_cents,
    )
    ctx.metrics.queued(data.platform, result.bulk.queued)
    return bulk_out(session, result.bulk, result.skipped, result.skipped_count)


def bulk_view(session: Session, creator_id: str, bulk_id: str) -> BulkOut:
    """A bulk's progress: its messages counted by status.

    Raises:
        ApiError: 404 ``bulk_not_found``.
    """
    bulk = get_bulk(session, creator_id, bulk_id)
    return bulk_out(session, bulk, bulk.skipped, len(bulk.skipped))


def bulk_out(
    session: Session, bulk: BulkSend, skipped: list[dict[str, str]], skipped_count: int
) -> BulkOut:
    """The API shape of a bulk, with its counts by status."""
    return BulkOut(
        bulk_id=bulk.id,
        status=bulk.status,
        platform=bulk.platform,
        queued=bulk.queued,
        skipped=[Skipped(fan_id=s["fanId"], reason=s["reason"]) for s in skipped],
        skipped_count=skipped_count,
        counts=bulk_counts(session, bulk),
        created_at=bulk.created_at,
    )


def queue_view(session: Session, creator_id: str, now: datetime) -> QueueOut:
    """Depth and oldest message age, per sending account and priority."""
    return QueueOut(
        items=[QueueRow.model_validate(r) for r in queue_stats(session, creator_id, now)]
    )


def redrive(
    session: Session, ctx: AppContext, creator_id: str, message_id: str, now: datetime
) -> SendQueued:
    """Queue a failed message again, with a new delivery estimate.

    Raises:
        ApiError: 404 ``message_not_found``; 409 ``not_failed``.
    """
    msg = retry_message(session, creator_id, message_id, now)
    promised = promise(session, ctx.outbox, msg, now)
    return SendQueued(
        message_id=msg.id,
        status=msg.status,
        estimated_delivery=promised.when,
        delay_reason=promised.delay_reason,
    )


def manual_next(
    session: Session, ctx: AppContext, creator_id: str, user_id: str, account_id: str, limit: int
) -> ManualList:
    """Hold up to ``limit`` due messages of a manual account for the chatter ``user_id``.

    The claim runs on the outbox's own connection, so this request's read ends first: the
    request never holds two pooled connections.

    Raises:
        ApiError: 404 ``sending_account_not_found``; 409 ``not_manual``.
    """
    account = get_account(session, creator_id, account_id)
    if account.channel != "manual":
        raise NotManual()
    # end the read (rows it loaded expire: keep the id): the claim commits on the outbox's
    # own connection, which on SQLite must not wait for this request's lock
    held_id = account.id
    session.rollback()
    items = manual.claim_for_chatter(ctx.outbox, held_id, user_id, limit)
    return ManualList(items=[ManualItem.model_validate(i) for i in items])


def manual_done(
    session: Session,
    ctx: AppContext,
    creator_id: str,
    user_id: str,
    message_id: str,
    data: ManualReport,
    now: datetime,
) -> MessageStatus:
    """Record a chatter's report on a message they hold: sent or failed.

    Raises:
        ApiError: 404 ``message_not_found``; 409 ``not_held`` unless ``user_id`` holds it.
    """
    held_id = get_message(session, creator_id, message_id).id
    session.rollback()  # end the read: the outcome commits on the outbox's own connection
    if not manual.report(ctx.outbox, held_id, user_id, data.status, data.external_id, data.reason):
        raise NotHeld()
    return message_status(session, ctx, creator_id, message_id, now)
