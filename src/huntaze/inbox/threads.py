"""A conversation's thread: the inbox's messages merged with what the outbox sent the fan.

A conversation is one fan on one platform. Its thread shows, newest first, in one
keyset-paginated ``UNION ALL`` (docs/inbox.md, "Threads"):

1. the conversation's ``messages`` rows (received, sent from the inbox, or recorded), each
   with the delivery status of the outbox row that sends it (``messages.outbox_id``);
2. the fan's outbox rows on that platform that no bulk queued and no inbox message of this
   conversation links to: the seed's ``POST /api/onlyfans/messages/send`` and
   ``POST /api/messages/send``. They are found through the partial index
   ``ix_outbox_fan_direct`` (``fan_id, created_at`` where ``bulk_id IS NULL``, migration
   0007), which a bulk's rows never enter;
3. the fan's rows of the creator's bulks on that platform, each found by one probe of the
   outbox's unique ``(account_id, idempotency_key)`` index, since a bulk gives each row the
   key ``<bulk id>:<fan id>`` (:func:`huntaze.messaging.send.queue_bulk`).

Nothing is written when a message is queued, so a 1,000,000-message bulk pays nothing for its
threads (``bench/enqueue_bench.py``); the price is paid on read, one index range and one probe
per bulk of the creator. The CRM reads the outbox through its model only; it never imports the
messaging services (the app wires those in, :mod:`huntaze.messaging.conversations`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Select,
    cast,
    literal,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session

from huntaze.db.base import UTCDateTime
from huntaze.inbox.schemas import MessageOut, MessagePage
from huntaze.kit.keyset import Keyset, SortColumn
from huntaze.models.crm import Conversation, Message
from huntaze.models.messaging import BulkSend, OutboxMessage

#: The separator :func:`huntaze.messaging.send.queue_bulk` puts between the bulk id and the
#: fan id in a bulk row's ``idempotency_key``.
BULK_KEY_SEPARATOR = ":"


#: A thread pages newest first by ``(time, id)``; each part of the ``UNION`` applies the
#: cursor to its own columns.
PAGES = Keyset(SortColumn(Message.sent_at, "datetime"), Message.id, descending=True)


def _outbox_columns(source: str) -> list[Any]:
    """An outbox row as a thread item (the columns of :func:`_inbox_rows`, in order)."""
    return [
        OutboxMessage.id.label("id"),
        literal("outbound").label("direction"),
        OutboxMessage.content.label("text"),
        OutboxMessage.media.label("media"),
        OutboxMessage.price_cents.label("price_cents"),
        literal(False, Boolean).label("purchased"),
        OutboxMessage.created_at.label("t"),
        cast(null(), UTCDateTime()).label("read_at"),  # typed: PostgreSQL reads NULL as text
        OutboxMessage.id.label("outbox_id"),
        OutboxMessage.created_at.label("created_at"),
        literal(source).label("source"),
        OutboxMessage.status.label("status"),
        OutboxMessage.sent_at.label("delivered_at"),
        OutboxMessage.last_error.label("last_error"),
        OutboxMessage.subject.label("subject"),
        OutboxMessage.bulk_id.label("bulk_id"),
    ]


def _inbox_rows(conv: Conversation, after: tuple[datetime, str] | None) -> Select[Any]:
    """The conversation's own messages, with the status of the outbox row sending each."""
    columns: list[Any] = [
        Message.id.label("id"),
        Message.direction.label("direction"),
        Message.text.label("text"),
        Message.media.label("media"),
        Message.price_cents.label("price_cents"),
        Message.purchased.label("purchased"),
        Message.sent_at.label("t"),
        Message.read_at.label("read_at"),
        Message.outbox_id.label("outbox_id"),
        Message.created_at.label("created_at"),
        literal("inbox").label("source"),
        OutboxMessage.status.label("status"),
        OutboxMessage.sent_at.label("delivered_at"),
        OutboxMessage.last_error.label("last_error"),
        OutboxMessage.subject.label("subject"),
        OutboxMessage.bulk_id.label("bulk_id"),
    ]
    return (
        select(*columns)
        # by primary key alone: ``outbox_id`` is set by the server from the creator's own
        # outbox row, and a creator filter here offered PostgreSQL ix_outbox_creator_created
        .outerjoin(OutboxMessage, OutboxMessage.id == Message.outbox_id)
        .where(
            Message.creator_id == conv.creator_id,
            Message.conversation_id == conv.id,
            *PAGES.beyond(after),
        )
    )


def _direct_rows(conv: Conversation, after: tuple[datetime, str] | None) -> Select[Any]:
    """The fan's outbox rows on the platform that no bulk queued and that are not the
    outbox side of one of this conversation's messages (those show as that message)."""
    return select(*_outbox_columns("send")).where(
        OutboxMessage.fan_id == conv.fan_id,
        OutboxMessage.bulk_id.is_(None),
        OutboxMessage.creator_id == conv.creator_id,
        OutboxMessage.platform == conv.platform,
        or_(OutboxMessage.conversation_id.is_(None), OutboxMessage.conversation_id != conv.id),
        *PAGES.beyond(after, OutboxMessage.created_at, OutboxMessage.id),
    )


def _bulk_rows(conv: Conversation, after: tuple[datetime, str] | None) -> Select[Any]:
    """The fan's row of each of the creator's bulks on the platform: one probe of the unique
    ``(account_id, idempotency_key)`` index per bulk.

    The keys come from the creator's own ``bulk_sends`` rows, and an account's outbox rows are
    its creator's (``OutboxMessage``), so the probe itself is the tenant filter; repeating
    ``outbox.creator_id`` here would offer SQLite's planner ``ix_outbox_creator_created``,
    which it took over the probes, reading the creator's whole outbox.
    """
    keys = select(
        BulkSend.account_id, BulkSend.id + literal(BULK_KEY_SEPARATOR + conv.fan_id)
    ).where(BulkSend.creator_id == conv.creator_id, BulkSend.platform == conv.platform)
    return select(*_outbox_columns("bulk")).where(
        tuple_(OutboxMessage.account_id, OutboxMessage.idempotency_key).in_(keys),
        OutboxMessage.fan_id == conv.fan_id,
        *PAGES.beyond(after, OutboxMessage.created_at, OutboxMessage.id),
    )


def _first(stmt: Select[Any], time_col: Any, id_col: Any, count: int) -> Select[Any]:
    """The first ``count`` rows of one part, newest first, so no part reads further than the
    page (each part's index gives its order)."""
    part = stmt.order_by(time_col.desc(), id_col.desc()).limit(count).subquery()
    return select(part)


def thread_query(conv: Conversation, limit: int, cursor: str | None) -> Select[Any]:
    """The statement reading one page (``limit + 1`` rows) of ``conv``'s thread, newest first
    by ``(t, id)``.

    Raises:
        ApiError: 400 ``invalid_cursor``.
    """
    after = PAGES.decode(cursor)
    count = limit + 1
    merged = union_all(
        _first(_inbox_rows(conv, after), Message.sent_at, Message.id, count),
        _first(_direct_rows(conv, after), OutboxMessage.created_at, OutboxMessage.id, count),
        # at most one row per bulk of the creator: ordered with the rest, so no index on
        # created_at tempts a planner away from the per-bulk probes
        _bulk_rows(conv, after),
    ).subquery("thread")
    return select(merged).order_by(merged.c.t.desc(), merged.c.id.desc()).limit(limit + 1)


def list_thread(
    session: Session, conv: Conversation, limit: int, cursor: str | None
) -> MessagePage:
    """Return a page of ``conv``'s thread, newest first: its messages and the outbox messages
    sent to its fan on its platform, each once, with its delivery status.

    Raises:
        ApiError: 400 ``invalid_cursor``.
    """
    rows = session.execute(thread_query(conv, limit, cursor)).mappings().all()
    items = [
        MessageOut(
            id=row["id"],
            conversation_id=conv.id,
            fan_id=conv.fan_id,
            direction=row["direction"],
            text=row["text"],
            media_urls=list(row["media"] or []),
            price_cents=row["price_cents"],
            purchased=bool(row["purchased"]),
            sent_at=row["t"],
            read_at=row["read_at"],
            outbox_id=row["outbox_id"],
            created_at=row["created_at"],
            source=row["source"],
            status=row["status"],
            delivered_at=row["delivered_at"],
            last_error=row["last_error"],
            subject=row["subject"],
            bulk_id=row["bulk_id"],
        )
        for row in rows[:limit]
    ]
    nxt = None
    if len(rows) > limit:
        last = items[-1]
        nxt = PAGES.encode(last.sent_at, last.id)
    return MessagePage(items=items, next_cursor=nxt)
