"""The send-rate limit holds where the platform counts it: at the receiver.

Three `huntaze worker` processes drain one account limited to 5 per 2 seconds while the API
keeps writing (single sends to the same account, each taking the database's write lock on
SQLite) — the contention under which claims used to stamp attempts with a time read before
they held the lock. The receiving fake records when each request arrives; no rolling
2-second window there may hold more than 5, counting every request that reached it
(repeats included: a platform counts those too).

Arrivals are counted on the wall clock, as a platform counts them and as the workers' limiter
keeps them (UTC stamps every process shares), not on the test process's monotonic clock: a
virtual machine paused and resumed has its wall clock stepped forward by the pause while its
monotonic clock is not (seen in CI: 16 s of real time that the monotonic clock missed, so
two windows' sends looked like one).
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from huntaze.api import create_app
from huntaze.kit.clock import SystemClock
from huntaze.outbox.channels import ChannelFactory
from huntaze.outbox.supervisor import SupervisedWorker
from huntaze.outbox.worker import Worker
from huntaze.platforms.email.fake import FakeSmtpServer
from huntaze.platforms.onlyfans.fake import FakeRelay
from tests.outbox.test_processes import _count, _fans, _worker

LIMIT, WINDOW = 5, 2.0
QUEUED_FIRST = 20  # a backlog queued before the workers start
WRITTEN_DURING = 12  # single sends the API writes while the workers drain


class _TimedList(list[Any]):
    """A list that notes :func:`time.time` at every append (the fake SMTP server's
    ``messages``: an append is a message accepted)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[float] = []

    def append(self, item: Any) -> None:
        self.arrivals.append(time.time())
        super().append(item)


def _most_in_a_window(arrivals: list[float], seconds: float) -> int:
    """The most arrivals in any half-open window ``[t, t + seconds)``."""
    times = sorted(arrivals)
    best = 0
    j = 0
    for i, start in enumerate(times):
        j = max(j, i)
        while j < len(times) and times[j] < start + seconds:
            j += 1
        best = max(best, j - i)
    return best


@pytest.fixture
def live_client(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The API on the real clock, as the workers use (the suite's usual client is frozen)."""
    with TestClient(
        create_app(settings, engine, SystemClock()), raise_server_exceptions=False
    ) as c:
        yield c


def _limited_account(
    client: TestClient, tenant: dict[str, Any], platform: str, settings: dict[str, str]
) -> None:
    """A sending account on ``platform`` limited to LIMIT per 2 seconds."""
    body: dict[str, Any] = {
        "platform": platform,
        "name": "limited",
        "settings": settings,
        "sendLimits": f"{LIMIT}/2seconds",
    }
    if platform == "onlyfans":
        body["secret"] = "relay-secret"
    else:
        body["channel"] = "email"
    r = client.post("/api/messaging/accounts", json=body, headers=tenant["headers"])
    assert r.status_code == 201, r.text


def _drain_while_writing(
    client: TestClient,
    engine: Any,
    db_url: str,
    tmp_path: Any,
    tenant: dict[str, Any],
    platform: str,
    fan_platform: str,
    in_process: bool = False,
) -> None:
    """Queue a backlog, start three worker processes (or, with ``in_process``, one worker
    thread inside this process, as ``huntaze serve`` runs it), write more sends through the
    API while they drain, and wait until every message is sent."""
    h = tenant["headers"]
    _fans(engine, tenant["creator_id"], fan_platform, QUEUED_FIRST + WRITTEN_DURING)
    fan_ids = [
        f["id"]
        for f in client.get(
            "/api/crm/fans", params={"platform": fan_platform, "limit": 100}, headers=h
        ).json()["items"]
    ]
    bulk = client.post(
        "/api/messages/bulk",
        json={
            "recipients": {"fanIds": fan_ids[:QUEUED_FIRST]},
            "template": "hey {username}",
            "platform": platform,
            "subject": "hi",
        },
        headers=h,
    ).json()
    assert bulk["queued"] == QUEUED_FIRST, bulk
    errors: list[str] = []

    def write() -> None:
        for fan_id in fan_ids[QUEUED_FIRST:]:
            r = client.post(
                "/api/messages/send",
                json={"platform": platform, "fanId": fan_id, "content": "and you", "subject": "s"},
                headers=h,
            )
            if r.status_code != 200:
                errors.append(r.text)
            time.sleep(0.15)  # a steady trickle across the whole drain

    # a lease long enough that a worker slowed by a busy machine keeps its rows (the crash
    # tests use 2 s to get rows back quickly; here a row taken over would spend its attempts)
    workers = (
        []
        if in_process
        else [
            _worker(db_url, tmp_path, f"w{i}", "{}", HUNTAZE_LEASE_SECONDS="30") for i in range(3)
        ]
    )
    supervised = None
    if in_process:
        ctx = client.app.state.ctx  # type: ignore[attr-defined]
        supervised = SupervisedWorker(
            lambda: Worker(
                ctx.outbox,
                ChannelFactory(engine, ctx.settings, ctx.box),
                worker_id="in-process",
                poll_seconds=0.05,
            )
        ).start()
    writer = threading.Thread(target=write)
    writer.start()
    total = QUEUED_FIRST + WRITTEN_DURING
    try:
        deadline = time.monotonic() + 120
        while _count(engine, tenant["creator_id"], "sent") < total:
            assert time.monotonic() < deadline, _where_they_are(engine, tenant["creator_id"])
            time.sleep(0.2)
    finally:
        writer.join(30)
        if supervised is not None:
            supervised.stop()
        _stop(workers)
    assert not errors, errors


@pytest.mark.slow
@pytest.mark.parametrize(
    "in_process", [False, True], ids=["three worker processes", "the in-process worker"]
)
def test_the_limit_holds_at_the_relay(
    live_client, tenant, engine, db_url, tmp_path, in_process: bool
) -> None:
    """Three `huntaze worker` processes, or ``huntaze serve``'s case: one worker thread that
    shares the process with the API."""
    with FakeRelay("relay-secret") as relay:
        _limited_account(live_client, tenant, "onlyfans", {"relayUrl": relay.url})
        _drain_while_writing(
            live_client, engine, db_url, tmp_path, tenant, "onlyfans", "onlyfans", in_process
        )
        arrivals = [r.received_at for r in relay.requests]
    assert len(relay.messages) == QUEUED_FIRST + WRITTEN_DURING
    assert _most_in_a_window(arrivals, WINDOW) <= LIMIT, _explain(relay, engine)


@pytest.mark.slow
def test_three_workers_keep_the_limit_at_the_smtp_server(
    live_client, tenant, engine, db_url, tmp_path
) -> None:
    with FakeSmtpServer() as smtp:
        received: Callable[[], list[float]] = _timed(smtp)
        _limited_account(
            live_client, tenant, "email", {"smtpUrl": smtp.url, "from": "creator@example.com"}
        )
        _drain_while_writing(live_client, engine, db_url, tmp_path, tenant, "email", "limits")
        arrivals = received()
    assert len(arrivals) >= QUEUED_FIRST + WRITTEN_DURING
    assert _most_in_a_window(arrivals, WINDOW) <= LIMIT


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each worker and wait; one that a loaded machine keeps busy past a minute is
    killed (how fast a worker exits is not what these tests measure)."""
    for w in workers:
        w.terminate()
    for w in workers:
        try:
            w.wait(timeout=60)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait(timeout=30)


def _where_they_are(engine: Any, creator_id: str) -> str:
    """Messages by status with their last errors (for a timeout's report)."""
    from sqlalchemy import func, select

    from huntaze.models.messaging import OutboxMessage

    with engine.connect() as conn:
        rows = conn.execute(
            select(OutboxMessage.status, OutboxMessage.last_error, func.count())
            .where(OutboxMessage.creator_id == creator_id)
            .group_by(OutboxMessage.status, OutboxMessage.last_error)
        ).all()
    return "not all sent in time: " + "; ".join(f"{s} x{n} ({e})" for s, e, n in rows)


def _explain(relay: FakeRelay, engine: Any) -> str:
    """What arrived when, beside the attempts the workers stamped (for a failure's report)."""
    from sqlalchemy import select

    from huntaze.models.messaging import SendAttempt

    first = relay.requests[0].received_at if relay.requests else 0.0
    lines = [
        f"{r.received_at - first:8.3f} {r.status} {r.payload.get('messageId')} dup={r.duplicate}"
        for r in relay.requests
    ]
    with engine.connect() as conn:
        stamps = conn.execute(
            select(SendAttempt.started_at, SendAttempt.message_id).order_by(SendAttempt.started_at)
        ).all()
    lines += [
        f"{t.timestamp() - first:8.3f} attempt {m}" for t, m in stamps if t.timestamp() > first - 5
    ]
    return "\n".join(lines)


def _timed(smtp: FakeSmtpServer) -> Callable[[], list[float]]:
    timed = _TimedList()
    smtp.messages = timed
    return lambda: list(timed.arrivals)


def test_the_window_counter_counts_half_open_windows() -> None:
    assert _most_in_a_window([0.0, 0.5, 1.0, 1.9, 2.0, 2.1], 2.0) == 5  # [0.5, 2.5)
    assert _most_in_a_window([0.0, 1.0, 2.0, 3.0], 2.0) == 2
    assert _most_in_a_window([0.0, 0.1, 0.2, 0.3, 0.4, 0.5], 2.0) == 6
    assert _most_in_a_window([], 2.0) == 0
