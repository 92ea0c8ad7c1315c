"""The built-in smart audiences (seed 000 §5), each in the criteria language.

The seed's three (Win-Back 30 days, Upgrade Nudge VIP, Anniversary) keep its numbers:
inactive 30 days or more having spent over $20; active within the last 7 days having spent
$50 to $99; a year of subscription. Three more complete them: new subscribers, high spenders
and fans at risk of leaving. Amounts are in the creator's currency, in cents, compared with a
fan's lifetime value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Smart:
    """A built-in audience: its key, name, why a creator would message it, its priority
    (the seed's ``HIGH`` / ``MEDIUM``) and its criteria."""

    key: str
    name: str
    description: str
    priority: str
    criteria: dict[str, Any]


def _c(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


_ACTIVE = _c("subscriptionStatus", "eq", "active")

SMART_AUDIENCES: tuple[Smart, ...] = (
    Smart(
        "win_back_30_days",
        "Win-Back 30 Days",
        "Fans inactive for 30 days or more who have spent over $20.",
        "high",
        {"all": [_c("daysSinceLastActivity", "gte", 30), _c("lifetimeValueCents", "gt", 2000)]},
    ),
    Smart(
        "upgrade_nudge_vip",
        "Upgrade Nudge VIP",
        "Fans active in the last 7 days who have spent $50 to $99: one step from VIP.",
        "medium",
        {
            "all": [
                _c("daysSinceLastActivity", "lt", 7),
                _c("lifetimeValueCents", "between", [5000, 9999]),
            ]
        },
    ),
    Smart(
        "anniversary_12_months",
        "Anniversary (12 Months)",
        "Active subscribers who reached a year of subscription in the last 7 days.",
        "high",
        {"all": [_ACTIVE, _c("daysSubscribed", "between", [365, 371])]},
    ),
    Smart(
        "new_subscribers",
        "New Subscribers",
        "Active subscribers who subscribed in the last 7 days.",
        "medium",
        {"all": [_ACTIVE, _c("subscribedAt", "withinLastDays", 7)]},
    ),
    Smart(
        "high_spenders",
        "High Spenders",
        "Fans whose lifetime value is $100 or more.",
        "high",
        {"all": [_c("lifetimeValueCents", "gte", 10000)]},
    ),
    Smart(
        "at_risk",
        "At Risk",
        "Active subscribers not seen for 14 to 29 days: before they become a win-back.",
        "high",
        {"all": [_ACTIVE, _c("daysSinceLastActivity", "between", [14, 29])]},
    ),
)
