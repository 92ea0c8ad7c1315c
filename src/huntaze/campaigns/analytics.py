"""A campaign's analytics (seed 003's ``GET /api/campaigns/{id}/analytics``): what it
delivered and what that earned, in all, per platform and per day, from its outbox rows and
the purchases attributed to them (:mod:`.attribution`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from huntaze.campaigns.attribution import Attributed, attributed
from huntaze.campaigns.schemas import CampaignAnalytics, ChannelFigures, DayFigures, Funnel
from huntaze.campaigns.service import get_campaign, metrics_of


def _figures(m: Attributed) -> ChannelFigures:
    return ChannelFigures(
        impressions=m.delivered,
        clicks=0,
        conversions=m.converted,
        revenue=m.revenue_cents / 100,
        revenue_cents=m.revenue_cents,
    )


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
    made = sum(metrics.model_dump().values())
    overview = _figures(total)
    spent = campaign.spent_cents
    return CampaignAnalytics(
        campaign_id=campaign.id,
        attribution_days=days,
        overview=overview,
        by_platform={
            p: _figures(platforms.get(p, Attributed()))
            for p in dict.fromkeys([*campaign.platforms, *platforms])
        },
        timeline=[
            DayFigures(date=day, **_figures(m).model_dump()) for day, m in sorted(daily.items())
        ],
        funnel=Funnel(sent=made, delivered=total.delivered, clicked=0, converted=total.converted),
        ctr=0.0 if total.delivered else None,
        conversion_rate=total.converted / total.delivered if total.delivered else None,
        roi=(total.revenue_cents - spent) / spent if spent else None,
        cpa_cents=spent // total.converted if spent and total.converted else None,
    )
