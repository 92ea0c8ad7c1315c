"""Campaign models (seed 004's ``Campaign``): a message to an audience, on one or more
platforms, with a lifecycle."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from huntaze.db.base import Base, JSONType


class CampaignStatus(StrEnum):
    """Seed 004's lifecycle: ``draft`` → ``scheduled`` → ``active`` ⇄ ``paused`` →
    ``completed``; ``cancelled`` from any state before ``completed``."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


CampaignStatusValue = Literal["draft", "scheduled", "active", "paused", "completed", "cancelled"]
#: Seed 004's types, and ``email`` from seed 003's example.
CampaignTypeValue = Literal["ppv", "subscription", "promotion", "engagement", "retention", "email"]


class Campaign(Base):
    """A creator's campaign. ``content`` maps a platform (or ``default``) to ``{text,
    mediaUrls?, priceCents?}``; ``launch`` keeps what the launch queued and skipped."""

    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_creator_created", "creator_id", "created_at"),
        # the scheduler's due campaigns: scheduled ones by start
        Index("ix_campaigns_due", "status", "scheduled_for"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    creator_id: Mapped[str] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(String(64))
    platforms: Mapped[list[str]]
    segment_ids: Mapped[list[str]]
    content: Mapped[dict[str, Any]]
    scheduled_for: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    #: ``HH:MM``: deliver at this time of day in each fan's time zone (else the creator's)
    local_time: Mapped[str | None] = mapped_column(String(5))
    #: deliver at each fan's learned hour (:mod:`huntaze.campaigns.send_window`)
    optimal_time: Mapped[bool] = mapped_column(Boolean, default=False)
    budget_cents: Mapped[int | None] = mapped_column(BigInteger)
    spent_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    #: what one delivered message costs (cents): spent = delivered x this
    cost_per_message_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    #: when the scheduler last brought ``spent_cents`` up to date (it checks the campaigns
    #: checked longest ago first; migration 0019)
    spend_checked_at: Mapped[datetime | None]
    goals: Mapped[dict[str, Any]]
    template_id: Mapped[str | None] = mapped_column(String(64))
    launch: Mapped[dict[str, Any]]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CampaignExperiment(Base):
    """A campaign's A/B test: its variants (``[{id, name, weight, content}]``, content as
    the campaign's), the share of the audience that takes part (the rest waits for the
    winner), the statistics' settings, and, once applied, the winner."""

    __tablename__ = "campaign_experiments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), unique=True
    )
    creator_id: Mapped[str] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    test_share: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    attribution_days: Mapped[int] = mapped_column(Integer)
    minimums: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    winner_variant_id: Mapped[str | None] = mapped_column(String(32))
    applied_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CampaignTemplate(Base):
    """A template a creator saved from one of its campaigns (the built-in ones live in
    :mod:`huntaze.campaigns.templates`)."""

    __tablename__ = "campaign_templates"
    __table_args__ = (Index("ix_campaign_templates_creator", "creator_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    creator_id: Mapped[str] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    niche: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(16))
    platforms: Mapped[list[str]]
    content: Mapped[dict[str, Any]]
    goals: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SendingRules(Base):
    """A creator's rules for every campaign (:mod:`huntaze.campaigns.send_window`): quiet
    hours in each fan's local time (``HH:MM`` to ``HH:MM``, may span midnight) and a cap on
    campaign messages per fan per day and per week (``None``: no rule)."""

    __tablename__ = "sending_rules"

    creator_id: Mapped[str] = mapped_column(
        ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True
    )
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    max_per_day: Mapped[int | None] = mapped_column(Integer)
    max_per_week: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime]
