"""The criteria language, observed through ``POST /api/segments/preview``: each field and
operator selects exactly the fans it names, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

import pytest


def _c(field: str, op: str, value: Any = None, **params: Any) -> dict[str, Any]:
    body = {"field": field, "op": op, **params}
    if value is not None:
        body["value"] = value
    return body


def _members(client, audience, criteria: dict[str, Any]) -> set[str]:  # type: ignore[no-untyped-def]
    r = client.post(
        "/api/segments/preview",
        json={"criteria": criteria, "sampleSize": 100},
        headers=audience["headers"],
    )
    assert r.status_code == 200, r.text
    body = r.json()
    found = {fan["platformFanId"] for fan in body["sample"]}
    assert body["memberCount"] == len(found)
    return found


CASES: list[tuple[dict[str, Any], set[str]]] = [
    (_c("lifetimeValueCents", "gte", 7500), {"whale", "nudge", "fansly"}),
    (_c("lifetimeValueCents", "between", [1000, 4000]), {"risk", "anniv", "lapsed"}),
    (_c("lifetimeValueCents", "in", [0, 2500]), {"newbie", "lapsed"}),
    (_c("platform", "ne", "onlyfans"), {"fansly"}),
    (_c("consent", "eq", "opted_out"), {"fansly"}),
    (_c("subscriptionStatus", "in", ["expired"]), {"lapsed"}),
    (_c("displayName", "contains", "WHALE"), {"whale"}),
    (_c("displayName", "isSet"), {"whale"}),
    (_c("username", "startsWith", "un"), {"nudge", "newbie"}),
    (_c("tags", "contains", "vip"), {"whale"}),
    (_c("tags", "in", ["NEW", "vip"]), {"whale", "newbie"}),
    (_c("tags", "isNotSet"), {"lapsed", "nudge", "risk", "anniv", "fansly"}),
    (_c("customFields.city", "eq", "Paris"), {"nudge"}),
    (_c("customFields.age", "eq", "31"), {"nudge"}),
    (_c("customFields.city", "isSet"), {"nudge"}),
    (_c("lastActiveAt", "olderThanDays", 30), {"lapsed"}),
    (_c("lastActiveAt", "withinLastDays", 2), {"whale", "nudge", "fansly"}),
    (_c("lastActiveAt", "isNotSet"), {"newbie"}),
    (_c("subscribedAt", "newerThanDays", 7), {"newbie"}),
    (_c("subscribedAt", "lt", "2025-11-01T00:00:00+00:00"), {"whale", "anniv"}),
    # whole days: last activity 20 days ago is 20 days, not 19 or 21
    (_c("daysSinceLastActivity", "eq", 20), {"risk"}),
    (_c("daysSinceLastActivity", "gte", 30), {"lapsed"}),
    (_c("daysSinceLastActivity", "lt", 2), {"nudge", "fansly"}),
    (_c("daysSinceLastActivity", "between", [2, 5]), {"whale", "anniv", "newbie"}),
    (_c("daysSubscribed", "gte", 365), {"whale", "anniv"}),
    (_c("spendCents", "gte", 4000, kind="ppv_message"), set()),
    (_c("spendCents", "gte", 4000, withinDays=30), {"whale"}),
    (_c("spendCents", "gt", 0, kind="ppv_message"), {"whale", "nudge"}),
    (_c("spendCents", "gt", 0, kind="ppv_message", withinDays=30), {"whale"}),
    (_c("purchaseCount", "gte", 2, withinDays=30), {"whale"}),
    # "ppv" groups ppv_message and ppv_post: the whale's two PPV unlocks of the last 30 days
    (_c("purchaseCount", "gte", 2, kind="ppv", withinDays=30), {"whale"}),
    (_c("purchaseCount", "gte", 2, kind="ppv_message", withinDays=30), set()),
    (_c("spendCents", "gt", 0, kind="subscriptions"), set()),
    (_c("purchaseCount", "eq", 0), {"lapsed", "newbie", "risk", "anniv", "fansly"}),
    (_c("messageCount", "gte", 3, direction="inbound"), {"whale"}),
    (_c("messageCount", "eq", 1, direction="outbound", withinDays=7), {"whale"}),
    (
        {"any": [_c("platform", "eq", "fansly"), _c("tags", "contains", "new")]},
        {"fansly", "newbie"},
    ),
    (
        {"all": [_c("lifetimeValueCents", "gt", 0), {"not": _c("platform", "eq", "onlyfans")}]},
        {"fansly"},
    ),
]


@pytest.mark.parametrize(("criteria", "expected"), CASES, ids=[str(c[0])[:60] for c in CASES])
def test_each_criterion_selects_exactly_its_fans(client, audience, criteria, expected) -> None:  # type: ignore[no-untyped-def]
    assert _members(client, audience, criteria) == expected


def test_another_creators_fans_are_never_selected(client, audience, make_tenant) -> None:  # type: ignore[no-untyped-def]
    other = make_tenant()
    r = client.post(
        "/api/segments/preview",
        json={"criteria": _c("lifetimeValueCents", "gte", 0)},
        headers=other["headers"],
    )
    assert r.status_code == 200 and r.json()["memberCount"] == 0


BAD: list[tuple[Any, str]] = [
    ([], "criteria"),
    ({"field": "password", "op": "eq", "value": "x"}, "criteria.field"),
    ({"all": [{"field": "platform", "op": "gt", "value": "a"}]}, "criteria.all[0].op"),
    ({"field": "lifetimeValueCents", "op": "gte", "value": "10"}, "criteria.value"),
    ({"field": "lifetimeValueCents", "op": "gte", "value": 2**70}, "criteria.value"),
    ({"field": "lifetimeValueCents", "op": "gte", "value": True}, "criteria.value"),
    ({"field": "lifetimeValueCents", "op": "between", "value": [5, 1]}, "criteria.value"),
    ({"field": "username", "op": "eq", "value": "a\u0000b"}, "criteria.value"),
    ({"field": "subscribedAt", "op": "gt", "value": "2026-01-01T00:00:00"}, "criteria.value"),
    ({"field": "subscriptionStatus", "op": "eq", "value": "gold"}, "criteria.value"),
    ({"field": "spendCents", "op": "gt", "value": 1, "kind": "bribe"}, "criteria.kind"),
    ({"field": "spendCents", "op": "gt", "value": 1, "withinDays": -1}, "criteria.withinDays"),
    ({"field": "platform", "op": "eq", "value": "x", "kind": "tip"}, "criteria.kind"),
    ({"field": 'customFields.a"b', "op": "eq", "value": "x"}, "criteria.field"),
    ({"field": "platform", "op": "in", "value": ["x"] * 1001}, "criteria.value"),
    ({"field": "lastActiveAt", "op": "isSet", "value": 3}, "criteria.value"),
    ({"field": "segment", "op": "in", "value": "seg_missing"}, "criteria.value"),
    ({"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {}}}}}}}}}}, ""),
    ({"all": [], "any": []}, "criteria"),
    ({"any": []}, "criteria.any"),
]


@pytest.mark.parametrize(("criteria", "path"), BAD, ids=[str(b[0])[:50] for b in BAD])
def test_a_bad_criterion_answers_422_naming_it(client, audience, criteria, path) -> None:  # type: ignore[no-untyped-def]
    r = client.post(
        "/api/segments/preview", json={"criteria": criteria}, headers=audience["headers"]
    )
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] in ("invalid_criteria", "invalid_request")
    if error["code"] == "invalid_criteria":
        assert error["details"][0]["field"].startswith(path)
