"""Fixtures shared by the outbox and messaging tests: accounts, fans and a scripted channel
(each folder's conftest imports them)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from huntaze.config import Settings
from huntaze.db.engine import make_engine
from huntaze.kit.crypto import SecretBox
from huntaze.messaging.accounts import create_account
from huntaze.messaging.send import queue_message
from huntaze.models.crm import Fan
from huntaze.outbox.channels import ChannelFactory
from huntaze.outbox.service import Outbox
from huntaze.outbox.worker import Worker
from huntaze.platforms.base import OutgoingMessage, SendResult
from tests.factories import fan_values


class ScriptedChannel:
    """A platform stand-in for engine tests: records sends with the clock's time, and raises
    the exceptions queued in ``script`` (None = succeed)."""

    deduplicates = False

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.sent: list[tuple[datetime, OutgoingMessage]] = []
        self.script: list[Exception | None] = []

    def send(self, message: OutgoingMessage) -> SendResult:
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.sent.append((self.clock.now(), message))
        return SendResult(external_id=f"ext-{len(self.sent)}")

    def close(self) -> None:
        pass


class ScriptedFactory(ChannelFactory):
    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self._channels = {}

    def get(self, account_id: str, version: int = 0) -> Any:
        return self.channel

    def forget(self, account_id: str) -> None:
        pass


@pytest.fixture
def db_url(fresh_db_url: str) -> str:
    """Each outbox and messaging test has a database of its own (tests/conftest.py,
    ``fresh_db_url``): a worker claims the due rows of every creator, so rows another test
    left queued would be claimed, sent and counted too."""
    return fresh_db_url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """This test's own engine, on its own database."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def box(tmp_path) -> SecretBox:  # type: ignore[no-untyped-def]
    from cryptography.fernet import Fernet

    return SecretBox([Fernet.generate_key().decode()])


@pytest.fixture
def channel(clock) -> ScriptedChannel:  # type: ignore[no-untyped-def]
    return ScriptedChannel(clock)


@pytest.fixture
def make_outbox(engine, clock) -> Callable[..., Outbox]:  # type: ignore[no-untyped-def]
    def make(limits: str = '{"onlyfans": "10/minute"}', guard: float = 0.5, **kw: Any) -> Outbox:
        settings = Settings(send_limits=limits, send_limit_guard_seconds=guard)
        return Outbox(engine, clock, settings, rng=random.Random(7), **kw)

    return make


@pytest.fixture
def make_worker(channel) -> Callable[..., Worker]:  # type: ignore[no-untyped-def]
    def make(outbox: Outbox, name: str = "w1", **kw: Any) -> Worker:
        return Worker(outbox, ScriptedFactory(channel), worker_id=name, poll_seconds=0, **kw)

    return make


@pytest.fixture
def seed(sessions, clock, box) -> Callable[..., dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Create an account and ``fans`` fans for a tenant; queue ``n`` messages."""

    def make(
        tenant: dict[str, Any], fans: int = 3, platform: str = "onlyfans", **account: Any
    ) -> dict[str, Any]:
        now = clock.now()
        with sessions() as s:
            acc = create_account(
                s,
                tenant["creator_id"],
                box,
                now,
                platform=platform,
                name=account.pop("name", f"acc{random.random()}"),
                channel="noop",
                **account,
            )
            fan_rows = []
            for i in range(fans):
                fan = Fan(
                    **fan_values(
                        tenant["creator_id"],
                        str(1000 + i),
                        now,
                        id=f"fan_{tenant['handle']}_{i}",
                        platform=platform,
                        username=f"u{i}",
                        display_name=f"Fan {i}",
                        email=f"f{i}@example.com",
                    )
                )
                s.add(fan)
                fan_rows.append(fan)
            s.commit()
            return {"account": acc, "fans": fan_rows}

    return make


@pytest.fixture
def enqueue(sessions, clock) -> Callable[..., list[str]]:  # type: ignore[no-untyped-def]
    def make(world: dict[str, Any], n: int, priority: str = "medium", fan: int = 0) -> list[str]:
        ids = []
        with sessions() as s:
            account = s.merge(world["account"])
            f = s.merge(world["fans"][fan])
            for i in range(n):
                ids.append(
                    queue_message(s, account, f, f"hello {i}", clock.now(), priority=priority).id
                )
            s.commit()
        return ids

    return make
