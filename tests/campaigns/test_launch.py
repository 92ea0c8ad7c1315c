"""Launching a campaign fans its audience out into outbox rows, and what the relay receives
is exactly that: one personalised message per reachable fan, skips counted by reason."""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from huntaze.campaigns import actions
from huntaze.campaigns.launch import launch
from huntaze.db.dialect import writer_bind
from huntaze.kit.errors import ApiError
from huntaze.models.campaigns import Campaign
from tests.campaigns.conftest import campaign_body


def _create(client, headers, **overrides):  # type: ignore[no-untyped-def]
    r = client.post("/api/campaigns", json=campaign_body(**overrides), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_launch_reaches_each_fan_once_through_the_outbox(client, audience, relay, drain) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    camp = _create(client, h)
    assert camp["status"] == "draft"
    r = client.post(f"/api/campaigns/{camp['id']}/start", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "active" and body["startedAt"] is not None
    # six OnlyFans fans; Instagram has no account yet; the Fansly fan is on neither
    assert body["launch"]["queued"] == 6
    assert body["launch"]["skipped"] == {
        "optedOut": 0,
        "noChannel": 1,
        "alreadyMessaged": 0,
        "frequencyCapped": 0,
    }
    assert body["launch"]["byPlatform"]["instagram"]["queued"] == 0
    drain()
    accepted = [req for req in relay.requests if req.status == 200]
    assert sorted(req.payload["content"] for req in accepted) == sorted(
        f"Hi u{key}" for key in ("whale", "lapsed", "nudge", "newbie", "risk", "anniv")
    )
    metrics = client.get(f"/api/campaigns/{camp['id']}", headers=h).json()["metrics"]
    assert metrics["sent"] == 6 and metrics["queued"] == 0
    r = client.post(f"/api/campaigns/{camp['id']}/complete", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "completed"


def test_a_campaign_reaches_the_union_of_its_segments(client, audience, relay, drain) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    big = {"field": "lifetimeValueCents", "op": "gte", "value": 7500}
    seg = client.post("/api/segments", json={"name": "Big", "criteria": big}, headers=h).json()
    lapsed = {"field": "daysSinceLastActivity", "op": "gte", "value": 30}
    seg2 = client.post("/api/segments", json={"name": "Gone", "criteria": lapsed}, headers=h)
    camp = _create(client, h, targeting={"segmentIds": [seg["id"]]}, segmentIds=[seg2.json()["id"]])
    assert sorted(camp["segmentIds"]) == sorted([seg["id"], seg2.json()["id"]])
    launched = client.post(f"/api/campaigns/{camp['id']}/launch", headers=h).json()
    # whale and nudge (Big), lapsed (Gone); the Fansly whale has no channel
    assert launched["launch"]["queued"] == 3
    assert launched["launch"]["skipped"]["noChannel"] == 1
    drain()
    sent = {req.payload["content"] for req in relay.requests if req.status == 200}
    assert sent == {"Hi uwhale", "Hi unudge", "Hi ulapsed"}


def test_opted_out_fans_are_skipped_and_counted(client, audience, relay, sessions) -> None:  # type: ignore[no-untyped-def]
    from huntaze.models.crm import Fan

    with sessions() as s, s.begin():
        fan = s.get(Fan, audience["ids"]["nudge"])
        assert fan is not None
        fan.consent = "opted_out"
    h = audience["headers"]
    camp = _create(client, h, platforms=["onlyfans"])
    launched = client.post(f"/api/campaigns/{camp['id']}/start", headers=h).json()["launch"]
    assert launched["queued"] == 5 and launched["skipped"]["optedOut"] == 1


def test_fans_already_messaged_by_the_campaign_are_skipped(
    client, audience, relay, sessions, clock
) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    camp = _create(client, h, platforms=["onlyfans"])
    client.post(f"/api/campaigns/{camp['id']}/start", headers=h)
    with sessions() as s, s.begin():
        campaign = s.scalar(select(Campaign).where(Campaign.id == camp["id"]))
        assert campaign is not None
        again = launch(s, campaign, clock.now())
    assert again.queued == 0 and again.skipped["alreadyMessaged"] == 6


def test_a_platform_with_an_account_needs_content(client, audience, relay) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    camp = _create(client, h, content={"instagram": {"text": "only for instagram"}})
    r = client.post(f"/api/campaigns/{camp['id']}/start", headers=h)
    assert r.status_code == 422 and r.json()["error"]["code"] == "missing_content"
    assert r.json()["error"]["details"] == [{"field": "content.onlyfans"}]
    again = client.get(f"/api/campaigns/{camp['id']}", headers=h).json()
    assert again["status"] == "draft" and again["metrics"]["queued"] == 0


def test_campaign_messages_show_in_the_fans_thread(client, audience, relay) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    camp = _create(client, h, platforms=["onlyfans"])
    client.post(f"/api/campaigns/{camp['id']}/start", headers=h)
    conv = f"conv_{audience['creator_id'][-8:]}"
    thread = client.get(f"/api/crm/conversations/{conv}/messages", headers=h).json()["items"]
    sent = [m for m in thread if m["text"] == "Hi uwhale"]
    assert len(sent) == 1 and sent[0]["status"] == "queued"


def test_a_fan_reachable_on_two_platforms_gets_one_message_on_each(  # type: ignore[no-untyped-def]
    client, audience, relay, sessions
) -> None:
    from huntaze.models.crm import Fan
    from tests.factories import create_account

    with sessions() as s, s.begin():
        fan = s.get(Fan, audience["ids"]["whale"])
        assert fan is not None
        fan.email = "whale@example.com"
    h = audience["headers"]
    create_account(client, h, platform="email", name="mail")
    camp = _create(client, h, platforms=["onlyfans", "email"])
    launched = client.post(f"/api/campaigns/{camp['id']}/start", headers=h).json()["launch"]
    assert launched["byPlatform"]["onlyfans"]["queued"] == 6
    assert launched["byPlatform"]["email"]["queued"] == 1
    assert launched["queued"] == 7


def test_two_starts_at_once_launch_the_campaign_once(  # type: ignore[no-untyped-def]
    client, audience, relay, engine, clock, drain
) -> None:
    """Of two requests starting one campaign at the same moment, one launches it and the
    other answers 409; the relay receives each fan's message once. (Each in a session as
    the API opens it for a POST: on SQLite, ``BEGIN IMMEDIATE``.)"""
    h = audience["headers"]
    camp = _create(client, h, platforms=["onlyfans"])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def start() -> None:
        with Session(writer_bind(engine)) as s:
            barrier.wait()
            try:
                with s.begin():
                    actions.start(s, audience["creator_id"], camp["id"], clock.now())
                outcomes.append("started")
            except ApiError as exc:
                outcomes.append(exc.code)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["invalid_transition", "started"]
    drain()
    accepted = [req.payload["fanId"] for req in relay.requests if req.status == 200]
    assert len(accepted) == 6 and len(set(accepted)) == 6
