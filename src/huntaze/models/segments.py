"""Segment models: audiences described by criteria, and the members a refresh stored."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from huntaze.db.base import Base


class SegmentKind(StrEnum):
    """``static``: the members stored when it was created or last refreshed, until the next
    refresh. ``dynamic``: the fans its criteria select whenever it is read (the stored
    members are the last refresh's, for membership-change events)."""

    STATIC = "static"
    DYNAMIC = "dynamic"


SegmentKindValue = Literal["static", "dynamic"]


class Segment(Base):
    """A creator's audience (seed 004's ``Segment``): criteria in the language of
    :mod:`huntaze.fans.criteria`, and what its last refresh measured."""

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("creator_id", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    creator_id: Mapped[str] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    criteria: Mapped[dict[str, Any]]
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    #: the members' summed lifetime value at the last refresh (cents)
    revenue_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    #: the members' inbound messages over the 30 days before the last refresh
    messages_30d: Mapped[int] = mapped_column(BigInteger, default=0)
    last_refreshed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SegmentMember(Base):
    """A fan stored as a member of a segment by its last refresh."""

    __tablename__ = "segment_members"
    __table_args__ = (Index("ix_segment_members_fan", "fan_id"),)

    segment_id: Mapped[str] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    fan_id: Mapped[str] = mapped_column(ForeignKey("fans.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime]


class FanTierRules(Base):
    """A creator's fan-tier thresholds (:class:`huntaze.fans.tiers.TierRules`, camelCase
    JSON); a creator without a row uses the defaults."""

    __tablename__ = "fan_tier_rules"

    creator_id: Mapped[str] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True
    )
    rules: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
