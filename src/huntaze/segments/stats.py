"""What a set of fans is worth and how engaged it is: counts and sums in a few statements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from huntaze.models.crm import Fan, Message, Purchase
from huntaze.segments.schemas import SegmentStats

#: The window of the recent figures (revenue, purchases, activity, engagement).
WINDOW = timedelta(days=30)


def per_member(total: int, members: int) -> int:
    """``total`` (cents) per member, rounded down; 0 for no member."""
    return total // members if members else 0


def measure(
    session: Session, creator_id: str, conditions: Sequence[ColumnElement[bool]], now: datetime
) -> SegmentStats:
    """Measure the fans ``conditions`` select (they hold the tenant's filter) at ``now``.

    Lifetime value is the fans' stored ``lifetimeValueCents``; the 30-day figures come from
    purchases (net cents) and inbound inbox messages since ``now`` - 30 days.
    """
    since = now - WINDOW
    members, revenue, active = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Fan.lifetime_value_cents), 0),
            func.count().filter(Fan.last_active_at >= since),
        ).where(*conditions)
    ).one()
    ids = select(Fan.id).where(*conditions)
    purchases, recent = session.execute(
        select(func.count(), func.coalesce(func.sum(Purchase.net_cents), 0)).where(
            Purchase.creator_id == creator_id,
            Purchase.purchased_at >= since,
            Purchase.fan_id.in_(ids),
        )
    ).one()
    messages = session.scalar(
        select(func.count()).where(
            Message.creator_id == creator_id,
            Message.direction == "inbound",
            Message.sent_at >= since,
            Message.fan_id.in_(ids),
        )
    )
    members, revenue = int(members), int(revenue)
    avg = per_member(revenue, members)
    return SegmentStats(
        member_count=members,
        revenue_cents=revenue,
        revenue=revenue / 100,
        avg_revenue_cents=avg,
        avg_revenue=avg / 100,
        revenue_last_30_days_cents=int(recent),
        purchases_last_30_days=int(purchases),
        active_last_30_days=int(active),
        avg_engagement=round(int(messages or 0) / members, 4) if members else 0.0,
    )
