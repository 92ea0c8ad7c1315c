"""Shapes for conversations, messages and quick replies (camelCase JSON, cents, UTC)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator

from huntaze.kit.schema import CamelModel


class ConversationCreate(CamelModel):
    """``POST /api/crm/conversations``: open (or find) the thread with a fan."""

    fan_id: str
    platform: str | None = Field(default=None, max_length=32)


class ConversationOut(CamelModel):
    """A conversation with one fan; ``unreadCount`` counts inbound messages not yet read."""

    id: str
    fan_id: str
    platform: str
    last_message_at: datetime | None
    unread_count: int
    created_at: datetime
    updated_at: datetime


class ConversationPage(CamelModel):
    """Conversations: unread first, then by last message time, newest first."""

    items: list[ConversationOut]
    next_cursor: str | None = None


class MessageCreate(CamelModel):
    """``POST /api/crm/conversations/{id}/messages``.

    ``priceCents`` makes the message PPV; ``sentAt`` defaults to now (UTC).
    """

    direction: Literal["inbound", "outbound"] = "outbound"
    text: str = Field(default="", max_length=10_000)
    media_urls: list[str] = Field(default_factory=list, max_length=50)
    price_cents: int | None = Field(default=None, ge=0)
    purchased: bool = False
    sent_at: datetime | None = None
    send: bool = Field(
        default=True,
        description="outbound only: queue it for sending (false records a message sent elsewhere)",
    )
    priority: Literal["high", "medium", "low"] = "high"

    @field_validator("sent_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone (for example 2026-01-01T10:00:00Z)")
        return value


class MessageOut(CamelModel):
    """One message of a conversation."""

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


class MessagePage(CamelModel):
    """Messages, newest first."""

    items: list[MessageOut]
    next_cursor: str | None = None


class UnreadCount(CamelModel):
    """``GET /api/crm/messages/unread-count``."""

    unread_count: int


class MarkedRead(CamelModel):
    """How many messages a mark-read call changed."""

    marked: int


class QuickReplyIn(CamelModel):
    """A quick reply: ``content`` may hold ``{variable}`` placeholders."""

    title: str = Field(min_length=1, max_length=255)
    content: str = Field(min_length=1, max_length=10_000)
    category: str | None = Field(default=None, max_length=64)


class QuickReplyPatch(CamelModel):
    """Partial update of a quick reply."""

    title: str | None = Field(default=None, min_length=1, max_length=255)
    content: str | None = Field(default=None, min_length=1, max_length=10_000)
    category: str | None = Field(default=None, max_length=64)


class QuickReplyOut(CamelModel):
    """A quick reply with the placeholder names it uses."""

    id: str
    title: str
    content: str
    category: str | None
    variables: list[str]
    created_at: datetime
    updated_at: datetime


class QuickReplyPage(CamelModel):
    """Quick replies, by title."""

    items: list[QuickReplyOut]
    next_cursor: str | None = None


class RenderRequest(CamelModel):
    """``POST /api/crm/quick-replies/{id}/render``: fill the placeholders for one fan."""

    fan_id: str
    default: str = Field(default="", max_length=255)


class Rendered(CamelModel):
    """The rendered text."""

    text: str
