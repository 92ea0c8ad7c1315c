"""Benchmark: the fan list (``GET /api/crm/fans``) of a creator with 1,000,000 fans.

Per database (a SQLite file; a PostgreSQL schema of its own, ``bench_fanlist``):

- Setup, not timed against the targets: the schema by the migrations, one creator with
  ``--fans`` fans and a second creator with a tenth as many (so that every query has to
  find its creator's rows), generated in the database by one ``INSERT … SELECT`` each
  (a recursive CTE on SQLite, ``generate_series`` on PostgreSQL) with the secondary
  indexes dropped and built after the load; tags ``VIP`` on 10% of the fans, ``Fans`` on
  a third and ``whale`` on 1%; then ``ANALYZE``.
- Huntaze's real API served by uvicorn in a subprocess on 127.0.0.1
  (``bench.fanlist_server:huntaze_app``, the app ``huntaze serve --no-worker`` runs, one
  process, default logging), and, in the same run, a bare FastAPI app with one route that
  returns the same JSON body as a page (``bench.fanlist_server:bare_app``), served alike.
- Clients: httpx ``AsyncClient`` with keep-alive, 1 client (requests one after another)
  and 32 clients (32 connections, each sending its next request when the previous answered);
  ``--requests`` at 1 client and 8 times as many at 32, or as many as answer within 30 s.
  Latency is measured per request, from send to the whole body read; throughput is requests
  answered over the wall time of the 32-client run.
- Also measured: ``GET /api/me`` (Huntaze's floor for any authenticated request: the token
  lookup, the middleware and the dependencies, no fan list) and the server process's CPU
  time per request.
- Cases: each of the 14 sorts (7 columns, both directions), first page and a deep page (the
  cursor of the row half-way down the sorted list, read once with ``OFFSET`` at setup);
  filtered searches (``bench.fanlist_data.CASES_FILTERED``), first page and the page after
  following 20 cursors. 50 fans a page. On PostgreSQL, the ``q`` searches again with
  ``pg_trgm`` GIN indexes built for the experiment (dropped after).

Writes bench/results/fanlist.json; ``python -m bench.fanlist_report`` renders it into
docs/benchmarks.md.

Usage: python -m bench.fanlist_bench [--fans 1000000] [--requests 200] [--pg URL]
       [--sqlite-only | --postgresql-only]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, text

from bench.fanlist_client import Server, follow, measure
from bench.fanlist_data import CASES_FILTERED, SORTS, deep_cursor, load_fans
from huntaze.auth.tokens import create_token_for
from huntaze.db.engine import make_engine, make_sessionmaker, normalise_url
from huntaze.db.migrate import upgrade

ROOT = Path(__file__).resolve().parent
SCHEMA = "bench_fanlist"
LIMIT = 50
TARGET_P99_MS = 50
TARGET_THROUGHPUT_SHARE = 0.5


def _settle(engine: Engine) -> None:
    """Statistics, then the load's writes flushed, so measurements do not pay for them."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("VACUUM ANALYZE"))
            conn.execute(text("CHECKPOINT"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").close()
    os.sync()


def _cases(
    server: Server,
    headers: dict[str, str],
    deep: dict[str, str],
    filtered: dict[str, dict[str, str]],
    requests: int,
    name: str,
) -> list[dict[str, Any]]:
    """Measure each sort (first and deep page) and each filtered search (first page and the
    page after 20 cursors)."""
    cases: list[dict[str, Any]] = []
    plans: list[tuple[str, str, dict[str, Any]]] = []
    for sort, cursor in deep.items():
        plans.append((f"sort={sort}", "first", {"sort": sort, "limit": LIMIT}))
        plans.append((f"sort={sort}", "deep", {"sort": sort, "limit": LIMIT, "cursor": cursor}))
    for label, flt in filtered.items():
        params = {**flt, "limit": LIMIT}
        after = follow(server.url, headers, params, 20)
        plans.append((label, "first", params))
        plans.append((label, "deep", {**params, **({"cursor": after} if after else {})}))
    for label, depth, params in plans:
        runs = measure(server, "/api/crm/fans", params, headers, requests)
        cases.append({"case": label, "page": depth, "runs": runs})
        print(name, cases[-1], flush=True)
    return cases


def _trigram_experiment(
    engine: Engine, server: Server, headers: dict[str, str], requests: int
) -> dict[str, Any]:
    """PostgreSQL only: would pg_trgm GIN indexes serve ``q``? Build them, measure the ``q``
    cases again, drop them. Not part of Huntaze's schema."""
    with engine.connect() as conn:
        available = conn.execute(
            text("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'")
        ).scalar_one()
    if not available:
        return {"available": False}
    columns = ("username", "display_name", "email")
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        for column in columns:
            conn.execute(
                text(f"CREATE INDEX bench_trgm_{column} ON fans USING gin ({column} gin_trgm_ops)")
            )
    build_s = round(time.perf_counter() - started, 1)
    _settle(engine)
    with engine.connect() as conn:
        size_mb = conn.execute(
            text(
                "SELECT sum(pg_relation_size(c.oid)) / 1e6 FROM pg_class c "
                "WHERE c.relname LIKE 'bench_trgm_%' AND c.relnamespace = "
                "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
            )
        ).scalar_one()
    q_cases = {k: v for k, v in CASES_FILTERED.items() if "q" in v}
    try:
        cases = _cases(server, headers, {}, q_cases, requests, "postgresql+pg_trgm")
    finally:
        with engine.begin() as conn:
            for column in columns:
                conn.execute(text(f"DROP INDEX bench_trgm_{column}"))
    return {
        "available": True,
        "indexes": [f"gin ({c} gin_trgm_ops)" for c in columns],
        "build_seconds": build_s,
        "size_mb": round(float(size_mb), 1),
        "cases": cases,
    }


def _plans(engine: Engine, creator_id: str) -> dict[str, list[str]]:
    """The plan of each filtered search's first statement, and of two sorts', as the API runs
    them (captured from the engine, then explained; PostgreSQL: ``EXPLAIN ANALYZE``)."""
    from sqlalchemy import event

    from huntaze.fans.schemas import AudienceFilter
    from huntaze.fans.service import list_fans

    cases: dict[str, dict[str, str]] = {"sort=-createdAt": {}, "sort=lastActiveAt": {}}
    cases |= CASES_FILTERED
    found: dict[str, list[str]] = {}
    for label, params in cases.items():
        seen: list[tuple[str, Any]] = []

        def grab(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
            if statement.lstrip().startswith("SELECT fans.id"):
                seen.append((statement, parameters))  # noqa: B023 - read right after

        event.listen(engine, "before_cursor_execute", grab)
        try:
            with make_sessionmaker(engine)() as session:
                sort = label.split("=", 1)[1] if label.startswith("sort=") else "-createdAt"
                flt = AudienceFilter(q=params.get("q"), tag=params.get("tag"))
                list_fans(session, creator_id, flt, sort=sort, limit=LIMIT)
        finally:
            event.remove(engine, "before_cursor_execute", grab)
        statement, parameters = seen[0]
        explain = "EXPLAIN ANALYZE" if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(f"{explain} {statement}", parameters).all()
        found[label] = [str(r[-1]) for r in rows]
    return found


def bench_database(name: str, url: str, fans: int, requests: int, tmp: Path) -> dict[str, Any]:
    """Set up ``fans`` fans on ``url``, serve Huntaze and the bare app, measure every case."""
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    with make_sessionmaker(engine)() as session:
        issued = create_token_for(session, "fanlist-bench", now, role="owner")
        other = create_token_for(session, "fanlist-other", now, role="owner")
        session.commit()
    creator_id, other_id = str(issued.creator_id), str(other.creator_id)
    started = time.perf_counter()
    load_fans(engine, {creator_id: fans, other_id: max(1, fans // 10)})
    _settle(engine)
    setup_s = round(time.perf_counter() - started, 1)
    print(f"{name}: {fans:,} fans loaded in {setup_s} s", flush=True)
    deep = {
        sort: deep_cursor(engine, creator_id, sort, fans // 2)
        for sort in [s for key in SORTS for s in (key, f"-{key}")]
    }
    plans = _plans(engine, creator_id)
    headers = {"Authorization": f"Bearer {issued.secret}"}
    server = Server(
        "bench.fanlist_server:huntaze_app",
        {"HUNTAZE_DATABASE_URL": url, "HUNTAZE_SECRET_KEY_FILE": str(tmp / "key")},
        tmp / f"{name}_server.log",
    )
    trigram: dict[str, Any] | None = None
    try:
        server.wait("/api/health")
        page = httpx.get(
            server.url + "/api/crm/fans", headers=headers, params={"limit": LIMIT}, timeout=60
        )
        page.raise_for_status()
        body_path = tmp / f"{name}_page.json"
        body_path.write_bytes(page.content)
        cases = _cases(server, headers, deep, CASES_FILTERED, requests, name)
        # Huntaze's floor for any authenticated GET: auth, middleware, dependencies
        floor = measure(server, "/api/me", {}, headers, requests)
        print(name, "floor /api/me", floor, flush=True)
        if engine.dialect.name == "postgresql":
            trigram = _trigram_experiment(engine, server, headers, requests)
    finally:
        server.stop()
        engine.dispose()
    bare = Server(
        "bench.fanlist_server:bare_app",
        {"FANLIST_BARE_BODY": str(body_path)},
        tmp / f"{name}_bare.log",
    )
    try:
        bare.wait("/page")
        bare_runs = measure(bare, "/page", {}, {}, requests)
    finally:
        bare.stop()
    print(name, "bare", bare_runs, flush=True)
    result = _summary(name, fans, setup_s, len(page.content), cases, bare_runs)
    result["floor_api_me"] = floor
    result["plans"] = plans
    if trigram is not None:
        _summary(name, fans, setup_s, len(page.content), trigram.get("cases", []), bare_runs)
        result["pg_trgm_experiment"] = trigram
    return result


def _summary(
    name: str,
    fans: int,
    setup_s: float,
    body_bytes: int,
    cases: list[dict[str, Any]],
    bare_runs: list[dict[str, Any]],
) -> dict[str, Any]:
    bare_rps = next(r["requests_per_s"] for r in bare_runs if r["clients"] == 32)
    for case in cases:
        one = next(r for r in case["runs"] if r["clients"] == 1)
        many = next(r for r in case["runs"] if r["clients"] == 32)
        case["p99_target_met"] = one["p99_ms"] <= TARGET_P99_MS
        case["throughput_vs_bare"] = round(many["requests_per_s"] / bare_rps, 2)
        case["throughput_target_met"] = case["throughput_vs_bare"] >= TARGET_THROUGHPUT_SHARE
    return {
        "database": name,
        "fans": fans,
        "setup_seconds": setup_s,
        "page_bytes": body_bytes,
        "bare": bare_runs,
        "cases": cases,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fans", type=int, default=1_000_000)
    parser.add_argument(
        "--requests", type=int, default=200, help="requests per case at 1 client (x8 at 32)"
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("HUNTAZE_TEST_DATABASE_URL")
        or "postgresql+psycopg://root@127.0.0.1:5432/test",
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true")
    only.add_argument("--postgresql-only", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()
    results: list[dict[str, Any]] = []

    def write() -> None:  # after each database, so a failure later keeps what was measured
        out = {
            "benchmark": "fanlist",
            "command": (
                f"python -m bench.fanlist_bench --fans {args.fans} --requests {args.requests}"
            ),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "load_average_at_start": [round(x, 2) for x in load],
                "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            },
            "page_size": LIMIT,
            "targets": {
                "p99_ms_at_1_client": TARGET_P99_MS,
                "throughput_share_of_bare_at_32_clients": TARGET_THROUGHPUT_SHARE,
            },
            "results": results,
        }
        (ROOT / "results").mkdir(exist_ok=True)
        (ROOT / "results" / "fanlist.json").write_text(json.dumps(out, indent=2) + "\n")

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if not args.postgresql_only:
            url = f"sqlite:///{tmp / 'fanlist.db'}"
            results.append(bench_database("sqlite", url, args.fans, args.requests, tmp))
            write()
        if not args.sqlite_only:
            admin = make_engine(args.pg)
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
            admin.dispose()
            base = normalise_url(args.pg)
            url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{SCHEMA}"
            try:
                results.append(bench_database("postgresql", url, args.fans, args.requests, tmp))
                write()
            finally:
                admin = make_engine(args.pg)
                with admin.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                admin.dispose()


if __name__ == "__main__":
    main()
