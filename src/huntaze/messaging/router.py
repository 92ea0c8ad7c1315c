"""HTTP routes for sending: the seed's OnlyFans routes, any-platform sends, bulks, the queue,
redrive and the manual send list. The use cases are in :mod:`huntaze.messaging.service`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from huntaze.auth.deps import Messenger, Reader, Writer
from huntaze.context import Ctx, DbSession, Idempotent, Now
from huntaze.kit.http import ERRORS
from huntaze.messaging import service
from huntaze.messaging.schemas import (
    BulkOut,
    BulkSendIn,
    Cancelled,
    ManualList,
    ManualReport,
    MessageSend,
    MessageStatus,
    OnlyFansSend,
    QueueOut,
    SendQueued,
)
from huntaze.messaging.status import cancel_bulk

router = APIRouter(tags=["messaging"])


@router.post("/api/onlyfans/messages/send", response_model=SendQueued, responses=ERRORS)
def onlyfans_send(
    data: OnlyFansSend,
    ctx: Ctx,
    now: Now,
    session: DbSession,
    idem: Idempotent,
    principal: Messenger,
) -> Any:
    """Queue a message to an OnlyFans fan (by OnlyFans user id), sent within the account's
    limit (10 per minute by default). 404 ``fan_not_found``; 409 ``fan_opted_out``."""
    return idem.run(
        principal.creator_id,
        data,
        lambda: service.send_message(session, ctx, principal.creator_id, data, now, "onlyfans"),
    )


@router.get("/api/onlyfans/messages/status", response_model=MessageStatus, responses=ERRORS)
def onlyfans_status(
    ctx: Ctx,
    now: Now,
    session: DbSession,
    principal: Reader,
    message_id: Annotated[str, Query(alias="messageId")],
) -> MessageStatus:
    """``{messageId, status, sentAt, attempts, lastError?, estimatedDelivery?}``."""
    return service.message_status(session, ctx, principal.creator_id, message_id, now)


@router.post("/api/messages/send", response_model=SendQueued, responses=ERRORS)
def send(
    data: MessageSend,
    ctx: Ctx,
    now: Now,
    session: DbSession,
    idem: Idempotent,
    principal: Messenger,
) -> Any:
    """Queue one message on any platform, to ``fanId`` or the platform's ``recipientId``."""
    return idem.run(
        principal.creator_id,
        data,
        lambda: service.send_message(session, ctx, principal.creator_id, data, now, data.platform),
    )


@router.post("/api/messages/bulk", response_model=BulkOut, responses=ERRORS)
def bulk_send(
    data: BulkSendIn,
    ctx: Ctx,
    now: Now,
    session: DbSession,
    idem: Idempotent,
    principal: Writer,
) -> Any:
    """Queue one personalised message per recipient in one set-based insert. Fans who opted
    out or cannot be reached on the platform are skipped and listed with their reason."""
    return idem.run(
        principal.creator_id,
        data,
        lambda: service.send_bulk(session, ctx, principal.creator_id, data, now),
    )


@router.get("/api/messages/bulk/{bulk_id}", response_model=BulkOut, responses=ERRORS)
def bulk_status(bulk_id: str, session: DbSession, principal: Reader) -> BulkOut:
    """A bulk's progress: messages by status."""
    return service.bulk_view(session, principal.creator_id, bulk_id)


@router.post("/api/messages/bulk/{bulk_id}/cancel", response_model=Cancelled, responses=ERRORS)
def bulk_cancel(
    bulk_id: str,
    now: Now,
    session: DbSession,
    idem: Idempotent,
    principal: Writer,
) -> Any:
    """Cancel the bulk's messages not yet claimed by a worker."""
    return idem.run(
        principal.creator_id,
        None,
        lambda: Cancelled(cancelled=cancel_bulk(session, principal.creator_id, bulk_id, now)),
    )


@router.get("/api/messages/queue", response_model=QueueOut, responses=ERRORS)
def queue(now: Now, session: DbSession, principal: Reader) -> QueueOut:
    """Depth and oldest message age, per sending account and priority."""
    return service.queue_view(session, principal.creator_id, now)


@router.post("/api/messages/{message_id}/retry", response_model=SendQueued, responses=ERRORS)
def retry(
    message_id: str,
    ctx: Ctx,
    now: Now,
    session: DbSession,
    idem: Idempotent,
    principal: Messenger,
) -> Any:
    """Redrive a failed message (409 ``not_failed`` otherwise)."""
    return idem.run(
        principal.creator_id,
        None,
        lambda: service.redrive(session, ctx, principal.creator_id, message_id, now),
    )


@router.get("/api/messages/manual/next", response_model=ManualList, responses=ERRORS)
def manual_list(
    ctx: Ctx,
    session: DbSession,
    principal: Messenger,
    account_id: Annotated[str, Query(alias="accountId")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ManualList:
    """Messages of a manual account for a chatter to send by hand, held for them for the
    lease; they count against the account's send limit like any other send."""
    return service.manual_next(
        session, ctx, principal.creator_id, principal.user_id, account_id, limit
    )


@router.post("/api/messages/{message_id}/report", response_model=MessageStatus, responses=ERRORS)
def manual_report(
    message_id: str,
    data: ManualReport,
    ctx: Ctx,
    now: Now,
    session: DbSession,
    principal: Messenger,
) -> MessageStatus:
    """Report a hand-sent message as ``sent`` or ``failed`` (409 ``not_held`` unless this
    user holds it)."""
    return service.manual_done(
        session, ctx, principal.creator_id, principal.user_id, message_id, data, now
    )


@router.get("/api/messages/{message_id}", response_model=MessageStatus, responses=ERRORS)
def message_status(
    message_id: str, ctx: Ctx, now: Now, session: DbSession, principal: Reader
) -> MessageStatus:
    """A queued message's status on any platform."""
    return service.message_status(session, ctx, principal.creator_id, message_id, now)
