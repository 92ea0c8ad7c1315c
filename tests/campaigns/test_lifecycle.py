"""The campaign lifecycle: legal moves act on the campaign's outbox rows, and every other
move answers 409 and changes nothing."""

from __future__ import annotations

from tests.campaigns.conftest import campaign_body


def _active(client, headers):  # type: ignore[no-untyped-def]
    camp = client.post(
        "/api/campaigns", json=campaign_body(platforms=["onlyfans"]), headers=headers
    )
    started = client.post(f"/api/campaigns/{camp.json()['id']}/start", headers=headers)
    assert started.status_code == 200, started.text
    return started.json()


def test_pause_holds_the_messages_and_resume_releases_them(client, audience, relay, drain) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    camp = _active(client, h)
    paused = client.post(f"/api/campaigns/{camp['id']}/pause", headers=h).json()
    assert paused["status"] == "paused" and paused["metrics"]["held"] == 6
    drain()
    assert [r for r in relay.requests if r.status == 200] == []
    r = client.post(f"/api/campaigns/{camp['id']}/complete", headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "campaign_not_finished"
    assert r.json()["error"]["details"][0]["held"] == 6
    resumed = client.post(f"/api/campaigns/{camp['id']}/resume", headers=h).json()
    assert resumed["status"] == "active" and resumed["metrics"]["queued"] == 6
    drain()
    assert len([r for r in relay.requests if r.status == 200]) == 6


def test_cancel_cancels_what_is_still_waiting(client, audience, relay, drain) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    camp = _active(client, h)
    cancelled = client.post(f"/api/campaigns/{camp['id']}/cancel", headers=h).json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["metrics"]["cancelled"] == 6 and cancelled["metrics"]["queued"] == 0
    drain()
    assert [r for r in relay.requests if r.status == 200] == []


def test_illegal_moves_answer_409_and_change_nothing(client, audience, relay) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    draft = client.post("/api/campaigns", json=campaign_body(), headers=h).json()
    for action in ("pause", "resume", "complete"):
        r = client.post(f"/api/campaigns/{draft['id']}/{action}", headers=h)
        assert r.status_code == 409, action
        assert r.json()["error"]["code"] == "invalid_transition"
        assert r.json()["error"]["details"][0]["from"] == "draft"
    active = _active(client, h)
    for action in ("start", "launch", "resume", "schedule"):
        body = {"scheduledFor": "2030-01-01T00:00:00Z"} if action == "schedule" else None
        r = client.post(f"/api/campaigns/{active['id']}/{action}", json=body, headers=h)
        assert r.status_code == 409, (action, r.text)
    r = client.put(f"/api/campaigns/{active['id']}", json=campaign_body(), headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "campaign_not_editable"
    r = client.delete(f"/api/campaigns/{active['id']}", headers=h)
    assert r.status_code == 409
    client.post(f"/api/campaigns/{active['id']}/cancel", headers=h)
    for action in ("start", "pause", "resume", "cancel", "complete"):
        r = client.post(f"/api/campaigns/{active['id']}/{action}", headers=h)
        assert r.status_code == 409, action
    got = client.get(f"/api/campaigns/{active['id']}", headers=h).json()
    assert got["status"] == "cancelled" and got["metrics"]["cancelled"] == 6
    assert client.delete(f"/api/campaigns/{active['id']}", headers=h).status_code == 204
    assert client.get(f"/api/campaigns/{active['id']}", headers=h).status_code == 404


def test_seed_003s_body_creates_a_scheduled_campaign(client, audience, clock) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    seg = client.post(
        "/api/segments",
        json={
            "name": "New",
            "criteria": {"field": "subscribedAt", "op": "withinLastDays", "value": 7},
        },
        headers=h,
    ).json()
    body = {
        "name": "Welcome Campaign",
        "type": "email",
        "platforms": ["onlyfans", "instagram"],
        "templateId": "welcome_new_subscriber",
        "schedule": {"startDate": "2026-11-05T00:00:00Z", "endDate": "2026-11-30T23:59:59Z"},
        "targeting": {"segmentIds": [seg["id"]]},
    }
    r = client.post("/api/campaigns", json=body, headers=h)
    assert r.status_code == 201, r.text
    camp = r.json()
    assert camp["status"] == "scheduled"
    assert camp["schedule"] == {
        "startDate": "2026-11-05T00:00:00Z",
        "endDate": "2026-11-30T23:59:59Z",
        # send windows (docs/campaigns.md): none asked, so each fan at once
        "localTime": None,
        "optimalTime": False,
    }
    assert camp["targeting"] == {"segmentIds": [seg["id"]]}
    assert camp["templateId"] == "welcome_new_subscriber"
    assert set(camp["metrics"]) >= {"sent", "opened", "clicked", "converted"}
    # a start in the past makes a draft; an end before the start is refused
    body["schedule"] = {"startDate": "2026-10-01T00:00:00Z"}
    assert client.post("/api/campaigns", json=body, headers=h).json()["status"] == "draft"
    body["schedule"] = {"startDate": "2026-12-01T00:00:00Z", "endDate": "2026-11-01T00:00:00Z"}
    assert client.post("/api/campaigns", json=body, headers=h).status_code == 422


def test_bad_campaigns_are_refused(client, audience, make_tenant) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    theirs = client.post(
        "/api/segments",
        json={"name": "x", "criteria": {"field": "platform", "op": "eq", "value": "x"}},
        headers=make_tenant()["headers"],
    ).json()
    for body, code in (
        (campaign_body(segmentIds=[theirs["id"]]), "invalid_criteria"),
        (campaign_body(platforms=[]), "invalid_request"),
        (campaign_body(type="spam"), "invalid_request"),
        (campaign_body(content={"reddit": {"text": "x"}}), "invalid_request"),
        (campaign_body(content={"default": {"text": ""}}), "invalid_request"),
        (campaign_body(budget=-1), "invalid_request"),
        (campaign_body(name="a\u0000"), "invalid_request"),
    ):
        r = client.post("/api/campaigns", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"]["code"] == code
    assert client.get("/api/campaigns", headers=h).json()["items"] == []


def test_campaigns_are_listed_newest_first_with_filters(client, audience, clock) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    made = []
    for i, kind in enumerate(["ppv", "retention", "ppv"]):
        clock.advance(1)
        platforms = ["onlyfans"] if i else ["reddit"]
        body = campaign_body(name=f"c{i}", type=kind, platforms=platforms)
        made.append(client.post("/api/campaigns", json=body, headers=h).json()["id"])
    names = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/campaigns", params=params, headers=h).json()
        names += [c["name"] for c in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert names == ["c2", "c1", "c0"]
    ppv = client.get("/api/campaigns", params={"type": "ppv"}, headers=h).json()["items"]
    assert [c["name"] for c in ppv] == ["c2", "c0"]
    reddit = client.get("/api/campaigns", params={"platform": "reddit"}, headers=h).json()
    assert [c["name"] for c in reddit["items"]] == ["c0"]
    # the platform filter holds across pages: the newest page of one has no reddit campaign
    page = client.get("/api/campaigns", params={"platform": "reddit", "limit": 1}, headers=h)
    assert [c["name"] for c in page.json()["items"]] == ["c0"]
    drafts = client.get("/api/campaigns", params={"status": "draft"}, headers=h).json()
    assert len(drafts["items"]) == 3


def test_duplicate_makes_a_draft_copy(client, audience, relay) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    active = _active(client, h)
    r = client.post(f"/api/campaigns/{active['id']}/duplicate", json={"name": "Again"}, headers=h)
    assert r.status_code == 201
    copy = r.json()
    assert copy["status"] == "draft" and copy["name"] == "Again" and copy["launch"] is None
    assert copy["content"] == active["content"] and copy["metrics"]["queued"] == 0
    # the copy is its own campaign: launching it messages the same fans again
    launched = client.post(f"/api/campaigns/{copy['id']}/start", headers=h).json()
    assert launched["launch"]["queued"] == 6
