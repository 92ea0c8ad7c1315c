"""The fan list, bulk recipients and segments share one compiler: a fan-list filter and the
segment criteria saying the same thing select the same fans, and a bulk send to the filter
reaches exactly them (counted at the outbox a bulk fills)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from huntaze.models.messaging import OutboxMessage
from tests.factories import create_account, create_fan

FANS: list[tuple[str, dict[str, Any]]] = [
    ("1", {"username": "Anna_50%", "tags": ["VIP"], "lifetimeValueCents": 5000}),
    ("2", {"username": "annabel", "tags": [" vip "], "lastActiveAt": "2025-06-02T00:00:00Z"}),
    ("3", {"displayName": "Joanna", "lifetimeValueCents": 20000}),
    ("4", {"email": "ANNA@example.com", "platform": "fansly", "tags": ["new"]}),
    ("5", {"username": "bob", "subscriptionStatus": "expired", "lifetimeValueCents": 100}),
    ("6", {"username": "anna50x", "lastActiveAt": "2025-05-01T00:00:00Z", "tags": ["Vip"]}),
]

#: A fan-list filter (query parameters) and the criteria that say the same.
CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {"q": "anna"},
        {
            "any": [
                {"field": f, "op": "contains", "value": "anna"}
                for f in ("username", "displayName", "email")
            ]
        },
    ),
    (
        {"q": "50%"},
        {"any": [{"field": "username", "op": "contains", "value": "50%"}]},
    ),
    ({"tag": "VIP"}, {"field": "tags", "op": "contains", "value": "vip"}),
    (
        {"tag": "vip", "minLifetimeValueCents": 1000},
        {
            "all": [
                {"field": "tags", "op": "contains", "value": "VIP"},
                {"field": "lifetimeValueCents", "op": "gte", "value": 1000},
            ]
        },
    ),
    (
        {"platform": "onlyfans", "maxLifetimeValueCents": 5000},
        {
            "all": [
                {"field": "platform", "op": "eq", "value": "onlyfans"},
                {"field": "lifetimeValueCents", "op": "lte", "value": 5000},
            ]
        },
    ),
    (
        {"subscriptionStatus": "expired"},
        {"field": "subscriptionStatus", "op": "eq", "value": "expired"},
    ),
    (
        {"lastActiveAfter": "2025-06-01"},
        {"field": "lastActiveAt", "op": "gte", "value": "2025-06-01T00:00:00Z"},
    ),
    (
        {"lastActiveBefore": "2025-06-01"},
        {"field": "lastActiveAt", "op": "lt", "value": "2025-06-01T00:00:00Z"},
    ),
]


@pytest.fixture
def fans(client, tenant) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The fans above; platform fan id to fan id."""
    ids = {}
    for key, extra in FANS:
        ids[key] = create_fan(client, tenant["headers"], key, **extra)["id"]
    return ids


@pytest.mark.parametrize(("params", "criteria"), CASES)
def test_a_filter_and_its_criteria_select_the_same_fans(client, tenant, fans, params, criteria):  # type: ignore[no-untyped-def]
    h = tenant["headers"]
    listed = client.get("/api/crm/fans", params=params, headers=h)
    assert listed.status_code == 200, listed.text
    by_filter = {f["id"] for f in listed.json()["items"]}
    preview = client.post(
        "/api/segments/preview", json={"criteria": criteria, "sampleSize": 100}, headers=h
    )
    assert preview.status_code == 200, preview.text
    assert {f["id"] for f in preview.json()["sample"]} == by_filter
    assert preview.json()["memberCount"] == len(by_filter)
    assert by_filter, "each case selects someone"
    assert len(by_filter) < len(FANS), "and not everyone"


def test_bulk_recipients_by_filter_are_the_listed_fans(client, tenant, fans, engine):  # type: ignore[no-untyped-def]
    h = tenant["headers"]
    create_account(client, h)
    listed = client.get("/api/crm/fans", params={"q": "anna", "platform": "onlyfans"}, headers=h)
    expected = {f["id"] for f in listed.json()["items"]}
    assert len(expected) == 4  # Anna_50%, annabel, Joanna, anna50x; not the Fansly fan
    r = client.post(
        "/api/messages/bulk",
        json={
            "recipients": {"filter": {"q": "anna", "platform": "onlyfans"}},
            "template": "Hi {firstName}",
            "default": "there",
            "platform": "onlyfans",
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    with engine.connect() as conn:
        queued = set(
            conn.scalars(
                select(OutboxMessage.fan_id).where(OutboxMessage.bulk_id == r.json()["bulkId"])
            )
        )
    assert queued == expected
