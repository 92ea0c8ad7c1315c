"""The campaign tests' fixtures: a database per test (a worker claims every creator's rows,
tests/sending.py), the segment tests' audience, and a relay to send to."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from huntaze.outbox.channels import ChannelFactory
from huntaze.outbox.worker import Worker
from huntaze.platforms.onlyfans.fake import FakeRelay
from tests.segments.conftest import audience  # noqa: F401 (fixture)
from tests.sending import db_url, engine  # noqa: F401 (fixtures)


@pytest.fixture
def relay(client, audience) -> Iterator[FakeRelay]:  # type: ignore[no-untyped-def]  # noqa: F811
    """A fake OnlyFans relay on loopback, and the creator's OnlyFans account sending to it."""
    with FakeRelay("relay-secret") as fake:
        body = {
            "platform": "onlyfans",
            "name": "of",
            "settings": {"relayUrl": fake.url},
            "secret": "relay-secret",
        }
        r = client.post("/api/messaging/accounts", json=body, headers=audience["headers"])
        assert r.status_code == 201, r.text
        yield fake


@pytest.fixture
def drain(client, engine, clock) -> Callable[[], int]:  # type: ignore[no-untyped-def]  # noqa: F811
    """Run a worker until nothing is due, advancing the clock a minute a round (OnlyFans
    sends 10 a minute); return the rounds."""

    def run() -> int:
        ctx = client.app.state.ctx
        worker = Worker(
            ctx.outbox, ChannelFactory(engine, ctx.settings, ctx.box), worker_id="t", poll_seconds=0
        )
        rounds = 0
        while worker.run_once():
            clock.advance(60)
            rounds += 1
            assert rounds < 100
        clock.advance(60)
        worker.run_once()
        return rounds

    return run


def campaign_body(**overrides: Any) -> dict[str, Any]:
    """A campaign on OnlyFans and Instagram to every fan, saying hi by username."""
    body: dict[str, Any] = {
        "name": "Hello",
        "type": "engagement",
        "platforms": ["onlyfans", "instagram"],
        "content": {"default": {"text": "Hi {username}"}},
    }
    body.update(overrides)
    return body
