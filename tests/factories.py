"""Row values for tests: one place that knows every column a fan needs."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def fan_values(creator_id: str, key: str, now: datetime, **overrides: Any) -> dict[str, Any]:
    """The columns of an active OnlyFans fan whose platform id is ``key``; ``overrides``
    replace any of them. The id is ``fan_<creator tail>_<key>``."""
    values: dict[str, Any] = {
        "id": f"fan_{creator_id[-8:]}_{key}",
        "creator_id": creator_id,
        "platform": "onlyfans",
        "platform_fan_id": key,
        "username": f"u{key}",
        "display_name": None,
        "email": None,
        "subscription_status": "active",
        "lifetime_value_cents": 0,
        "consent": "unknown",
        "custom_fields": {},
        "import_fingerprints": {},
        "created_at": now,
        "updated_at": now,
    }
    values.update(overrides)
    return values
