"""``POST /api/track/events``: valid events are stored once per ``externalId``, the others
refused with their index, and campaign metrics, analytics and A/B results count them."""

from __future__ import annotations

from typing import Any

from tests.campaigns.conftest import campaign_body

WHEN = "2026-11-01T13:00:00Z"


def _post(client, headers, events: list[dict[str, Any]]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = client.post("/api/track/events", json={"events": events}, headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _ev(external_id: str, kind: str = "click", **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "externalId": external_id, "occurredAt": WHEN, **extra}


def test_events_are_stored_once_and_bad_ones_refused_by_index(
    client, audience, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    theirs = client.post(
        "/api/crm/fans",
        json={"platform": "onlyfans", "platformFanId": "z"},
        headers=make_tenant()["headers"],
    ).json()
    whale = audience["ids"]["whale"]
    body = _post(
        client,
        h,
        [
            _ev("e1", fanId=whale),
            _ev("e1", fanId=whale),  # the same event twice in one batch
            _ev("e2", "purchase", fanId=whale, valueCents=999, currency="USD", purchaseKind="tip"),
            _ev("e3", "purchase", fanId=whale),  # no purchaseKind
            _ev("e4", fanId=theirs["id"]),  # another creator's fan
            _ev("e5", "teleport"),
            {"kind": "open"},
            _ev("e6", "open", valueCents=5),  # money without a currency
            _ev("e\u0000", "open"),  # text no column can hold
        ],
    )
    assert body["accepted"] == 2 and body["duplicates"] == 1
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [
        (3, "events[3].purchaseKind"),
        (4, "events[4].fanId"),
        (5, "events[5].kind"),
        (6, "events[6].externalId"),
        (7, "events[7].currency"),
        (8, "events[8].externalId"),
    ]
    again = _post(client, h, [_ev("e1", fanId=whale), _ev("e2", "open")])
    assert again["accepted"] == 0 and again["duplicates"] == 2


def test_a_batch_is_bounded(client, audience) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    r = client.post("/api/track/events", json={"events": []}, headers=h)
    assert r.status_code == 422
    many = [_ev(f"x{i}") for i in range(1001)]
    r = client.post("/api/track/events", json={"events": many}, headers=h)
    assert r.status_code == 422


def test_campaigns_count_tracked_opens_clicks_and_conversions(  # type: ignore[no-untyped-def]
    client, audience, relay, drain
) -> None:
    h = audience["headers"]
    camp = client.post("/api/campaigns", json=campaign_body(), headers=h).json()
    client.post(f"/api/campaigns/{camp['id']}/start", headers=h)
    drain()
    ids = audience["ids"]
    _post(
        client,
        h,
        [
            _ev("o1", "open", fanId=ids["whale"], campaignId=camp["id"]),
            _ev("c1", fanId=ids["whale"], campaignId=camp["id"]),
            _ev("c2", fanId=ids["whale"], campaignId=camp["id"]),  # the same fan again
            _ev("c3", fanId=ids["nudge"], campaignId=camp["id"]),
            _ev("v1", "conversion", fanId=ids["nudge"], campaignId=camp["id"]),
        ],
    )
    got = client.get(f"/api/campaigns/{camp['id']}", headers=h).json()["metrics"]
    assert (got["sent"], got["opened"], got["clicked"], got["converted"]) == (6, 1, 2, 1)
    analytics = client.get(f"/api/campaigns/{camp['id']}/analytics", headers=h).json()
    assert analytics["overview"]["clicks"] == 2
    assert analytics["byPlatform"]["onlyfans"]["clicks"] == 2
    assert analytics["funnel"]["clicked"] == 2 and analytics["ctr"] == 2 / 6
