"""Fan tiers (seed 000's ``REGULAR``, ``BIG_SPENDER``, ``VIP_WHALE``, ``IMPULSE_BUYER`` and
``LOYAL``), from RFM: recency, frequency and monetary value.

RFM segmentation (Hughes, *Strategic Database Marketing*, 1994) ranks customers by how
recently they bought, how often, and how much. Huntaze applies it with thresholds a creator
can read and change rather than quintiles: most of a creator's fans never pay, so quintiles
of spend would split the non-payers arbitrarily. A fan's tier is the first rule it meets:

1. ``VIP_WHALE``: monetary, lifetime value at least ``vipWhaleMinCents`` (default $500);
2. ``BIG_SPENDER``: lifetime value at least ``bigSpenderMinCents`` (default $100);
3. ``IMPULSE_BUYER``: frequency, at least ``impulseMinPurchases`` purchases (default 3)
   within the last ``impulseWindowDays`` (default 30);
4. ``LOYAL``: subscribed at least ``loyalMinDaysSubscribed`` days (default 180) and recency,
   active within the last ``loyalMaxDaysInactive`` days (default 30);
5. ``REGULAR``: everyone else.

The tier is computed in SQL whenever criteria ask for it (``{"field": "tier", ...}``), so it
always reflects the fan's purchases now.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import Field
from sqlalchemy import case, func, select

from huntaze.kit.schema import CamelModel
from huntaze.models.crm import Fan, Purchase

TIERS = ("VIP_WHALE", "BIG_SPENDER", "IMPULSE_BUYER", "LOYAL", "REGULAR")
_MAX_CENTS = 10**12
_MAX_DAYS = 36_500


class TierRules(CamelModel):
    """A creator's tier thresholds (cents, purchases, days); see the module for the rules."""

    vip_whale_min_cents: int = Field(default=50_000, ge=1, le=_MAX_CENTS)
    big_spender_min_cents: int = Field(default=10_000, ge=1, le=_MAX_CENTS)
    impulse_min_purchases: int = Field(default=3, ge=1, le=10_000)
    impulse_window_days: int = Field(default=30, ge=1, le=_MAX_DAYS)
    loyal_min_days_subscribed: int = Field(default=180, ge=0, le=_MAX_DAYS)
    loyal_max_days_inactive: int = Field(default=30, ge=1, le=_MAX_DAYS)


def tier_expression(rules: TierRules, now: datetime) -> Any:
    """The SQL expression of a fan's tier (one of :data:`TIERS`) at ``now``, correlated to
    ``fans``."""
    day = timedelta(days=1)
    recent_purchases = (
        select(func.count())
        .where(
            Purchase.fan_id == Fan.id,
            Purchase.purchased_at >= now - rules.impulse_window_days * day,
        )
        .correlate(Fan)
        .scalar_subquery()
    )
    active = func.coalesce(Fan.last_active_at, Fan.created_at)
    return case(
        (Fan.lifetime_value_cents >= rules.vip_whale_min_cents, "VIP_WHALE"),
        (Fan.lifetime_value_cents >= rules.big_spender_min_cents, "BIG_SPENDER"),
        (recent_purchases >= rules.impulse_min_purchases, "IMPULSE_BUYER"),
        (
            (Fan.subscribed_at <= now - rules.loyal_min_days_subscribed * day)
            & (active > now - rules.loyal_max_days_inactive * day),
            "LOYAL",
        ),
        else_="REGULAR",
    )
