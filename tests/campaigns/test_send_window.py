"""Send windows, seen where fans see them: the time each message reaches the platform's fake
(local time, quiet hours, optimal time), and how many a fan receives (frequency cap).

The test clock starts on 2026-11-01 12:00 UTC, six hours after New York left daylight
saving time; Paris left it a week before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, update

from huntaze.cli.server import make_worker
from huntaze.models.crm import Fan, Purchase
from huntaze.models.tenancy import Creator
from huntaze.models.tracking import TrackedEvent
from tests.factories import purchase_values

UTC_DAY = timedelta(days=1)


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def arrivals(client, relay, engine, clock):  # type: ignore[no-untyped-def]
    """Run the deployment's worker every five minutes of the test clock for ``hours``;
    return when each recipient's messages reached the relay (clock readings, in order; a
    delivery of an earlier run counts at this run's start)."""

    def run(hours: float) -> dict[str, list[datetime]]:
        ctx = client.app.state.ctx
        worker = make_worker(engine, ctx.metrics, ctx.settings, "w", 200, 0, clock=clock)
        seen = 0
        got: dict[str, list[datetime]] = {}
        for _ in range(int(hours * 12) + 1):
            worker.run_once()
            delivered = [r for r in relay.requests if r.status == 200]
            for r in delivered[seen:]:
                got.setdefault(r.payload["recipientId"], []).append(clock.now())
            seen = len(delivered)
            clock.advance(300)
        return got

    return run


def _zones(sessions: Any, audience: dict[str, Any], creator: str, **fans: str) -> None:
    with sessions() as s, s.begin():
        s.execute(
            update(Creator).where(Creator.id == audience["creator_id"]).values(timezone=creator)
        )
        for key, name in fans.items():
            s.execute(update(Fan).where(Fan.id == audience["ids"][key]).values(timezone=name))


def _launch(client: Any, h: dict[str, str], **schedule: Any) -> dict[str, Any]:
    body = {
        "name": "Window",
        "platforms": ["onlyfans"],
        "content": {"default": {"text": "Hi {username}"}},
        "schedule": schedule,
    }
    camp = client.post("/api/campaigns", json=body, headers=h)
    assert camp.status_code == 201, camp.text
    started = client.post(f"/api/campaigns/{camp.json()['id']}/start", headers=h)
    assert started.status_code == 200, started.text
    return started.json()  # type: ignore[no-any-return]


def test_local_time_reaches_each_fan_at_that_hour_of_its_own_day(  # type: ignore[no-untyped-def]
    client, audience, sessions, arrivals
) -> None:
    _zones(
        sessions,
        audience,
        "Europe/Paris",
        whale="Asia/Tokyo",
        newbie="America/New_York",
        nudge="Not/A_Zone",  # unknown: the creator's zone
    )
    _launch(client, audience["headers"], localTime="09:30")
    got = arrivals(30)
    paris = _at(2, 8, 30)  # 09:30 CET
    assert got == {
        "newbie": [_at(1, 14, 30)],  # 09:30 EST, the same day
        "whale": [_at(2, 0, 30)],  # 09:30 JST, the next day
        "nudge": [paris],
        "lapsed": [paris],
        "risk": [paris],
        "anniv": [paris],
    }


def test_quiet_hours_hold_a_message_until_they_end_in_the_fans_zone(  # type: ignore[no-untyped-def]
    client, audience, sessions, clock, arrivals
) -> None:
    h = audience["headers"]
    _zones(sessions, audience, "Europe/Paris", whale="Asia/Tokyo", newbie="America/New_York")
    rules = {"quietHours": {"start": "22:00", "end": "08:00"}}
    r = client.put("/api/campaigns/sending-rules", json=rules, headers=h)
    assert r.status_code == 200, r.text
    clock.set(_at(1, 22, 30))  # 23:30 in Paris, 07:30 in Tokyo, 17:30 in New York
    _launch(client, h)
    got = arrivals(10)
    assert got["newbie"] == [_at(1, 22, 30)]  # not quiet: at once
    assert got["whale"] == [_at(1, 23, 0)]  # 08:00 JST
    paris = [_at(2, 7, 0)]  # 08:00 CET
    for key in ("nudge", "lapsed", "risk", "anniv"):
        assert got[key] == paris, key


def test_optimal_time_follows_the_hour_a_fan_is_active_outside_quiet_hours(  # type: ignore[no-untyped-def]
    client, audience, sessions, clock, arrivals
) -> None:
    h = audience["headers"]
    cid, ids, now = audience["creator_id"], audience["ids"], clock.now()
    evening = now + timedelta(hours=8)
    with sessions() as s, s.begin():
        s.execute(
            insert(Purchase),
            [  # risk buys around 20:00 UTC
                purchase_values(cid, ids["risk"], f"r{d}", 500, evening - d * UTC_DAY)
                for d in (2, 3, 4)
            ],
        )

        def opened(key: str, n: int, hour: int) -> dict[str, Any]:
            return {
                "id": f"trk_{key}{n}",
                "creator_id": cid,
                "kind": "open",
                "fan_id": ids[key],
                "occurred_at": (now - n * UTC_DAY).replace(hour=hour, minute=40),
                "external_id": f"{key}{n}",
                "received_at": now,
            }

        # anniv opens messages around 03:00, lapsed around 06:00 (inside the quiet hours)
        s.execute(
            insert(TrackedEvent),
            [opened("anniv", n, 3) for n in (1, 2)] + [opened("lapsed", n, 6) for n in (1, 2)],
        )
    rules = {"quietHours": {"start": "05:00", "end": "07:00"}}
    assert client.put("/api/campaigns/sending-rules", json=rules, headers=h).status_code == 200
    _launch(client, h, optimalTime=True)
    got = arrivals(20)
    assert got["risk"] == [_at(1, 20)]
    assert got["anniv"] == [_at(2, 3)]
    assert got["lapsed"] == [_at(1, 12)]  # its hour is quiet: at once, as without a rule
    assert got["newbie"] == [_at(1, 12)]  # no activity: at once


def test_the_frequency_cap_counts_every_campaign_a_fan_receives(  # type: ignore[no-untyped-def]
    client, audience, clock, arrivals
) -> None:
    h = audience["headers"]
    rules = {"frequencyCap": {"perDay": 1, "perWeek": 2}}
    assert client.put("/api/campaigns/sending-rules", json=rules, headers=h).status_code == 200
    first = _launch(client, h)
    assert first["launch"]["queued"] == 6
    arrivals(0.5)
    second = _launch(client, h)  # the same day: every fan is at its daily cap
    assert second["launch"]["queued"] == 0
    assert second["launch"]["skipped"]["frequencyCapped"] == 6
    clock.advance(25 * 3600)
    assert _launch(client, h)["launch"]["queued"] == 6
    clock.advance(25 * 3600)
    fourth = _launch(client, h)  # two in the last seven days: the weekly cap
    assert fourth["launch"]["skipped"]["frequencyCapped"] == 6
    got = arrivals(1)  # every delivery the relay received in the test
    assert {k: len(v) for k, v in got.items()} == dict.fromkeys(
        ("whale", "lapsed", "nudge", "newbie", "risk", "anniv"), 2
    )  # the first campaign's and the third's


def test_sending_rules_are_validated_and_answered_as_set(client, audience, make_tenant) -> None:  # type: ignore[no-untyped-def]
    h = audience["headers"]
    empty = client.get("/api/campaigns/sending-rules", headers=h).json()
    assert empty == {
        "quietHours": None,
        "frequencyCap": {"perDay": None, "perWeek": None},
        "timeZone": "UTC",
    }
    for bad, field in (
        ({"quietHours": {"start": "22:00", "end": "22:00"}}, "quietHours"),
        ({"quietHours": {"start": "24:00", "end": "08:00"}}, "quietHours.start"),
        ({"frequencyCap": {"perDay": 0}}, "frequencyCap.perDay"),
        ({"quietHours": {"start": "22:00"}}, "quietHours.end"),
    ):
        r = client.put("/api/campaigns/sending-rules", json=bad, headers=h)
        assert r.status_code == 422, (bad, r.text)
        assert any(d["field"].startswith(field) for d in r.json()["error"]["details"]), r.text
    rules = {"quietHours": {"start": "22:00", "end": "08:00"}, "frequencyCap": {"perWeek": 3}}
    assert client.put("/api/campaigns/sending-rules", json=rules, headers=h).status_code == 200
    got = client.get("/api/campaigns/sending-rules", headers=h).json()
    assert got["quietHours"] == rules["quietHours"]
    assert got["frequencyCap"] == {"perDay": None, "perWeek": 3}
    other = make_tenant()["headers"]  # another creator's rules are its own
    assert client.get("/api/campaigns/sending-rules", headers=other).json()["quietHours"] is None
    bad_time = {"name": "x", "platforms": ["onlyfans"], "schedule": {"localTime": "9:30"}}
    r = client.post("/api/campaigns", json=bad_time, headers=h)
    assert r.status_code == 422 and "schedule.localTime" in r.text
