"""Benchmark: scheduling lateness (issue 11: 10,000 campaigns and sends due within one
minute, p99 lateness ≤ 1 s).

Setup, per database (not timed): one creator, 10,000 OnlyFans fans, a ``noop`` sending
account with no send limit, and for each fan a dynamic segment naming it and a campaign to
that segment, scheduled: the 10,000 start times are spread evenly over one minute that
begins 15 s after the setup ends.

Run: ``--workers`` processes of ``huntaze worker`` (the deployment's loop: the scheduler
ticks between batches, launches what is due, and the same workers send), until every
campaign's message has been sent or ``--timeout`` passes.

Measured from the database afterwards:

- launch lateness: a campaign's ``started_at`` (the tick that launched it) minus its
  ``scheduledFor``;
- send lateness: its message's ``sent_at`` (when the worker recorded it delivered) minus
  its ``scheduledFor``: what a fan sees.

The issue names no anchor for this one: the target is the figure.

Usage: python -m bench.schedule_bench [--campaigns N] [--workers 2] [--pg URL] [--sqlite-only]
Writes bench/results/schedule.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, text, update

from bench.drain_setup import source_state
from bench.enqueue_bench import _settle
from huntaze.auth.tokens import get_or_create_creator
from huntaze.config import Settings, box_from_settings
from huntaze.db.engine import make_engine, make_sessionmaker
from huntaze.db.migrate import upgrade
from huntaze.kit.ids import new_id
from huntaze.messaging.accounts import create_account
from huntaze.models.campaigns import Campaign
from huntaze.models.crm import Fan
from huntaze.models.messaging import OutboxMessage
from huntaze.models.segments import Segment

ROOT = Path(__file__).resolve().parent
SCHEMA = "hz_schedule"
TARGET_P99_SECONDS = 1.0
LEAD_SECONDS = 15.0
WINDOW_SECONDS = 60.0


def _setup(engine: Engine, n: int, key_file: str) -> datetime:
    """Fans, account, segments and campaigns; returns the window's start."""
    upgrade(engine)
    now = datetime.now(UTC)
    with make_sessionmaker(engine)() as session:
        creator = get_or_create_creator(session, "schedule-bench", now)
        settings = Settings(send_limits="{}", secret_key_file=key_file)
        create_account(
            session,
            creator.id,
            box_from_settings(settings),
            now,
            platform="onlyfans",
            name="noop",
            channel="noop",
        )
        session.commit()
        creator_id = creator.id
    fans, segments, campaigns = [], [], []
    for i in range(n):
        fan_id, seg_id = f"fan_{i:07d}", new_id("seg")
        fans.append(
            {
                "id": fan_id,
                "creator_id": creator_id,
                "platform": "onlyfans",
                "platform_fan_id": str(i),
                "username": f"fan{i}",
                "subscription_status": "active",
                "lifetime_value_cents": 0,
                "consent": "unknown",
                "custom_fields": {},
                "import_fingerprints": {},
                "created_at": now,
                "updated_at": now,
            }
        )
        segments.append(
            {
                "id": seg_id,
                "creator_id": creator_id,
                "name": f"fan {i}",
                "kind": "dynamic",
                "criteria": {"field": "platformFanId", "op": "eq", "value": str(i)},
                "member_count": 1,
                "revenue_cents": 0,
                "messages_30d": 0,
                "last_refreshed_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
        campaigns.append(
            {
                "id": new_id("camp"),
                "creator_id": creator_id,
                "name": f"for fan {i}",
                "type": "engagement",
                "status": "scheduled",
                "platforms": ["onlyfans"],
                "segment_ids": [seg_id],
                "content": {"default": {"text": "Hi {username}"}},
                "scheduled_for": now,  # set below, once the setup is done
                "spent_cents": 0,
                "cost_per_message_cents": 0,
                "goals": {},
                "launch": {},
                "optimal_time": False,
                "created_at": now,
                "updated_at": now,
            }
        )
    with make_sessionmaker(engine)() as session, session.begin():
        session.execute(insert(Fan), fans)
        session.execute(insert(Segment), segments)
        session.execute(insert(Campaign), campaigns)
    _settle(engine)
    start = datetime.now(UTC) + timedelta(seconds=LEAD_SECONDS)
    step = WINDOW_SECONDS / n
    with make_sessionmaker(engine)() as session, session.begin():
        for i, c in enumerate(campaigns):
            at = start + timedelta(seconds=i * step)
            session.execute(update(Campaign).where(Campaign.id == c["id"]).values(scheduled_for=at))
    return start


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(_pct(values, 0.50), 3),
        "p99": round(_pct(values, 0.99), 3),
        "max": round(max(values), 3),
    }


def bench_database(name: str, url: str, n: int, workers: int, timeout: float, tmp: str) -> Any:
    key_file = str(Path(tmp) / f"{name}.key")
    engine = make_engine(url)
    start = _setup(engine, n, key_file)
    env = {
        **os.environ,
        "HUNTAZE_DATABASE_URL": url,
        "HUNTAZE_SEND_LIMITS": "{}",
        "HUNTAZE_SECRET_KEY_FILE": key_file,
        "HUNTAZE_LOG_LEVEL": "WARNING",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "huntaze", "worker", "--id", f"w{i}", "--poll", "0.05"],
            env=env,
            cwd=ROOT.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(workers)
    ]
    deadline = time.monotonic() + LEAD_SECONDS + WINDOW_SECONDS + timeout
    sent = 0
    try:
        while time.monotonic() < deadline:
            time.sleep(1.0)
            with engine.connect() as conn:
                sent = int(
                    conn.execute(
                        text("SELECT count(*) FROM outbox WHERE status = 'sent'")
                    ).scalar_one()
                )
            if sent >= n:
                break
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
    with make_sessionmaker(engine)() as session:
        launched = session.execute(
            select(Campaign.scheduled_for, Campaign.started_at).where(
                Campaign.started_at.is_not(None)
            )
        ).all()
        delivered = session.execute(
            select(Campaign.scheduled_for, OutboxMessage.sent_at)
            .join(OutboxMessage, OutboxMessage.campaign_id == Campaign.id)
            .where(OutboxMessage.sent_at.is_not(None))
        ).all()
    engine.dispose()
    launch = [(s - d).total_seconds() for d, s in launched]
    send = [(s - d).total_seconds() for d, s in delivered]
    result = {
        "database": name,
        "campaigns": n,
        "workers": workers,
        "window_seconds": WINDOW_SECONDS,
        "window_start": start.isoformat(),
        "launched": len(launch),
        "sent": len(send),
        "launch_lateness_seconds": _summary(launch) if launch else None,
        "send_lateness_seconds": _summary(send) if send else None,
    }
    print(json.dumps(result, indent=2), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaigns", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument(
        "--pg",
        default=os.environ.get("HUNTAZE_TEST_DATABASE_URL")
        or "postgresql+psycopg://root@127.0.0.1:5432/test",
    )
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(
            bench_database(
                "sqlite",
                f"sqlite:///{tmp}/schedule.db",
                args.campaigns,
                args.workers,
                args.timeout,
                tmp,
            )
        )
        if not args.sqlite_only:
            admin = make_engine(args.pg)
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
            try:
                sep = "&" if "?" in args.pg else "?"
                url = f"{args.pg}{sep}options=-csearch_path%3D{SCHEMA}"
                results.append(
                    bench_database(
                        "postgresql", url, args.campaigns, args.workers, args.timeout, tmp
                    )
                )
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                admin.dispose()
    out = {
        "benchmark": "schedule",
        "command": " ".join(["python -m bench.schedule_bench", *sys.argv[1:]]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "source": source_state(),
        "target_p99_seconds": TARGET_P99_SECONDS,
        "results": results,
    }
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "schedule.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
