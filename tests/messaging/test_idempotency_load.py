"""``Idempotency-Key`` under load (issue 8, D4): 50 sends at once against a real server.

The app runs under uvicorn on loopback, so requests go through anyio's thread pool exactly
as in ``huntaze serve`` (40 threads, each request holding its database session), while an
in-process worker claims and sends from the same engine. Before the fix each keyed request
took a second pooled connection to reserve its key; once the pool was drained by requests
waiting for that second connection, they all waited 30 s and answered 500. A second test
runs every idempotency path on a pool of a single connection.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from huntaze.api import create_app
from huntaze.config import Settings
from huntaze.db.engine import make_engine
from huntaze.kit.clock import FrozenClock
from huntaze.models.crm import Fan
from huntaze.models.messaging import IdempotencyKey, OutboxMessage
from huntaze.outbox.channels import ChannelFactory
from huntaze.outbox.service import outbox_from_settings
from huntaze.outbox.worker import Worker
from tests.factories import fan_values

PARALLEL = 50
SHARED = 10  # requests that share one key; the other 40 have a key each
SEND = "/api/onlyfans/messages/send"
TIMEOUT = 120.0  # a bound on every wait, never an assertion about speed


class LiveServer:
    """``app`` served by uvicorn in a background thread on an ephemeral loopback port."""

    def __init__(self, app: FastAPI) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", backlog=2 * PARALLEL, timeout_keep_alive=30
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + TIMEOUT
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(TIMEOUT)
        self.sock.close()


class Live:
    """The server's URL, and an in-process worker sending from the same engine once started."""

    def __init__(self, url: str, worker: Worker) -> None:
        self.url = url
        self.worker = worker
        self.runner = threading.Thread(target=worker.run, name="load-test-worker", daemon=True)

    def start_worker(self) -> None:
        # after seeding: the fixtures' plain sessions read before they write, which SQLite
        # refuses at once (SQLITE_BUSY_SNAPSHOT) when a worker committed in between
        self.runner.start()


@pytest.fixture
def live(settings: Settings, engine: Engine, clock: FrozenClock) -> Iterator[Live]:
    app = create_app(settings, engine, clock)
    worker = Worker(
        outbox_from_settings(engine, clock, settings),
        ChannelFactory(engine, settings, app.state.ctx.box),
        worker_id="load-test",
        poll_seconds=0.05,
    )
    with LiveServer(app) as server:
        live = Live(server.url, worker)
        try:
            yield live
        finally:
            worker.stop()
            if live.runner.is_alive():
                live.runner.join(TIMEOUT)


def _fire(url: str, calls: list[tuple[dict[str, str], dict[str, Any]]]) -> list[httpx.Response]:
    """Send every call at once: each thread has its own client and waits at a barrier."""
    barrier = threading.Barrier(len(calls), timeout=TIMEOUT)

    def one(call: tuple[dict[str, str], dict[str, Any]]) -> httpx.Response:
        headers, body = call
        with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
            barrier.wait()
            return http.post(SEND, json=body, headers=headers)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(one, calls))


def _seed(
    url: str, tenant: dict[str, Any], sessions: sessionmaker[Session], clock: FrozenClock
) -> None:
    r = httpx.post(
        f"{url}/api/messaging/accounts",
        json={"platform": "onlyfans", "name": "load", "channel": "noop"},
        headers=tenant["headers"],
        timeout=TIMEOUT,
    )
    assert r.status_code == 201, r.text
    with sessions() as s:
        s.execute(
            insert(Fan),
            [
                fan_values(tenant["creator_id"], key, clock.now())
                for key in [*(f"f{i}" for i in range(PARALLEL)), "shared"]
            ],
        )
        s.commit()


def test_parallel_keyed_sends_all_succeed_once(
    live: Live,
    make_tenant: Callable[..., dict[str, Any]],
    sessions: sessionmaker[Session],
    engine: Engine,
    clock: FrozenClock,
) -> None:
    url = live.url
    tenant = make_tenant()
    _seed(url, tenant, sessions, clock)
    live.start_worker()
    h = tenant["headers"]
    distinct = PARALLEL - SHARED
    calls: list[tuple[dict[str, str], dict[str, Any]]] = [
        ({**h, "Idempotency-Key": f"key-{i}"}, {"recipientId": f"f{i}", "content": f"hello {i}"})
        for i in range(distinct)
    ]
    shared_call = ({**h, "Idempotency-Key": "shared"}, {"recipientId": "shared", "content": "one"})
    calls += [shared_call] * SHARED

    responses = _fire(url, calls)

    assert [r.status_code for r in responses if r.status_code >= 500] == []
    first: dict[str, httpx.Response] = {}  # key -> the response of the request that ran
    for (headers, _body), r in zip(calls, responses, strict=True):
        key = headers["Idempotency-Key"]
        if key == "shared" and r.status_code == 409:
            assert r.json()["error"]["code"] == "idempotency_key_in_flight"
            continue
        assert r.status_code == 200, (key, r.text)
        assert r.json()["success"] is True
        if r.headers.get("Idempotent-Replayed") != "true":
            assert key not in first, f"{key} ran twice"
            first[key] = r
    assert sorted(first) == sorted([f"key-{i}" for i in range(distinct)] + ["shared"])
    shared_bodies = [
        r.json()
        for (headers, _b), r in zip(calls, responses, strict=True)
        if headers["Idempotency-Key"] == "shared" and r.status_code == 200
    ]
    assert all(b == first["shared"].json() for b in shared_bodies)

    # exactly one outbox row per key, and it is the one its response names
    with engine.connect() as conn:
        rows = conn.execute(
            select(OutboxMessage.id, OutboxMessage.content).where(
                OutboxMessage.creator_id == tenant["creator_id"]
            )
        ).all()
        keys = conn.execute(
            select(IdempotencyKey.key, IdempotencyKey.status).where(
                IdempotencyKey.creator_id == tenant["creator_id"]
            )
        ).all()
    per_content = Counter(content for _id, content in rows)
    assert per_content == Counter([f"hello {i}" for i in range(distinct)] + ["one"])
    assert {mid for mid, _c in rows} == {r.json()["messageId"] for r in first.values()}
    assert sorted(keys) == sorted((k, "done") for k in first)

    # every completed key answers its stored body again, even 50 at once
    replays = _fire(url, calls)
    for (headers, _body), r in zip(calls, replays, strict=True):
        original = first[headers["Idempotency-Key"]]
        assert r.status_code == 200, r.text
        assert r.headers.get("Idempotent-Replayed") == "true"
        assert r.json() == original.json()
    with engine.connect() as conn:
        count = len(
            conn.scalars(
                select(OutboxMessage.id).where(OutboxMessage.creator_id == tenant["creator_id"])
            ).all()
        )
    assert count == distinct + 1


def test_a_keyed_request_needs_one_pooled_connection(
    settings: Settings,
    db_url: str,
    make_tenant: Callable[..., dict[str, Any]],
    sessions: sessionmaker[Session],
    clock: FrozenClock,
) -> None:
    """Every idempotency path works with a pool of one connection: the key is reserved,
    stored, replayed and refused on the request's own connection, never on a second one."""
    tenant = make_tenant()
    h = tenant["headers"]
    one = make_engine(db_url, pool_size=1, max_overflow=0, pool_timeout=5)
    try:
        with TestClient(create_app(settings, one, clock), raise_server_exceptions=False) as c:
            r = c.post(
                "/api/messaging/accounts",
                json={"platform": "onlyfans", "name": "one", "channel": "noop"},
                headers=h,
            )
            assert r.status_code == 201, r.text
            with sessions() as s:
                s.execute(insert(Fan), [fan_values(tenant["creator_id"], "solo", clock.now())])
                s.commit()
            body = {"recipientId": "solo", "content": "just once"}
            keyed = {**h, "Idempotency-Key": "one-connection"}
            first = c.post(SEND, json=body, headers=keyed)
            assert first.status_code == 200, first.text
            again = c.post(SEND, json=body, headers=keyed)
            assert again.status_code == 200 and again.json() == first.json()
            assert again.headers.get("Idempotent-Replayed") == "true"
            other = c.post(SEND, json={**body, "content": "twice"}, headers=keyed)
            assert other.status_code == 422, other.text
            assert other.json()["error"]["code"] == "idempotency_key_reused"
            missing = {"recipientId": "nobody", "content": "x"}
            lost = {**h, "Idempotency-Key": "one-connection-404"}
            e1 = c.post(SEND, json=missing, headers=lost)
            e2 = c.post(SEND, json=missing, headers=lost)
            assert e1.status_code == e2.status_code == 404 and e1.json() == e2.json()
            assert e2.headers.get("Idempotent-Replayed") == "true"
    finally:
        one.dispose()
