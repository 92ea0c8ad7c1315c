"""The in-process worker of ``huntaze serve``: restarted when it dies, and reported by
``/api/health``, which answers 503 when it is dead."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from huntaze.api import create_app
from huntaze.outbox.supervisor import SupervisedWorker
from huntaze.outbox.worker import Worker
from tests.sending import ScriptedFactory


class _DiesFirst(Worker):
    """A worker whose loop dies at once the first ``deaths`` times it is built."""

    built = 0
    deaths = 1

    def run(self, max_idle_polls: int | None = None) -> None:
        type(self).built += 1
        if type(self).built <= type(self).deaths:
            raise RuntimeError("the loop died")
        super().run(max_idle_polls)


def _wait(condition: Any, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_a_worker_that_dies_is_built_again_and_sends(
    tenant, seed, enqueue, make_outbox, channel
) -> None:
    ids = enqueue(seed(tenant), 3)
    _DiesFirst.built = 0
    supervised = SupervisedWorker(
        lambda: _DiesFirst(
            make_outbox("{}"), ScriptedFactory(channel), worker_id="w", poll_seconds=0.01
        ),
        first_pause=0.01,
    ).start()
    try:
        _wait(lambda: len(channel.sent) == 3)
        health = supervised.health()
    finally:
        supervised.stop()
    assert sorted(m.message_id for _, m in channel.sent) == sorted(ids)
    assert health.restarts == 1 and health.last_error == "RuntimeError"
    assert health.state == "running" and health.healthy
    assert health.last_heartbeat is not None and health.last_progress is not None
    assert supervised.health().state == "stopped"


def test_health_answers_503_once_the_worker_is_dead(
    settings, engine, clock, make_outbox, channel
) -> None:
    app = create_app(settings, engine, clock)
    _DiesFirst.built = 0
    supervised = SupervisedWorker(
        lambda: _DiesFirst(make_outbox("{}"), ScriptedFactory(channel), worker_id="w"),
        restart=False,
    )
    app.state.ctx.worker = supervised.start()
    with TestClient(app, raise_server_exceptions=False) as client:
        _wait(lambda: supervised.health().state == "dead")
        r = client.get("/api/health")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "unhealthy" and body["database"] == "ok"
    assert body["worker"]["state"] == "dead" and body["worker"]["lastError"] == "RuntimeError"


def test_health_reports_a_live_worker(settings, engine, clock, make_outbox, channel) -> None:
    app = create_app(settings, engine, clock)
    supervised = SupervisedWorker(
        lambda: Worker(
            make_outbox("{}"), ScriptedFactory(channel), worker_id="w", poll_seconds=0.01
        )
    )
    app.state.ctx.worker = supervised.start()
    try:
        _wait(lambda: supervised.health().last_heartbeat is not None)
        with TestClient(app, raise_server_exceptions=False) as client:
            r = client.get("/api/health")
    finally:
        supervised.stop()
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["worker"]["state"] == "running"
    assert r.json()["worker"]["lastHeartbeat"] == clock.now().isoformat().replace("+00:00", "Z")
