"""Dynamic segments follow their fans on a period: the deployment's worker refreshes each
one once it is due, announces who entered or left, refreshes it once however many workers
tick, and leaves static segments frozen."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select, update

from huntaze.cli.server import make_worker
from huntaze.models.crm import Fan
from huntaze.models.events import Event
from huntaze.segments.refresher import refresh_due

BIG = {"field": "lifetimeValueCents", "op": "gte", "value": 7500}


def _count(client: Any, h: dict[str, str], seg_id: str) -> int:
    """The members the segment's last refresh stored (its member list is evaluated live)."""
    r = client.get(f"/api/segments/{seg_id}", headers=h)
    assert r.status_code == 200, r.text
    return int(r.json()["memberCount"])


def _removed(sessions: Any, creator_id: str) -> list[str]:
    with sessions() as s:
        return list(
            s.scalars(
                select(Event.subject_id).where(
                    Event.creator_id == creator_id, Event.type == "segment.member_removed"
                )
            )
        )


def test_a_dynamic_segment_is_refreshed_once_due(  # type: ignore[no-untyped-def]
    client,
    audience,
    engine,
    clock,
    sessions,
) -> None:
    h = audience["headers"]
    dynamic = client.post("/api/segments", json={"name": "Big", "criteria": BIG}, headers=h).json()
    frozen = client.post(
        "/api/segments", json={"name": "Big then", "criteria": BIG, "type": "static"}, headers=h
    ).json()
    assert _count(client, h, dynamic["id"]) == 3  # fansly, nudge, whale
    with sessions() as s, s.begin():  # the whale stops being big
        s.execute(
            update(Fan).where(Fan.id == audience["ids"]["whale"]).values(lifetime_value_cents=0)
        )
    ctx = client.app.state.ctx
    worker = make_worker(engine, ctx.metrics, ctx.settings, "w", 200, 0, clock=clock)
    clock.advance(ctx.settings.segment_refresh_seconds - 60)
    worker.run_jobs(force=True)  # not due yet
    assert _count(client, h, dynamic["id"]) == 3
    assert _removed(sessions, audience["creator_id"]) == []
    clock.advance(120)
    worker.run_jobs(force=True)
    assert _count(client, h, dynamic["id"]) == 2
    assert _removed(sessions, audience["creator_id"]) == [audience["ids"]["whale"]]
    assert _count(client, h, frozen["id"]) == 3
    worker.run_jobs(force=True)  # refreshed a moment ago: nothing more
    assert _removed(sessions, audience["creator_id"]) == [audience["ids"]["whale"]]


def test_workers_ticking_together_refresh_a_segment_once(  # type: ignore[no-untyped-def]
    client,
    audience,
    engine,
    clock,
    sessions,
) -> None:
    h = audience["headers"]
    seg = client.post("/api/segments", json={"name": "Big", "criteria": BIG}, headers=h).json()
    with sessions() as s, s.begin():
        s.execute(
            update(Fan).where(Fan.id == audience["ids"]["whale"]).values(lifetime_value_cents=0)
        )
    clock.advance(7200)
    barrier = threading.Barrier(4)
    refreshed: list[str] = []

    def worker() -> None:
        barrier.wait()
        refreshed.extend(refresh_due(engine, clock, 3600))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert refreshed == [seg["id"]]
    assert _removed(sessions, audience["creator_id"]) == [audience["ids"]["whale"]]
