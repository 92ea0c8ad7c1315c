"""The outbox engine: limits, priority, fairness, retries, breaker, leases, estimates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from huntaze.messaging.status import estimate_delivery, get_message
from huntaze.models.messaging import OutboxMessage, SendingAccount
from huntaze.outbox.policy import BreakerPolicy
from huntaze.platforms.base import PermanentError, RetryableError


def _max_in_window(times, seconds):  # type: ignore[no-untyped-def]
    times = sorted(times)
    best = 0
    for i, t in enumerate(times):
        j = i
        while j < len(times) and times[j] < t + timedelta(seconds=seconds):
            j += 1
        best = max(best, j - i)
    return best


def test_rate_limit_holds_in_every_rolling_window(
    tenant, seed, enqueue, make_outbox, make_worker, channel, clock
) -> None:
    world = seed(tenant)
    enqueue(world, 35)
    worker = make_worker(make_outbox('{"onlyfans": "10/minute"}', guard=0))
    for _ in range(40):  # 40 polls, 7.5 s of domain time apart
        worker.run_once()
        clock.advance(7.5)
    times = [t for t, _ in channel.sent]
    assert len(times) == 35
    assert _max_in_window(times, 60) == 10
    # the backlog used the whole allowance: 10 per minute from the first send
    assert times[9] == times[0] and times[10] - times[0] == timedelta(seconds=60)


def test_the_guard_widens_every_window(
    tenant, seed, enqueue, make_outbox, make_worker, channel, clock
) -> None:
    world = seed(tenant)
    enqueue(world, 12)
    worker = make_worker(make_outbox('{"onlyfans": "5/2seconds"}', guard=0.5))
    for _ in range(60):  # every 0.25 s of domain time
        worker.run_once()
        clock.advance(0.25)
    times = [t for t, _ in channel.sent]
    assert len(times) == 12
    # 5 at once, then the next five only once 2.5 s (window plus guard) have passed
    assert _max_in_window(times, 2.5) == 5
    assert times[5] - times[0] == timedelta(seconds=2.5)


def test_several_windows_combine(
    tenant, seed, enqueue, make_outbox, make_worker, channel, clock
) -> None:
    world = seed(tenant)
    enqueue(world, 12)
    worker = make_worker(make_outbox('{"onlyfans": "3/second;5/minute"}'))
    for _ in range(130):
        worker.run_once()
        clock.advance(1)
    times = [t for t, _ in channel.sent]
    assert len(times) == 12
    assert _max_in_window(times, 1) <= 3 and _max_in_window(times, 60) == 5


def test_priority_order_and_low_not_starved(
    tenant, seed, enqueue, make_outbox, make_worker, channel, clock
) -> None:
    world = seed(tenant)
    old_low = enqueue(world, 1, "low")
    clock.advance(5)
    enqueue(world, 2, "low")
    enqueue(world, 2, "medium")
    high = enqueue(world, 2, "high")
    worker = make_worker(make_outbox('{"onlyfans": "3/minute"}', low_priority_max_age=3))
    worker.run_once()
    first = [m.message_id for _, m in channel.sent]
    # the aged low message counts as high and is oldest; then the two highs
    assert first[0] == old_low[0] and set(first[1:]) == set(high)


def test_one_backlog_does_not_delay_another_account(
    make_tenant, seed, enqueue, make_outbox, make_worker, channel
) -> None:
    big, small = make_tenant(), make_tenant()
    w_big = seed(big)
    enqueue(w_big, 60)
    w_small = seed(small)
    (waiting,) = enqueue(w_small, 1)
    worker = make_worker(make_outbox("{}"), batch=10)
    worker.run_once()
    worker.run_once()
    assert waiting in [m.message_id for _, m in channel.sent[:20]]


def test_retries_back_off_then_fail_with_last_error(
    tenant, seed, enqueue, make_outbox, make_worker, channel, clock, sessions
) -> None:
    world = seed(tenant)
    (mid,) = enqueue(world, 1)
    outbox = make_outbox("{}")
    worker = make_worker(outbox)
    channel.script = [
        RetryableError("503 from relay", retry_after=120),
        RetryableError("timeout"),
        RetryableError("503 again"),
    ]
    worker.run_once()
    with sessions() as s:
        msg = get_message(s, tenant["creator_id"], mid)
        assert (msg.status, msg.attempts, msg.last_error) == ("queued", 1, "503 from relay")
        assert msg.not_before >= clock.now() + timedelta(seconds=120)
    assert worker.run_once() == 0  # not due yet
    clock.advance(121)
    worker.run_once()
    clock.advance(outbox.retry.cap_seconds)
    worker.run_once()
    with sessions() as s:
        msg = get_message(s, tenant["creator_id"], mid)
        assert (msg.status, msg.attempts, msg.last_error) == ("failed", 3, "503 again")
    assert channel.sent == []


def test_permanent_error_fails_at_once(
    tenant, seed, enqueue, make_outbox, make_worker, channel, sessions
) -> None:
    world = seed(tenant)
    (mid,) = enqueue(world, 1)
    channel.script = [PermanentError("recipient not found")]
    make_worker(make_outbox("{}")).run_once()
    with sessions() as s:
        msg = get_message(s, tenant["creator_id"], mid)
    assert (msg.status, msg.attempts, msg.last_error) == ("failed", 1, "recipient not found")


def test_breaker_opens_holds_rows_and_probes(
    tenant, seed, enqueue, make_outbox, make_worker, channel, clock, sessions
) -> None:
    world = seed(tenant)
    enqueue(world, 5)
    outbox = make_outbox("{}", breaker=BreakerPolicy(failure_threshold=2, cooldown_seconds=30))
    worker = make_worker(outbox, batch=2)
    channel.script = [RetryableError("down"), RetryableError("down")]
    worker.run_once()
    acc_id = world["account"].id
    with sessions() as s:
        acc = s.get(SendingAccount, acc_id)
        assert (acc.breaker_state, acc.breaker_failures) == ("open", 2)
    clock.advance(outbox.retry.cap_seconds)  # retries are due, but the breaker holds them
    clock.set(acc.breaker_opened_at + timedelta(seconds=10))
    assert worker.run_once() == 0
    clock.advance(25)  # past the cooldown: one probe
    assert worker.run_once() == 1
    with sessions() as s:
        assert s.get(SendingAccount, acc_id).breaker_state == "closed"
    clock.advance(600)
    while worker.run_once():
        pass
    assert len(channel.sent) == 5


def test_expired_lease_comes_back_and_the_old_worker_cannot_complete(
    tenant, seed, enqueue, make_outbox, make_worker, channel, clock, sessions
) -> None:
    world = seed(tenant)
    (mid,) = enqueue(world, 1)
    outbox = make_outbox("{}", lease_seconds=30)
    crashed = outbox.claim("crashed-worker")
    assert [c.message.message_id for c in crashed] == [mid]
    assert outbox.claim("other") == []  # leased
    clock.advance(31)
    make_worker(outbox, name="other").run_once()
    from huntaze.platforms.base import SendResult

    assert outbox.outcomes.mark_sent("crashed-worker", [(crashed[0], SendResult("late"))]) == 0
    with sessions() as s:
        msg = get_message(s, tenant["creator_id"], mid)
    assert (msg.status, msg.external_id, msg.attempts) == ("sent", "ext-1", 2)


def test_release_gives_rows_and_capacity_back(
    tenant, seed, enqueue, make_outbox, clock, sessions
) -> None:
    world = seed(tenant)
    enqueue(world, 3)
    outbox = make_outbox('{"onlyfans": "3/minute"}')
    claimed = outbox.claim("w")
    assert len(claimed) == 3 and outbox.claim("w2") == []
    assert outbox.outcomes.release("w", claimed) == 3
    assert len(outbox.claim("w2")) == 3


def test_estimate_is_honest_for_a_deep_backlog(
    tenant, seed, enqueue, make_outbox, clock, sessions
) -> None:
    world = seed(tenant)
    ids = enqueue(world, 100)
    outbox = make_outbox('{"onlyfans": "10/minute"}')
    with sessions() as s:
        first = estimate_delivery(
            s, outbox, get_message(s, tenant["creator_id"], ids[0]), clock.now()
        )
        last = estimate_delivery(
            s, outbox, get_message(s, tenant["creator_id"], ids[-1]), clock.now()
        )
    # 9 full windows ahead, each counted with the outbox's 0.5 s guard, as the claim counts it
    cycle = timedelta(minutes=1, seconds=0.5)
    assert first == clock.now()
    assert last == clock.now() + 9 * cycle
    outbox.claim("w")  # 10 start now: the 100th now waits behind 89, and the claimed slots
    with sessions() as s:
        last = estimate_delivery(
            s, outbox, get_message(s, tenant["creator_id"], ids[-1]), clock.now()
        )
    assert last == clock.now() + 9 * cycle
    with sessions() as s:
        rows = s.scalars(
            select(OutboxMessage.status).where(OutboxMessage.creator_id == tenant["creator_id"])
        ).all()
    assert rows.count("processing") == 10


def test_housekeeping_prunes_old_attempts_and_keys(
    tenant, seed, enqueue, make_outbox, make_worker, clock, engine
) -> None:
    from huntaze.idempotency import service as idempotency
    from huntaze.models.messaging import IdempotencyKey, SendAttempt

    world = seed(tenant)
    enqueue(world, 2)
    outbox = make_outbox("{}")
    worker = make_worker(outbox)
    worker.run_once()
    idempotency.begin(engine, tenant["creator_id"], "old-key", "h", clock.now())
    clock.advance(86_401)
    worker.housekeeping()
    with engine.connect() as conn:
        attempts = conn.scalars(
            select(SendAttempt.id).where(SendAttempt.account_id == world["account"].id)
        ).all()
        keys = conn.scalars(
            select(IdempotencyKey.key).where(IdempotencyKey.creator_id == tenant["creator_id"])
        ).all()
    assert attempts == [] and keys == []


def test_a_claim_locks_only_the_accounts_it_takes_from(
    make_tenant, seed, enqueue, make_outbox, engine
) -> None:
    """While one worker claims a batch that one account fills, a second worker can still lock
    (and so claim from) the other due accounts; on SQLite the claim is the only writer."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises claims with BEGIN IMMEDIATE")
    worlds = [seed(make_tenant()) for _ in range(3)]
    for world in worlds:
        enqueue(world, 5)
    ids = [w["account"].id for w in worlds]
    free_during_claim: list[list[str]] = []

    def peek(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if "INSERT INTO send_attempts" not in statement or free_during_claim:
            return
        with engine.connect() as other, other.begin():
            free_during_claim.append(
                list(
                    other.scalars(
                        select(SendingAccount.id)
                        .where(SendingAccount.id.in_(ids))
                        .with_for_update(skip_locked=True)
                    )
                )
            )

    event.listen(engine, "after_cursor_execute", peek)
    try:
        claimed = make_outbox("{}").claim("w1", max_messages=5, per_account=5)
    finally:
        event.remove(engine, "after_cursor_execute", peek)
    (taken,) = {c.account_id for c in claimed}
    assert len(claimed) == 5
    assert sorted(free_during_claim[0]) == sorted(set(ids) - {taken})


def test_a_probe_that_settles_nothing_is_tried_again_after_its_lease(
    tenant, seed, enqueue, make_outbox, make_worker, channel, clock, sessions
) -> None:
    """A half-open probe that fails permanently (or is released, or dies with its worker)
    neither closes nor reopens the breaker; once its lease has run out another probe goes."""
    world = seed(tenant)
    enqueue(world, 3)
    outbox = make_outbox(
        "{}", lease_seconds=40, breaker=BreakerPolicy(failure_threshold=1, cooldown_seconds=30)
    )
    worker = make_worker(outbox, batch=1)
    channel.script = [RetryableError("down"), PermanentError("unknown recipient")]
    worker.run_once()  # opens the breaker
    clock.advance(30)
    assert worker.run_once() == 1  # the probe: a permanent error settles nothing
    acc_id = world["account"].id
    with sessions() as s:
        assert s.get(SendingAccount, acc_id).breaker_state == "half_open"
    clock.advance(39)
    assert worker.run_once() == 0  # the probe's lease has not run out
    clock.advance(1)
    assert worker.run_once() == 1  # a new probe, which succeeds and closes the breaker
    with sessions() as s:
        assert s.get(SendingAccount, acc_id).breaker_state == "closed"
    assert len(channel.sent) == 1


def test_a_claim_checks_the_account_again_once_locked(
    make_tenant, seed, enqueue, make_outbox, engine
) -> None:
    """An account paused by another worker between the claim's first read and its lock is
    not claimed (PostgreSQL; SQLite's claim is a single writer from its first read)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's BEGIN IMMEDIATE makes the claim's reads and writes one unit")
    world = seed(make_tenant())
    enqueue(world, 3)
    account_id = world["account"].id

    def pause(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if "FOR NO KEY UPDATE SKIP LOCKED" in statement:
            with engine.begin() as other:
                other.execute(
                    update(SendingAccount)
                    .where(SendingAccount.id == account_id)
                    .values(status="reconnect_required")
                )

    event.listen(engine, "before_cursor_execute", pause)
    try:
        claimed = make_outbox("{}").claim("w1")
    finally:
        event.remove(engine, "before_cursor_execute", pause)
    assert claimed == []
