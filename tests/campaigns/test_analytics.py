"""A campaign's analytics in seed 003's shape: what it delivered, per platform and per day,
and the purchases that followed within the attribution window."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from huntaze.models.crm import Purchase
from tests.campaigns.conftest import campaign_body
from tests.factories import purchase_values


def test_analytics_attribute_purchases_after_delivery(  # type: ignore[no-untyped-def]
    client, audience, relay, drain, sessions, clock
) -> None:
    h = audience["headers"]
    camp = client.post("/api/campaigns", json=campaign_body(), headers=h).json()
    client.post(f"/api/campaigns/{camp['id']}/start", headers=h)
    sent_at = clock.now()
    drain()
    cid, ids = audience["creator_id"], audience["ids"]
    with sessions() as s, s.begin():
        s.execute(
            insert(Purchase),
            [
                # inside the 7-day window: two purchases by one fan, one by another
                purchase_values(cid, ids["lapsed"], "w1", 1200, sent_at + timedelta(days=1)),
                purchase_values(cid, ids["lapsed"], "w2", 300, sent_at + timedelta(days=3)),
                purchase_values(cid, ids["risk"], "w3", 500, sent_at + timedelta(hours=2)),
                # after the window, and before the message: not the campaign's
                purchase_values(cid, ids["anniv"], "w4", 9900, sent_at + timedelta(days=8)),
                purchase_values(cid, ids["nudge"], "w5", 9900, sent_at - timedelta(days=1)),
            ],
        )
    r = client.get(f"/api/campaigns/{camp['id']}/analytics", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["overview"] == {
        "impressions": 6,
        "clicks": 0,
        "conversions": 2,
        "revenue": 20.0,
        "revenueCents": 2000,
    }
    assert body["byPlatform"]["onlyfans"]["conversions"] == 2
    assert body["byPlatform"]["instagram"] == {
        "impressions": 0,
        "clicks": 0,
        "conversions": 0,
        "revenue": 0.0,
        "revenueCents": 0,
    }
    assert [d["date"] for d in body["timeline"]] == [sent_at.date().isoformat()]
    assert body["funnel"] == {"sent": 6, "delivered": 6, "clicked": 0, "converted": 2}
    assert body["conversionRate"] == 2 / 6
    assert body["roi"] is None and body["cpaCents"] is None
    wider = client.get(
        f"/api/campaigns/{camp['id']}/analytics", params={"attributionDays": 10}, headers=h
    ).json()
    assert wider["overview"]["conversions"] == 3 and wider["overview"]["revenueCents"] == 11900
