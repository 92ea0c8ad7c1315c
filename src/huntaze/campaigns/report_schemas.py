"""Answers of the cross-campaign reports: compare campaigns, compare platforms, and the
top-performing campaigns (:mod:`huntaze.campaigns.reports`)."""

from __future__ import annotations

from typing import Literal

from huntaze.kit.schema import CamelModel

#: What ``GET /api/campaigns/top`` ranks by.
TopMetric = Literal["revenue", "conversions", "conversionRate", "ctr", "roi"]


class CampaignFigures(CamelModel):
    """One campaign's results: delivered messages (``impressions``), fans who clicked and
    who converted within the attribution window, revenue (the seed's amount and cents), its
    spend (cents) and the rates (``None`` while their denominator is 0)."""

    campaign_id: str
    name: str
    status: str
    impressions: int
    clicks: int
    conversions: int
    revenue: float
    revenue_cents: int
    spent_cents: int
    ctr: float | None
    conversion_rate: float | None
    roi: float | None
    cpa_cents: int | None


class CampaignComparison(CamelModel):
    """``GET /api/campaigns/compare``: the campaigns in the order asked."""

    attribution_days: int
    items: list[CampaignFigures]


class TopCampaigns(CamelModel):
    """``GET /api/campaigns/top``: the campaigns launched in the last ``sinceDays`` days,
    best first by ``metric`` (those whose metric is undefined last)."""

    metric: TopMetric
    attribution_days: int
    since_days: int
    items: list[CampaignFigures]


class PlatformFigures(CamelModel):
    """One platform's results across the campaigns compared."""

    platform: str
    campaigns: int
    impressions: int
    clicks: int
    conversions: int
    revenue: float
    revenue_cents: int
    ctr: float | None
    conversion_rate: float | None


class PlatformComparison(CamelModel):
    """``GET /api/campaigns/compare-platforms``: every platform the creator's campaigns
    launched in the last ``sinceDays`` days delivered on, most impressions first."""

    attribution_days: int
    since_days: int
    items: list[PlatformFigures]
