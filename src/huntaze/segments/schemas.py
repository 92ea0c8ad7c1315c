"""Segment requests and answers (seed 004's ``Segment``, camelCase JSON).

Money in the seed's fields stays as the seed writes it (``avgRevenue``: a decimal amount in
the creator's currency), with a ``…Cents`` field beside it; new fields are in cents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from huntaze.fans.schemas import FanOut, SafeModel
from huntaze.fans.tiers import TierRules
from huntaze.kit.schema import CamelModel, Page
from huntaze.models.segments import SegmentKindValue

MAX_NAME = 255
MAX_DESCRIPTION = 2000


class SegmentIn(SafeModel):
    """A segment to create or replace. ``type`` is ``static`` (members frozen now) or
    ``dynamic`` (re-evaluated whenever it is read); ``criteria`` are in the language of
    docs/segments.md."""

    name: str = Field(min_length=1, max_length=MAX_NAME)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    type: SegmentKindValue = "dynamic"
    criteria: dict[str, Any]

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value


class SegmentOut(CamelModel):
    """A segment with what its last refresh measured: ``memberCount``, the members' summed
    lifetime value (``revenueCents``) and its average per member (``avgRevenueCents``, and
    the seed's ``avgRevenue`` in currency units), and ``avgEngagement``: inbound messages
    per member over the 30 days before the refresh."""

    id: str
    name: str
    description: str | None
    type: str
    criteria: dict[str, Any]
    member_count: int
    revenue_cents: int
    avg_revenue_cents: int
    avg_revenue: float
    avg_engagement: float
    last_refreshed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SegmentPage(Page[SegmentOut]):
    """A page of segments, by name."""


class PreviewIn(SafeModel):
    """Criteria to measure without saving them, and how many members to show."""

    criteria: dict[str, Any]
    sample_size: int = Field(default=10, ge=0, le=100)


class SegmentStats(CamelModel):
    """What a set of fans is worth and how engaged it is, measured now.

    ``revenueCents`` sums the members' lifetime value; ``revenueLast30DaysCents`` their
    purchases (net) over the last 30 days; ``activeLast30Days`` counts members active in
    them; ``avgEngagement`` is inbound messages per member over the last 30 days.
    """

    member_count: int
    revenue_cents: int
    revenue: float
    avg_revenue_cents: int
    avg_revenue: float
    revenue_last_30_days_cents: int
    purchases_last_30_days: int
    active_last_30_days: int
    avg_engagement: float


class PreviewOut(SegmentStats):
    """The size and worth of an audience, with a sample of its members (newest first)."""

    sample: list[FanOut]


class RefreshOut(CamelModel):
    """A refreshed segment and how its stored members changed."""

    segment: SegmentOut
    added: int
    removed: int


class SegmentPerformance(SegmentStats):
    """A segment's members' revenue and engagement, measured now."""

    segment_id: str
    name: str


class SegmentComparison(CamelModel):
    """Several segments side by side, with how many members each pair shares
    (``overlap[i][j]``, in the order of ``segments``)."""

    segments: list[SegmentPerformance]
    overlap: list[list[int]]


class SmartAudience(CamelModel):
    """A built-in audience (seed 000 §5), in the criteria language, with its size now."""

    key: str
    name: str
    description: str
    priority: str
    criteria: dict[str, Any]
    member_count: int


class SmartAudiences(CamelModel):
    """The built-in audiences."""

    items: list[SmartAudience]


class TierCounts(CamelModel):
    """A creator's tier thresholds, and how many of its fans are in each tier now."""

    rules: TierRules
    counts: dict[str, int]
