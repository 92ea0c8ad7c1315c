"""Conversation and message use cases: the inbox.

Messages written here get ``cmsg_…`` ids (:data:`MESSAGE_ID_PREFIX`), apart from the outbox's
``msg_…``: an id names one entity. An outbound message is queued in the outbox by the app's
sender (:mod:`huntaze.messaging.conversations`) and linked by ``outbox_id``; a conversation's
thread is read by :mod:`huntaze.inbox.threads`. Functions flush but never commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from huntaze.context import SendOutbound
from huntaze.db.session import get_owned
from huntaze.eventlog import EventType, record_event
from huntaze.fans.service import get_fan
from huntaze.inbox.errors import ConversationNotFound, InboxMessageNotFound
from huntaze.inbox.schemas import (
    ConversationOut,
    ConversationPage,
    MessageCreate,
    MessageOut,
    MessagePage,
)
from huntaze.inbox.threads import list_thread
from huntaze.kit.ids import new_id
from huntaze.kit.pagination import InvalidCursor, decode_cursor, encode_cursor
from huntaze.kit.validation import INT32_MAX
from huntaze.models.crm import Conversation, Message

#: The prefix of the ids of messages written in the inbox (``cmsg_…``). Outbox messages keep
#: ``msg_…``, the seed's ``messageId``. Inbox rows written before this prefix existed keep
#: their ``msg_…`` ids: ids are opaque, and the two tables never share one.
MESSAGE_ID_PREFIX = "cmsg"


def get_conversation(session: Session, creator_id: str, conversation_id: str) -> Conversation:
    """Return the creator's conversation.

    Raises:
        ApiError: 404 ``conversation_not_found`` (also for another creator's).
    """
    return get_owned(session, Conversation, creator_id, conversation_id, ConversationNotFound)


def open_conversation(
    session: Session, creator_id: str, fan_id: str, platform: str | None, now: datetime
) -> tuple[Conversation, bool]:
    """Return the conversation with a fan on ``platform`` (default: the fan's), creating it.

    Returns ``(conversation, created)``.

    Raises:
        ApiError: 404 ``fan_not_found``.
    """
    fan = get_fan(session, creator_id, fan_id)
    platform = platform or fan.platform
    conv = session.scalar(
        select(Conversation).where(
            Conversation.creator_id == creator_id,
            Conversation.fan_id == fan.id,
            Conversation.platform == platform,
        )
    )
    if conv is not None:
        return conv, False
    conv = Conversation(
        id=new_id("cnv"),
        creator_id=creator_id,
        fan_id=fan.id,
        platform=platform,
        last_message_at=None,
        unread_count=0,
        created_at=now,
        updated_at=now,
    )
    session.add(conv)
    session.flush()
    return conv, True


def list_conversations(
    session: Session, creator_id: str, limit: int, cursor: str | None
) -> ConversationPage:
    """Return conversations with unread messages first, then by last message, newest first.

    The cursor carries an offset: an inbox re-sorts itself as messages arrive, so a keyset
    would not be more stable here.

    Raises:
        ApiError: 400 ``invalid_cursor``.
    """
    offset = 0
    if cursor is not None:
        (raw,) = decode_cursor(cursor, 1)
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= INT32_MAX:
            raise InvalidCursor()
        offset = raw
    rows = list(
        session.scalars(
            select(Conversation)
            .where(Conversation.creator_id == creator_id)
            .order_by(
                case((Conversation.unread_count > 0, 0), else_=1),
                Conversation.last_message_at.desc().nulls_last(),
                Conversation.id.desc(),
            )
            .offset(offset)
            .limit(limit + 1)
        )
    )
    nxt = encode_cursor([offset + limit]) if len(rows) > limit else None
    return ConversationPage(
        items=[ConversationOut.model_validate(c) for c in rows[:limit]], next_cursor=nxt
    )


def post_message(
    session: Session,
    creator_id: str,
    conversation_id: str,
    data: MessageCreate,
    now: datetime,
    send_outbound: SendOutbound,
) -> MessageOut:
    """Record a message in a conversation; an outbound one is also queued in the outbox, in the
    same transaction, unless ``data.send`` is false. Returns its API shape, with ``status``
    ``queued`` when it was queued.

    Raises:
        ApiError: 404 ``conversation_not_found``; from the sender, 409 ``no_sending_account``
            or ``fan_opted_out``, 422 ``no_channel``.
    """
    message = add_message(session, creator_id, conversation_id, data, now)
    if data.direction != "outbound" or not data.send:
        return message_out(message)
    conv = get_conversation(session, creator_id, conversation_id)
    message.outbox_id = send_outbound(session, conv, message, data)
    return message_out(message, "queued")


def message_out(message: Message, status: str | None = None) -> MessageOut:
    """Return the API shape of an inbox message; ``status`` is its outbox row's status."""
    return MessageOut(
        id=message.id,
        conversation_id=message.conversation_id,
        fan_id=message.fan_id,
        direction=message.direction,
        text=message.text,
        media_urls=list(message.media),
        price_cents=message.price_cents,
        purchased=message.purchased,
        sent_at=message.sent_at,
        read_at=message.read_at,
        outbox_id=message.outbox_id,
        created_at=message.created_at,
        source="inbox",
        status=status,
    )


def list_messages(
    session: Session, creator_id: str, conversation_id: str, limit: int, cursor: str | None
) -> MessagePage:
    """Return a page of a conversation's thread, newest first: its messages and everything
    the outbox sent its fan on its platform (:func:`huntaze.inbox.threads.list_thread`).

    Raises:
        ApiError: 404 ``conversation_not_found``; 400 ``invalid_cursor``.
    """
    conv = get_conversation(session, creator_id, conversation_id)
    return list_thread(session, conv, limit, cursor)


def add_message(
    session: Session, creator_id: str, conversation_id: str, data: MessageCreate, now: datetime
) -> Message:
    """Record a message in a conversation and update the thread's last time and unread count.

    Raises:
        ApiError: 404 ``conversation_not_found``.
    """
    conv = get_conversation(session, creator_id, conversation_id)
    sent_at = data.sent_at or now
    message = Message(
        id=new_id(MESSAGE_ID_PREFIX),
        creator_id=creator_id,
        conversation_id=conv.id,
        fan_id=conv.fan_id,
        direction=data.direction,
        text=data.text,
        media=list(data.media_urls),
        price_cents=data.price_cents,
        purchased=data.purchased,
        sent_at=sent_at,
        read_at=now if data.direction == "outbound" else None,
        outbox_id=None,
        created_at=now,
    )
    session.add(message)
    if conv.last_message_at is None or sent_at > conv.last_message_at:
        conv.last_message_at = sent_at
    if data.direction == "inbound":
        conv.unread_count += 1
    conv.updated_at = now
    session.flush()
    kind = EventType.MESSAGE_RECEIVED if data.direction == "inbound" else EventType.MESSAGE_RECORDED
    record_event(session, creator_id, kind, now, message.id, {"fanId": conv.fan_id})
    return message


def mark_conversation_read(
    session: Session, creator_id: str, conversation_id: str, now: datetime
) -> int:
    """Mark every inbound message of a conversation read; return how many changed.

    Raises:
        ApiError: 404 ``conversation_not_found``.
    """
    conv = get_conversation(session, creator_id, conversation_id)
    result = session.execute(
        update(Message)
        .where(
            Message.creator_id == creator_id,
            Message.conversation_id == conv.id,
            Message.direction == "inbound",
            Message.read_at.is_(None),
        )
        .values(read_at=now)
    )
    conv.unread_count = 0
    conv.updated_at = now
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def mark_message_read(session: Session, creator_id: str, message_id: str, now: datetime) -> int:
    """Mark one inbound message read; return 1 if it changed, else 0.

    Raises:
        ApiError: 404 ``inbox_message_not_found``.
    """
    message = session.scalar(
        select(Message).where(Message.id == message_id, Message.creator_id == creator_id)
    )
    if message is None:
        raise InboxMessageNotFound()
    if message.direction != "inbound" or message.read_at is not None:
        return 0
    message.read_at = now
    conv = get_conversation(session, creator_id, message.conversation_id)
    conv.unread_count = max(0, conv.unread_count - 1)
    session.flush()
    return 1


def unread_count(session: Session, creator_id: str) -> int:
    """Return the number of unread inbound messages across the creator's conversations."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Message)
            .where(
                Message.creator_id == creator_id,
                Message.direction == "inbound",
                Message.read_at.is_(None),
            )
        )
        or 0
    )
