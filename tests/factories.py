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


def _created(r: Any) -> dict[str, Any]:
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


def create_account(
    client: TestClient,
    headers: dict[str, str],
    platform: str = "onlyfans",
    name: str | None = None,
    channel: str = "noop",
    **extra: Any,
) -> dict[str, Any]:
    """Add a sending account through ``POST /api/messaging/accounts`` (a no-op channel unless
    ``channel`` says otherwise; ``extra`` adds body fields). Returns the API's account."""
    body = {"platform": platform, "name": name or platform, "channel": channel, **extra}
    return _created(client.post("/api/messaging/accounts", json=body, headers=headers))


def create_conversation(
    client: TestClient, headers: dict[str, str], fan_id: str, **extra: Any
) -> dict[str, Any]:
    """Open the conversation with ``fan_id`` through ``POST /api/crm/conversations``."""
    body = {"fanId": fan_id, **extra}
    return _created(client.post("/api/crm/conversations", json=body, headers=headers))


def create_inbox_message(
    client: TestClient, headers: dict[str, str], conversation_id: str, text: str, **extra: Any
) -> dict[str, Any]:
    """Record a message in a conversation (outbound and queued unless ``extra`` says
    ``direction="inbound"`` or ``send=False``). Returns the API's inbox message."""
    body = {"text": text, **extra}
    url = f"/api/crm/conversations/{conversation_id}/messages"
    return _created(client.post(url, json=body, headers=headers))


def send_message(
    client: TestClient, headers: dict[str, str], fan_id: str, content: str, **extra: Any
) -> dict[str, Any]:
    """Queue one outbox message to ``fan_id`` through ``POST /api/messages/send`` (OnlyFans
    unless ``extra`` names a platform). Returns ``{messageId, status, estimatedDelivery…}``."""
    body = {"fanId": fan_id, "content": content, "platform": "onlyfans", **extra}
    return _created(client.post("/api/messages/send", json=body, headers=headers))


def purchase_values(
    creator_id: str, fan_id: str, key: str, net_cents: int, when: datetime, **overrides: Any
) -> dict[str, Any]:
    """The columns of one OnlyFans tip of ``net_cents`` (USD) by ``fan_id`` at ``when``;
    ``overrides`` replace any of them."""
    values: dict[str, Any] = {
        "id": f"pur_{creator_id[-8:]}_{key}",
        "creator_id": creator_id,
        "fan_id": fan_id,
        "platform": "onlyfans",
        "kind": "tip",
        "gross_cents": net_cents,
        "net_cents": net_cents,
        "currency": "USD",
        "purchased_at": when,
        "transaction_id": key,
        "created_at": when,
    }
    values.update(overrides)
    return values
