"""Test data: one place that knows every column a fan needs, and how the API creates one."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


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


def create_fan(
    client: TestClient, headers: dict[str, str], key: str, **extra: Any
) -> dict[str, Any]:
    """Create an OnlyFans fan whose platform id is ``key`` (username ``user<key>``) through
    ``POST /api/crm/fans``; ``extra`` adds or replaces body fields. Returns the API's fan."""
    body = {"platform": "onlyfans", "platformFanId": key, "username": f"user{key}", **extra}
    r = client.post("/api/crm/fans", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())
