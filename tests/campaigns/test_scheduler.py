"""The campaigns' scheduler, run by workers between batches: a due campaign is launched once
however many workers tick at the same moment, an expired one ends, a launch that cannot
happen sends the campaign back to draft with the reason."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from huntaze.campaigns.scheduler import tick
from huntaze.models.messaging import OutboxMessage
from huntaze.outbox.channels import ChannelFactory
from huntaze.outbox.worker import Worker
from tests.campaigns.conftest import campaign_body


def _scheduled(client, headers, clock, minutes: int = 5, **extra: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    start = (clock.now() + timedelta(minutes=minutes)).isoformat()
    body = campaign_body(platforms=["onlyfans"], scheduledFor=start, **extra)
    r = client.post("/api/campaigns", json=body, headers=headers)
    assert r.status_code == 201 and r.json()["status"] == "scheduled", r.text
    return dict(r.json())


def _rows(sessions, campaign_id: str) -> int:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return int(
            s.scalar(select(func.count()).where(OutboxMessage.campaign_id == campaign_id)) or 0
        )


def _scheduling_worker(client, engine, clock, job_seconds: float = 0.25) -> Worker:  # type: ignore[no-untyped-def]
    """A worker of the test's app whose only job is the scheduler, on the test's clock."""
    ctx = client.app.state.ctx
    return Worker(
        ctx.outbox,
        ChannelFactory(engine, ctx.settings, ctx.box),
        worker_id="sched",
        poll_seconds=0,
        jobs=[lambda: tick(engine, clock)],
        job_seconds=job_seconds,
    )


def test_a_due_campaign_is_launched_on_time_and_only_then(  # type: ignore[no-untyped-def]
    client, audience, relay, engine, clock, sessions
) -> None:
    h = audience["headers"]
    camp = _scheduled(client, h, clock)
    assert tick(engine, clock).launched == []  # not due yet
    clock.advance(5 * 60)
    assert tick(engine, clock).launched == [camp["id"]]
    got = client.get(f"/api/campaigns/{camp['id']}", headers=h).json()
    assert got["status"] == "active" and got["launch"]["queued"] == 6
    assert got["startedAt"] == got["scheduledFor"]
    assert tick(engine, clock).launched == []
    assert _rows(sessions, camp["id"]) == 6


def test_workers_ticking_together_launch_a_campaign_once(  # type: ignore[no-untyped-def]
    client, audience, relay, engine, clock, sessions, monkeypatch
) -> None:
    """Four workers tick at once over three due campaigns, a batch of one each: the
    batches split between them and every campaign is launched once."""
    from huntaze.campaigns import scheduler

    monkeypatch.setattr(scheduler, "BATCH", 1)
    h = audience["headers"]
    camps = [_scheduled(client, h, clock, name=f"c{i}") for i in range(3)]
    clock.advance(5 * 60)
    barrier = threading.Barrier(4)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(tick(engine, clock).launched)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    launched = sorted(c for r in results for c in r)
    assert launched == sorted(c["id"] for c in camps)
    for c in camps:
        assert _rows(sessions, c["id"]) == 6


def test_an_expired_campaign_ends_and_its_waiting_messages_are_cancelled(  # type: ignore[no-untyped-def]
    client, audience, relay, engine, clock
) -> None:
    h = audience["headers"]
    end = (clock.now() + timedelta(hours=1)).isoformat()
    body = campaign_body(platforms=["onlyfans"], schedule={"endDate": end})
    camp = client.post("/api/campaigns", json=body, headers=h).json()
    client.post(f"/api/campaigns/{camp['id']}/start", headers=h)
    client.post(f"/api/campaigns/{camp['id']}/pause", headers=h)
    assert tick(engine, clock).ended == []
    clock.advance(3600)
    assert tick(engine, clock).ended == [camp["id"]]
    got = client.get(f"/api/campaigns/{camp['id']}", headers=h).json()
    assert got["status"] == "completed" and got["statusReason"] == "ended"
    assert got["metrics"]["cancelled"] == 6 and got["metrics"]["held"] == 0


def test_a_launch_that_cannot_happen_returns_the_campaign_to_draft(  # type: ignore[no-untyped-def]
    client, audience, relay, engine, clock, sessions
) -> None:
    h = audience["headers"]
    camp = _scheduled(client, h, clock, content={})
    clock.advance(5 * 60)
    done = tick(engine, clock)
    assert done.failed == [camp["id"]] and done.launched == []
    got = client.get(f"/api/campaigns/{camp['id']}", headers=h).json()
    assert got["status"] == "draft" and got["statusReason"] == "launch_failed:missing_content"
    assert _rows(sessions, camp["id"]) == 0


def test_one_failed_launch_in_a_tick_leaves_the_others_launched(  # type: ignore[no-untyped-def]
    client, audience, relay, engine, clock, sessions
) -> None:
    """A tick launches its due campaigns in one transaction: the one that cannot launch is
    rolled back alone."""
    h = audience["headers"]
    good = [_scheduled(client, h, clock, name=f"ok{i}") for i in range(2)]
    bad = _scheduled(client, h, clock, name="no content", content={})
    later = _scheduled(client, h, clock, minutes=6, name="later")
    clock.advance(5 * 60)
    done = tick(engine, clock)
    assert sorted(done.launched) == sorted(c["id"] for c in good)
    assert done.failed == [bad["id"]]
    for c in good:
        assert _rows(sessions, c["id"]) == 6
        assert client.get(f"/api/campaigns/{c['id']}", headers=h).json()["status"] == "active"
    got = client.get(f"/api/campaigns/{bad['id']}", headers=h).json()
    assert got["status"] == "draft" and got["statusReason"] == "launch_failed:missing_content"
    assert got["startedAt"] is None
    assert _rows(sessions, bad["id"]) == 0
    assert client.get(f"/api/campaigns/{later['id']}", headers=h).json()["status"] == "scheduled"


def test_an_unexpected_error_leaves_that_campaign_scheduled_and_the_tick_goes_on(  # type: ignore[no-untyped-def]
    client, audience, relay, engine, clock, sessions, monkeypatch
) -> None:
    """A launch that fails with an error no one named (here injected: a lock timeout, a bug)
    is rolled back to ``scheduled`` and tried again on the next tick; the others launch."""
    from huntaze.campaigns import scheduler
    from huntaze.campaigns.launch import launch as real

    h = audience["headers"]
    good = _scheduled(client, h, clock, name="ok")
    flaky = _scheduled(client, h, clock, name="flaky")
    clock.advance(5 * 60)

    def failing(session, campaign, *args, **kwargs):  # type: ignore[no-untyped-def]
        if campaign.id == flaky["id"]:
            raise RuntimeError("injected")
        return real(session, campaign, *args, **kwargs)

    monkeypatch.setattr(scheduler, "launch", failing)
    done = tick(engine, clock)
    assert done.launched == [good["id"]] and done.failed == []
    got = client.get(f"/api/campaigns/{flaky['id']}", headers=h).json()
    assert got["status"] == "scheduled" and got["startedAt"] is None
    assert _rows(sessions, flaky["id"]) == 0 and _rows(sessions, good["id"]) == 6
    monkeypatch.setattr(scheduler, "launch", real)
    assert tick(engine, clock).launched == [flaky["id"]]
    assert _rows(sessions, flaky["id"]) == 6


def test_a_worker_runs_the_scheduler_between_batches(  # type: ignore[no-untyped-def]
    client, audience, relay, engine, clock
) -> None:
    h = audience["headers"]
    camp = _scheduled(client, h, clock, minutes=1)
    worker = _scheduling_worker(client, engine, clock)
    clock.advance(60)
    worker.run_jobs(force=True)
    for _ in range(20):
        if not worker.run_once():
            break
        clock.advance(60)
    assert len([r for r in relay.requests if r.status == 200]) == 6
    assert client.get(f"/api/campaigns/{camp['id']}", headers=h).json()["metrics"]["sent"] == 6


def test_a_campaign_pauses_itself_at_its_budget(  # type: ignore[no-untyped-def]
    client, audience, relay, engine, clock
) -> None:
    """Six fans at $1.50 a message against a $5 budget: the worker sends, the scheduler
    counts the spend, and once it reaches the budget the rest is held."""
    h = audience["headers"]
    body = campaign_body(platforms=["onlyfans"], budget=5.0, costPerMessageCents=150)
    camp = client.post("/api/campaigns", json=body, headers=h).json()
    assert camp["budgetCents"] == 500 and camp["costPerMessageCents"] == 150
    client.post(f"/api/campaigns/{camp['id']}/start", headers=h)
    ctx = client.app.state.ctx
    worker = Worker(
        ctx.outbox,
        ChannelFactory(engine, ctx.settings, ctx.box),
        worker_id="budget",
        poll_seconds=0,
        batch=1,
        jobs=[lambda: tick(engine, clock)],
    )
    for _ in range(20):
        worker.run_jobs(force=True)
        if not worker.run_once():
            break
        clock.advance(60)
    got = client.get(f"/api/campaigns/{camp['id']}", headers=h).json()
    assert got["status"] == "paused" and got["statusReason"] == "budget_reached"
    assert got["metrics"]["sent"] == 4 and got["metrics"]["held"] == 2
    assert got["spentCents"] == 600 and got["spent"] == 6.0
    assert len([r for r in relay.requests if r.status == 200]) == 4


def test_a_full_batch_makes_the_worker_tick_again_at_once(  # type: ignore[no-untyped-def]
    client, audience, relay, engine, clock, monkeypatch
) -> None:
    """More due campaigns than one tick launches: the worker's next turn ticks again
    without waiting for its job period, and stops doing so once the backlog is gone."""
    from huntaze.campaigns import scheduler

    monkeypatch.setattr(scheduler, "BATCH", 2)
    h = audience["headers"]
    camps = [_scheduled(client, h, clock, name=f"c{i}") for i in range(3)]
    # only a full batch brings the next tick forward
    worker = _scheduling_worker(client, engine, clock, job_seconds=3600)

    def status(camp: dict[str, Any]) -> str:
        return str(client.get(f"/api/campaigns/{camp['id']}", headers=h).json()["status"])

    clock.advance(5 * 60)
    worker.run_jobs(force=True)
    assert [status(c) for c in camps] == ["active", "active", "scheduled"]
    worker.run_jobs()  # the batch was full: no waiting
    assert [status(c) for c in camps] == ["active"] * 3
    late = _scheduled(client, h, clock, minutes=1, name="late")
    clock.advance(60)
    worker.run_jobs()  # that batch was not full: the job period applies again
    assert status(late) == "scheduled"
    worker.run_jobs(force=True)
    assert status(late) == "active"


def test_a_campaign_naming_another_creators_segment_reaches_none_of_its_fans(  # type: ignore[no-untyped-def]
    client, audience, relay, engine, clock, sessions, make_tenant
) -> None:
    """A tick reads every segment its campaigns name in one query: a campaign whose
    ``segment_ids`` were made to name another creator's segment (written past the API, which
    refuses it) fails to launch and queues nothing, and the tick's other campaign
    launches."""
    from sqlalchemy import update

    from huntaze.models.campaigns import Campaign

    h = audience["headers"]
    other = make_tenant()["headers"]
    on_onlyfans = {"field": "platform", "op": "eq", "value": "onlyfans"}
    body = {"name": "on OnlyFans", "type": "dynamic", "criteria": on_onlyfans}
    theirs = client.post("/api/segments", json=body, headers=other)
    assert theirs.status_code == 201, theirs.text
    mine = client.post("/api/segments", json=body, headers=h).json()
    good = _scheduled(client, h, clock, name="good", segmentIds=[mine["id"]])
    bad = _scheduled(client, h, clock, name="bad", segmentIds=[mine["id"]])
    with sessions() as s, s.begin():
        s.execute(
            update(Campaign)
            .where(Campaign.id == bad["id"])
            .values(segment_ids=[mine["id"], theirs.json()["id"]])
        )
    clock.advance(5 * 60)
    done = tick(engine, clock)
    assert done.launched == [good["id"]] and done.failed == [bad["id"]]
    got = client.get(f"/api/campaigns/{bad['id']}", headers=h).json()
    assert got["status"] == "draft" and got["statusReason"] == "launch_failed:invalid_criteria"
    assert _rows(sessions, bad["id"]) == 0 and _rows(sessions, good["id"]) == 6


def test_the_budget_of_every_costed_campaign_is_checked_in_turn(  # type: ignore[no-untyped-def]
    client, audience, relay, engine, clock, monkeypatch
) -> None:
    """More costed campaigns than a tick checks (here one a tick): each tick checks the
    campaign checked longest ago, so the ones under a small budget pause at it even though
    the first one (the oldest, first by id) stays under its large budget and active."""
    from huntaze.campaigns import scheduler

    monkeypatch.setattr(scheduler, "BATCH", 1)
    h = audience["headers"]
    body = campaign_body(platforms=["onlyfans"], budget=3.0, costPerMessageCents=150)
    roomy = {**body, "name": "roomy", "budget": 100.0}
    first = client.post("/api/campaigns", json=roomy, headers=h).json()
    camps = [
        client.post("/api/campaigns", json={**body, "name": f"b{i}"}, headers=h).json()
        for i in range(2)
    ]
    assert all(first["id"] < c["id"] for c in camps)
    for camp in [first, *camps]:
        assert client.post(f"/api/campaigns/{camp['id']}/start", headers=h).status_code == 200
    worker = _scheduling_worker(client, engine, clock)
    worker.batch = 1
    for _ in range(40):
        worker.run_jobs(force=True)
        if not worker.run_once():
            break
        clock.advance(60)
    for camp in camps:
        got = client.get(f"/api/campaigns/{camp['id']}", headers=h).json()
        assert got["status"] == "paused" and got["statusReason"] == "budget_reached", got
        assert 2 <= got["metrics"]["sent"] < 6 and got["metrics"]["held"] > 0
        assert got["spentCents"] == 150 * got["metrics"]["sent"]
    got = client.get(f"/api/campaigns/{first['id']}", headers=h).json()
    assert got["status"] == "active" and got["metrics"]["sent"] == 6
    sent = len([r for r in relay.requests if r.status == 200])
    assert sent == 6 + sum(
        client.get(f"/api/campaigns/{c['id']}", headers=h).json()["metrics"]["sent"] for c in camps
    )


def test_a_clean_tick_takes_no_savepoint_and_a_failed_launch_gets_them(  # type: ignore[no-untyped-def]
    client, audience, relay, engine, clock, sessions, monkeypatch
) -> None:
    """The batch is launched without a savepoint per campaign; only when a launch fails is
    it rolled back and launched again with them. A batch left scheduled by unnamed errors
    does not make the worker tick again at once."""
    from sqlalchemy import event

    from huntaze.campaigns import scheduler
    from huntaze.campaigns.launch import launch as real

    statements: list[str] = []

    def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        h = audience["headers"]
        clean = [_scheduled(client, h, clock, name=f"ok{i}") for i in range(2)]
        clock.advance(5 * 60)
        assert sorted(tick(engine, clock).launched) == sorted(c["id"] for c in clean)
        assert not [s for s in statements if s.upper().startswith("SAVEPOINT")]
        for c in clean:
            assert _rows(sessions, c["id"]) == 6

        monkeypatch.setattr(scheduler, "BATCH", 1)
        flaky = _scheduled(client, h, clock, name="flaky")
        clock.advance(5 * 60)

        def failing(session, campaign, *args, **kwargs):  # type: ignore[no-untyped-def]
            report = real(session, campaign, *args, **kwargs)  # its rows are written
            if campaign.id == flaky["id"]:
                raise RuntimeError("injected")
            return report

        monkeypatch.setattr(scheduler, "launch", failing)
        statements.clear()
        done = tick(engine, clock)
        assert done.launched == [] and done.more is False  # a full batch, but none launched
        assert [s for s in statements if s.upper().startswith("SAVEPOINT")]
        assert _rows(sessions, flaky["id"]) == 0  # rolled back, twice
    finally:
        event.remove(engine, "before_cursor_execute", seen)
