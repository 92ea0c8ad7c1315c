"""Real worker processes: kill -9 during a send, and several workers under one limit.

These run `huntaze worker` as separate processes against the test database (SQLite or
PostgreSQL) and the platforms' fakes on loopback.
"""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from huntaze.models.crm import Fan
from huntaze.models.messaging import OutboxMessage, SendAttempt
from huntaze.platforms.email.fake import FakeSmtpServer
from huntaze.platforms.onlyfans.fake import FakeRelay
from tests.factories import fan_values

MAX_KILLS = 6


def _worker(
    db_url: str, tmp_path: Path, name: str, limits: str, **extra: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HUNTAZE_DATABASE_URL": db_url,
        "HUNTAZE_SECRET_KEY_FILE": str(tmp_path / "key"),
        "HUNTAZE_SEND_LIMITS": limits,
        "HUNTAZE_LEASE_SECONDS": "2",
        "HUNTAZE_LOG_LEVEL": "WARNING",
        "HUNTAZE_ALLOW_PRIVATE_URLS": "true",  # the fakes listen on loopback
        **extra,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "huntaze",
            "worker",
            "--id",
            name,
            "--poll",
            "0.05",
            "--batch",
            "50",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _fans(engine, creator_id: str, platform: str, n: int) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    rows = [
        fan_values(
            creator_id,
            str(500_000 + i),
            now,
            platform=platform,
            display_name=f"Zoë {i}",
            email=f"fan{i}@example.com",
        )
        for i in range(n)
    ]
    with engine.begin() as conn:
        conn.execute(insert(Fan), rows)


def _count(engine, creator_id: str, status: str) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.creator_id == creator_id, OutboxMessage.status == status)
            )
            or 0
        )


def _relay_bulk(client, engine, tenant, relay_url: str, n: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Add an OnlyFans account on ``relay_url`` and bulk-queue one message to each of n fans."""
    h = tenant["headers"]
    client.post(
        "/api/messaging/accounts",
        json={
            "platform": "onlyfans",
            "name": "of",
            "settings": {"relayUrl": relay_url},
            "secret": "relay-secret",
        },
        headers=h,
    )
    _fans(engine, tenant["creator_id"], "onlyfans", n)
    bulk = client.post(
        "/api/messages/bulk",
        json={
            "recipients": {"filter": {"platform": "onlyfans"}},
            "template": "hey {username}",
            "platform": "onlyfans",
        },
        headers=h,
    ).json()
    assert bulk["queued"] == n
    return bulk  # type: ignore[no-any-return]


def _send_with_kills(engine, db_url: str, tmp_path: Path, creator_id: str, n: int) -> int:  # type: ignore[no-untyped-def]
    """Run a worker, kill -9 it again and again while it sends, then let a last one finish;
    return how many kills landed.

    Each kill spends an attempt of every row the killed worker held (an attempt counts from
    its claim), and a row whose attempts are spent fails instead of being claimed again. The
    messages get more attempts than there are kills, so what is checked here is that a kill
    loses nothing, not the attempt budget (test_worker_faults.py checks that)."""
    with engine.begin() as conn:
        conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.creator_id == creator_id)
            .values(max_attempts=MAX_KILLS + 2)
        )
    rng = random.Random(11)
    kills = 0
    deadline = time.monotonic() + 240
    proc = _worker(db_url, tmp_path, "crashy", "{}")
    try:
        while kills < MAX_KILLS and time.monotonic() < deadline:
            time.sleep(rng.uniform(0.4, 1.2))  # let it send for a while (a real process)
            if _count(engine, creator_id, "sent") >= n:
                break
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
            proc = _worker(db_url, tmp_path, f"crashy{kills}", "{}")
        while _count(engine, creator_id, "sent") < n:
            assert time.monotonic() < deadline, "the messages were not all sent in time"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    return kills


@pytest.mark.slow
def test_kill_9_during_a_2000_message_send_loses_nothing(
    client, tenant, engine, db_url, tmp_path
) -> None:
    h = tenant["headers"]
    with FakeSmtpServer() as smtp:
        account = client.post(
            "/api/messaging/accounts",
            json={
                "platform": "email",
                "name": "newsletter",
                "channel": "email",
                "settings": {"smtpUrl": smtp.url, "from": "creator@example.com"},
            },
            headers=h,
        ).json()
        _fans(engine, tenant["creator_id"], "crash", 2000)
        bulk = client.post(
            "/api/messages/bulk",
            json={
                "recipients": {"filter": {"platform": "crash"}},
                "template": "Hi {firstName}!",
                "platform": "email",
                "subject": "News",
            },
            headers=h,
        ).json()
        assert bulk["queued"] == 2000
        kills = _send_with_kills(engine, db_url, tmp_path, tenant["creator_id"], 2000)
        received = [m.headers for m in smtp.messages if m.headers.get("X-Huntaze-Message-Id")]
    assert kills >= 1
    ids = collections.Counter(h["X-Huntaze-Message-Id"] for h in received)
    with engine.connect() as conn:
        expected = set(
            conn.scalars(select(OutboxMessage.id).where(OutboxMessage.bulk_id == bulk["bulkId"]))
        )
    assert set(ids) == expected  # every message arrived
    duplicates = sum(n - 1 for n in ids.values())
    assert duplicates <= kills
    by_id = collections.defaultdict(set)
    for headers in received:
        by_id[headers["X-Huntaze-Message-Id"]].add(headers["Message-ID"])
    assert all(len(keys) == 1 for keys in by_id.values())  # a duplicate carries the same key
    assert account["channel"] == "email"


@pytest.mark.slow
def test_kill_9_on_a_relay_loses_nothing_and_the_relay_drops_every_repeat(
    client, tenant, engine, db_url, tmp_path
) -> None:
    """A relay deduplicates, so workers record its successes in groups: a kill may repeat a
    whole group, and every repeat reaches the relay with the key it already accepted."""
    # 600 messages: a relay send is an HTTP request, and the kills land in the first seconds
    with FakeRelay("relay-secret") as relay:
        bulk = _relay_bulk(client, engine, tenant, relay.url, 600)
        kills = _send_with_kills(engine, db_url, tmp_path, tenant["creator_id"], 600)
        accepted = [r for r in relay.requests if r.status == 200]
    assert kills >= 1
    first = [r for r in accepted if not r.duplicate]
    with engine.connect() as conn:
        expected = dict(
            conn.execute(
                select(OutboxMessage.id, OutboxMessage.idempotency_key).where(
                    OutboxMessage.bulk_id == bulk["bulkId"]
                )
            ).all()
        )
    # each message was delivered once, under its own key; repeats were answered, not sent
    assert sorted(r.payload["messageId"] for r in first) == sorted(expected)
    assert all(r.idempotency_key == expected[r.payload["messageId"]] for r in accepted)


@pytest.mark.slow
def test_three_workers_never_break_the_limit(client, tenant, engine, db_url, tmp_path) -> None:
    with FakeRelay("relay-secret") as relay:
        bulk = _relay_bulk(client, engine, tenant, relay.url, 20)
        # the workers decrypt the relay secret with the app's key file (tmp_path / "key")
        # a lease long enough that a worker slowed by a busy machine keeps its rows
        workers = [
            _worker(
                db_url, tmp_path, f"w{i}", '{"onlyfans": "5/2seconds"}', HUNTAZE_LEASE_SECONDS="30"
            )
            for i in range(3)
        ]
        try:
            deadline = time.monotonic() + 90
            while _count(engine, tenant["creator_id"], "sent") < 20:
                assert time.monotonic() < deadline, "not all sent"
                time.sleep(0.2)
        finally:
            for w in workers:
                w.send_signal(signal.SIGTERM)
            for w in workers:
                w.wait(timeout=30)
        accepted = [r for r in relay.requests if r.status == 200]
    assert len(accepted) == 20 and not any(r.duplicate for r in accepted)
    with engine.connect() as conn:
        account_id = conn.scalar(
            select(OutboxMessage.account_id).where(OutboxMessage.bulk_id == bulk["bulkId"]).limit(1)
        )
        starts = sorted(
            conn.scalars(select(SendAttempt.started_at).where(SendAttempt.account_id == account_id))
        )
    # a worker starved of CPU may time out on the relay and retry: that is a second attempt,
    # which the limit counts like any other, so every attempt is checked against the window
    assert len(starts) >= 20
    for i, t in enumerate(starts):
        in_window = [s for s in starts[i:] if s < t + timedelta(seconds=2)]
        assert len(in_window) <= 5, (t, in_window)
