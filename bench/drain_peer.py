"""The drain benchmark's peer: procrastinate draining N no-op jobs on PostgreSQL (see
bench/drain_bench.py). Run as a child: ``python -m bench.drain_peer CONNINFO``."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from typing import Any

from bench.drain_setup import RUN_TIMEOUT, children, with_schema
from bench.drain_setup import conninfo as to_conninfo

PEER_SCHEMA = "hz_drain_proc"


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


def _peer_run(target: str, n: int, workers: int, fresh: bool) -> dict[str, Any]:
    import psycopg

    started = time.perf_counter()
    _peer_seed(target, n, fresh=fresh)
    seed_s = time.perf_counter() - started
    spawned = time.perf_counter()
    children("bench.drain_peer", [[target]] * workers, RUN_TIMEOUT + 60)
    wall = time.perf_counter() - spawned
    with psycopg.connect(target) as conn:
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
    conninfo = to_conninfo(with_schema(base_url, PEER_SCHEMA))
    with psycopg.connect(to_conninfo(base_url), autocommit=True) as conn:
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
        with psycopg.connect(to_conninfo(base_url), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {PEER_SCHEMA} CASCADE")
    return out


if __name__ == "__main__":
    sys.stdout.write(json.dumps(peer_child(sys.argv[1])) + "\n")
