"""A campaign's analytics (seed 003's ``GET /api/campaigns/{id}/analytics``): what it
delivered and what that earned, in all, per platform and per day, from its outbox rows and
the purchases attributed to them (:mod:`.attribution`)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huntaze.campaigns.attribution import Attributed, attributed
from huntaze.campaigns.schemas import CampaignAnalytics, ChannelFigures, DayFigures, Funnel
from huntaze.campaigns.service import WHO, get_campaign, metrics_of
from huntaze.models.crm import Fan
from huntaze.models.tracking import TrackedEvent, TrackedKind


def _figures(m: Attributed, clicks: int = 0) -> ChannelFigures:
    return ChannelFigures(
        impressions=m.delivered,
        clicks=clicks,
        conversions=m.converted,
        revenue=m.revenue_cents / 100,
        revenue_cents=m.revenue_cents,
    )


def _clicks(session: Session, campaign_id: str) -> dict[str, int]:
    """The campaign's clicking fans per platform (the fan's; ``unknown`` for a click that
    names no fan), each fan once."""
    platform = func.coalesce(Fan.platform, "unknown")
    rows = session.execute(
        select(platform, func.count(func.distinct(WHO)))
        .select_from(TrackedEvent)
        .outerjoin(Fan, Fan.id == TrackedEvent.fan_id)
        .where(TrackedEvent.campaign_id == campaign_id, TrackedEvent.kind == TrackedKind.CLICK)
        .group_by(platform)
    )
    return {str(p): int(n) for p, n in rows}


def campaign_analytics(
    session: Session, creator_id: str, campaign_id: str, days: int
) -> CampaignAnalytics:
    """The campaign's analytics, conversions attributed within ``days`` after delivery.

    Raises:
        CampaignNotFound: 404.
    """
    campaign = get_campaign(session, creator_id, campaign_id)
    total = attributed(session, campaign.id, days, "all").get(campaign.id, Attributed())
    platforms = attributed(session, campaign.id, days, "platform")
    daily = attributed(session, campaign.id, days, "day")
    metrics = metrics_of(session, [campaign.id])[campaign.id]
    made = sum(
        getattr(metrics, status)
        for status in ("sent", "queued", "processing", "held", "failed", "cancelled")
    )
    clicks = _clicks(session, campaign.id)
    overview = _figures(total, sum(clicks.values()))
    spent = campaign.spent_cents
    return CampaignAnalytics(
        campaign_id=campaign.id,
        attribution_days=days,
        overview=overview,
        by_platform={
            p: _figures(platforms.get(p, Attributed()), clicks.get(p, 0))
            for p in dict.fromkeys([*campaign.platforms, *platforms])
        },
        timeline=[
            DayFigures(date=day, **_figures(m).model_dump()) for day, m in sorted(daily.items())
        ],
        funnel=Funnel(
            sent=made,
            delivered=total.delivered,
            clicked=overview.clicks,
            converted=total.converted,
        ),
        ctr=overview.clicks / total.delivered if total.delivered else None,
        conversion_rate=total.converted / total.delivered if total.delivered else None,
        roi=(total.revenue_cents - spent) / spent if spent else None,
        cpa_cents=spent // total.converted if spent and total.converted else None,
    )
