"""The drain benchmark's shared set-up: fans, sending accounts, a queued outbox, timings,
and child processes (see bench/drain_bench.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

from huntaze.auth.tokens import get_or_create_creator
from huntaze.config import Settings, box_from_settings
from huntaze.db.engine import make_sessionmaker
from huntaze.db.migrate import upgrade
from huntaze.kit.clock import SystemClock
from huntaze.messaging.accounts import create_account
from huntaze.messaging.send import queue_bulk
from huntaze.models.crm import Fan
from huntaze.models.messaging import OutboxMessage, SendAttempt, SendingAccount

ROOT = Path(__file__).resolve().parent
# Messages a worker claims at once. With 10 accounts and the claim's share of 50 per account, a
# 250-message claim locks half the accounts, so two workers claim side by side on PostgreSQL;
# at 500 each claim takes every account and the second worker waits (see bench/notes.md).
BATCH = 250
RUN_TIMEOUT = 300.0  # seconds: a drain still running then is stopped and reported as such
TEMPLATE = "Hi {firstName}, new set from {city}!"


def with_schema(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def conninfo(url: str) -> str:
    """The libpq URI of a SQLAlchemy ``postgresql+psycopg://`` URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


def ts(value: Any) -> float:
    """A timestamp read back from either database as Unix seconds."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return float(value.timestamp())


def _insert_fans(engine: Engine, creator_id: str, n: int) -> None:
    """N fans (platform onlyfans) with a display name and a ``city`` custom field."""
    now = datetime.now(UTC)
    cities = ("Paris", "Lyon", "Berlin", "Austin", "Leeds", "Porto", "Osaka", "Quito")
    if engine.dialect.name == "postgresql":
        stamp = now.isoformat()
        with engine.begin() as conn:
            cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            cols = (
                "id, creator_id, platform, platform_fan_id, username, display_name, email, "
                "subscription_status, lifetime_value_cents, consent, custom_fields, "
                "import_fingerprints, created_at, updated_at"
            )
            with cur.copy(f"COPY fans ({cols}) FROM STDIN") as copy:
                for i in range(n):
                    copy.write_row(
                        (
                            f"fan_{i:012d}",
                            creator_id,
                            "onlyfans",
                            str(1_000_000 + i),
                            f"fan{i}",
                            f"Zoë {i}",
                            f"fan{i}@example.com",
                            "active",
                            0,
                            "unknown",
                            json.dumps({"city": cities[i % len(cities)]}),
                            "{}",
                            stamp,
                            stamp,
                        )
                    )
        return
    chunk = 20_000
    for start in range(0, n, chunk):
        rows = [
            {
                "id": f"fan_{i:012d}",
                "creator_id": creator_id,
                "platform": "onlyfans",
                "platform_fan_id": str(1_000_000 + i),
                "username": f"fan{i}",
                "display_name": f"Zoë {i}",
                "email": f"fan{i}@example.com",
                "subscription_status": "active",
                "lifetime_value_cents": 0,
                "consent": "unknown",
                "custom_fields": {"city": cities[i % len(cities)]},
                "import_fingerprints": {},
                "created_at": now,
                "updated_at": now,
            }
            for i in range(start, min(n, start + chunk))
        ]
        with engine.begin() as conn:
            conn.execute(insert(Fan), rows)


def setup(engine: Engine, n: int, accounts: int, settings: Settings) -> dict[str, Any]:
    upgrade(engine)
    factory = make_sessionmaker(engine)
    now = SystemClock().now()
    with factory() as session:
        creator = get_or_create_creator(session, "drain-bench", now)
        box = box_from_settings(settings)
        ids = []
        for a in range(accounts):
            acc = create_account(
                session,
                creator.id,
                box,
                now,
                platform="onlyfans",
                name=f"noop{a}",
                channel="noop",
            )
            ids.append(acc.id)
        session.commit()
        creator_id = creator.id
    _insert_fans(engine, creator_id, n)
    return {"creator_id": creator_id, "account_ids": ids}


def seed(engine: Engine, ctx: dict[str, Any], n: int) -> float:
    """Empty the outbox and queue N messages again (fans split evenly over the accounts);
    returns the seconds it took (not part of any measurement)."""
    started = time.perf_counter()
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if pg:
            conn.execute(text("TRUNCATE outbox, send_attempts, bulk_sends"))
        else:
            for table in ("send_attempts", "outbox", "bulk_sends"):
                conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(
            SendingAccount.__table__.update().values(  # type: ignore[attr-defined]
                last_served_at=None
            )
        )
    accounts = ctx["account_ids"]
    factory = make_sessionmaker(engine)
    with factory() as session:
        for k, account_id in enumerate(accounts):
            account = session.get(SendingAccount, account_id)
            assert account is not None
            fan_ids = [f"fan_{i:012d}" for i in range(k, n, len(accounts))]
            queue_bulk(session, account, SystemClock().now(), template=TEMPLATE, fan_ids=fan_ids)
        session.commit()
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        if pg:
            conn.execute(text("VACUUM ANALYZE outbox"))
            conn.execute(text("VACUUM ANALYZE send_attempts"))
        else:
            conn.execute(text("ANALYZE"))
        queued = conn.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "queued")
        )
    assert queued == n, (queued, n)
    return time.perf_counter() - started


def count_sent(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "sent")
            )
            or 0
        )


def span(engine: Engine) -> tuple[float, float]:
    """First claim and last send recorded by the workers (Unix seconds)."""
    with engine.connect() as conn:
        first = conn.scalar(select(func.min(SendAttempt.started_at)))
        last = conn.scalar(select(func.max(OutboxMessage.sent_at)))
    return ts(first), ts(last)


def children(module: str, args: list[list[str]], timeout: float) -> list[dict[str, Any]]:
    """Run ``python -m <module> *a`` for each ``a`` at once; each child prints one JSON line
    last, returned in order.

    Raises:
        RuntimeError: a child failed (with the end of its stderr).
        subprocess.TimeoutExpired: a child ran past ``timeout`` seconds (all are killed).
    """
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", module, *a],
            cwd=ROOT.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for a in args
    ]
    out = []
    for p in procs:
        try:
            stdout, stderr = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
        if p.returncode != 0:
            raise RuntimeError(f"child failed: {stderr[-3000:]}")
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def source_state() -> dict[str, Any]:
    """The commit measured, and whether src/ had uncommitted changes at the time."""

    def git(*a: str) -> str:
        return subprocess.run(
            ["git", *a], cwd=ROOT.parent, capture_output=True, text=True, check=False
        ).stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "src_dirty": bool(git("status", "--porcelain", "src")),
    }
