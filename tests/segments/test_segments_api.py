"""Segments through ``/api/segments``: static segments freeze their members, dynamic ones
follow their criteria, a refresh announces who entered and left, and another creator's
segment is never found."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from huntaze.models.crm import Fan
from huntaze.models.events import Event
from tests.factories import fan_values

BIG = {"field": "lifetimeValueCents", "op": "gte", "value": 7500}


def _create(client, headers, name: str, criteria: Any, kind: str = "dynamic") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = client.post(
        "/api/segments",
        json={"name": name, "type": kind, "criteria": criteria},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def _member_keys(client, headers, segment_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    keys: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = client.get(f"/api/segments/{segment_id}/members", params=params, headers=headers)
        assert r.status_code == 200, r.text
        keys += [f["platformFanId"] for f in r.json()["items"]]
        cursor = r.json()["nextCursor"]
        if cursor is None:
            return keys


def _add_big_fan(sessions, audience, clock, key: str = "late") -> None:  # type: ignore[no-untyped-def]
    with sessions() as s, s.begin():
        s.execute(
            insert(Fan),
            [fan_values(audience["creator_id"], key, clock.now(), lifetime_value_cents=9000)],
        )


def test_a_segment_reports_its_size_and_worth_in_the_seeds_shape(client, audience) -> None:  # type: ignore[no-untyped-def]
    seg = _create(client, audience["headers"], "Big", BIG)
    assert seg["type"] == "dynamic" and seg["memberCount"] == 3
    assert seg["revenueCents"] == 60000 + 7500 + 20000
    assert seg["avgRevenueCents"] == 87500 // 3 and seg["avgRevenue"] == 87500 // 3 / 100
    assert seg["avgEngagement"] == 1.0  # the whale's 3 inbound messages over 3 members
    assert seg["lastRefreshedAt"] is not None
    got = client.get(f"/api/segments/{seg['id']}", headers=audience["headers"]).json()
    assert got == seg


def test_static_members_stay_frozen_until_a_refresh_and_dynamic_ones_follow(  # type: ignore[no-untyped-def]
    client, audience, sessions: sessionmaker[Session], clock
) -> None:
    h = audience["headers"]
    frozen = _create(client, h, "Frozen", BIG, kind="static")
    live = _create(client, h, "Live", BIG)
    _add_big_fan(sessions, audience, clock)
    assert sorted(_member_keys(client, h, frozen["id"])) == ["fansly", "nudge", "whale"]
    assert sorted(_member_keys(client, h, live["id"])) == ["fansly", "late", "nudge", "whale"]
    r = client.post(f"/api/segments/{frozen['id']}/refresh", headers=h)
    assert r.status_code == 200
    assert r.json()["added"] == 1 and r.json()["removed"] == 0
    assert r.json()["segment"]["memberCount"] == 4
    assert sorted(_member_keys(client, h, frozen["id"])) == [
        "fansly",
        "late",
        "nudge",
        "whale",
    ]


def test_a_refresh_announces_each_fan_that_entered_or_left(  # type: ignore[no-untyped-def]
    client, audience, sessions: sessionmaker[Session], clock
) -> None:
    h = audience["headers"]
    seg = _create(client, h, "Big", BIG)
    _add_big_fan(sessions, audience, clock)
    with sessions() as s, s.begin():
        whale = s.get(Fan, audience["ids"]["whale"])
        assert whale is not None
        whale.lifetime_value_cents = 0
    r = client.post(f"/api/segments/{seg['id']}/refresh", headers=h)
    assert (r.json()["added"], r.json()["removed"]) == (1, 1)
    with sessions() as s:
        events = s.execute(
            select(Event.type, Event.subject_id, Event.payload).where(
                Event.creator_id == audience["creator_id"], Event.type.like("segment.%")
            )
        ).all()
    late = f"fan_{audience['creator_id'][-8:]}_late"
    assert sorted((e.type, e.subject_id) for e in events) == [
        ("segment.member_added", late),
        ("segment.member_removed", audience["ids"]["whale"]),
    ]
    assert all(e.payload == {"segmentId": seg["id"]} for e in events)
    # a second refresh with nothing changed announces nothing
    r = client.post(f"/api/segments/{seg['id']}/refresh", headers=h)
    assert (r.json()["added"], r.json()["removed"]) == (0, 0)


def test_segments_may_name_other_segments_but_not_in_a_circle(client, audience) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    big = _create(client, h, "Big", BIG)
    onlyfans = {"field": "platform", "op": "eq", "value": "onlyfans"}
    inner = {"all": [onlyfans, {"field": "segment", "op": "in", "value": big["id"]}]}
    both = _create(client, h, "Big on OnlyFans", inner)
    assert sorted(_member_keys(client, h, both["id"])) == ["nudge", "whale"]
    # Big may not now name the segment that names it
    circle = {"all": [BIG, {"field": "segment", "op": "notIn", "value": [both["id"]]}]}
    body = {"name": "Big", "criteria": circle}
    r = client.put(f"/api/segments/{big['id']}", json=body, headers=h)
    assert r.status_code == 422 and "circle" in r.json()["error"]["details"][0]["message"]
    # and may not be deleted while it is named
    r = client.delete(f"/api/segments/{big['id']}", headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "segment_in_use"
    assert client.delete(f"/api/segments/{both['id']}", headers=h).status_code == 204
    assert client.delete(f"/api/segments/{big['id']}", headers=h).status_code == 204
    assert client.get(f"/api/segments/{big['id']}", headers=h).status_code == 404


def test_another_creators_segment_is_not_found_anywhere(client, audience, make_tenant) -> None:  # type: ignore[no-untyped-def]
    seg = _create(client, audience["headers"], "Big", BIG)
    other = make_tenant()["headers"]
    for method, url in [
        ("get", f"/api/segments/{seg['id']}"),
        ("get", f"/api/segments/{seg['id']}/members"),
        ("get", f"/api/segments/{seg['id']}/performance"),
        ("post", f"/api/segments/{seg['id']}/refresh"),
        ("delete", f"/api/segments/{seg['id']}"),
        ("get", f"/api/segments/compare?ids={seg['id']}"),
    ]:
        r = client.request(method, url, headers=other)
        assert r.status_code == 404, (url, r.text)
        assert r.json()["error"]["code"] == "segment_not_found"
    naming = {"field": "segment", "op": "in", "value": seg["id"]}
    r = client.post("/api/segments/preview", json={"criteria": naming}, headers=other)
    assert r.status_code == 422
    assert client.get("/api/segments", headers=other).json()["items"] == []


def test_a_name_is_taken_once_per_creator(client, audience) -> None:  # type: ignore[no-untyped-def]
    _create(client, audience["headers"], "Big", BIG)
    body = {"name": "Big", "criteria": BIG}
    r = client.post("/api/segments", json=body, headers=audience["headers"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "segment_exists"


def test_segments_are_listed_by_name_page_by_page(client, audience) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    for name in ["b", "a", "c"]:
        _create(client, h, name, BIG)
    names: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/segments", params=params, headers=h).json()
        names += [s["name"] for s in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert names == ["a", "b", "c"]


def test_compare_shows_each_segments_worth_and_their_overlap(client, audience) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    big = _create(client, h, "Big", BIG)
    recent = _create(
        client, h, "Recent", {"field": "daysSinceLastActivity", "op": "lt", "value": 6}
    )
    r = client.get(
        "/api/segments/compare", params={"ids": f"{big['id']},{recent['id']}"}, headers=h
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [s["memberCount"] for s in body["segments"]] == [3, 5]
    # Big: whale, nudge, fansly; Recent: whale, nudge, fansly, anniv, and newbie, never
    # active, counted from the day it was added
    assert body["overlap"] == [[3, 3], [3, 5]]
    assert body["segments"][0]["revenueLast30DaysCents"] == 4000
    assert body["segments"][0]["purchasesLast30Days"] == 2


def test_smart_audiences_are_counted_in_the_same_language(client, audience) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/segments/smart", headers=audience["headers"])
    assert r.status_code == 200
    sizes = {a["key"]: a["memberCount"] for a in r.json()["items"]}
    assert sizes == {
        "win_back_30_days": 1,  # lapsed: 45 days, $25
        "upgrade_nudge_vip": 1,  # nudge: yesterday, $75
        "anniversary_12_months": 1,  # anniv: 366 days
        "new_subscribers": 1,  # newbie
        "high_spenders": 2,  # whale, fansly
        "at_risk": 1,  # risk: 20 days
    }
    for item in r.json()["items"]:
        preview = client.post(
            "/api/segments/preview",
            json={"criteria": item["criteria"]},
            headers=audience["headers"],
        )
        assert preview.json()["memberCount"] == item["memberCount"]


def test_hostile_requests_answer_4xx_and_write_nothing(client, audience) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    deep: dict[str, Any] = BIG
    for _ in range(500):
        deep = {"not": deep}
    for body in (
        {"name": "a\u0000", "criteria": BIG},
        {"name": "  ", "criteria": BIG},
        {"name": "x", "criteria": BIG, "type": "frozen"},
        {"name": "x", "criteria": deep},
        {"name": "x", "criteria": {"field": "segment", "op": "in", "value": ["\ud800"]}},
        {"name": "x" * 256, "criteria": BIG},
    ):
        raw = json.dumps(body)  # escapes a lone surrogate, as a hostile client may send it
        headers = {**h, "content-type": "application/json"}
        r = client.post("/api/segments", content=raw, headers=headers)
        assert r.status_code == 422, (raw[:80], r.text)
    r = client.post("/api/segments/preview", json={"criteria": BIG, "sampleSize": 101}, headers=h)
    assert r.status_code == 422
    for ids in (",,,", ",".join(f"s{i}" for i in range(11))):
        r = client.get("/api/segments/compare", params={"ids": ids}, headers=h)
        assert r.status_code == 422, (ids, r.text)
    assert client.get("/api/segments", headers=h).json()["items"] == []
