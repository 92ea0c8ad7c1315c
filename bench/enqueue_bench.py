"""Benchmark: one bulk call queues 1,000,000 personalised messages.

Setup, per database (not timed): one creator with N fans (``executemany`` on SQLite, ``COPY``
on PostgreSQL), each with a display name and a ``city`` custom field, and one sending account
with channel ``noop``; then ``ANALYZE`` (PostgreSQL: ``VACUUM ANALYZE`` and a ``CHECKPOINT``)
and ``sync``, so the timed call waits neither behind the setup's own writes nor behind the
previous database's (else the kernel flushes SQLite's gigabyte while PostgreSQL is timed).
Timed, in a fresh process (so its peak RSS is the call's alone): ``queue_bulk(...)`` over every
fan of the creator with the template ``Hi {firstName}, new set from {city}!``, inside one
session, including the commit. Every SQL statement the call runs is timed too (SQLAlchemy
cursor events), to show where the time goes. The call is timed ``--repeat`` times (3) per
database, the outbox emptied and the writes flushed between runs; the median run is reported,
with every run's time, since this machine's disk and CPU vary by tens of percent from run to
run. Writes bench/results/enqueue.json.

Usage: python -m bench.enqueue_bench [--fans N] [--repeat 3] [--pg URL]
       [--sqlite-only | --postgresql-only]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text

from bench.drain_setup import source_state
from huntaze.auth.tokens import get_or_create_creator
from huntaze.config import Settings, box_from_settings
from huntaze.db.engine import make_engine, make_sessionmaker
from huntaze.db.migrate import upgrade
from huntaze.fans.schemas import AudienceFilter
from huntaze.kit.clock import SystemClock
from huntaze.messaging.accounts import create_account
from huntaze.messaging.send import queue_bulk
from huntaze.models.messaging import SendingAccount

ROOT = Path(__file__).resolve().parent
SCHEMA = "hz_enqueue"
TEMPLATE = "Hi {firstName}, new set from {city}!"
TARGET_SECONDS = 15
CITIES = ("Paris", "Lyon", "Berlin", "Austin", "Leeds", "Porto", "Osaka", "Quito")
FAN_COLUMNS = (
    "id",
    "creator_id",
    "platform",
    "platform_fan_id",
    "username",
    "display_name",
    "email",
    "subscription_status",
    "lifetime_value_cents",
    "consent",
    "custom_fields",
    "import_fingerprints",
    "created_at",
    "updated_at",
)


def _fan_rows(creator_id: str, n: int, stamp: str) -> Any:
    for i in range(n):
        yield (
            f"fan_{i:012d}",
            creator_id,
            "onlyfans",
            str(1_000_000 + i),
            f"fan{i}",
            f"Zoë {i}" if i % 10 else f"Zoë{i}",  # some display names are one word
            f"fan{i}@example.com",
            "active",
            0,
            "opted_out" if i % 1000 == 999 else "unknown",  # 0.1% are skipped
            json.dumps({"city": CITIES[i % len(CITIES)]}),
            "{}",
            stamp,
            stamp,
        )


def _insert_fans(engine: Engine, creator_id: str, n: int) -> None:
    now = datetime.now(UTC)
    cols = ", ".join(FAN_COLUMNS)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cur.copy(f"COPY fans ({cols}) FROM STDIN") as copy:
                for row in _fan_rows(creator_id, n, now.isoformat()):
                    copy.write_row(row)
        return
    # the text SQLAlchemy stores for a UTC datetime on SQLite
    stamp = now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    marks = ", ".join("?" * len(FAN_COLUMNS))
    rows = _fan_rows(creator_id, n, stamp)
    with engine.begin() as conn:
        cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cur.executemany(f"INSERT INTO fans ({cols}) VALUES ({marks})", rows)


def _setup(engine: Engine, n: int, key_file: str) -> tuple[str, str]:
    upgrade(engine)
    now = SystemClock().now()
    with make_sessionmaker(engine)() as session:
        creator = get_or_create_creator(session, "enqueue-bench", now)
        settings = Settings(send_limits="{}", secret_key_file=key_file)
        account = create_account(
            session,
            creator.id,
            box_from_settings(settings),
            now,
            platform="onlyfans",
            name="noop",
            channel="noop",
        )
        session.commit()
        ids = (creator.id, account.id)
    _insert_fans(engine, ids[0], n)
    _settle(engine)
    return ids


def _settle(engine: Engine) -> None:
    """The earlier writes flushed, so a timed run does not pay for them, and on PostgreSQL
    statistics, as its autovacuum would gather them. SQLite gets none, as Huntaze runs no
    ANALYZE there; the one this once ran on SQLite was never committed (the engine's begin
    hook opens a transaction even in AUTOCOMMIT), so earlier figures had none either."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("VACUUM ANALYZE"))
            conn.execute(text("CHECKPOINT"))
    os.sync()


def _empty_outbox(engine: Engine) -> None:
    """Remove the queued messages and bulks of a previous run."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE outbox, bulk_sends"))
        else:
            conn.execute(text("DELETE FROM outbox"))
            conn.execute(text("DELETE FROM bulk_sends"))
    _settle(engine)


def one(url: str, account_id: str) -> dict[str, Any]:
    """The measured call, in this (fresh) process."""
    engine = make_engine(url)
    statements: list[dict[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info["t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(
            {
                "sql": " ".join(statement.split())[:90],
                "seconds": round(time.perf_counter() - conn.info.pop("t0"), 3),
            }
        )

    factory = make_sessionmaker(engine)
    with factory() as warm:  # connect and load the account outside the timing
        account = warm.get(SendingAccount, account_id)
        assert account is not None
        warm.expunge(account)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    statements.clear()
    started = time.perf_counter()
    with factory() as session:
        session.add(account)
        result = queue_bulk(
            session,
            account,
            SystemClock().now(),
            template=TEMPLATE,
            flt=AudienceFilter(platform="onlyfans"),
        )
        t_commit = time.perf_counter()
        session.commit()
        commit_s = time.perf_counter() - t_commit
        queued = result.bulk.queued
        skipped = result.skipped_count
    seconds = time.perf_counter() - started
    with engine.connect() as conn:
        sample = conn.execute(text("SELECT content FROM outbox ORDER BY id LIMIT 3")).scalars()
        samples = list(sample)
    engine.dispose()
    return {
        "seconds": seconds,
        "queued": queued,
        "skipped": skipped,
        "commit_seconds": round(commit_s, 3),
        "statements": [s for s in statements if s["seconds"] >= 0.01],
        "samples": samples,
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def explain(engine: Engine, account_id: str) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of queue_bulk's INSERT … SELECT on PostgreSQL, run after the
    measurement as a second bulk and rolled back."""
    plan: list[str] = []

    def _wrap(conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> Any:
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            statement = "EXPLAIN (ANALYZE, BUFFERS) " + statement
        return statement, params

    def _read(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if statement.startswith("EXPLAIN"):
            plan.extend(r[0] for r in cursor.fetchall())

    event.listen(engine, "before_cursor_execute", _wrap, retval=True)
    event.listen(engine, "after_cursor_execute", _read)
    try:
        with make_sessionmaker(engine)() as session:
            account = session.get(SendingAccount, account_id)
            assert account is not None
            queue_bulk(
                session,
                account,
                SystemClock().now(),
                template=TEMPLATE,
                flt=AudienceFilter(platform="onlyfans"),
            )
            session.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", _wrap)
        event.remove(engine, "after_cursor_execute", _read)
    return plan


def bench_database(name: str, url: str, n: int, tmp: str, repeat: int = 3) -> dict[str, Any]:
    """Set up ``n`` fans, then time ``repeat`` bulks, each in a fresh process on an emptied
    outbox; report the median run (and every run's seconds)."""
    engine = make_engine(url)
    t0 = time.perf_counter()
    _, account_id = _setup(engine, n, str(Path(tmp) / "key"))
    setup_s = time.perf_counter() - t0
    print(f"{name}: {n} fans set up in {setup_s:.1f}s", flush=True)
    runs: list[dict[str, Any]] = []
    for i in range(repeat):
        if i:
            _empty_outbox(engine)
        out = subprocess.run(
            [sys.executable, "-m", "bench.enqueue_bench", "_one", url, account_id],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT.parent,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{name}: run {i + 1}: {runs[-1]['seconds']:.2f}s", flush=True)
    # the run of median time stands for the database; every run's time is kept
    r = sorted(runs, key=lambda x: x["seconds"])[len(runs) // 2]
    plan = explain(engine, account_id) if engine.dialect.name == "postgresql" else []
    engine.dispose()
    expected = n - n // 1000
    assert r["queued"] == expected, (r["queued"], expected)
    result = {
        "database": name,
        "fans": n,
        "queued": r["queued"],
        "skipped": r["skipped"],
        "seconds": round(r["seconds"], 2),
        "runs_seconds": [round(x["seconds"], 2) for x in runs],
        "msg_per_s": round(r["queued"] / r["seconds"]),
        "commit_seconds": r["commit_seconds"],
        "peak_rss_mb": r["peak_rss_mb"],
        "rss_before_mb": r["rss_before_mb"],
        "statements": r["statements"],
        "samples": r["samples"],
        "fan_setup_seconds": round(setup_s, 1),
    }
    if plan:
        result["explain_analyze_insert"] = plan
    print(json.dumps(result, indent=2), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fans", type=int, default=1_000_000)
    parser.add_argument(
        "--pg",
        default=os.environ.get("HUNTAZE_TEST_DATABASE_URL")
        or "postgresql+psycopg://root@127.0.0.1:5432/test",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per database")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true")
    only.add_argument("--postgresql-only", action="store_true")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.postgresql_only:
            results.append(
                bench_database("sqlite", f"sqlite:///{tmp}/enqueue.db", args.fans, tmp, args.repeat)
            )
        if not args.sqlite_only:
            admin = make_engine(args.pg)
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
            try:
                sep = "&" if "?" in args.pg else "?"
                url = f"{args.pg}{sep}options=-csearch_path%3D{SCHEMA}"
                results.append(bench_database("postgresql", url, args.fans, tmp, args.repeat))
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                admin.dispose()
    out = {
        "benchmark": "enqueue",
        "command": " ".join(["python -m bench.enqueue_bench", *sys.argv[1:]]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "source": source_state(),
        "template": TEMPLATE,
        "target_seconds": TARGET_SECONDS,
        "results": results,
    }
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "enqueue.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_one":
        sys.stdout.write(json.dumps(one(sys.argv[2], sys.argv[3])) + "\n")
    else:
        main()
