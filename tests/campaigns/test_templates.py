"""Campaign templates: seed 003's ten, seed 004's by niche and seed 000's smart-audience
messages; a campaign made from one sends its text personalised (``{days_absent}`` included);
a campaign saved as one; usage and performance counted per creator."""

from __future__ import annotations

from huntaze.campaigns.templates import BUILT_IN
from tests.campaigns.conftest import campaign_body

SEED_003 = {
    "Welcome New Subscriber",
    "Re-engagement",
    "VIP Exclusive Offer",
    "Content Teaser",
    "Birthday Special",
    "Milestone Celebration",
    "Flash Sale",
    "Content Poll",
    "Behind The Scenes",
    "Referral Program",
}


def test_the_seeds_templates_are_listed_by_niche(client, audience) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    items = client.get("/api/campaigns/templates", headers=h).json()["items"]
    names = {t["name"] for t in items}
    assert names >= SEED_003 and len(items) == len(BUILT_IN)
    for niche in ("fitness", "gaming", "adult", "fashion"):
        got = client.get("/api/campaigns/templates", params={"niche": niche}, headers=h).json()
        assert got["items"] and {t["niche"] for t in got["items"]} == {niche}
    smart = [
        t for t in items if t["audience"] == "win_back_30_days" and "instagram" in t["content"]
    ]
    assert smart and set(smart[0]["platforms"]) == {"instagram", "onlyfans"}
    r = client.get("/api/campaigns/templates", params={"niche": "cooking"}, headers=h)
    assert r.status_code == 422


def test_a_campaign_from_a_template_sends_its_text_personalised(  # type: ignore[no-untyped-def]
    client, audience, relay, drain
) -> None:
    h = audience["headers"]
    lapsed = {"field": "daysSinceLastActivity", "op": "gte", "value": 30}
    seg = client.post("/api/segments", json={"name": "Gone", "criteria": lapsed}, headers=h)
    r = client.post(
        "/api/campaigns/from-template",
        json={"templateId": "re_engagement", "segmentIds": [seg.json()["id"]]},
        headers=h,
    )
    assert r.status_code == 201, r.text
    camp = r.json()
    assert camp["templateId"] == "re_engagement" and camp["type"] == "retention"
    assert camp["status"] == "draft" and camp["platforms"] == ["onlyfans"]
    client.post(f"/api/campaigns/{camp['id']}/start", headers=h)
    drain()
    texts = [req.payload["content"] for req in relay.requests if req.status == 200]
    # lapsed: username ulapsed, last active 45 days before the campaign
    assert texts == [
        "Hey ulapsed, it's been 45 days! I've posted a lot since. Come back this week and "
        "the newest set is on me."
    ]
    listed = client.get("/api/campaigns/templates", headers=h).json()["items"]
    used = next(t for t in listed if t["id"] == "re_engagement")
    assert used["usageCount"] == 1 and used["avgPerformance"] == 0.0


def test_a_campaign_saved_as_a_template_is_the_creators_own(client, audience, make_tenant) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    camp = client.post("/api/campaigns", json=campaign_body(name="Mine"), headers=h).json()
    r = client.post(
        f"/api/campaigns/{camp['id']}/save-as-template", json={"niche": "fitness"}, headers=h
    )
    assert r.status_code == 201, r.text
    saved = r.json()
    assert saved["builtIn"] is False and saved["name"] == "Mine"
    assert saved["content"] == camp["content"]
    fitness = client.get("/api/campaigns/templates", params={"niche": "fitness"}, headers=h)
    assert saved["id"] in [t["id"] for t in fitness.json()["items"]]
    again = client.post(
        "/api/campaigns/from-template", json={"templateId": saved["id"], "name": "Again"}, headers=h
    )
    assert again.status_code == 201 and again.json()["content"] == camp["content"]
    other = make_tenant()["headers"]
    assert saved["id"] not in [
        t["id"] for t in client.get("/api/campaigns/templates", headers=other).json()["items"]
    ]
    r = client.post("/api/campaigns/from-template", json={"templateId": saved["id"]}, headers=other)
    assert r.status_code == 404 and r.json()["error"]["code"] == "template_not_found"
