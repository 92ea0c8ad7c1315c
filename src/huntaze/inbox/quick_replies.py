"""Quick replies: saved answers with ``{variable}`` placeholders, rendered for a fan."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huntaze.db.session import get_owned
from huntaze.fans.service import get_fan
from huntaze.inbox.errors import QuickReplyNotFound
from huntaze.inbox.schemas import (
    QuickReplyIn,
    QuickReplyOut,
    QuickReplyPage,
    QuickReplyPatch,
)
from huntaze.kit.ids import new_id
from huntaze.kit.keyset import Keyset, SortColumn
from huntaze.kit.templates import render, variables
from huntaze.models.crm import Fan, QuickReply

#: Quick replies page by title.
PAGES = Keyset(SortColumn(QuickReply.title), QuickReply.id)


def fan_variables(fan: Fan) -> dict[str, Any]:
    """Return the placeholder values a fan offers.

    ``username``, ``displayName``, ``firstName`` (the first word of the display name, else the
    username), ``email``, ``platform``, and each custom field by its own name.
    """
    first = (fan.display_name or "").strip().split(" ")[0] or fan.username
    values: dict[str, Any] = {
        k: v for k, v in (fan.custom_fields or {}).items() if isinstance(v, str | int | float)
    }
    values.update(
        {
            "username": fan.username,
            "displayName": fan.display_name or fan.username,
            "firstName": first,
            "email": fan.email,
            "platform": fan.platform,
        }
    )
    return values


def to_out(reply: QuickReply) -> QuickReplyOut:
    """Return the API shape of a quick reply, with its placeholder names."""
    return QuickReplyOut(
        id=reply.id,
        title=reply.title,
        content=reply.content,
        category=reply.category,
        variables=variables(reply.content),
        created_at=reply.created_at,
        updated_at=reply.updated_at,
    )


def get_reply(session: Session, creator_id: str, reply_id: str) -> QuickReply:
    """Return the creator's quick reply.

    Raises:
        ApiError: 404 ``quick_reply_not_found``.
    """
    return get_owned(session, QuickReply, creator_id, reply_id, QuickReplyNotFound)


def list_replies(
    session: Session, creator_id: str, limit: int, cursor: str | None, category: str | None
) -> QuickReplyPage:
    """Return a page of quick replies ordered by title.

    Raises:
        ApiError: 400 ``invalid_cursor``, also for a cursor holding anything but two strings
            of valid text (a title and an id), so no value from a client reaches the database
            unchecked.
    """
    after = PAGES.decode(cursor)
    stmt = select(QuickReply).where(QuickReply.creator_id == creator_id)
    if category:
        stmt = stmt.where(QuickReply.category == category)
    rows = list(session.scalars(PAGES.seek(stmt, after, limit)))
    nxt = PAGES.next_cursor(rows, limit)
    return QuickReplyPage(items=[to_out(r) for r in rows[:limit]], next_cursor=nxt)


def create_reply(
    session: Session, creator_id: str, data: QuickReplyIn, now: datetime
) -> QuickReply:
    """Create a quick reply."""
    reply = QuickReply(
        id=new_id("qr"),
        creator_id=creator_id,
        title=data.title,
        content=data.content,
        category=data.category,
        created_at=now,
        updated_at=now,
    )
    session.add(reply)
    session.flush()
    return reply


def update_reply(
    session: Session,
    creator_id: str,
    reply_id: str,
    data: QuickReplyIn | QuickReplyPatch,
    now: datetime,
) -> QuickReply:
    """Replace (``QuickReplyIn``) or patch (``QuickReplyPatch``) a quick reply.

    Raises:
        ApiError: 404 ``quick_reply_not_found``.
    """
    reply = get_reply(session, creator_id, reply_id)
    fields = (
        data.model_dump()
        if isinstance(data, QuickReplyIn)
        else data.model_dump(include=data.model_fields_set, exclude_none=True)
    )
    for key, value in fields.items():
        setattr(reply, key, value)
    reply.updated_at = now
    session.flush()
    return reply


def delete_reply(session: Session, creator_id: str, reply_id: str) -> None:
    """Delete a quick reply.

    Raises:
        ApiError: 404 ``quick_reply_not_found``.
    """
    session.delete(get_reply(session, creator_id, reply_id))
    session.flush()


def render_reply(
    session: Session, creator_id: str, reply_id: str, fan_id: str, default: str
) -> str:
    """Render a quick reply for one fan; placeholders without a value give ``default``.

    Raises:
        ApiError: 404 ``quick_reply_not_found`` or ``fan_not_found``.
    """
    reply = get_reply(session, creator_id, reply_id)
    fan = get_fan(session, creator_id, fan_id)
    return render(reply.content, fan_variables(fan), default)
