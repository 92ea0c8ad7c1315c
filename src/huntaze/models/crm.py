"""CRM models: fans, fan tags, purchases, conversations, messages and quick replies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from huntaze.db.base import Base

#: Characters of ``fan_tags.tag_key`` (see :data:`huntaze.fans.tags.MAX_KEY_LENGTH`).
TAG_KEY_LENGTH = 200


#: The same value sets as plain literals, for the JSON schemas (inline enums, as the API has
#: always documented them) and the importers' typed tables; tests/test_states.py checks
#: that each matches its StrEnum.
SubscriptionStatusValue = Literal["active", "expired", "cancelled", "follower", "none"]
ConsentValue = Literal["opted_in", "opted_out", "unknown"]
PurchaseKindValue = Literal[
    "subscription",
    "renewal",
    "tip",
    "ppv_message",
    "ppv_post",
    "stream",
    "custom",
    "shop",
    "chargeback",
    "refund",
]


class SubscriptionStatus(StrEnum):
    """A fan's subscription: ``active``, ``expired``, ``cancelled``, ``follower`` (follows
    without paying) or ``none`` (unknown)."""

    ACTIVE = "active"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    FOLLOWER = "follower"
    NONE = "none"


class Consent(StrEnum):
    """Whether a fan may be messaged: ``opted_out`` fans are never sent to."""

    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"
    UNKNOWN = "unknown"


class PurchaseKind(StrEnum):
    """What a payment was for; ``chargeback`` and ``refund`` carry negative amounts."""

    SUBSCRIPTION = "subscription"
    RENEWAL = "renewal"
    TIP = "tip"
    PPV_MESSAGE = "ppv_message"
    PPV_POST = "ppv_post"
    STREAM = "stream"
    CUSTOM = "custom"
    SHOP = "shop"
    CHARGEBACK = "chargeback"
    REFUND = "refund"


CONSENT_STATES = ("opted_in", "opted_out", "unknown")
PURCHASE_KINDS = (
    "subscription",
    "renewal",
    "tip",
    "ppv_message",
    "ppv_post",
    "stream",
    "custom",
    "shop",
    "chargeback",
    "refund",
)


class Fan(Base):
    """A person who follows, subscribes to or pays a creator, on one platform.

    Unique on ``(creator_id, platform, platform_fan_id)``. ``lifetime_value_cents`` is net
    LTV in minor units of ``currency``: derived from purchases where the source gives
    transactions, stored as given where it gives a total (Patreon, OnlyFans fan lists).
    ``consent`` is marketing consent: ``opted_in``, ``opted_out`` or ``unknown``; an opted-out
    fan is never messaged. ``import_fingerprints`` maps an import format to a digest of the
    values its last file gave, so re-importing an unchanged file is one read per batch.
    """

    __tablename__ = "fans"
    __table_args__ = (
        UniqueConstraint("creator_id", "platform", "platform_fan_id"),
        # One index per sort of the fan list (``crm.fans.SORTS``): the creator, the sort
        # column, then the id as the tie-breaker, so each page is a range of one index in
        # order (keyset pagination, ``kit.keyset``), forwards or backwards, with no sort step.
        Index("ix_fans_sort_created", "creator_id", "created_at", "id"),
        Index("ix_fans_sort_ltv", "creator_id", "lifetime_value_cents", "id"),
        Index("ix_fans_sort_last_active", "creator_id", "last_active_at", "id"),
        Index("ix_fans_sort_subscribed", "creator_id", "subscribed_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    creator_id: Mapped[str] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    platform_fan_id: Mapped[str] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    subscription_status: Mapped[str] = mapped_column(String(16), default="none")
    subscribed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    last_active_at: Mapped[datetime | None]
    lifetime_value_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str | None] = mapped_column(String(3))
    timezone: Mapped[str | None] = mapped_column(String(64))
    consent: Mapped[str] = mapped_column(String(16), default="unknown")
    notes: Mapped[str | None] = mapped_column(Text)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    import_fingerprints: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class FanTag(Base):
    """A tag on a fan (a creator's list, a label): one row per (fan, tag key).

    ``tag`` is the creator's spelling, shown as written; ``tag_key`` is
    :func:`huntaze.fans.tags.tag_key` of it (NFKC, case-folded, spaces collapsed), which tags
    are matched and kept unique on, so ``VIP`` and ``vip`` are one tag of a fan. The index
    ``(creator_id, tag_key, fan_id)`` finds a creator's fans with a tag.
    """

    __tablename__ = "fan_tags"
    __table_args__ = (Index("ix_fan_tags_creator_key", "creator_id", "tag_key", "fan_id"),)

    fan_id: Mapped[str] = mapped_column(ForeignKey("fans.id", ondelete="CASCADE"), primary_key=True)
    tag_key: Mapped[str] = mapped_column(String(TAG_KEY_LENGTH), primary_key=True)
    tag: Mapped[str] = mapped_column(String(100))
    creator_id: Mapped[str] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))


class Purchase(Base):
    """One payment a fan made. Amounts are signed cents: chargebacks and refunds are negative.

    Unique on ``(creator_id, platform, transaction_id)``, the platform's transaction id.
    """

    __tablename__ = "purchases"
    __table_args__ = (
        UniqueConstraint("creator_id", "platform", "transaction_id"),
        Index("ix_purchases_fan_purchased", "fan_id", "purchased_at"),
        # covering: a segment's purchases in a window are one range, no table reads
        Index(
            "ix_purchases_creator_purchased",
            "creator_id",
            "purchased_at",
            "fan_id",
            "kind",
            "net_cents",
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    creator_id: Mapped[str] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    fan_id: Mapped[str] = mapped_column(ForeignKey("fans.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    gross_cents: Mapped[int] = mapped_column(BigInteger)
    net_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    purchased_at: Mapped[datetime]
    transaction_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class Conversation(Base):
    """A message thread with one fan on one platform; ``unread_count`` counts inbound unread."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("creator_id", "fan_id", "platform"),
        Index("ix_conversations_creator_last", "creator_id", "last_message_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    creator_id: Mapped[str] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    fan_id: Mapped[str] = mapped_column(ForeignKey("fans.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    last_message_at: Mapped[datetime | None]
    unread_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Message(Base):
    """One message in a conversation.

    ``direction`` is ``inbound`` (from the fan) or ``outbound``; ``media`` a list of media
    references; ``price_cents`` the PPV price (None when free); ``purchased`` whether the fan
    unlocked it; ``read_at`` when an inbound message was read; ``outbox_id`` the outbox row
    that sends an outbound message.
    """

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_sent", "conversation_id", "sent_at"),
        Index("ix_messages_fan_sent", "fan_id", "sent_at"),
        # covering: a segment's messages in a window are one range, no table reads
        Index("ix_messages_creator_sent", "creator_id", "direction", "sent_at", "fan_id"),
        Index("ix_messages_creator_unread", "creator_id", "direction", "read_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    creator_id: Mapped[str] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    fan_id: Mapped[str] = mapped_column(ForeignKey("fans.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[list[str]]
    price_cents: Mapped[int | None] = mapped_column(BigInteger)
    purchased: Mapped[bool] = mapped_column(Boolean, default=False)
    sent_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    outbox_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class QuickReply(Base):
    """A saved reply with ``{variable}`` placeholders (``{username}``, ``{displayName}``…)."""

    __tablename__ = "quick_replies"
    __table_args__ = (Index("ix_quick_replies_creator", "creator_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    creator_id: Mapped[str] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
