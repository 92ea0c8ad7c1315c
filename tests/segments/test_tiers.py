"""Fan tiers from RFM thresholds: the defaults, a creator's own thresholds, and the ``tier``
field of the criteria language, which always agrees with the counts."""

from __future__ import annotations

from typing import Any


def _tier_members(client, headers, tier: str) -> set[str]:  # type: ignore[no-untyped-def]
    r = client.post(
        "/api/segments/preview",
        json={"criteria": {"field": "tier", "op": "eq", "value": tier}, "sampleSize": 100},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    return {f["platformFanId"] for f in r.json()["sample"]}


def test_default_tiers_follow_the_documented_rules(client, audience) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    r = client.get("/api/segments/tiers", headers=h)
    assert r.status_code == 200
    body = r.json()
    assert body["rules"]["vipWhaleMinCents"] == 50000
    # whale $600: VIP; fansly $200: big spender; anniv: subscribed 366 days, active 5 days
    # ago: loyal; the rest regular (nobody bought 3 times in 30 days)
    expected = {
        "VIP_WHALE": {"whale"},
        "BIG_SPENDER": {"fansly"},
        "IMPULSE_BUYER": set(),
        "LOYAL": {"anniv"},
        "REGULAR": {"lapsed", "nudge", "newbie", "risk"},
    }
    assert body["counts"] == {tier: len(keys) for tier, keys in expected.items()}
    for tier, keys in expected.items():
        assert _tier_members(client, h, tier) == keys


def test_a_creators_thresholds_change_its_tiers_and_nobody_elses(  # type: ignore[no-untyped-def]
    client, audience, make_tenant
) -> None:
    h = audience["headers"]
    rules: dict[str, Any] = {
        "vipWhaleMinCents": 100000,
        "bigSpenderMinCents": 5000,
        "impulseMinPurchases": 2,
        "impulseWindowDays": 30,
        "loyalMinDaysSubscribed": 365,
        "loyalMaxDaysInactive": 7,
    }
    r = client.put("/api/segments/tiers", json=rules, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["rules"] == rules
    assert _tier_members(client, h, "VIP_WHALE") == set()
    assert _tier_members(client, h, "BIG_SPENDER") == {"whale", "fansly", "nudge"}
    assert _tier_members(client, h, "LOYAL") == {"anniv"}
    assert client.get("/api/segments/tiers", headers=h).json()["rules"] == rules
    other = make_tenant()["headers"]
    assert (
        client.get("/api/segments/tiers", headers=other).json()["rules"]["vipWhaleMinCents"]
        == 50000
    )


def test_thresholds_that_cannot_hold_are_refused(client, audience) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    for body in (
        {"vipWhaleMinCents": 100, "bigSpenderMinCents": 200},
        {"vipWhaleMinCents": 0},
        {"impulseWindowDays": 10**9},
        {"vipWhaleMinCents": "lots"},
        {"unknownRule": 1},
    ):
        r = client.put("/api/segments/tiers", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
    assert client.get("/api/segments/tiers", headers=h).json()["rules"]["vipWhaleMinCents"] == 50000
