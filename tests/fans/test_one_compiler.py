"""The fan list, bulk recipients and segments share one compiler: a fan-list filter and the
segment criteria saying the same thing select the same fans (a bulk send to a filter:
tests/messaging/test_bulk_by_filter.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.factories import create_fan

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


#: Who each filter selects, by platform fan id (the fans above).
EXPECTED = {
    json.dumps(params, sort_keys=True): keys
    for params, keys in [
        ({"q": "anna"}, {"1", "2", "3", "4", "6"}),  # username, display name, email
        ({"q": "50%"}, {"1"}),  # % matched literally: not anna50x
        ({"tag": "VIP"}, {"1", "2", "6"}),  # any spelling of the key
        ({"tag": "vip", "minLifetimeValueCents": 1000}, {"1"}),
        ({"platform": "onlyfans", "maxLifetimeValueCents": 5000}, {"1", "2", "5", "6"}),
        ({"subscriptionStatus": "expired"}, {"5"}),
        ({"lastActiveAfter": "2025-06-01"}, {"2"}),
        ({"lastActiveBefore": "2025-06-01"}, {"6"}),
    ]
}


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
    assert by_filter == {fans[key] for key in EXPECTED[json.dumps(params, sort_keys=True)]}
