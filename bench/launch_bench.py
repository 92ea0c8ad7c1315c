"""Benchmark: launching a campaign to 1,000,000 fans (issue 11: ≤ 15 s on both databases).

Setup, per database (not timed), as ``bench/enqueue_bench.py`` builds it: one creator with N
OnlyFans fans (one in a thousand opted out) and one ``noop`` sending account; then a dynamic
segment naming every OnlyFans fan with a lifetime value of 0 or more, and a draft campaign
to it with the template ``Hi {firstName}, new set from {city}!``.

Timed, in a fresh process: ``POST /start``'s use case (``campaigns.actions.start``): the
segment's criteria compiled and evaluated, the skips counted (opted out, no channel, already
messaged), one ``INSERT … SELECT`` per platform, including the commit; ``--repeat`` runs
(the outbox emptied and the campaign back to draft between them), the median reported. The
anchor in the same run is ``queue_bulk`` over the same fans (the enqueue benchmark's call):
what the campaign's audience resolution and counting add to the bare fan-out.

DuckDB and Polars then do the same fan-out on the same fans, in this process
(:mod:`bench.fanout_anchors`): the opted-out count and one rendered outbox row per other
fan, DuckDB into a constrained table in a database file, Polars into a DataFrame in memory.
They must queue what Huntaze queued.

Usage: python -m bench.launch_bench [--fans N] [--repeat 3] [--pg URL] [--sqlite-only]
[--no-anchors]
Writes bench/results/launch.json.
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
from pathlib import Path
from typing import Any

from sqlalchemy import text, update

from bench import fanout_anchors
from bench.drain_setup import source_state
from bench.enqueue_bench import TEMPLATE, _empty_outbox, _settle, _setup
from bench.enqueue_bench import one as bulk_one
from huntaze.campaigns import actions
from huntaze.campaigns.schemas import CampaignIn, ContentIn
from huntaze.campaigns.service import create_campaign
from huntaze.db.engine import make_engine, make_sessionmaker
from huntaze.kit.clock import SystemClock
from huntaze.models.campaigns import Campaign
from huntaze.segments.schemas import SegmentIn
from huntaze.segments.service import create_segment

ROOT = Path(__file__).resolve().parent
SCHEMA = "hz_launch"
TARGET_SECONDS = 15
CRITERIA = {
    "all": [
        {"field": "platform", "op": "eq", "value": "onlyfans"},
        {"field": "lifetimeValueCents", "op": "gte", "value": 0},
    ]
}


def _campaign(url: str, creator_id: str) -> str:
    """The segment and the draft campaign (not timed)."""
    engine = make_engine(url)
    now = SystemClock().now()
    with make_sessionmaker(engine)() as session:
        seg = create_segment(
            session, creator_id, SegmentIn(name="everyone", criteria=CRITERIA), now
        )
        campaign = create_campaign(
            session,
            creator_id,
            CampaignIn(
                name="bench",
                platforms=["onlyfans"],
                segment_ids=[seg.id],
                content={"default": ContentIn(text=TEMPLATE)},
            ),
            now,
        )
        session.commit()
        campaign_id = campaign.id
    engine.dispose()
    return campaign_id


def one(url: str, creator_id: str, campaign_id: str) -> dict[str, Any]:
    """The measured launch, in this (fresh) process."""
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with factory() as warm:  # connect outside the timing
        warm.execute(text("SELECT 1"))
    started = time.perf_counter()
    with factory() as session:
        campaign = actions.start(session, creator_id, campaign_id, SystemClock().now())
        report = dict(campaign.launch)
        session.commit()
    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "seconds": seconds,
        "queued": report["queued"],
        "skipped": report["skipped"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _reset(url: str, campaign_id: str) -> None:
    engine = make_engine(url)
    _empty_outbox(engine)
    with engine.begin() as conn:
        conn.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(status="draft", launch={}, started_at=None)
        )
    _settle(engine)
    engine.dispose()


def bench_database(name: str, url: str, n: int, tmp: str, repeat: int) -> dict[str, Any]:
    """Set up, then time ``repeat`` launches and ``repeat`` bulks, alternating, each in a
    fresh process on an emptied outbox; report the medians."""
    engine = make_engine(url)
    creator_id, account_id = _setup(engine, n, str(Path(tmp) / "key"))
    engine.dispose()
    campaign_id = _campaign(url, creator_id)
    launches: list[dict[str, Any]] = []
    bulks: list[float] = []
    for i in range(repeat):
        _reset(url, campaign_id)
        out = subprocess.run(
            [sys.executable, "-m", "bench.launch_bench", "_one", url, creator_id, campaign_id],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT.parent,
        )
        launches.append(json.loads(out.stdout.strip().splitlines()[-1]))
        _reset(url, campaign_id)
        out = subprocess.run(
            [sys.executable, "-m", "bench.launch_bench", "_bulk", url, account_id],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT.parent,
        )
        bulks.append(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])
        print(
            f"{name}: run {i + 1}: launch {launches[-1]['seconds']:.2f}s, bulk {bulks[-1]:.2f}s",
            flush=True,
        )
    _reset(url, campaign_id)
    median = sorted(launches, key=lambda x: x["seconds"])[len(launches) // 2]
    bulk = sorted(bulks)[len(bulks) // 2]
    expected = n - n // 1000
    assert median["queued"] == expected, (median["queued"], expected)
    result = {
        "database": name,
        "fans": n,
        "queued": median["queued"],
        "skipped": median["skipped"],
        "seconds": round(median["seconds"], 2),
        "runs_seconds": [round(x["seconds"], 2) for x in launches],
        "msg_per_s": round(median["queued"] / median["seconds"]),
        "peak_rss_mb": median["peak_rss_mb"],
        "bulk_seconds": round(bulk, 2),
        "bulk_runs_seconds": [round(x, 2) for x in bulks],
        "launch_vs_bulk": round(median["seconds"] / bulk, 2),
    }
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
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--no-anchors", action="store_true", help="skip DuckDB and Polars")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(
            bench_database("sqlite", f"sqlite:///{tmp}/launch.db", args.fans, tmp, args.repeat)
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
    anchors = {} if args.no_anchors else fanout_anchors.anchors(args.fans, args.repeat)
    for r in results:
        for name, a in anchors.items():
            assert a["queued"] == r["queued"], (name, a["queued"], r["database"], r["queued"])
            r[f"vs_{name}"] = round(r["seconds"] / a["seconds"], 1)
    out = {
        "benchmark": "launch",
        "command": " ".join(["python -m bench.launch_bench", *sys.argv[1:]]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "source": source_state(),
        "template": TEMPLATE,
        "target_seconds": TARGET_SECONDS,
        "results": results,
        "anchors": anchors,
    }
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "launch.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_one":
        sys.stdout.write(json.dumps(one(sys.argv[2], sys.argv[3], sys.argv[4])) + "\n")
    elif len(sys.argv) > 1 and sys.argv[1] == "_bulk":
        sys.stdout.write(json.dumps(bulk_one(sys.argv[2], sys.argv[3])) + "\n")
    else:
        main()
