"""HTTP routes for conversations, messages and quick replies under ``/api/crm``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from huntaze.auth.deps import Messenger, Reader, Writer
from huntaze.context import Ctx, DbSession, Now
from huntaze.inbox import quick_replies as qr
from huntaze.inbox import service as convs
from huntaze.inbox.schemas import (
    MAX_ID,
    ConversationCreate,
    ConversationOut,
    ConversationPage,
    MarkedRead,
    MessageCreate,
    MessageOut,
    MessagePage,
    QuickReplyIn,
    QuickReplyOut,
    QuickReplyPage,
    QuickReplyPatch,
    Rendered,
    RenderRequest,
    UnreadCount,
)
from huntaze.kit.http import ERRORS, Limit
from huntaze.kit.pagination import DEFAULT_LIMIT
from huntaze.kit.validation import SafeStr

router = APIRouter(prefix="/api/crm", tags=["inbox"])
#: Path ids: valid text (no NUL, no lone surrogate) of at most ``MAX_ID`` characters, else 422.
ConversationId = Annotated[SafeStr, Path(max_length=MAX_ID)]
MessageId = Annotated[SafeStr, Path(max_length=MAX_ID)]
ReplyId = Annotated[SafeStr, Path(max_length=MAX_ID)]
Cursor = Annotated[SafeStr | None, Query(max_length=1024)]


@router.get("/conversations", response_model=ConversationPage, responses=ERRORS)
def list_conversations(
    session: DbSession, principal: Reader, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> ConversationPage:
    """Conversations: unread first, then by last message time (newest first)."""
    return convs.list_conversations(session, principal.creator_id, limit, cursor)


@router.post(
    "/conversations",
    response_model=ConversationOut,
    status_code=201,
    responses={
        **ERRORS,
        200: {"model": ConversationOut, "description": "The conversation was already open"},
    },
)
def open_conversation(
    data: ConversationCreate,
    now: Now,
    response: Response,
    session: DbSession,
    principal: Messenger,
) -> ConversationOut:
    """Open the conversation with a fan (200 with the existing one if it is already open)."""
    conv, created = convs.open_conversation(
        session, principal.creator_id, data.fan_id, data.platform, now
    )
    if not created:
        response.status_code = 200
    return ConversationOut.model_validate(conv)


@router.get("/conversations/{conversation_id}", response_model=ConversationOut, responses=ERRORS)
def get_conversation(
    conversation_id: ConversationId, session: DbSession, principal: Reader
) -> ConversationOut:
    """One conversation."""
    return ConversationOut.model_validate(
        convs.get_conversation(session, principal.creator_id, conversation_id)
    )


@router.get(
    "/conversations/{conversation_id}/messages", response_model=MessagePage, responses=ERRORS
)
def list_messages(
    conversation_id: ConversationId,
    session: DbSession,
    principal: Reader,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> MessagePage:
    """The conversation's thread, newest first: its messages, and every message the outbox
    sent its fan on its platform (single sends and bulks), each once, with ``status``,
    ``deliveredAt`` and ``lastError`` from the outbox and the ``outboxId`` that
    ``GET /api/messages/{id}`` answers."""
    return convs.list_messages(session, principal.creator_id, conversation_id, limit, cursor)


@router.post(
    "/conversations/{conversation_id}/messages",
    response_model=MessageOut,
    status_code=201,
    responses=ERRORS,
)
def add_message(
    conversation_id: ConversationId,
    data: MessageCreate,
    ctx: Ctx,
    now: Now,
    session: DbSession,
    principal: Messenger,
) -> MessageOut:
    """Record an inbound or outbound message (``priceCents`` for PPV). An outbound message is
    queued in the outbox in the same transaction (unless ``send`` is false), within the
    sending account's limits; its ``outboxId`` gives the delivery status. The message's own
    ``id`` starts ``cmsg_``; the outbox message's starts ``msg_``."""
    return convs.post_message(
        session, principal.creator_id, conversation_id, data, now, ctx.send_outbound
    )


@router.post("/conversations/{conversation_id}/read", response_model=MarkedRead, responses=ERRORS)
def mark_conversation_read(
    conversation_id: ConversationId, now: Now, session: DbSession, principal: Messenger
) -> MarkedRead:
    """Mark every inbound message of the conversation read."""
    marked = convs.mark_conversation_read(session, principal.creator_id, conversation_id, now)
    return MarkedRead(marked=marked)


@router.post("/messages/{message_id}/read", response_model=MarkedRead, responses=ERRORS)
def mark_message_read(
    message_id: MessageId, now: Now, session: DbSession, principal: Messenger
) -> MarkedRead:
    """Mark one inbound message read."""
    marked = convs.mark_message_read(session, principal.creator_id, message_id, now)
    return MarkedRead(marked=marked)


@router.get("/messages/unread-count", response_model=UnreadCount, responses=ERRORS)
def unread_count(session: DbSession, principal: Reader) -> UnreadCount:
    """Unread inbound messages across the creator's conversations."""
    return UnreadCount(unread_count=convs.unread_count(session, principal.creator_id))


@router.get("/quick-replies", response_model=QuickReplyPage, responses=ERRORS)
def list_quick_replies(
    session: DbSession,
    principal: Reader,
    category: Annotated[SafeStr | None, Query(max_length=64)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> QuickReplyPage:
    """Quick replies, by title."""
    return qr.list_replies(session, principal.creator_id, limit, cursor, category)


@router.post("/quick-replies", response_model=QuickReplyOut, status_code=201, responses=ERRORS)
def create_quick_reply(
    data: QuickReplyIn, now: Now, session: DbSession, principal: Writer
) -> QuickReplyOut:
    """Create a quick reply."""
    reply = qr.create_reply(session, principal.creator_id, data, now)
    return qr.to_out(reply)


@router.get("/quick-replies/{reply_id}", response_model=QuickReplyOut, responses=ERRORS)
def get_quick_reply(reply_id: ReplyId, session: DbSession, principal: Reader) -> QuickReplyOut:
    """One quick reply."""
    return qr.to_out(qr.get_reply(session, principal.creator_id, reply_id))


@router.put("/quick-replies/{reply_id}", response_model=QuickReplyOut, responses=ERRORS)
def replace_quick_reply(
    reply_id: ReplyId, data: QuickReplyIn, now: Now, session: DbSession, principal: Writer
) -> QuickReplyOut:
    """Replace a quick reply."""
    reply = qr.update_reply(session, principal.creator_id, reply_id, data, now)
    return qr.to_out(reply)


@router.patch("/quick-replies/{reply_id}", response_model=QuickReplyOut, responses=ERRORS)
def patch_quick_reply(
    reply_id: ReplyId,
    data: QuickReplyPatch,
    now: Now,
    session: DbSession,
    principal: Writer,
) -> QuickReplyOut:
    """Change some fields of a quick reply."""
    reply = qr.update_reply(session, principal.creator_id, reply_id, data, now)
    return qr.to_out(reply)


@router.delete(
    "/quick-replies/{reply_id}", status_code=204, response_class=Response, responses=ERRORS
)
def delete_quick_reply(reply_id: ReplyId, session: DbSession, principal: Writer) -> Response:
    """Delete a quick reply."""
    qr.delete_reply(session, principal.creator_id, reply_id)
    return Response(status_code=204)


@router.post("/quick-replies/{reply_id}/render", response_model=Rendered, responses=ERRORS)
def render_quick_reply(
    reply_id: ReplyId, data: RenderRequest, session: DbSession, principal: Reader
) -> Rendered:
    """Fill a quick reply's placeholders for one fan."""
    text = qr.render_reply(session, principal.creator_id, reply_id, data.fan_id, data.default)
    return Rendered(text=text)
