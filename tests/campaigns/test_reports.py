"""Reports across campaigns: campaigns compared side by side, the top campaigns by a metric,
and platforms compared, from what was delivered, clicked and bought."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from huntaze.models.crm import Purchase
from tests.factories import purchase_values


def test_campaigns_and_platforms_compare_on_what_fans_did(  # type: ignore[no-untyped-def]
    client, audience, relay, drain, sessions, clock, make_tenant
) -> None:
    h = audience["headers"]
    vip = {"field": "tags", "op": "contains", "value": "VIP"}
    seg = client.post("/api/segments", json={"name": "VIP", "criteria": vip}, headers=h).json()
    content = {"default": {"text": "Hi {username}"}}
    everyone = client.post(
        "/api/campaigns",
        json={"name": "All", "platforms": ["onlyfans", "instagram"], "content": content},
        headers=h,
    ).json()
    vips = client.post(
        "/api/campaigns",
        json={
            "name": "VIP",
            "platforms": ["onlyfans"],
            "content": content,
            "segmentIds": [seg["id"]],
        },
        headers=h,
    ).json()
    for camp in (everyone, vips):
        assert client.post(f"/api/campaigns/{camp['id']}/start", headers=h).status_code == 200
    sent_at = clock.now()
    drain()
    cid, ids = audience["creator_id"], audience["ids"]
    with sessions() as s, s.begin():
        s.execute(
            insert(Purchase),
            [
                purchase_values(cid, ids["whale"], "c1", 5000, sent_at + timedelta(days=1)),
                purchase_values(cid, ids["lapsed"], "c2", 1000, sent_at + timedelta(days=2)),
            ],
        )
    click = {
        "kind": "click",
        "externalId": "k1",
        "occurredAt": (sent_at + timedelta(hours=1)).isoformat(),
        "fanId": ids["whale"],
        "campaignId": vips["id"],
    }
    assert client.post("/api/track/events", json={"events": [click]}, headers=h).status_code == 200
    # the whale, reached by both, converts on a link of "All": that campaign's, not VIP's
    bought = {
        "kind": "conversion",
        "externalId": "k2",
        "occurredAt": (sent_at + timedelta(hours=2)).isoformat(),
        "fanId": ids["whale"],
        "campaignId": everyone["id"],
        "valueCents": 700,
        "currency": "USD",
    }
    assert client.post("/api/track/events", json={"events": [bought]}, headers=h).status_code == 200

    r = client.get(
        "/api/campaigns/compare", params={"ids": f"{vips['id']},{everyone['id']}"}, headers=h
    )
    assert r.status_code == 200, r.text
    by_name = {item["name"]: item for item in r.json()["items"]}
    assert [item["name"] for item in r.json()["items"]] == ["VIP", "All"]
    assert by_name["All"] | {"campaignId": None} == {
        "campaignId": None,
        "name": "All",
        "status": "active",
        "impressions": 6,
        "clicks": 0,
        "conversions": 2,
        "revenue": 67.0,
        "revenueCents": 6700,
        "spentCents": 0,
        "ctr": 0.0,
        "conversionRate": 2 / 6,
        "roi": None,
        "cpaCents": None,
    }
    assert by_name["VIP"]["impressions"] == 1 and by_name["VIP"]["revenueCents"] == 5000
    assert by_name["VIP"]["clicks"] == 1 and by_name["VIP"]["ctr"] == 1.0

    top = client.get("/api/campaigns/top", params={"metric": "revenue"}, headers=h).json()
    assert [item["name"] for item in top["items"]] == ["All", "VIP"]
    top = client.get(
        "/api/campaigns/top", params={"metric": "conversionRate", "limit": 1}, headers=h
    )
    assert [item["name"] for item in top.json()["items"]] == ["VIP"]

    platforms = client.get("/api/campaigns/compare-platforms", headers=h).json()
    assert platforms["items"] == [
        {
            "platform": "onlyfans",
            "campaigns": 2,
            "impressions": 7,
            "clicks": 1,
            "conversions": 2,  # each fan once across the two campaigns
            "revenue": 67.0,
            "revenueCents": 6700,
            "ctr": 1 / 7,
            "conversionRate": 2 / 7,
        }
    ]

    other = make_tenant()["headers"]
    r = client.get("/api/campaigns/compare", params={"ids": everyone["id"]}, headers=other)
    assert r.status_code == 404 and r.json()["error"]["code"] == "campaign_not_found"
    assert client.get("/api/campaigns/top", headers=other).json()["items"] == []
    assert client.get("/api/campaigns/compare", params={"ids": " , "}, headers=h).status_code == 422
