"""A Hypothesis state machine over the outbox: any interleaving of queueing, claims by two
workers, outcomes, lease expiry, release, cancel and redrive keeps the states consistent and
the send limit intact."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select, update

from huntaze.config import Settings
from huntaze.messaging.accounts import create_account
from huntaze.messaging.send import queue_message
from huntaze.messaging.status import retry_message
from huntaze.models.crm import Fan
from huntaze.models.messaging import OutboxMessage, SendAttempt
from huntaze.outbox.service import Claimed, Outbox
from huntaze.platforms.base import SendResult
from tests.factories import fan_values

ALLOWED = {
    "queued": {"queued", "processing", "cancelled"},
    "processing": {"processing", "sent", "queued", "failed"},
    "sent": {"sent"},
    "failed": {"failed", "queued"},
    "cancelled": {"cancelled"},
}
LIMIT, WINDOW = 3, 10.0


def test_outbox_state_machine(engine, sessions, clock, box) -> None:  # type: ignore[no-untyped-def]
    class OutboxMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            with engine.begin() as conn:
                conn.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.status.in_(("queued", "processing")))
                    .values(status="cancelled")
                )
            self.outbox = Outbox(
                engine,
                clock,
                Settings(send_limits=f'{{"onlyfans": "{LIMIT}/{int(WINDOW)}seconds"}}'),
                lease_seconds=5,
                rng=random.Random(1),
            )
            now = clock.now()
            tag = uuid.uuid4().hex[:10]
            with sessions() as s:
                from huntaze.auth.tokens import get_or_create_creator

                creator = get_or_create_creator(s, f"sm{tag}", now)
                self.account = create_account(
                    s, creator.id, box, now, platform="onlyfans", name="a", channel="noop"
                )
                self.fan = Fan(
                    **fan_values(
                        creator.id,
                        "1",
                        now,
                        id=f"fan_sm{tag}",
                        username="u",
                        subscription_status="none",
                    )
                )
                s.add(self.fan)
                s.commit()
                self.creator_id = creator.id
            self.held: dict[str, list[Claimed]] = {"A": [], "B": []}
            self.last: dict[str, str] = {}

        def _statuses(self) -> dict[str, str]:
            with engine.connect() as conn:
                return dict(
                    conn.execute(
                        select(OutboxMessage.id, OutboxMessage.status).where(
                            OutboxMessage.creator_id == self.creator_id
                        )
                    ).all()
                )

        @rule(n=st.integers(1, 3), priority=st.sampled_from(["high", "medium", "low"]))
        def enqueue(self, n: int, priority: str) -> None:
            with sessions() as s:
                account = s.merge(self.account)
                fan = s.merge(self.fan)
                for _ in range(n):
                    queue_message(s, account, fan, "x", clock.now(), priority=priority)
                s.commit()

        @rule(worker=st.sampled_from(["A", "B"]))
        def claim(self, worker: str) -> None:
            got = self.outbox.claim(worker, max_messages=10)
            other = "B" if worker == "A" else "A"
            held_by_other = {c.message.message_id for c in self.held[other]}
            live = (
                clock.now()
                < min((c.claimed_at for c in self.held[other]), default=clock.now())
                + self.outbox.lease
            )
            if live:
                assert not held_by_other & {c.message.message_id for c in got}
            self.held[worker].extend(got)

        @precondition(lambda self: self.held["A"] or self.held["B"])
        @rule(
            worker=st.sampled_from(["A", "B"]),
            outcome=st.sampled_from(["sent", "retry", "failed", "release"]),
        )
        def complete(self, worker: str, outcome: str) -> None:
            if not self.held[worker]:
                return
            item = self.held[worker].pop(0)
            if outcome == "sent":
                self.outbox.outcomes.mark_sent(worker, [(item, SendResult("x"))])
            elif outcome == "retry":
                self.outbox.outcomes.mark_retry(worker, item, "transient", None)
            elif outcome == "failed":
                self.outbox.outcomes.mark_failed(worker, item, "permanent")
            else:
                self.outbox.outcomes.release(worker, [item])

        @rule(seconds=st.sampled_from([1.0, 3.0, 6.0, 11.0]))
        def advance(self, seconds: float) -> None:
            clock.advance(seconds)

        @rule()
        def redrive_one_failed(self) -> None:
            failed = [m for m, st_ in self._statuses().items() if st_ == "failed"]
            if failed:
                with sessions() as s:
                    retry_message(s, self.creator_id, failed[0], clock.now())
                    s.commit()

        @invariant()
        def transitions_are_allowed(self) -> None:
            now = self._statuses()
            for mid, status in now.items():
                before = self.last.get(mid, "queued")
                assert status in ALLOWED[before], (mid, before, status)
            self.last = now

        @invariant()
        def rows_are_consistent(self) -> None:
            with engine.connect() as conn:
                rows = conn.execute(
                    select(
                        OutboxMessage.status, OutboxMessage.claimed_until, OutboxMessage.sent_at
                    ).where(OutboxMessage.creator_id == self.creator_id)
                ).all()
            for status, claimed_until, sent_at in rows:
                assert (status == "processing") == (claimed_until is not None)
                assert (status == "sent") == (sent_at is not None)

        @invariant()
        def limit_holds(self) -> None:
            with engine.connect() as conn:
                starts = sorted(
                    conn.scalars(
                        select(SendAttempt.started_at).where(
                            SendAttempt.account_id == self.account.id
                        )
                    )
                )
            for i, t in enumerate(starts):
                assert len([s for s in starts[i:] if s < t + timedelta(seconds=WINDOW)]) <= LIMIT

    OutboxMachine.TestCase.settings = settings(
        max_examples=15,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    OutboxMachine.TestCase().runTest()
