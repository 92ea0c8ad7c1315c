"""Benchmark: drain N queued no-op messages (issue: outbox throughput).

Setup, per database (not timed): one creator, N fans and ``--accounts`` sending accounts with
channel ``noop`` (no send limit, ``HUNTAZE_SEND_LIMITS='{}'``); N messages queued with
``queue_bulk`` (one ``INSERT … SELECT`` per account), spread evenly over the accounts so the
round robin is exercised. Then, in the same run:

* Huntaze: 1 and 2 real ``python -m huntaze worker --batch 250 --poll 0.01`` processes, timed
  from the first claim (``min(send_attempts.started_at)``) to the last send
  (``max(outbox.sent_at)``). The no-op channel deduplicates (as relays do), so workers record
  its successes in groups. Then two in-process drains by ``Worker`` whose ``Outbox.claim`` and
  ``mark_sent`` calls are timed with ``perf_counter`` (p50/p99 per call and per claimed
  message): one with grouped recording, one recording each success before the next send (the
  path of channels whose receiver cannot drop repeats, such as SMTP).
* The ceiling: a raw claim loop on a plain table holding the same N rows, no Huntaze code:
  PostgreSQL ``UPDATE … WHERE id IN (SELECT … LIMIT 250 FOR UPDATE SKIP LOCKED) RETURNING id``
  (psycopg), SQLite ``BEGIN IMMEDIATE`` + ``UPDATE … WHERE id IN (SELECT … LIMIT 250)
  RETURNING id`` (sqlite3), 1 and 2 processes.
* The peer: procrastinate draining N no-op jobs (PostgreSQL only), 1 and 2 worker processes.

The ceiling and the peer live in bench/drain_ceiling.py and bench/drain_peer.py, the set-up in
bench/drain_setup.py. Writes bench/results/drain.json.

Usage: python -m bench.drain_bench [--messages N] [--accounts 10] [--pg URL] [--sqlite-only]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from bench.drain_ceiling import raw_loop
from bench.drain_peer import peer
from bench.drain_setup import (
    BATCH,
    ROOT,
    RUN_TIMEOUT,
    conninfo,
    count_sent,
    pct,
    seed,
    setup,
    source_state,
    span,
    with_schema,
)
from huntaze.config import Settings, box_from_settings
from huntaze.db.engine import make_engine
from huntaze.kit.clock import SystemClock
from huntaze.outbox.channels import ChannelFactory, NoopChannel
from huntaze.outbox.service import outbox_from_settings
from huntaze.outbox.worker import Worker
from huntaze.platforms.base import Channel

SCHEMA = "hz_drain"
TARGET_MSG_PER_S = 10_000

# --------------------------------------------------------------------------- Huntaze


def _worker_env(url: str, tmp: str) -> dict[str, str]:
    return {
        **os.environ,
        "HUNTAZE_DATABASE_URL": url,
        "HUNTAZE_SECRET_KEY_FILE": str(Path(tmp) / "key"),
        "HUNTAZE_SEND_LIMITS": "{}",
        "HUNTAZE_LOG_LEVEL": "WARNING",
    }


def huntaze_processes(engine: Engine, url: str, tmp: str, n: int, workers: int) -> dict[str, Any]:
    """N messages drained by ``workers`` real worker processes."""
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "huntaze",
                "worker",
                "--id",
                f"bench{i}",
                "--batch",
                str(BATCH),
                "--poll",
                "0.01",
            ],
            env=_worker_env(url, tmp),
            cwd=ROOT.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i in range(workers)
    ]
    spawned = time.perf_counter()
    sent = 0
    timed_out = False
    try:
        while True:
            time.sleep(0.2)
            sent = count_sent(engine)
            if sent >= n:
                break
            if any(p.poll() is not None for p in procs):
                errs = [p.stderr.read().decode()[-2000:] for p in procs if p.stderr]
                raise RuntimeError(f"a worker exited early: {errs}")
            if time.perf_counter() - spawned > RUN_TIMEOUT:
                timed_out = True
                break
        wall = time.perf_counter() - spawned
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    first, last = span(engine)
    seconds = max(last - first, 1e-9)
    result = {
        "workers": workers,
        "sent": sent,
        "seconds": round(seconds, 2),
        "msg_per_s": round(sent / seconds),
        "wall_seconds_incl_startup": round(wall, 2),
    }
    if timed_out:
        result["timed_out_after_s"] = RUN_TIMEOUT
    print(json.dumps({"huntaze": result}), flush=True)
    return result


class _OneByOneNoop(NoopChannel):
    """The no-op channel as if its receiver could not drop repeats (like SMTP): the worker
    records each success before the next send."""

    deduplicates = False


class _OneByOneFactory(ChannelFactory):
    def _build(self, account_id: str) -> tuple[Channel, int]:
        return _OneByOneNoop(), 0  # (channel, the account's config_version it was built from)


def huntaze_claim_latency(
    engine: Engine, settings: Settings, n: int, one_by_one: bool = False
) -> dict[str, Any]:
    """One in-process worker drains the queue; every ``Outbox.claim`` and ``mark_sent`` call
    is timed. ``one_by_one`` records each success on its own (the path of channels that do
    not deduplicate, such as email) instead of in groups."""
    outbox = outbox_from_settings(engine, SystemClock(), settings)
    factory = _OneByOneFactory if one_by_one else ChannelFactory
    channels = factory(engine, settings, box_from_settings(settings))
    calls: list[tuple[float, int]] = []
    claim = outbox.claim

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        rows = claim(*args, **kwargs)
        calls.append((time.perf_counter() - t0, len(rows)))
        return rows

    outbox.claim = timed  # type: ignore[method-assign]
    marks: list[float] = []
    mark_sent = outbox.outcomes.mark_sent

    def timed_mark(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        changed = mark_sent(*args, **kwargs)
        marks.append(time.perf_counter() - t0)
        return changed

    outbox.outcomes.mark_sent = timed_mark  # type: ignore[method-assign]
    worker = Worker(outbox, channels, worker_id="bench-inproc", batch=BATCH, poll_seconds=0.01)
    deadline = time.perf_counter() + RUN_TIMEOUT
    started = time.perf_counter()
    drained = 0
    while time.perf_counter() < deadline:
        handled = worker.run_once()
        drained += handled
        if not handled:
            break
    seconds = time.perf_counter() - started
    worker.channels.close()
    busy = [(s, k) for s, k in calls if k]
    per_call = [s * 1000 for s, _ in busy]
    per_msg = [s * 1000 / k for s, k in busy]
    claim_total = sum(s for s, _ in calls)
    result = {
        "sent": drained,
        "seconds": round(seconds, 2),
        "msg_per_s": round(drained / seconds),
        "claim_calls": len(busy),
        "mean_claimed_per_call": round(statistics.mean(k for _, k in busy), 1) if busy else 0,
        "claim_ms_p50": round(pct(per_call, 0.50), 2),
        "claim_ms_p99": round(pct(per_call, 0.99), 2),
        "claim_ms_max": round(max(per_call, default=0.0), 2),
        "claim_ms_per_msg_p50": round(pct(per_msg, 0.50), 4),
        "claim_ms_per_msg_p99": round(pct(per_msg, 0.99), 4),
        "claim_share_of_drain": round(claim_total / seconds, 3),
        "mark_sent_calls": len(marks),
        "mark_sent_ms_p50": round(pct([m * 1000 for m in marks], 0.50), 3),
        "mark_sent_ms_p99": round(pct([m * 1000 for m in marks], 0.99), 3),
        "mark_sent_share_of_drain": round(sum(marks) / seconds, 3),
    }
    result["recording"] = "one by one" if one_by_one else "grouped"
    print(json.dumps({"claim_latency": result}), flush=True)
    return result


# --------------------------------------------------------------------------- driver


def bench_database(name: str, url: str, n: int, accounts: int, tmp: str) -> dict[str, Any]:
    engine = make_engine(url)
    settings = Settings(database_url=url, send_limits="{}", secret_key_file=str(Path(tmp) / "key"))
    t0 = time.perf_counter()
    ctx = setup(engine, n, accounts, settings)
    print(f"{name}: set up {n} fans in {time.perf_counter() - t0:.1f}s", flush=True)
    huntaze: dict[str, Any] = {}
    seed_s = []
    for workers in (1, 2):
        seed_s.append(seed(engine, ctx, n))
        huntaze[f"workers_{workers}"] = huntaze_processes(engine, url, tmp, n, workers)
    latency: dict[str, Any] = {}
    for one_by_one in (False, True):
        seed_s.append(seed(engine, ctx, n))
        key = "one_by_one" if one_by_one else "grouped"
        try:
            latency[key] = huntaze_claim_latency(engine, settings, n, one_by_one)
        except Exception as exc:  # reported in the results, not hidden
            latency[key] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
            gc.collect()  # let the failed run's connections go before cleaning up
            with engine.begin() as conn:
                conn.execute(text("UPDATE outbox SET status = 'cancelled' WHERE status <> 'sent'"))
    # the ceiling's table is filled from the freshly queued outbox (same N rows)
    seed(engine, ctx, n)
    pg = name == "postgresql"
    target = conninfo(url) if pg else str(engine.url.database)
    # at the workers' batch, and at 500 (the raw loop's faster setting), so the ceiling is
    # the best raw figure either way
    raw = {
        f"processes_{p}{suffix}": raw_loop(engine, "pg" if pg else "sqlite", target, n, p, b)
        for b, suffix in ((BATCH, ""), (500, "_batch_500"))
        for p in (1, 2)
    }
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE outbox_raw"))
    engine.dispose()
    best = max(huntaze["workers_1"]["msg_per_s"], huntaze["workers_2"]["msg_per_s"])
    raw_best = max(r["msg_per_s"] for r in raw.values())
    result: dict[str, Any] = {
        "database": name,
        "messages": n,
        "accounts": accounts,
        "queue_seconds": round(statistics.mean(seed_s), 2),
        "huntaze": huntaze,
        "claim_latency": latency,
        "raw": raw,
        "raw_method": (
            f"psycopg: UPDATE … WHERE id IN (SELECT … ORDER BY id LIMIT {BATCH} FOR UPDATE "
            "SKIP LOCKED) RETURNING id"
            if pg
            else "sqlite3: BEGIN IMMEDIATE; UPDATE … WHERE id IN (SELECT … ORDER BY id "
            f"LIMIT {BATCH}) RETURNING id; COMMIT"
        ),
        "best_msg_per_s": best,
        "raw_over_huntaze": round(raw_best / best, 1),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument(
        "--pg",
        default=os.environ.get("HUNTAZE_TEST_DATABASE_URL")
        or "postgresql+psycopg://root@127.0.0.1:5432/test",
    )
    parser.add_argument(
        "--peer-jobs",
        type=int,
        default=20_000,
        help="jobs the peer drains (fewer than --messages: it runs at a few hundred jobs/s)",
    )
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    n = args.messages
    results = []
    peer_result: dict[str, Any] = {"available": False, "reason": "not run (--sqlite-only)"}
    with tempfile.TemporaryDirectory() as tmp:
        results.append(bench_database("sqlite", f"sqlite:///{tmp}/drain.db", n, args.accounts, tmp))
        if not args.sqlite_only:
            admin = make_engine(args.pg)
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
            try:
                url = with_schema(args.pg, SCHEMA)
                results.append(bench_database("postgresql", url, n, args.accounts, tmp))
                peer_result = peer(args.pg, min(n, args.peer_jobs))
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                admin.dispose()
    for r in results:
        if r["database"] == "postgresql" and peer_result.get("workers_1"):
            runs = [peer_result["workers_1"], peer_result.get("workers_2", {})]
            runs += list(peer_result.get("sync_commit_off", {}).values())
            peer_best = max(r.get("jobs_per_s", 0) for r in runs)
            r["peer_best_jobs_per_s"] = peer_best
            r["vs_peer"] = round(r["best_msg_per_s"] / peer_best, 2)
    out = {
        "benchmark": "drain",
        "command": f"python -m bench.drain_bench --messages {n}",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "source": source_state(),
        "setup": {
            "messages": n,
            "accounts": args.accounts,
            "channel": "noop",
            "send_limits": "{} (none)",
            "worker": f"python -m huntaze worker --batch {BATCH} --poll 0.01",
            "timing": "first claim (min send_attempts.started_at) to last send "
            "(max outbox.sent_at); raw loop and peer: first claim to last completion",
        },
        "targets": {
            "msg_per_s": TARGET_MSG_PER_S,
            "within_x_of_raw": 3,
            "ahead_of_peer": True,
        },
        "results": results,
        "peer": peer_result,
    }
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "drain.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
