"""Shapes for conversations, messages and quick replies (camelCase JSON, cents, UTC).

Every string a request carries is :data:`~huntaze.kit.validation.SafeStr` (no NUL, no lone
surrogate), ids are bounded like the columns they are looked up in, and ``priceCents`` fits
the ``BIGINT`` column (:data:`~huntaze.kit.validation.Cents`): a value outside these rules is
a 422 naming the field, never a database error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from huntaze.kit.schema import CamelModel, Page
from huntaze.kit.validation import Cents, Platform, SafeStr, UtcDateTime, check_text

#: Longest id accepted in a request. Stored ids are at most 32 characters (``String(32)``);
#: the slack leaves room for longer prefixes without accepting unbounded input.
MAX_ID = 64
#: Longest media reference (a URL or a platform's media id), in characters.
MAX_MEDIA_REF = 2048

#: An id given in a request body, path or query: 1 to :data:`MAX_ID` characters of valid text.
IdStr = Annotated[str, Field(min_length=1, max_length=MAX_ID), AfterValidator(check_text)]
MediaRef = Annotated[str, Field(min_length=1, max_length=MAX_MEDIA_REF), AfterValidator(check_text)]

#: Where a thread item comes from (docs/inbox.md, "Threads").
MessageSource = Literal["inbox", "send", "bulk"]


class ConversationCreate(CamelModel):
    """``POST /api/crm/conversations``: open (or find) the thread with a fan.

    ``platform`` defaults to the fan's own platform; ``email`` opens the fan's email thread.
    """

    fan_id: IdStr
    platform: Platform | None = None


class ConversationOut(CamelModel):
    """A conversation with one fan on one platform.

    ``unreadCount`` counts inbound messages not yet read. ``lastMessageAt`` is the time of the
    last message written in the inbox (received, or sent or recorded from the inbox): sends
    from the messaging routes and bulks show in the thread but do not move the conversation
    in the list (docs/inbox.md, "The conversation list").
    """

    id: str
    fan_id: str
    platform: str
    last_message_at: datetime | None
    unread_count: int
    created_at: datetime
    updated_at: datetime


class ConversationPage(Page[ConversationOut]):
    """Conversations: unread first, then by last message time, newest first."""


class MessageCreate(CamelModel):
    """``POST /api/crm/conversations/{id}/messages``.

    ``priceCents`` makes the message PPV; ``sentAt`` defaults to now (a date means midnight
    UTC, a time without a zone is UTC).
    """

    direction: Literal["inbound", "outbound"] = "outbound"
    text: SafeStr = Field(default="", max_length=10_000)
    media_urls: list[MediaRef] = Field(default_factory=list, max_length=50)
    price_cents: Cents | None = None
    purchased: bool = False
    sent_at: UtcDateTime | None = None
    send: bool = Field(
        default=True,
        description="outbound only: queue it for sending (false records a message sent elsewhere)",
    )
    priority: Literal["high", "medium", "low"] = "high"


STATUS_DOC = (
    "the delivery status from the outbox (`queued`, `processing`, `sent`, `failed`, "
    "`cancelled`), as `GET /api/messages/{outboxId}` gives it; null for a message Huntaze did "
    "not send (inbound, or recorded with `send: false`)"
)


class MessageOut(CamelModel):
    """One item of a conversation's thread.

    ``id`` is the item's own id: ``cmsg_…`` for a message written in the inbox (rows written
    before inbox ids had their own prefix keep their ``msg_…`` id), or the outbox message's
    ``msg_…`` id for a message sent from the messaging routes or a bulk. ``outboxId`` is the
    id ``GET /api/messages/{id}`` answers, for every message Huntaze queued for sending
    (equal to ``id`` when the item is the outbox message itself). ``sentAt`` is the item's
    time in the thread (when it was received, written or queued); ``deliveredAt`` is when the
    platform accepted it (the status route's ``sentAt``). ``source`` says where it comes from:
    ``inbox``, ``send`` (``POST /api/onlyfans/messages/send`` or ``/api/messages/send``) or
    ``bulk`` (``POST /api/messages/bulk``, with its ``bulkId``).
    """

    id: str
    conversation_id: str
    fan_id: str
    direction: str
    text: str
    media_urls: list[str]
    price_cents: int | None
    purchased: bool
    sent_at: datetime
    read_at: datetime | None
    outbox_id: str | None = None
    created_at: datetime
    source: MessageSource = "inbox"
    status: str | None = Field(default=None, description=STATUS_DOC)
    delivered_at: datetime | None = None
    last_error: str | None = Field(
        default=None, description="why the last attempt failed, when one did"
    )
    subject: str | None = None
    bulk_id: str | None = None


class MessagePage(Page[MessageOut]):
    """A thread's messages, newest first."""


class UnreadCount(CamelModel):
    """``GET /api/crm/messages/unread-count``."""

    unread_count: int


class MarkedRead(CamelModel):
    """How many messages a mark-read call changed."""

    marked: int


class QuickReplyIn(CamelModel):
    """A quick reply: ``content`` may hold ``{variable}`` placeholders."""

    title: SafeStr = Field(min_length=1, max_length=255)
    content: SafeStr = Field(min_length=1, max_length=10_000)
    category: SafeStr | None = Field(default=None, max_length=64)


class QuickReplyPatch(CamelModel):
    """Partial update of a quick reply."""

    title: SafeStr | None = Field(default=None, min_length=1, max_length=255)
    content: SafeStr | None = Field(default=None, min_length=1, max_length=10_000)
    category: SafeStr | None = Field(default=None, max_length=64)


class QuickReplyOut(CamelModel):
    """A quick reply with the placeholder names it uses."""

    id: str
    title: str
    content: str
    category: str | None
    variables: list[str]
    created_at: datetime
    updated_at: datetime


class QuickReplyPage(Page[QuickReplyOut]):
    """Quick replies, by title."""


class RenderRequest(CamelModel):
    """``POST /api/crm/quick-replies/{id}/render``: fill the placeholders for one fan."""

    fan_id: IdStr
    default: SafeStr = Field(default="", max_length=255)


class Rendered(CamelModel):
    """The rendered text."""

    text: str
