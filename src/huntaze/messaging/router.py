"""HTTP routes for sending: the seed's OnlyFans routes, any-platform sends, bulks, the queue,
redrive and the manual send list."""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from huntaze.auth.deps import DbSession, Messenger, Principal, Reader, Writer
from huntaze.fans.queries import FanFilter
from huntaze.fans.service import get_fan
from huntaze.idempotency import service as idempotency
from huntaze.kit.errors import ApiError
from huntaze.kit.http import ERRORS
from huntaze.messaging import manual
from huntaze.messaging.accounts import get_account, resolve_account
from huntaze.messaging.schemas import (
    BulkOut,
    BulkSendIn,
    Cancelled,
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
    cancel_bulk,
    get_bulk,
    get_message,
    promise,
    queue_stats,
    retry_message,
    status_view,
)
from huntaze.models.crm import Fan

router = APIRouter(tags=["messaging"])
log = structlog.get_logger("huntaze.messaging")
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key")]


def _ctx(request: Request) -> Any:
    return request.app.state.ctx


def run_idempotent(
    request: Request,
    session: Session,
    principal: Principal,
    key: str | None,
    payload: BaseModel | None,
    handler: Any,
    status_code: int = 200,
) -> Any:
    """Run ``handler()`` under the request's ``Idempotency-Key`` and answer its result as JSON.

    Without a key the handler runs and its writes are committed. With one, everything runs on
    the request's own session, so the request holds at most one pooled connection, one
    transaction at a time (:func:`huntaze.auth.deps.get_session`):

    1. the key is reserved in a short transaction of its own, committed before the handler
       runs (:func:`huntaze.idempotency.service.begin`); a completed key answers its stored
       response again with ``Idempotent-Replayed: true`` and the handler does not run;
    2. the handler adds its writes to ``session``, and the response is stored in the same
       transaction (:func:`~huntaze.idempotency.service.finish`), so it always matches
       what happened;
    3. an ``ApiError`` from the handler rolls its writes back and stores the error answer
       instead; any other exception frees the key (``abandon``) and propagates.

    Args:
        payload: the parsed body, hashed with the method and path to tell a replay from a
            reuse; None for a route without a body.
        handler: a function of no arguments returning a response model.
        status_code: the status of a success.

    Raises:
        ApiError: the handler's, and from ``begin``: 400 ``invalid_idempotency_key``, 409
            ``idempotency_key_in_flight``, 422 ``idempotency_key_reused``.
    """
    ctx = _ctx(request)
    now = ctx.clock.now()
    if not key:
        try:
            result = handler()
            session.commit()
        except BaseException:
            session.rollback()  # free the connection (and SQLite's write lock) now
            raise
        return JSONResponse(jsonable_encoder(result, by_alias=True), status_code=status_code)
    digest = idempotency.request_hash(
        request.method, request.url.path, payload.model_dump(mode="json") if payload else None
    )
    session.commit()  # the reservation must be a transaction of its own
    stored = idempotency.begin(session, principal.creator_id, key, digest, now)
    if stored is not None:
        return JSONResponse(
            stored.body, status_code=stored.status, headers={"Idempotent-Replayed": "true"}
        )
    try:
        result = handler()
        body = jsonable_encoder(result, by_alias=True)
        idempotency.finish(session, principal.creator_id, key, status_code, body)
        session.commit()
        return JSONResponse(body, status_code=status_code)
    except ApiError as exc:
        session.rollback()
        idempotency.finish(session, principal.creator_id, key, exc.status, exc.body())
        session.commit()
        raise
    except BaseException:
        session.rollback()
        try:
            idempotency.abandon(session, principal.creator_id, key)
        except Exception as exc:
            # the database itself failed: the key frees itself after IN_FLIGHT_TIMEOUT
            session.rollback()
            log.warning("idempotency_abandon_failed", error_type=type(exc).__name__)
        raise


def _queue_one(
    request: Request, session: Session, principal: Principal, platform: str, fan: Fan, body: Any
) -> SendQueued:
    ctx = _ctx(request)
    now = ctx.clock.now()
    account = resolve_account(session, principal.creator_id, platform, ctx.settings, ctx.box, now)
    msg = queue_message(
        session,
        account,
        fan,
        body.content,
        now,
        priority=body.priority,
        media_urls=body.media_urls,
        price_cents=body.price_cents,
        subject=getattr(body, "subject", None),
    )
    ctx.metrics.queued(platform, 1)
    promised = promise(session, ctx.outbox, msg, now)
    return SendQueued(
        message_id=msg.id,
        status="queued",
        estimated_delivery=promised.when,
        delay_reason=promised.delay_reason,
    )


def _fan_by_platform_id(session: Session, creator_id: str, platform: str, recipient_id: str) -> Fan:
    fan = session.scalar(
        select(Fan).where(
            Fan.creator_id == creator_id,
            Fan.platform == platform,
            Fan.platform_fan_id == recipient_id,
        )
    )
    if fan is None:
        raise ApiError(
            404,
            "fan_not_found",
            f"No {platform} fan with id {recipient_id!r}",
            [{"field": "recipientId"}],
        )
    return fan


@router.post("/api/onlyfans/messages/send", response_model=SendQueued, responses=ERRORS)
def onlyfans_send(
    data: OnlyFansSend,
    request: Request,
    session: DbSession,
    principal: Messenger,
    idempotency_key: IdemKey = None,
) -> Any:
    """Queue a message to an OnlyFans fan (by OnlyFans user id), sent within the account's
    limit (10 per minute by default). 404 ``fan_not_found``; 409 ``fan_opted_out``."""

    def handler() -> SendQueued:
        fan = _fan_by_platform_id(session, principal.creator_id, "onlyfans", data.recipient_id)
        return _queue_one(request, session, principal, "onlyfans", fan, data)

    return run_idempotent(request, session, principal, idempotency_key, data, handler)


@router.get("/api/onlyfans/messages/status", response_model=MessageStatus, responses=ERRORS)
def onlyfans_status(
    request: Request,
    session: DbSession,
    principal: Reader,
    message_id: Annotated[str, Query(alias="messageId")],
) -> MessageStatus:
    """``{messageId, status, sentAt, attempts, lastError?, estimatedDelivery?}``."""
    return _status(request, session, principal, message_id)


def _status(
    request: Request, session: Session, principal: Principal, message_id: str
) -> MessageStatus:
    ctx = _ctx(request)
    msg = get_message(session, principal.creator_id, message_id)
    return MessageStatus.model_validate(status_view(session, ctx.outbox, msg, ctx.clock.now()))


@router.post("/api/messages/send", response_model=SendQueued, responses=ERRORS)
def send(
    data: MessageSend,
    request: Request,
    session: DbSession,
    principal: Messenger,
    idempotency_key: IdemKey = None,
) -> Any:
    """Queue one message on any platform, to ``fanId`` or the platform's ``recipientId``."""

    def handler() -> SendQueued:
        if data.fan_id is not None:
            fan = get_fan(session, principal.creator_id, data.fan_id)
        else:
            fan = _fan_by_platform_id(
                session, principal.creator_id, data.platform, data.recipient_id or ""
            )
        return _queue_one(request, session, principal, data.platform, fan, data)

    return run_idempotent(request, session, principal, idempotency_key, data, handler)


def _bulk_out(
    session: Session, bulk: Any, skipped: list[dict[str, str]], skipped_count: int
) -> BulkOut:
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


@router.post("/api/messages/bulk", response_model=BulkOut, responses=ERRORS)
def bulk_send(
    data: BulkSendIn,
    request: Request,
    session: DbSession,
    principal: Writer,
    idempotency_key: IdemKey = None,
) -> Any:
    """Queue one personalised message per recipient in one set-based insert. Fans who opted
    out or cannot be reached on the platform are skipped and listed with their reason."""
    ctx = _ctx(request)

    def handler() -> BulkOut:
        now = ctx.clock.now()
        account = resolve_account(
            session, principal.creator_id, data.platform, ctx.settings, ctx.box, now
        )
        flt = FanFilter(**data.recipients.filter.model_dump()) if data.recipients.filter else None
        result = queue_bulk(
            session,
            account,
            now,
            template=data.template,
            default=data.default,
            fan_ids=data.recipients.fan_ids,
            flt=flt,
            priority=data.priority,
            subject=data.subject,
            media_urls=data.media_urls,
            price_cents=data.price_cents,
        )
        ctx.metrics.queued(data.platform, result.bulk.queued)
        return _bulk_out(session, result.bulk, result.skipped, result.skipped_count)

    return run_idempotent(request, session, principal, idempotency_key, data, handler)


@router.get("/api/messages/bulk/{bulk_id}", response_model=BulkOut, responses=ERRORS)
def bulk_status(bulk_id: str, session: DbSession, principal: Reader) -> BulkOut:
    """A bulk's progress: messages by status."""
    bulk = get_bulk(session, principal.creator_id, bulk_id)
    return _bulk_out(session, bulk, bulk.skipped, len(bulk.skipped))


@router.post("/api/messages/bulk/{bulk_id}/cancel", response_model=Cancelled, responses=ERRORS)
def bulk_cancel(
    bulk_id: str,
    request: Request,
    session: DbSession,
    principal: Writer,
    idempotency_key: IdemKey = None,
) -> Any:
    """Cancel the bulk's messages not yet claimed by a worker."""
    return run_idempotent(
        request,
        session,
        principal,
        idempotency_key,
        None,
        lambda: Cancelled(
            cancelled=cancel_bulk(session, principal.creator_id, bulk_id, _ctx(request).clock.now())
        ),
    )


@router.get("/api/messages/queue", response_model=QueueOut, responses=ERRORS)
def queue(request: Request, session: DbSession, principal: Reader) -> QueueOut:
    """Depth and oldest message age, per sending account and priority."""
    rows = queue_stats(session, principal.creator_id, _ctx(request).clock.now())
    return QueueOut(items=[QueueRow.model_validate(r) for r in rows])


@router.post("/api/messages/{message_id}/retry", response_model=SendQueued, responses=ERRORS)
def retry(
    message_id: str,
    request: Request,
    session: DbSession,
    principal: Messenger,
    idempotency_key: IdemKey = None,
) -> Any:
    """Redrive a failed message (409 ``not_failed`` otherwise)."""
    ctx = _ctx(request)

    def handler() -> SendQueued:
        now = ctx.clock.now()
        msg = retry_message(session, principal.creator_id, message_id, now)
        promised = promise(session, ctx.outbox, msg, now)
        return SendQueued(
            message_id=msg.id,
            status=msg.status,
            estimated_delivery=promised.when,
            delay_reason=promised.delay_reason,
        )

    return run_idempotent(request, session, principal, idempotency_key, None, handler)


@router.get("/api/messages/manual/next", response_model=ManualList, responses=ERRORS)
def manual_list(
    request: Request,
    session: DbSession,
    principal: Messenger,
    account_id: Annotated[str, Query(alias="accountId")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ManualList:
    """Messages of a manual account for a chatter to send by hand, held for them for the
    lease; they count against the account's send limit like any other send."""
    ctx = _ctx(request)
    account = get_account(session, principal.creator_id, account_id)
    if account.channel != "manual":
        raise ApiError(409, "not_manual", "This account is not sent by hand")
    session.close()
    items = manual.claim_for_chatter(ctx.outbox, account.id, principal.user_id, limit)
    return ManualList(items=[ManualItem.model_validate(i) for i in items])


@router.post("/api/messages/{message_id}/report", response_model=MessageStatus, responses=ERRORS)
def manual_report(
    message_id: str, data: ManualReport, request: Request, session: DbSession, principal: Messenger
) -> MessageStatus:
    """Report a hand-sent message as ``sent`` or ``failed`` (409 ``not_held`` unless this
    user holds it)."""
    ctx = _ctx(request)
    msg = get_message(session, principal.creator_id, message_id)
    session.close()
    if not manual.report(
        ctx.outbox, msg.id, principal.user_id, data.status, data.external_id, data.reason
    ):
        raise ApiError(409, "not_held", "This message is not held by you (or its hold expired)")
    return _status(request, session, principal, message_id)


@router.get("/api/messages/{message_id}", response_model=MessageStatus, responses=ERRORS)
def message_status(
    message_id: str, request: Request, session: DbSession, principal: Reader
) -> MessageStatus:
    """A queued message's status on any platform."""
    return _status(request, session, principal, message_id)
