"""How the worker records outcomes: one by one for channels whose receiver cannot drop a
repeat (SMTP), in groups for channels that deduplicate (relays), and what a stop does."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from huntaze.models.messaging import OutboxMessage
from huntaze.platforms.base import OutgoingMessage, SendResult
from tests.sending import ScriptedChannel


class PeekingChannel(ScriptedChannel):
    """Records, at each send, how many of the earlier messages the database shows as sent."""

    def __init__(self, clock: Any, engine: Any, ids: list[str], deduplicates: bool) -> None:
        super().__init__(clock)
        self.engine = engine
        self.ids = ids
        self.deduplicates = deduplicates
        self.sent_before: list[int] = []
        self.on_send: Any = None

    def send(self, message: OutgoingMessage) -> SendResult:
        with self.engine.connect() as conn:
            statuses = conn.scalars(
                select(OutboxMessage.status).where(OutboxMessage.id.in_(self.ids))
            ).all()
        self.sent_before.append(sum(s == "sent" for s in statuses))
        if self.on_send is not None:
            self.on_send()
        return super().send(message)


def _statuses(engine: Any, ids: list[str]) -> list[str]:
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                select(OutboxMessage.id, OutboxMessage.status).where(OutboxMessage.id.in_(ids))
            ).all()
        )
    return [rows[i] for i in ids]


def _worker(make_outbox: Any, channel: Any, **kw: Any) -> Any:
    from huntaze.outbox.worker import Worker
    from tests.sending import ScriptedFactory

    return Worker(make_outbox("{}"), ScriptedFactory(channel), worker_id="w", poll_seconds=0, **kw)


def test_a_channel_that_cannot_drop_repeats_has_each_success_recorded_before_the_next_send(
    tenant, seed, enqueue, make_outbox, clock, engine
) -> None:
    ids = enqueue(seed(tenant), 5)
    channel = PeekingChannel(clock, engine, ids, deduplicates=False)
    assert _worker(make_outbox, channel).run_once() == 5
    # so a kill between two sends can repeat at most the message in hand
    assert channel.sent_before == [0, 1, 2, 3, 4]
    assert _statuses(engine, ids) == ["sent"] * 5


def test_a_deduplicating_channel_has_its_successes_recorded_together(
    tenant, seed, enqueue, make_outbox, clock, engine
) -> None:
    ids = enqueue(seed(tenant), 5)
    channel = PeekingChannel(clock, engine, ids, deduplicates=True)
    seen: list[tuple[Any, str]] = []
    worker = _worker(
        make_outbox, channel, observer=lambda item, outcome, _s: seen.append((item, outcome))
    )
    assert worker.run_once() == 5
    assert channel.sent_before == [0, 0, 0, 0, 0]  # nothing written between sends
    assert _statuses(engine, ids) == ["sent"] * 5
    with engine.connect() as conn:
        external = conn.scalars(
            select(OutboxMessage.external_id).where(OutboxMessage.id.in_(ids))
        ).all()
    assert sorted(external) == [f"ext-{i}" for i in range(1, 6)]
    # the observer (metrics) hears of each success once it is recorded
    assert sorted((i.message.message_id, o) for i, o in seen) == sorted((m, "sent") for m in ids)


def test_a_group_is_recorded_once_it_has_waited_group_seconds(
    tenant, seed, enqueue, make_outbox, clock, engine
) -> None:
    ids = enqueue(seed(tenant), 4)
    channel = PeekingChannel(clock, engine, ids, deduplicates=True)
    assert _worker(make_outbox, channel, group_seconds=0.0).run_once() == 4
    assert channel.sent_before == [0, 1, 2, 3]


def test_a_stop_records_what_was_sent_and_releases_the_rest(
    tenant, seed, enqueue, make_outbox, clock, engine
) -> None:
    ids = enqueue(seed(tenant), 5)
    channel = PeekingChannel(clock, engine, ids, deduplicates=True)
    worker = _worker(make_outbox, channel)
    # SIGTERM arrives while the second message is being sent
    channel.on_send = lambda: len(channel.sent_before) == 2 and worker.stop()
    assert worker.run_once() == 2
    sent = [m for _, m in channel.sent]
    assert len(sent) == 2
    rest = [i for i in ids if i not in {m.message_id for m in sent}]
    assert _statuses(engine, [m.message_id for m in sent]) == ["sent", "sent"]
    assert _statuses(engine, rest) == ["queued"] * 3
    with engine.connect() as conn:
        attempts = conn.scalars(
            select(OutboxMessage.attempts).where(OutboxMessage.id.in_(rest))
        ).all()
    assert attempts == [0, 0, 0]  # released rows do not spend an attempt
