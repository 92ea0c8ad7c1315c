"""Which purchases a campaign earned: last-touch attribution within a window.

A fan the campaign reached (a message with outbox status ``sent``) converts when it buys
within ``days`` times 24 hours after its first delivered message of the group; every
purchase of the fan in that window counts as revenue (net cents). Purchases are the imported
ones and the tracked ``conversion`` and ``purchase`` events (``POST /api/track/events``,
their ``valueCents`` as revenue) that name this campaign or none: an event naming another
campaign is that campaign's. A fan counts once per
group however many messages and purchases it has, so a purchase is never counted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from huntaze.db.expressions import sql_for
from huntaze.models.crm import Purchase
from huntaze.models.messaging import OutboxMessage, OutboxStatus
from huntaze.models.tracking import TrackedEvent, TrackedKind

#: The default window, in days.
DEFAULT_DAYS = 7


@dataclass(frozen=True, slots=True)
class Attributed:
    """One group's measures: delivered messages, fans who converted, their revenue (cents)
    and the sum over fans of each fan's revenue squared (for Welch's test)."""

    delivered: int = 0
    converted: int = 0
    revenue_cents: int = 0
    revenue_squares: float = 0.0


def attributed(
    session: Session, campaign_id: str | Sequence[str], days: int, group: str
) -> dict[str, Attributed]:
    """The delivered messages of the campaign (or campaigns) and the purchases they earned,
    grouped by ``group``: ``variant`` (the A/B variant), ``platform``, ``day`` (of sending,
    UTC, ``YYYY-MM-DD``) or ``all`` (per campaign). One statement.

    Across several campaigns grouped by ``platform`` or ``day``, a fan counts once per
    group, from its first delivered message of any of them."""
    ids = [campaign_id] if isinstance(campaign_id, str) else list(campaign_id)
    sql = sql_for(session)
    keys: dict[str, Any] = {
        "variant": OutboxMessage.variant_id,
        "platform": OutboxMessage.platform,
        "day": sql.day_of(OutboxMessage.sent_at),
        "all": OutboxMessage.campaign_id,
    }
    key = keys[group]
    reached = (
        select(
            key.label("key"),
            OutboxMessage.fan_id.label("fan"),
            func.count().label("messages"),
            func.min(OutboxMessage.sent_at).label("first_sent"),
        )
        .where(
            OutboxMessage.campaign_id.in_(ids),
            OutboxMessage.status == OutboxStatus.SENT,
        )
        .group_by(key, OutboxMessage.fan_id)
        .subquery()
    )
    window_end = sql.add_days(reached.c.first_sent, days)
    bought = and_(
        Purchase.fan_id == reached.c.fan,
        Purchase.purchased_at >= reached.c.first_sent,
        Purchase.purchased_at < window_end,
    )
    tracked = and_(
        TrackedEvent.fan_id == reached.c.fan,
        TrackedEvent.kind.in_([TrackedKind.CONVERSION, TrackedKind.PURCHASE]),
        TrackedEvent.occurred_at >= reached.c.first_sent,
        TrackedEvent.occurred_at < window_end,
        # an event naming a campaign is that campaign's: per campaign (``all``), the one
        # the fan's row belongs to
        or_(
            TrackedEvent.campaign_id.is_(None),
            TrackedEvent.campaign_id == reached.c.key
            if group == "all"
            else TrackedEvent.campaign_id.in_(ids),
        ),
    )
    revenue = func.coalesce(
        select(func.sum(Purchase.net_cents)).where(bought).scalar_subquery(), 0
    ) + func.coalesce(
        select(func.sum(TrackedEvent.value_cents)).where(tracked).scalar_subquery(), 0
    )
    conversions = (
        select(func.count()).select_from(Purchase).where(bought).scalar_subquery()
        + select(func.count()).select_from(TrackedEvent).where(tracked).scalar_subquery()
    )
    per_fan = select(
        reached.c.key,
        reached.c.messages,
        revenue.label("revenue"),
        conversions.label("purchases"),
    ).subquery()
    rows = session.execute(
        select(
            per_fan.c.key,
            func.sum(per_fan.c.messages),
            func.sum(case((per_fan.c.purchases > 0, 1), else_=0)),
            func.sum(per_fan.c.revenue),
            func.sum(per_fan.c.revenue * per_fan.c.revenue),
        ).group_by(per_fan.c.key)
    )
    return {
        str(k): Attributed(int(n or 0), int(c or 0), int(r or 0), float(sq or 0))
        for k, n, c, r, sq in rows
        if k is not None
    }
