"""Nothing a relay answers, and nothing one message holds, stops a worker or loses an outcome.

Each test drives the real worker, outbox and channels: relays are loopback HTTP servers that
answer what a broken or hostile relay would.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from huntaze.models.messaging import OutboxMessage, SendAttempt
from huntaze.outbox.channels import ChannelFactory
from huntaze.outbox.service import EXHAUSTED
from huntaze.outbox.worker import Worker
from huntaze.platforms.base import RetryableError
from huntaze.platforms.onlyfans.fake import FakeRelay
from tests.netfakes import Answer, ScriptedRelay


def _rows(engine: Any, ids: list[str]) -> dict[str, Any]:
    with engine.connect() as conn:
        return {
            r.id: r for r in conn.execute(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))
        }


@pytest.fixture
def relay_world(tenant, sessions, clock, box, engine) -> Any:  # type: ignore[no-untyped-def]
    """An OnlyFans relay account for ``url`` and its fans; queue with ``enqueue``."""
    from huntaze.messaging.accounts import create_account
    from huntaze.models.crm import Fan
    from tests.factories import fan_values

    def make(url: str, fans: int = 3, **account: Any) -> dict[str, Any]:
        with sessions() as s:
            acc = create_account(
                s,
                tenant["creator_id"],
                box,
                clock.now(),
                platform="onlyfans",
                name="relay",
                channel="onlyfans_relay",
                settings={"relayUrl": url},
                secret="relay-secret",
                **account,
            )
            rows = [
                Fan(**fan_values(tenant["creator_id"], str(7000 + i), clock.now()))
                for i in range(fans)
            ]
            s.add_all(rows)
            s.commit()
            return {"account": acc, "fans": rows}

    return make


def _worker(make_outbox: Any, settings: Any, engine: Any, box: Any, **kw: Any) -> Worker:
    return Worker(
        make_outbox("{}"),
        ChannelFactory(engine, settings, box),
        worker_id="w",
        poll_seconds=0,
        **kw,
    )


def test_a_retry_after_of_thirty_thousand_years_waits_the_capped_hour(
    relay_world, enqueue, make_outbox, settings, engine, box, clock
) -> None:
    with FakeRelay("relay-secret") as relay:
        world = relay_world(relay.url)
        first, second = enqueue(world, 1, fan=0) + enqueue(world, 1, fan=1)
        relay.rate_limit_next(1, retry_after="999999999999")
        worker = _worker(make_outbox, settings, engine, box)
        assert worker.run_once() == 2  # the worker went on to the next message
        rows = _rows(engine, [first, second])
    assert rows[first].status == "queued"
    assert rows[first].not_before == clock.now() + timedelta(hours=1)
    assert "429" in rows[first].last_error
    assert rows[second].status == "sent"


def test_an_exception_in_a_turn_never_ends_the_worker(
    tenant, seed, enqueue, make_outbox, make_worker, channel
) -> None:
    """A turn that raises (here the first claim) is logged; the loop goes on and sends."""
    ids = enqueue(seed(tenant), 2)
    worker = make_worker(make_outbox("{}"))
    real_claim = worker.outbox.claim
    calls = {"n": 0}

    def claim_once_broken(*args: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OverflowError("date value out of range")
        return real_claim(*args, **kw)

    worker.outbox.claim = claim_once_broken  # type: ignore[method-assign]
    worker.stopping.wait = lambda *_a, **_k: False  # type: ignore[method-assign]
    worker.run(max_idle_polls=2)
    assert sorted(m.message_id for _, m in channel.sent) == sorted(ids)
    assert worker.last_progress is not None


def _long_ids_for_recipients_ending_in_1(request: dict[str, Any]) -> Answer:
    """A relay that accepts everything and answers an ``externalId`` of 300 characters for
    recipients ending in 1, a short one otherwise."""
    recipient = str(request["payload"].get("recipientId"))
    ext = "x" * 300 if recipient.endswith("1") else f"of-{recipient}"
    data = json.dumps({"externalId": ext}).encode()
    return 200, {"Content-Type": "application/json"}, data


def test_an_over_long_external_id_loses_no_outcome(
    relay_world, enqueue, make_outbox, settings, engine, box
) -> None:
    with ScriptedRelay(_long_ids_for_recipients_ending_in_1) as relay:
        world = relay_world(relay.url)
        ids = [enqueue(world, 1, fan=i)[0] for i in range(3)]
        worker = _worker(make_outbox, settings, engine, box)
        assert worker.run_once() == 3
        assert worker.run_once() == 0  # nothing is left to send again
        rows = _rows(engine, ids)
    assert [rows[i].status for i in ids] == ["sent"] * 3
    assert len(relay.requests) == 3  # each was sent once
    external = {rows[i].recipient: rows[i].external_id for i in ids}
    assert external["7001"] is None  # not stored, the message still counts as sent
    assert external["7000"] == "of-7000" and external["7002"] == "of-7002"


def test_a_row_whose_lease_ran_out_after_its_last_attempt_fails_with_its_reason(
    tenant, seed, enqueue, make_outbox, clock, engine
) -> None:
    [message_id] = enqueue(seed(tenant), 1)
    outbox = make_outbox("{}", lease_seconds=10)
    for attempt in range(1, 4):  # a worker takes it and dies, three times
        [item] = outbox.claim(f"w{attempt}")
        assert item.attempts == attempt
        clock.advance(11)
    assert outbox.claim("w4") == []
    row = _rows(engine, [message_id])[message_id]
    assert row.status == "failed" and row.attempts == 3
    assert row.last_error == EXHAUSTED


def test_once_the_breaker_opens_the_rest_of_the_batch_is_given_back_unspent(
    tenant, seed, enqueue, make_outbox, make_worker, channel, engine
) -> None:
    ids = enqueue(seed(tenant), 20)
    channel.script = [RetryableError("relay answered HTTP 503")] * 20
    worker = make_worker(make_outbox("{}"))
    assert worker.run_once() == 5  # the threshold: five transient failures open it
    rows = _rows(engine, ids)
    failed_once = [i for i in ids if rows[i].attempts == 1]
    untouched = [i for i in ids if rows[i].attempts == 0]
    assert len(failed_once) == 5 and len(untouched) == 15
    assert all(rows[i].status == "queued" and rows[i].claimed_until is None for i in untouched)
    assert len(channel.script) == 15  # the relay was asked five times, not twenty
    with engine.connect() as conn:
        attempts = conn.scalar(
            select(SendAttempt.id).where(SendAttempt.message_id.in_(untouched)).limit(1)
        )
    assert attempts is None  # their rate capacity was given back too


def test_a_paused_account_gives_back_the_rest_of_the_batch(
    tenant, seed, enqueue, make_outbox, make_worker, channel, engine
) -> None:
    from huntaze.platforms.base import ReconnectRequired

    ids = enqueue(seed(tenant), 6)
    channel.script = [ReconnectRequired("relay answered HTTP 403")]
    assert make_worker(make_outbox("{}")).run_once() == 1
    rows = _rows(engine, ids)
    assert all(rows[i].status == "queued" and rows[i].attempts == 0 for i in ids)
    assert len(channel.sent) == 0


def test_a_late_send_is_restamped_before_it_starts(
    tenant, seed, enqueue, make_outbox, make_worker, channel, clock, engine
) -> None:
    """Sends of one batch go one after another: a send that starts after its claim is
    counted from when it started, so the next claim cannot find its slot free too early."""
    ids = enqueue(seed(tenant), 3)
    outbox = make_outbox('{"onlyfans": "3/10seconds"}', guard=0)
    claimed_at = clock.now()
    original = channel.send

    def slow_send(message: Any) -> Any:
        result = original(message)
        clock.advance(4)  # each send takes four seconds of domain time
        return result

    channel.send = slow_send  # type: ignore[method-assign]
    assert make_worker(outbox).run_once() == 3
    with engine.connect() as conn:
        starts = sorted(
            conn.scalars(select(SendAttempt.started_at).where(SendAttempt.message_id.in_(ids)))
        )
    assert starts == [claimed_at + timedelta(seconds=s) for s in (0, 4, 8)]
    assert [t for t, _ in channel.sent] == starts  # each stamp is the send's real start


def test_a_send_too_late_for_the_limit_goes_back_to_the_queue(
    tenant, seed, enqueue, make_outbox, make_worker, channel, clock, engine
) -> None:
    """Another worker used the slot this send's stale stamp seemed to leave: it is given
    back, unspent, instead of sent over the limit."""
    world = seed(tenant)
    ids = enqueue(world, 2)
    outbox = make_outbox('{"onlyfans": "2/10seconds"}', guard=0)
    mine = outbox.claim("w1")
    assert len(mine) == 2
    clock.advance(11)  # w1 stalls past the window; its attempts look aged out
    later = enqueue(world, 2)
    other = outbox.claim("w2", max_messages=2)
    assert {c.message.message_id for c in other} == set(later)
    restamped = [outbox.restamp("w1", item) for item in mine]
    assert restamped == [None, None]
    rows = _rows(engine, ids)
    assert all(rows[i].status == "queued" and rows[i].attempts == 0 for i in ids)


def test_the_claim_stamps_attempts_once_it_holds_the_lock(
    tenant, seed, enqueue, make_outbox, clock, engine
) -> None:
    """A claim that waited for SQLite's write lock stamps the time it got it."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL claims skip locked accounts instead of waiting")
    ids = enqueue(seed(tenant), 1)
    outbox = make_outbox("{}")
    blocker = engine.connect().execution_options(sqlite_begin="IMMEDIATE")
    held = blocker.begin()  # another writer holds the lock
    result: list[Any] = []
    claimer = threading.Thread(target=lambda: result.extend(outbox.claim("w")))
    claimer.start()
    claimer.join(0.5)
    assert claimer.is_alive()  # waiting for the lock
    clock.advance(30)
    got_lock_at = clock.now()
    held.rollback()
    blocker.close()
    claimer.join(30)
    assert [c.message.message_id for c in result] == ids
    with engine.connect() as conn:
        started = conn.scalar(
            select(SendAttempt.started_at).where(SendAttempt.message_id == ids[0])
        )
    assert result[0].claimed_at == got_lock_at and started == got_lock_at


@pytest.mark.slow
def test_a_worker_process_outlives_a_poisonous_relay(
    client, tenant, engine, db_url, tmp_path
) -> None:
    """A relay answering ``Retry-After: 999999999999`` used to end `huntaze worker` with
    exit code 1, again after every lease: the process now carries on and sends the rest."""
    from tests.outbox.test_processes import _count, _relay_bulk, _worker

    with FakeRelay("relay-secret") as relay:
        relay.rate_limit_next(1, retry_after="999999999999")
        _relay_bulk(client, engine, tenant, relay.url, 4)
        proc = _worker(db_url, tmp_path, "poisoned", "{}")
        try:
            deadline = time.monotonic() + 60
            while _count(engine, tenant["creator_id"], "sent") < 3:
                assert proc.poll() is None, f"the worker exited with {proc.returncode}"
                assert time.monotonic() < deadline, "the other messages were not sent"
                time.sleep(0.1)
            time.sleep(0.5)  # a few more turns with the poisoned row in the table
            assert proc.poll() is None
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        assert len(relay.messages) == 3
    with engine.connect() as conn:
        waiting = conn.execute(
            select(OutboxMessage.not_before, OutboxMessage.updated_at).where(
                OutboxMessage.creator_id == tenant["creator_id"],
                OutboxMessage.status == "queued",
            )
        ).all()
    assert len(waiting) == 1
    assert waiting[0].not_before - waiting[0].updated_at == timedelta(hours=1)
