"""Campaign requests and answers: seed 004's Campaign fields, and seed 003's request body
(``targeting.segmentIds``, ``schedule.startDate`` / ``endDate``) and ``metrics``.

Money in the seeds' fields stays as they write it (``budget``, ``spent``: decimal amounts in
the creator's currency) with ``budgetCents`` and ``spentCents`` beside them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from huntaze.experiments.schemas import AnalyzeOut, Minimums
from huntaze.fans.schemas import SafeModel
from huntaze.kit.schema import CamelModel, Page
from huntaze.kit.validation import Cents, JsonObject, Platform, SafeStr, UtcDateTime
from huntaze.models.campaigns import CampaignStatusValue, CampaignTypeValue

MAX_TEXT = 10_000
MAX_PLATFORMS = 10
MAX_SEGMENTS = 50
MediaUrl = Annotated[SafeStr, Field(min_length=1, max_length=2048)]
SegmentId = Annotated[SafeStr, Field(min_length=1, max_length=64)]


class ContentIn(SafeModel):
    """What one platform receives: ``text`` with ``{variable}`` placeholders (``{username}``,
    ``{displayName}``, ``{firstName}``, any custom field), media and a PPV price. ``nsfw``
    content never reaches an SFW platform (:mod:`huntaze.campaigns.adapt`)."""

    text: str = Field(min_length=1, max_length=MAX_TEXT)
    media_urls: list[MediaUrl] = Field(default_factory=list, max_length=20)
    price_cents: Cents | None = None
    nsfw: bool = False


class Targeting(SafeModel):
    """Seed 003's targeting: the segments whose members the campaign reaches (their union;
    none means every fan of the creator)."""

    segment_ids: list[SegmentId] = Field(default_factory=list, max_length=MAX_SEGMENTS)


#: A time of day, ``HH:MM`` on a 24-hour clock.
TimeOfDay = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class Schedule(SafeModel):
    """Seed 003's schedule: when the campaign starts, and when it stops sending; and when
    each fan receives it (docs/campaigns.md "Send windows"): at ``localTime`` in the fan's
    time zone (else the creator's), or with ``optimalTime`` at the hour the fan is usually
    active. Neither: as soon as it launches."""

    start_date: UtcDateTime | None = None
    end_date: UtcDateTime | None = None
    local_time: TimeOfDay | None = None
    optimal_time: bool = False


class CampaignIn(SafeModel):
    """A campaign to create or replace.

    ``segmentIds`` (seed 004) and ``targeting.segmentIds`` (seed 003) are one list;
    ``scheduledFor`` and ``schedule.startDate`` one instant. ``content`` maps a platform, or
    ``default`` for every platform without its own, to what it receives. ``budget`` (an
    amount) or ``budgetCents`` caps the campaign's spend: each delivered message costs
    ``costPerMessageCents``, and a campaign whose spend reaches its budget pauses itself.
    """

    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=2000)
    type: CampaignTypeValue = "promotion"
    platforms: list[Platform] = Field(min_length=1, max_length=MAX_PLATFORMS)
    segment_ids: list[SegmentId] | None = Field(default=None, max_length=MAX_SEGMENTS)
    targeting: Targeting | None = None
    content: dict[str, ContentIn] = Field(default_factory=dict, max_length=MAX_PLATFORMS + 1)
    schedule: Schedule | None = None
    scheduled_for: UtcDateTime | None = None
    budget: float | None = Field(default=None, ge=0, le=1e13)
    budget_cents: Cents | None = None
    cost_per_message_cents: Cents = 0
    goals: JsonObject = Field(default_factory=dict)
    template_id: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _one_meaning(self) -> CampaignIn:
        self.platforms = list(dict.fromkeys(self.platforms))
        for key in self.content:
            if key != "default" and key not in self.platforms:
                raise ValueError(f"content for {key!r}, which is not one of the platforms")
        if self.budget is not None and self.budget_cents is None:
            self.budget_cents = round(self.budget * 100)
        return self

    def segments(self) -> list[str]:
        """The audience's segment ids, from either field, each once."""
        ids = list(self.segment_ids or []) + list(
            self.targeting.segment_ids if self.targeting else []
        )
        return list(dict.fromkeys(ids))

    def start(self) -> datetime | None:
        """When the campaign is to start, from either field."""
        return self.scheduled_for or (self.schedule.start_date if self.schedule else None)


class ScheduleIn(SafeModel):
    """``POST /schedule``: when to start (seed 004's ``scheduledFor``), in the future."""

    scheduled_for: UtcDateTime


class DuplicateIn(SafeModel):
    """``POST /duplicate``: the copy's name (default: the original's with `` (copy)``)."""

    name: str | None = Field(default=None, min_length=1, max_length=255)


class Metrics(CamelModel):
    """Seed 003's metrics, from the campaign's outbox rows and tracked events: ``sent``
    (delivered to the platform), ``opened``, ``clicked`` and ``converted`` (fans, from
    ``POST /api/track/events``), and where the rest of the messages are."""

    sent: int = 0
    opened: int = 0
    clicked: int = 0
    converted: int = 0
    queued: int = 0
    processing: int = 0
    held: int = 0
    failed: int = 0
    cancelled: int = 0


class LaunchReport(CamelModel):
    """What the launch queued and skipped, in all and per platform. Skips: ``optedOut``,
    ``noChannel`` (no sending account on the platform, or a fan on none of the campaign's
    platforms), ``alreadyMessaged`` (this campaign messaged the fan before) and
    ``frequencyCapped`` (the fan already has as many campaign messages as the creator's
    sending rules allow a day or a week)."""

    queued: int = 0
    skipped: dict[str, int] = Field(default_factory=dict)
    by_platform: dict[str, dict[str, int]] = Field(default_factory=dict)


class CampaignOut(CamelModel):
    """A campaign as the API answers it."""

    id: str
    name: str
    description: str | None
    type: str
    status: CampaignStatusValue
    status_reason: str | None
    platforms: list[str]
    segment_ids: list[str]
    targeting: Targeting
    content: dict[str, Any]
    schedule: Schedule
    scheduled_for: datetime | None
    budget: float | None
    budget_cents: int | None
    spent: float
    spent_cents: int
    cost_per_message_cents: int
    goals: dict[str, Any]
    template_id: str | None
    metrics: Metrics
    launch: LaunchReport | None
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CampaignPage(Page[CampaignOut]):
    """A page of campaigns, newest first."""


class VariantIn(SafeModel):
    """One variant of an A/B test: its name, its share of the test's traffic (``weight``,
    relative) and its content (per platform or ``default``; none means the campaign's)."""

    name: str = Field(min_length=1, max_length=64)
    weight: float = Field(default=1.0, gt=0, le=1e6)
    content: dict[str, ContentIn] = Field(default_factory=dict, max_length=MAX_PLATFORMS + 1)


class AbTestIn(SafeModel):
    """A campaign's A/B test. ``testShare`` of the audience (0.01 to 1) takes part, split
    between the variants by weight; the rest waits for ``apply-winner``. A purchase within
    ``attributionDays`` after a delivered message converts it."""

    variants: list[VariantIn] = Field(min_length=2, max_length=10)
    test_share: float = Field(default=1.0, ge=0.01, le=1.0)
    confidence: float = Field(default=0.95, ge=0.5, le=0.9999)
    attribution_days: int = Field(default=7, ge=1, le=90)
    minimums: Minimums = Field(default_factory=Minimums)

    @model_validator(mode="after")
    def _unique(self) -> AbTestIn:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError("variant names must be unique")
        return self


class VariantDefinition(CamelModel):
    """A variant as stored: its id (on its messages' ``variantId``), name, weight, content."""

    id: str
    name: str
    weight: float
    content: dict[str, Any]


class AbTestOut(CamelModel):
    """A campaign's A/B test and where it stands: each variant's delivered messages
    (``users``), the fans who bought within the attribution window (``conversions``) and
    their revenue, and the fans whose tracked clicks name the variant, analysed as
    ``POST /api/experiments/analyze`` does."""

    id: str
    campaign_id: str
    status: Literal["running", "applied"]
    test_share: float
    confidence: float
    attribution_days: int
    minimums: Minimums
    variants: list[VariantDefinition]
    results: AnalyzeOut
    revenue_cents: dict[str, int]
    winner_variant_id: str | None
    applied_at: datetime | None


class ApplyWinnerIn(SafeModel):
    """``apply-winner``: the variant to send to the rest (default: the analysis' winner)."""

    variant_id: str | None = Field(default=None, max_length=64)


class ApplyWinnerOut(CamelModel):
    """The variant sent to the rest of the audience, and what that queued and skipped."""

    winner_variant_id: str
    launch: LaunchReport


class ChannelFigures(CamelModel):
    """Seed 003's per-platform figures, with revenue in cents beside the seed's amount."""

    impressions: int
    clicks: int
    conversions: int
    revenue: float
    revenue_cents: int


class DayFigures(ChannelFigures):
    """One day of the timeline (the UTC day the messages were delivered)."""

    date: str


class Funnel(CamelModel):
    """Messages queued (``sent`` in seed 003's sense: every message the campaign made),
    delivered to the platform, clicked, and fans converted."""

    sent: int
    delivered: int
    clicked: int
    converted: int


class CampaignAnalytics(CamelModel):
    """Seed 003's analytics (``overview``, ``byPlatform``, ``timeline``) and more: the
    funnel, rates, ROI as (revenue - spent) / spent and cost per acquisition (cents).
    Conversions and revenue are attributed within ``attributionDays`` after delivery
    (docs/campaigns.md); clicks are the fans whose tracked ``click`` events name the
    campaign (docs/tracking.md)."""

    campaign_id: str
    attribution_days: int
    overview: ChannelFigures
    by_platform: dict[str, ChannelFigures]
    timeline: list[DayFigures]
    funnel: Funnel
    ctr: float | None
    conversion_rate: float | None
    roi: float | None
    cpa_cents: int | None


class TemplateOut(CamelModel):
    """A campaign template: built in (``builtIn``) or saved by the creator, with how many of
    the creator's campaigns used it and their average conversion rate (delivered messages
    followed by a purchase within 7 days; None before any delivery)."""

    id: str
    name: str
    description: str | None
    niche: str
    type: str
    platforms: list[str]
    content: dict[str, Any]
    goals: dict[str, Any]
    audience: str | None
    built_in: bool
    usage_count: int
    avg_performance: float | None


class TemplateList(CamelModel):
    """The templates, built-in first."""

    items: list[TemplateOut]


class FromTemplateIn(SafeModel):
    """``POST /from-template``: the template, and what to set on the new draft (the
    template's name, platforms and content otherwise). ``content`` replaces the template's
    text for the platforms (or ``default``) it names, and keeps the rest."""

    template_id: str = Field(min_length=1, max_length=64)
    name: str | None = Field(default=None, min_length=1, max_length=255)
    platforms: list[Platform] | None = Field(default=None, min_length=1, max_length=MAX_PLATFORMS)
    content: dict[str, ContentIn] | None = Field(default=None, max_length=MAX_PLATFORMS + 1)
    segment_ids: list[SegmentId] | None = Field(default=None, max_length=MAX_SEGMENTS)
    targeting: Targeting | None = None
    schedule: Schedule | None = None


class SaveTemplateIn(SafeModel):
    """``POST /{id}/save-as-template``: the template's name, niche and description (the
    campaign's name by default)."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    niche: Literal["general", "fitness", "gaming", "adult", "fashion"] = "general"
    description: str | None = Field(default=None, max_length=2000)


class QuietHours(SafeModel):
    """No campaign message reaches a fan between ``start`` and ``end`` of the fan's local
    day (``22:00`` to ``08:00`` spans midnight); one due then waits for ``end``."""

    start: TimeOfDay
    end: TimeOfDay

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours must start and end at different times")
        return self


class FrequencyCap(SafeModel):
    """The most campaign messages one fan is queued per rolling day and per rolling week,
    across all the creator's campaigns (``None``: no cap)."""

    per_day: int | None = Field(default=None, ge=1, le=1000)
    per_week: int | None = Field(default=None, ge=1, le=7000)


class SendingRulesIn(SafeModel):
    """``PUT /api/campaigns/sending-rules``: the creator's rules for every campaign."""

    quiet_hours: QuietHours | None = None
    frequency_cap: FrequencyCap = Field(default_factory=FrequencyCap)


class SendingRulesOut(CamelModel):
    """The creator's sending rules (none until set)."""

    quiet_hours: QuietHours | None
    frequency_cap: FrequencyCap
    time_zone: str
