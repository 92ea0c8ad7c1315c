"""Benchmark: drain N queued no-op messages (issue: outbox throughput).

Setup, per database (not timed): one creator, N fans and ``--accounts`` sending accounts with
channel ``noop`` (no send limit, ``HUNTAZE_SEND_LIMITS='{}'``); N messages queued with
``queue_bulk`` (one ``INSERT … SELECT`` per account), spread evenly over the accounts so the
round robin is exercised. Then, in the same run:

* Huntaze: 1 and 2 real ``python -m huntaze worker --batch 500 --poll 0.01`` processes, timed
  from the first claim (``min(send_attempts.started_at)``) to the last send
  (``max(outbox.sent_at)``); and one in-process drain by ``Worker`` whose ``Outbox.claim`` calls
  are timed with ``perf_counter`` (p50/p99 per call and per claimed message).
* The ceiling: a raw claim loop on a plain table holding the same N rows, no Huntaze code:
  PostgreSQL ``UPDATE … WHERE id IN (SELECT … LIMIT 500 FOR UPDATE SKIP LOCKED) RETURNING id``
  (psycopg), SQLite ``BEGIN IMMEDIATE`` + ``UPDATE … WHERE id IN (SELECT … LIMIT 500)
  RETURNING id`` (sqlite3), 1 and 2 processes.
* The peer: procrastinate draining N no-op jobs (PostgreSQL only), 1 and 2 worker processes.

Writes bench/results/drain.json.

Usage: python -m bench.drain_bench [--messages N] [--accounts 10] [--pg URL] [--sqlite-only]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import platform
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

from huntaze.auth.tokens import get_or_create_creator
from huntaze.config import Settings
from huntaze.db.engine import make_engine, make_sessionmaker
from huntaze.db.migrate import upgrade
from huntaze.kit.clock import SystemClock
from huntaze.kit.crypto import box_from_settings
from huntaze.messaging.accounts import create_account
from huntaze.messaging.channels import ChannelFactory
from huntaze.messaging.outbox import outbox_from_settings
from huntaze.messaging.send import queue_bulk
from huntaze.messaging.worker import Worker
from huntaze.models.crm import Fan
from huntaze.models.messaging import OutboxMessage, SendAttempt, SendingAccount

ROOT = Path(__file__).resolve().parent
SCHEMA = "hz_drain"
PEER_SCHEMA = "hz_drain_proc"
BATCH = 500
RUN_TIMEOUT = 300.0  # seconds: a drain still running then is stopped and reported as such
TARGET_MSG_PER_S = 10_000
TEMPLATE = "Hi {firstName}, new set from {city}!"


def _with_schema(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def _conninfo(url: str) -> str:
    """The libpq URI of a SQLAlchemy ``postgresql+psycopg://`` URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


def _ts(value: Any) -> float:
    """A timestamp read back from either database as Unix seconds."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return float(value.timestamp())


# --------------------------------------------------------------------------- set-up


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


def _setup(engine: Engine, n: int, accounts: int, settings: Settings) -> dict[str, Any]:
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


def _seed(engine: Engine, ctx: dict[str, Any], n: int) -> float:
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


def _count_sent(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "sent")
            )
            or 0
        )


def _span(engine: Engine) -> tuple[float, float]:
    """First claim and last send recorded by the workers (Unix seconds)."""
    with engine.connect() as conn:
        first = conn.scalar(select(func.min(SendAttempt.started_at)))
        last = conn.scalar(select(func.max(OutboxMessage.sent_at)))
    return _ts(first), _ts(last)


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
            sent = _count_sent(engine)
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
    first, last = _span(engine)
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


def huntaze_claim_latency(engine: Engine, settings: Settings, n: int) -> dict[str, Any]:
    """One in-process worker drains the queue; every ``Outbox.claim`` call is timed."""
    outbox = outbox_from_settings(engine, SystemClock(), settings)
    channels = ChannelFactory(engine, settings, box_from_settings(settings))
    calls: list[tuple[float, int]] = []
    claim = outbox.claim

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        rows = claim(*args, **kwargs)
        calls.append((time.perf_counter() - t0, len(rows)))
        return rows

    outbox.claim = timed  # type: ignore[method-assign]
    marks: list[float] = []
    mark_sent = outbox.mark_sent

    def timed_mark(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        changed = mark_sent(*args, **kwargs)
        marks.append(time.perf_counter() - t0)
        return changed

    outbox.mark_sent = timed_mark  # type: ignore[method-assign]
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
        "claim_ms_p50": round(_pct(per_call, 0.50), 2),
        "claim_ms_p99": round(_pct(per_call, 0.99), 2),
        "claim_ms_max": round(max(per_call, default=0.0), 2),
        "claim_ms_per_msg_p50": round(_pct(per_msg, 0.50), 4),
        "claim_ms_per_msg_p99": round(_pct(per_msg, 0.99), 4),
        "claim_share_of_drain": round(claim_total / seconds, 3),
        "mark_sent_calls": len(marks),
        "mark_sent_ms_p50": round(_pct([m * 1000 for m in marks], 0.50), 3),
        "mark_sent_ms_p99": round(_pct([m * 1000 for m in marks], 0.99), 3),
        "mark_sent_share_of_drain": round(sum(marks) / seconds, 3),
    }
    print(json.dumps({"claim_latency": result}), flush=True)
    return result


# --------------------------------------------------------------------------- ceiling

RAW_PG = (
    "UPDATE outbox_raw SET status = 'sent' WHERE id IN (SELECT id FROM outbox_raw "
    "WHERE status = 'queued' ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED) RETURNING id"
)
RAW_SQLITE = (
    "UPDATE outbox_raw SET status = 'sent' WHERE id IN (SELECT id FROM outbox_raw "
    "WHERE status = 'queued' ORDER BY id LIMIT 500) RETURNING id"
)


def _raw_table(engine: Engine) -> None:
    """``outbox_raw``: the same N rows (id, account, recipient, content, status), keyed by an
    integer id, with an index on (status, id)."""
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS outbox_raw"))
        conn.execute(
            text(
                "CREATE TABLE outbox_raw (id bigint PRIMARY KEY, account_id text NOT NULL, "
                "recipient text NOT NULL, content text NOT NULL, status text NOT NULL)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO outbox_raw (id, account_id, recipient, content, status) "
                "SELECT row_number() OVER (ORDER BY id), account_id, recipient, content, "
                "'queued' FROM outbox"
            )
        )
        conn.execute(text("CREATE INDEX ix_outbox_raw_status_id ON outbox_raw (status, id)"))
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("VACUUM ANALYZE outbox_raw" if _pg(engine) else "ANALYZE outbox_raw"))


def _pg(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def raw_child(kind: str, target: str) -> dict[str, Any]:
    """One raw claim loop until the table has no queued row; first/last claim times."""
    claimed = 0
    first = last = 0.0
    if kind == "pg":
        import psycopg

        with psycopg.connect(target) as conn:
            while True:
                t = time.time()
                with conn.cursor() as cur:
                    cur.execute(RAW_PG)
                    rows = cur.fetchall()
                conn.commit()
                if not rows:
                    break
                first = first or t
                last = time.time()
                claimed += len(rows)
    else:
        conn = sqlite3.connect(target, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        while True:
            t = time.time()
            conn.execute("BEGIN IMMEDIATE")
            rows = conn.execute(RAW_SQLITE).fetchall()
            conn.execute("COMMIT")
            if not rows:
                break
            first = first or t
            last = time.time()
            claimed += len(rows)
        conn.close()
    return {"claimed": claimed, "first": first, "last": last}


def _children(args: list[list[str]], timeout: float) -> list[dict[str, Any]]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.drain_bench", *a],
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


def raw_loop(engine: Engine, kind: str, target: str, n: int, procs: int) -> dict[str, Any]:
    _raw_table(engine)
    results = _children([["_raw", kind, target]] * procs, RUN_TIMEOUT + 60)
    claimed = sum(r["claimed"] for r in results)
    assert claimed == n, (claimed, n)
    first = min(r["first"] for r in results if r["first"])
    last = max(r["last"] for r in results)
    seconds = max(last - first, 1e-9)
    result = {
        "processes": procs,
        "claimed": claimed,
        "seconds": round(seconds, 3),
        "msg_per_s": round(claimed / seconds),
    }
    print(json.dumps({"raw": result}), flush=True)
    return result


# --------------------------------------------------------------------------- peer


def _peer_app(conninfo: str) -> Any:
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))

    @app.task(name="bench_noop")
    async def bench_noop(i: int) -> None:
        """A no-op job."""

    return app


def peer_child(conninfo: str) -> dict[str, Any]:
    """One procrastinate worker (default concurrency) until the queue is empty."""
    logging.basicConfig(level=logging.WARNING)
    app = _peer_app(conninfo)

    async def run() -> None:
        async with app.open_async():
            await app.run_worker_async(wait=False, install_signal_handlers=False)

    t0 = time.time()
    asyncio.run(run())
    return {"first": t0, "last": time.time()}


def _peer_seed(conninfo: str, n: int, fresh: bool) -> None:
    import psycopg

    app = _peer_app(conninfo)
    with app.open():
        if fresh:
            app.schema_manager.apply_schema()
        else:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute("TRUNCATE procrastinate_events, procrastinate_jobs CASCADE")
        task = app.tasks["bench_noop"]
        chunk = 10_000
        for start in range(0, n, chunk):
            task.batch_defer(*({"i": i} for i in range(start, min(n, start + chunk))))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE procrastinate_jobs")


def _peer_run(conninfo: str, n: int, workers: int, fresh: bool) -> dict[str, Any]:
    import psycopg

    started = time.perf_counter()
    _peer_seed(conninfo, n, fresh=fresh)
    seed_s = time.perf_counter() - started
    spawned = time.perf_counter()
    _children([["_peer", conninfo]] * workers, RUN_TIMEOUT + 60)
    wall = time.perf_counter() - spawned
    with psycopg.connect(conninfo) as conn:
        done, first, last = conn.execute(
            "SELECT (SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'),"
            " (SELECT min(at) FROM procrastinate_events WHERE type = 'started'),"
            " (SELECT max(at) FROM procrastinate_events WHERE type = 'succeeded')"
        ).fetchone()  # type: ignore[misc]
    seconds = max((last - first).total_seconds(), 1e-9)
    result = {
        "workers": workers,
        "jobs": done,
        "seconds": round(seconds, 2),
        "jobs_per_s": round(done / seconds),
        "wall_seconds_incl_startup": round(wall, 2),
        "defer_seconds": round(seed_s, 2),
    }
    assert done == n, result
    print(json.dumps({"peer": result}), flush=True)
    return result


def peer(base_url: str, n: int) -> dict[str, Any]:
    """procrastinate with 1 and 2 worker processes (as configured out of the box, and with
    ``synchronous_commit=off`` like Huntaze's outcome writes), or why it could not run."""
    try:
        import procrastinate
        import psycopg
    except ImportError as exc:
        return {"available": False, "reason": f"procrastinate is not installed: {exc}"}
    logging.getLogger("procrastinate").setLevel(logging.ERROR)
    conninfo = _conninfo(_with_schema(base_url, PEER_SCHEMA))
    with psycopg.connect(_conninfo(base_url), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {PEER_SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {PEER_SCHEMA}")
    out: dict[str, Any] = {
        "available": True,
        "name": "procrastinate",
        "version": procrastinate.__version__,
        "jobs": n,
        "task": "async no-op (`async def bench_noop(i): pass`), default concurrency (1)",
        "defer": "Task.batch_defer, 10,000 jobs a call",
    }
    try:
        out["workers_1"] = _peer_run(conninfo, n, 1, fresh=True)
        out["workers_2"] = _peer_run(conninfo, n, 2, fresh=False)
        async_off = conninfo + "%20-csynchronous_commit%3Doff"
        out["sync_commit_off"] = {
            f"workers_{w}": _peer_run(async_off, n, w, fresh=False) for w in (1, 2)
        }
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        with psycopg.connect(_conninfo(base_url), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {PEER_SCHEMA} CASCADE")
    return out


# --------------------------------------------------------------------------- driver


def bench_database(name: str, url: str, n: int, accounts: int, tmp: str) -> dict[str, Any]:
    engine = make_engine(url)
    settings = Settings(database_url=url, send_limits="{}", secret_key_file=str(Path(tmp) / "key"))
    t0 = time.perf_counter()
    ctx = _setup(engine, n, accounts, settings)
    print(f"{name}: set up {n} fans in {time.perf_counter() - t0:.1f}s", flush=True)
    huntaze: dict[str, Any] = {}
    seed_s = []
    for workers in (1, 2):
        seed_s.append(_seed(engine, ctx, n))
        huntaze[f"workers_{workers}"] = huntaze_processes(engine, url, tmp, n, workers)
    seed_s.append(_seed(engine, ctx, n))
    try:
        latency = huntaze_claim_latency(engine, settings, n)
    except Exception as exc:  # reported in the results, not hidden
        latency = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
    if "error" in latency:
        gc.collect()  # let the failed run's connections go before cleaning up
        with engine.begin() as conn:
            conn.execute(text("UPDATE outbox SET status = 'cancelled' WHERE status <> 'sent'"))
    # the ceiling's table is filled from the freshly queued outbox (same N rows)
    _seed(engine, ctx, n)
    pg = name == "postgresql"
    target = _conninfo(url) if pg else str(engine.url.database)
    raw = {
        f"processes_{p}": raw_loop(engine, "pg" if pg else "sqlite", target, n, p) for p in (1, 2)
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
            "psycopg: UPDATE … WHERE id IN (SELECT … ORDER BY id LIMIT 500 FOR UPDATE SKIP "
            "LOCKED) RETURNING id"
            if pg
            else "sqlite3: BEGIN IMMEDIATE; UPDATE … WHERE id IN (SELECT … ORDER BY id "
            "LIMIT 500) RETURNING id; COMMIT"
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
                url = _with_schema(args.pg, SCHEMA)
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
        "source": _source_state(),
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


def _source_state() -> dict[str, Any]:
    """The commit measured, and whether src/ had uncommitted changes at the time."""

    def git(*a: str) -> str:
        return subprocess.run(
            ["git", *a], cwd=ROOT.parent, capture_output=True, text=True, check=False
        ).stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "src_dirty": bool(git("status", "--porcelain", "src")),
    }


def _child_main() -> None:
    mode = sys.argv[1]
    if mode == "_raw":
        result = raw_child(sys.argv[2], sys.argv[3])
    elif mode == "_peer":
        result = peer_child(sys.argv[2])
    else:
        raise SystemExit(f"unknown mode {mode}")
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("_"):
        _child_main()
    else:
        main()
