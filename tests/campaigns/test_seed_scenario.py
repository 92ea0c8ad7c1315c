"""Seed 003's scenario end to end, through the API and the worker a deployment runs
(:func:`huntaze.cli.server.make_worker`): the Welcome campaign from its template, aimed at a
segment, started, its messages delivered to the platform's fake, its tracked link followed
by fans, a conversion tracked, and the analytics read back."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from huntaze.cli.server import make_worker
from huntaze.models.crm import Fan
from huntaze.models.messaging import OutboxMessage

LINK = "https://shop.example.com/welcome?u={username}"


def test_welcome_campaign_from_template_to_analytics(  # type: ignore[no-untyped-def]
    client, audience, relay, engine, clock, sessions
) -> None:
    h = audience["headers"]
    recent = {"field": "daysSubscribed", "op": "lte", "value": 400}
    seg = client.post("/api/segments", json={"name": "Subscribers", "criteria": recent}, headers=h)
    assert seg.status_code == 201, seg.text
    body = {
        "templateId": "welcome_new_subscriber",
        "platforms": ["onlyfans", "instagram"],
        "targeting": {"segmentIds": [seg.json()["id"]]},
        "content": {"default": {"text": f"Welcome {{username}}! Your gift: {LINK}."}},
    }
    camp = client.post("/api/campaigns/from-template", json=body, headers=h)
    assert camp.status_code == 201, camp.text
    cid = camp.json()["id"]
    started = client.post(f"/api/campaigns/{cid}/start", headers=h)
    assert started.status_code == 200, started.text

    ctx = client.app.state.ctx
    worker = make_worker(engine, ctx.metrics, ctx.settings, "w", 200, 0, clock=clock)
    while worker.run_once():
        clock.advance(60)

    delivered = [r.payload for r in relay.requests if r.status == 200]
    # members: subscribed 400 days ago or less
    assert sorted(p["content"].split("!")[0] for p in delivered) == [
        "Welcome uanniv",
        "Welcome unewbie",
        "Welcome uwhale",
    ]
    base = ctx.settings.public_base()
    tokens = {}
    for payload in delivered:
        # the fan receives a tracked link in place of the target, and never the target itself
        assert "shop.example.com" not in payload["content"]
        found = re.search(re.escape(base) + r"/t/(\S+?)\.$", payload["content"])
        assert found, payload["content"]
        tokens[payload["content"].split("!")[0].split()[1]] = found.group(1)
    with sessions() as s:
        stored = s.scalars(select(OutboxMessage.content).where(OutboxMessage.campaign_id == cid))
        assert all(LINK.split("{")[0] in text for text in stored)  # the row keeps what was written

    r = client.get(f"/t/{tokens['uwhale']}", follow_redirects=False)
    assert r.status_code == 302, r.text
    assert r.headers["location"] == "https://shop.example.com/welcome?u=uwhale"
    assert r.headers["referrer-policy"] == "no-referrer"
    again = client.get(f"/t/{tokens['uwhale']}", follow_redirects=False)
    assert again.status_code == 302  # a second click of one fan counts once

    whale = audience["ids"]["whale"]
    event = {
        "kind": "conversion",
        "fanId": whale,
        "campaignId": cid,
        "valueCents": 2500,
        "currency": "USD",
        "occurredAt": (clock.now() + timedelta(hours=1)).isoformat(),
        "externalId": "order-1",
    }
    tracked = client.post("/api/track/events", json={"events": [event]}, headers=h)
    assert tracked.status_code == 200 and tracked.json()["accepted"] == 1, tracked.text

    got = client.get(f"/api/campaigns/{cid}", headers=h).json()
    assert got["metrics"]["sent"] == 3 and got["metrics"]["clicked"] == 1
    assert got["metrics"]["converted"] == 1
    analytics = client.get(f"/api/campaigns/{cid}/analytics", headers=h).json()
    assert analytics["overview"] == {
        "impressions": 3,
        "clicks": 1,
        "conversions": 1,
        "revenue": 25.0,
        "revenueCents": 2500,
    }
    assert analytics["funnel"] == {"sent": 3, "delivered": 3, "clicked": 1, "converted": 1}
    assert analytics["ctr"] == 1 / 3 and analytics["conversionRate"] == 1 / 3


def test_a_tracked_link_is_no_open_redirect(  # type: ignore[no-untyped-def]
    client, audience, relay, engine, clock, sessions
) -> None:
    h = audience["headers"]
    with sessions() as s, s.begin():  # a fan's own field puts a link the campaign never named
        s.execute(
            update(Fan)
            .where(Fan.id == audience["ids"]["nudge"])
            .values(custom_fields={"note": "https://evil.example/phish"})
        )
    body = {
        "name": "Links",
        "platforms": ["onlyfans"],
        "content": {"default": {"text": "Hi {username}: https://a.example/x and {note}"}},
    }
    camp = client.post("/api/campaigns", json=body, headers=h).json()
    client.post(f"/api/campaigns/{camp['id']}/start", headers=h)
    ctx = client.app.state.ctx
    worker = make_worker(engine, ctx.metrics, ctx.settings, "w", 200, 0, clock=clock)
    while worker.run_once():
        clock.advance(60)
    texts = [r.payload["content"] for r in relay.requests if r.status == 200]
    nudged = next(t for t in texts if t.startswith("Hi unudge"))
    assert "evil.example" not in nudged
    token, smuggled = re.findall(r"/t/(\S+)", nudged)
    r = client.get(f"/t/{smuggled}", follow_redirects=False)  # signed by us, yet not allowed
    assert r.status_code == 404 and "location" not in r.headers
    message_id, _, signature = token.split(".")
    forged = [
        f"{message_id}.1.{signature}",  # another link of the message, signed for the first
        f"{message_id}.0.{signature[:-2]}AA",  # a signature not ours
        f"msg_other.0.{signature}",  # another message
        "x" * 300,
        "",
        "a.b",
    ]
    for bad in forged:
        r = client.get(f"/t/{bad}", follow_redirects=False)
        assert r.status_code == 404, (bad, r.status_code)
        assert "location" not in r.headers
    r = client.get(f"/t/{token}", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "https://a.example/x"
