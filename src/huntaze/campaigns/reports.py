"""Reports across campaigns: compare chosen campaigns, compare platforms, and rank the
top-performing campaigns. The figures are those of a campaign's analytics
(:mod:`huntaze.campaigns.analytics`): delivered messages, tracked clicks, and purchases
attributed within the window (:mod:`huntaze.campaigns.attribution`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huntaze.campaigns.attribution import Attributed, attributed
from huntaze.campaigns.errors import CampaignNotFound
from huntaze.campaigns.report_schemas import (
    CampaignComparison,
    CampaignFigures,
    PlatformComparison,
    PlatformFigures,
    TopCampaigns,
    TopMetric,
)
from huntaze.campaigns.service import WHO
from huntaze.models.campaigns import Campaign
from huntaze.models.messaging import OutboxMessage
from huntaze.models.tracking import TrackedEvent, TrackedKind

#: The most campaigns one report reads.
MAX_CAMPAIGNS = 500


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _clicks_by_campaign(session: Session, ids: Sequence[str]) -> dict[str, int]:
    rows = session.execute(
        select(TrackedEvent.campaign_id, func.count(func.distinct(WHO)))
        .where(TrackedEvent.campaign_id.in_(ids), TrackedEvent.kind == TrackedKind.CLICK)
        .group_by(TrackedEvent.campaign_id)
    )
    return {str(c): int(n) for c, n in rows}


def figures(session: Session, campaigns: Sequence[Campaign], days: int) -> list[CampaignFigures]:
    """Each campaign's figures, in the order given; two statements whatever their number."""
    ids = [c.id for c in campaigns]
    measured = attributed(session, ids, days, "all") if ids else {}
    clicks = _clicks_by_campaign(session, ids) if ids else {}
    out = []
    for c in campaigns:
        m = measured.get(c.id, Attributed())
        spent = c.spent_cents
        out.append(
            CampaignFigures(
                campaign_id=c.id,
                name=c.name,
                status=c.status,
                impressions=m.delivered,
                clicks=clicks.get(c.id, 0),
                conversions=m.converted,
                revenue=m.revenue_cents / 100,
                revenue_cents=m.revenue_cents,
                spent_cents=spent,
                ctr=_rate(clicks.get(c.id, 0), m.delivered),
                conversion_rate=_rate(m.converted, m.delivered),
                roi=(m.revenue_cents - spent) / spent if spent else None,
                cpa_cents=spent // m.converted if spent and m.converted else None,
            )
        )
    return out


def compare(
    session: Session, creator_id: str, campaign_ids: Sequence[str], days: int
) -> CampaignComparison:
    """The campaigns' figures side by side, in the order asked (repeats once).

    Raises:
        CampaignNotFound: 404 naming the first id that is not one of the creator's.
    """
    wanted = list(dict.fromkeys(campaign_ids))
    found = {
        c.id: c
        for c in session.scalars(
            select(Campaign).where(Campaign.creator_id == creator_id, Campaign.id.in_(wanted))
        )
    }
    for i, cid in enumerate(wanted):
        if cid not in found:
            raise CampaignNotFound(details=[{"field": f"ids[{i}]", "value": cid[:64]}])
    return CampaignComparison(
        attribution_days=days, items=figures(session, [found[c] for c in wanted], days)
    )


def _launched(session: Session, creator_id: str, since: datetime) -> list[Campaign]:
    return list(
        session.scalars(
            select(Campaign)
            .where(Campaign.creator_id == creator_id, Campaign.started_at >= since)
            .order_by(Campaign.started_at.desc(), Campaign.id)
            .limit(MAX_CAMPAIGNS)
        )
    )


def top(
    session: Session,
    creator_id: str,
    metric: TopMetric,
    limit: int,
    days: int,
    since_days: int,
    now: datetime,
) -> TopCampaigns:
    """The ``limit`` best campaigns by ``metric`` among the creator's campaigns launched in
    the last ``since_days`` days (the newest :data:`MAX_CAMPAIGNS`); ties go to the newer."""
    launched = _launched(session, creator_id, now - timedelta(days=since_days))
    key = {
        "revenue": "revenue_cents",
        "conversions": "conversions",
        "conversionRate": "conversion_rate",
        "ctr": "ctr",
        "roi": "roi",
    }[metric]
    ranked = sorted(
        figures(session, launched, days),
        key=lambda f: (getattr(f, key) is None, -(getattr(f, key) or 0)),
    )
    return TopCampaigns(
        metric=metric, attribution_days=days, since_days=since_days, items=ranked[:limit]
    )


def compare_platforms(
    session: Session, creator_id: str, days: int, since_days: int, now: datetime
) -> PlatformComparison:
    """Every platform's figures across the creator's campaigns launched in the last
    ``since_days`` days (the newest :data:`MAX_CAMPAIGNS`); a fan counts once per platform."""
    ids = [c.id for c in _launched(session, creator_id, now - timedelta(days=since_days))]
    if not ids:
        return PlatformComparison(attribution_days=days, since_days=since_days, items=[])
    measured = attributed(session, ids, days, "platform")
    campaigns = dict(
        session.execute(
            select(OutboxMessage.platform, func.count(func.distinct(OutboxMessage.campaign_id)))
            .where(OutboxMessage.campaign_id.in_(ids))
            .group_by(OutboxMessage.platform)
        ).all()
    )
    clicks = dict(
        session.execute(
            select(OutboxMessage.platform, func.count(func.distinct(WHO)))
            .select_from(TrackedEvent)
            .join(
                OutboxMessage,
                (OutboxMessage.campaign_id == TrackedEvent.campaign_id)
                & (OutboxMessage.fan_id == TrackedEvent.fan_id),
            )
            .where(TrackedEvent.campaign_id.in_(ids), TrackedEvent.kind == TrackedKind.CLICK)
            .group_by(OutboxMessage.platform)
        ).all()
    )
    items = [
        PlatformFigures(
            platform=p,
            campaigns=int(campaigns.get(p, 0)),
            impressions=m.delivered,
            clicks=int(clicks.get(p, 0)),
            conversions=m.converted,
            revenue=m.revenue_cents / 100,
            revenue_cents=m.revenue_cents,
            ctr=_rate(int(clicks.get(p, 0)), m.delivered),
            conversion_rate=_rate(m.converted, m.delivered),
        )
        for p, m in measured.items()
    ]
    items.sort(key=lambda f: (-f.impressions, f.platform))
    return PlatformComparison(attribution_days=days, since_days=since_days, items=items)
