"""Tracked events: what fans did after a campaign reached them, sent in by the creator's
tools (``POST /api/track/events``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from huntaze.db.base import Base


class TrackedKind(StrEnum):
    """What happened: the message was shown (``impression``), opened, a link in it clicked,
    the fan converted, or paid (``purchase``, with ``purchaseKind``)."""

    IMPRESSION = "impression"
    OPEN = "open"
    CLICK = "click"
    CONVERSION = "conversion"
    PURCHASE = "purchase"


TrackedKindValue = Literal["impression", "open", "click", "conversion", "purchase"]
#: A tracked purchase's kind (issue 11: tip, PPV unlock, subscription, renewal).
TrackedPurchaseValue = Literal["tip", "ppv_unlock", "subscription", "renewal"]


class TrackedEvent(Base):
    """One tracked event. ``external_id`` (the sender's id) makes ingestion idempotent:
    sending the same event twice stores it once."""

    __tablename__ = "tracked_events"
    __table_args__ = (
        UniqueConstraint("creator_id", "external_id"),
        Index("ix_tracked_events_campaign", "campaign_id", "kind"),
        Index("ix_tracked_events_fan", "fan_id", "occurred_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    creator_id: Mapped[str] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    purchase_kind: Mapped[str | None] = mapped_column(String(16))
    fan_id: Mapped[str | None] = mapped_column(ForeignKey("fans.id", ondelete="CASCADE"))
    campaign_id: Mapped[str | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    variant_id: Mapped[str | None] = mapped_column(String(32))
    value_cents: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    occurred_at: Mapped[datetime]
    external_id: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime]
