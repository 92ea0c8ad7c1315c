"""Benchmark: segments over 1,000,000 fans and 10,000,000 events (issue 11: within 10x of
DuckDB).

Data (:mod:`bench.segments_data`): 1,000,000 fans, 8,000,000 purchases and 2,000,000
inbound messages with a whale-heavy skew, the same values in every engine. Five segment
definitions, written once in Huntaze's criteria language and once by hand in DuckDB's SQL
and in Polars' expressions: a win-back (seed 000), "2 or more PPV purchases in 30 days",
high spenders over 90 days, fans who wrote 3 or more messages this week, and loyal active
subscribers.

Timed, per engine and definition, after one warm-up: the count, and the member list (every
member's id fetched into Python); the median of ``--repeat`` runs. Huntaze runs the SQL its
compiler makes (``segments.audience.audience``) on SQLite and on PostgreSQL, through
SQLAlchemy, the database on disk with warm caches; beside it, each database runs the same
definitions written by hand in SQL (``HAND_SQL``, "sqlite_sql" and "postgresql_sql"): what
the engine takes for the question without the compiler. DuckDB and Polars run in memory, in
this process, on Arrow tables of the same data. Every engine must find the same members.

Usage: python -m bench.segments_bench [--fans N] [--repeat 3] [--pg URL] [--sqlite-only]
Writes bench/results/segments.json.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, bindparam, func, select, text

from bench.drain_setup import source_state
from bench.enqueue_bench import _settle
from bench.segments_data import generate, load
from huntaze.auth.tokens import get_or_create_creator
from huntaze.db.engine import make_engine, make_sessionmaker
from huntaze.db.migrate import upgrade
from huntaze.models.crm import Fan
from huntaze.segments.audience import audience

if TYPE_CHECKING:
    import polars as pl

ROOT = Path(__file__).resolve().parent
SCHEMA = "hz_segments"
TARGET_RATIO = 10


def _c(field: str, op: str, value: Any, **params: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value, **params}


#: The definitions in Huntaze's criteria language.
CRITERIA: dict[str, Any] = {
    "win_back": {
        "all": [_c("daysSinceLastActivity", "gte", 30), _c("lifetimeValueCents", "gt", 2000)]
    },
    "ppv_2_in_30_days": _c("purchaseCount", "gte", 2, kind="ppv", withinDays=30),
    "spent_100_in_90_days": _c("spendCents", "gte", 10_000, withinDays=90),
    "wrote_3_this_week": _c("messageCount", "gte", 3, direction="inbound", withinDays=7),
    "loyal_active": {
        "all": [
            _c("subscriptionStatus", "eq", "active"),
            _c("daysSubscribed", "between", [180, 400]),
            _c("platform", "eq", "onlyfans"),
        ]
    },
}

#: The same definitions in DuckDB's SQL; ``$now`` is the instant Huntaze measures from.
DUCKDB: dict[str, str] = {
    "win_back": "SELECT id FROM fans WHERE coalesce(last_active_at, created_at)"
    " <= $now - INTERVAL 30 DAY AND lifetime_value_cents > 2000",
    "ppv_2_in_30_days": "SELECT fan_id FROM purchases WHERE kind IN ('ppv_message', 'ppv_post')"
    " AND purchased_at >= $now - INTERVAL 30 DAY GROUP BY fan_id HAVING count(*) >= 2",
    "spent_100_in_90_days": "SELECT fan_id FROM purchases WHERE purchased_at >= $now -"
    " INTERVAL 90 DAY GROUP BY fan_id HAVING sum(net_cents) >= 10000",
    "wrote_3_this_week": "SELECT fan_id FROM messages WHERE direction = 'inbound' AND sent_at"
    " >= $now - INTERVAL 7 DAY GROUP BY fan_id HAVING count(*) >= 3",
    "loyal_active": "SELECT id FROM fans WHERE subscription_status = 'active' AND platform ="
    " 'onlyfans' AND subscribed_at <= $now - INTERVAL 180 DAY"
    " AND subscribed_at > $now - INTERVAL 401 DAY",
}


#: The same definitions by hand in SQL both databases run, from the tables alone (like
#: DuckDB's: the fans table only where a definition reads it): what the engine itself takes
#: for the question, without the criteria compiler's statement around it.
HAND_SQL: dict[str, str] = {
    "win_back": "SELECT id FROM fans WHERE creator_id = :creator AND coalesce(last_active_at,"
    " created_at) <= :since_30 AND lifetime_value_cents > 2000",
    "ppv_2_in_30_days": "SELECT fan_id FROM purchases WHERE creator_id = :creator AND kind IN"
    " ('ppv_message', 'ppv_post') AND purchased_at >= :since_30 GROUP BY fan_id"
    " HAVING count(*) >= 2",
    "spent_100_in_90_days": "SELECT fan_id FROM purchases WHERE creator_id = :creator AND"
    " purchased_at >= :since_90 GROUP BY fan_id HAVING sum(net_cents) >= 10000",
    "wrote_3_this_week": "SELECT fan_id FROM messages WHERE creator_id = :creator AND"
    " direction = 'inbound' AND sent_at >= :since_7 GROUP BY fan_id HAVING count(*) >= 3",
    "loyal_active": "SELECT id FROM fans WHERE creator_id = :creator AND subscription_status ="
    " 'active' AND platform = 'onlyfans' AND subscribed_at <= :since_180"
    " AND subscribed_at > :since_401",
}


def _polars(name: str, frames: dict[str, pl.LazyFrame], now: datetime) -> pl.LazyFrame:
    """The definition ``name`` as a Polars query giving one column of fan ids."""
    import polars as pl  # the anchors load only when the benchmark runs (the bench extra)

    fans, purchases, messages = frames["fans"], frames["purchases"], frames["messages"]
    day = timedelta(days=1)
    if name == "win_back":
        seen = pl.coalesce("last_active_at", "created_at")
        return fans.filter((seen <= now - 30 * day) & (pl.col("lifetime_value_cents") > 2000))
    if name == "ppv_2_in_30_days":
        return (
            purchases.filter(
                pl.col("kind").is_in(["ppv_message", "ppv_post"])
                & (pl.col("purchased_at") >= now - 30 * day)
            )
            .group_by("fan_id")
            .agg(pl.len().alias("n"))
            .filter(pl.col("n") >= 2)
        )
    if name == "spent_100_in_90_days":
        return (
            purchases.filter(pl.col("purchased_at") >= now - 90 * day)
            .group_by("fan_id")
            .agg(pl.col("net_cents").sum().alias("s"))
            .filter(pl.col("s") >= 10_000)
        )
    if name == "wrote_3_this_week":
        return (
            messages.filter(
                (pl.col("direction") == "inbound") & (pl.col("sent_at") >= now - 7 * day)
            )
            .group_by("fan_id")
            .agg(pl.len().alias("n"))
            .filter(pl.col("n") >= 3)
        )
    return fans.filter(
        (pl.col("subscription_status") == "active")
        & (pl.col("platform") == "onlyfans")
        & (pl.col("subscribed_at") <= now - 180 * day)
        & (pl.col("subscribed_at") > now - 401 * day)
    )


def _timed(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The median seconds of ``repeat`` runs after a warm-up, and the last result."""
    result = run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def bench_duckdb(tables: dict[str, Any], now: datetime, repeat: int) -> dict[str, Any]:
    """DuckDB's times and members, in memory, on tables made from the Arrow ones."""
    import duckdb

    con = duckdb.connect()
    for name, table in tables.items():
        con.register(f"arrow_{name}", table)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM arrow_{name}")
        con.unregister(f"arrow_{name}")
    out: dict[str, Any] = {}
    for name, sql in DUCKDB.items():
        count_sql = f"SELECT count(*) FROM ({sql})"
        count_s, count = _timed(lambda q=count_sql: con.execute(q, {"now": now}).fetchone(), repeat)
        list_s, ids = _timed(lambda q=sql: con.execute(q, {"now": now}).fetchall(), repeat)
        out[name] = {
            "count": int(count[0]),
            "count_seconds": count_s,
            "list_seconds": list_s,
            "ids": sorted(r[0] for r in ids),
        }
    con.close()
    return out


def bench_polars(tables: dict[str, Any], now: datetime, repeat: int) -> dict[str, Any]:
    """Polars' times and members, lazy queries over frames collected once."""
    import polars as pl

    frames = {name: pl.from_arrow(t).lazy() for name, t in tables.items()}  # type: ignore[union-attr]
    frames = {name: f.collect().lazy() for name, f in frames.items()}  # materialised once
    out: dict[str, Any] = {}
    for name in DUCKDB:
        query = _polars(name, frames, now)
        key = query.collect_schema().names()[0]
        count_s, count = _timed(lambda q=query: q.select(pl.len()).collect().item(), repeat)
        list_s, ids = _timed(lambda q=query, k=key: q.select(k).collect()[k].to_list(), repeat)
        out[name] = {
            "count": int(count),
            "count_seconds": count_s,
            "list_seconds": list_s,
            "ids": sorted(ids),
        }
    return out


def bench_huntaze(engine: Engine, creator_id: str, now: datetime, repeat: int) -> dict[str, Any]:
    factory = make_sessionmaker(engine)
    out: dict[str, Any] = {}
    for name, criteria in CRITERIA.items():
        with factory() as session:

            def count(c: Any = criteria, s: Any = session) -> int:
                conds = audience(s, creator_id, c, now)
                return int(s.scalar(select(func.count()).select_from(Fan).where(*conds)) or 0)

            def members(c: Any = criteria, s: Any = session) -> list[str]:
                conds = audience(s, creator_id, c, now)
                return list(s.scalars(select(Fan.id).where(*conds)))

            count_s, n = _timed(count, repeat)
            list_s, ids = _timed(members, repeat)
        out[name] = {
            "count": n,
            "count_seconds": count_s,
            "list_seconds": list_s,
            "ids": sorted(ids),
        }
    return out


def bench_hand_sql(engine: Engine, creator_id: str, now: datetime, repeat: int) -> dict[str, Any]:
    """Per definition of :data:`HAND_SQL` on ``engine``: ``count_seconds`` and
    ``list_seconds`` (medians of ``repeat`` runs after a warm-up, as :func:`_timed`), the
    count and the sorted member ids. The instants are bound with the columns' own type, so
    they compare as the stored values do."""
    stamp = Fan.__table__.c.created_at.type
    params: dict[str, Any] = {"creator": creator_id}
    params |= {f"since_{d}": now - timedelta(days=d) for d in (7, 30, 90, 180, 401)}
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for name, sql in HAND_SQL.items():
            names = [k for k in params if f":{k}" in sql]
            stamps = [bindparam(k, type_=stamp) for k in names if k.startswith("since_")]
            query = text(sql).bindparams(*stamps)
            counted = text(f"SELECT count(*) FROM ({sql}) AS q").bindparams(*stamps)
            bound = {k: params[k] for k in names}
            count_s, n = _timed(lambda q=counted, b=bound: conn.scalar(q, b), repeat)
            list_s, ids = _timed(lambda q=query, b=bound: list(conn.scalars(q, b)), repeat)
            out[name] = {
                "count": int(n or 0),
                "count_seconds": count_s,
                "list_seconds": list_s,
                "ids": sorted(ids),
            }
    return out


def _database(name: str, url: str, tables: dict[str, Any], now: datetime, repeat: int) -> Any:
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as session:
        creator_id = get_or_create_creator(session, "segments-bench", now).id
        session.commit()
    started = time.perf_counter()
    load(engine, creator_id, tables)
    _settle(engine)
    print(f"{name}: loaded in {time.perf_counter() - started:.0f}s", flush=True)
    result = bench_huntaze(engine, creator_id, now, repeat)
    hand = bench_hand_sql(engine, creator_id, now, repeat)
    engine.dispose()
    return result, hand


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fans", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--pg",
        default=os.environ.get("HUNTAZE_TEST_DATABASE_URL")
        or "postgresql+psycopg://root@127.0.0.1:5432/test",
    )
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    purchases = args.events * 4 // 5
    tables = generate(args.fans, purchases, args.events - purchases, now)
    print(f"generated {args.fans:,} fans and {args.events:,} events", flush=True)
    engines: dict[str, dict[str, Any]] = {
        "duckdb": bench_duckdb(tables, now, args.repeat),
        "polars": bench_polars(tables, now, args.repeat),
    }
    print("duckdb and polars done", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        engines["sqlite"], engines["sqlite_sql"] = _database(
            "sqlite", f"sqlite:///{tmp}/segments.db", tables, now, args.repeat
        )
    if not args.sqlite_only:
        admin = make_engine(args.pg)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        try:
            sep = "&" if "?" in args.pg else "?"
            url = f"{args.pg}{sep}options=-csearch_path%3D{SCHEMA}"
            engines["postgresql"], engines["postgresql_sql"] = _database(
                "postgresql", url, tables, now, args.repeat
            )
        finally:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            admin.dispose()
    definitions = []
    for name in CRITERIA:
        reference = engines["duckdb"][name]
        row: dict[str, Any] = {
            "name": name,
            "criteria": CRITERIA[name],
            "members": reference["count"],
        }
        for engine_name, results in engines.items():
            r = results[name]
            assert r["count"] == reference["count"], (name, engine_name, r["count"])
            assert r["ids"] == reference["ids"], (name, engine_name)
            row[engine_name] = {
                "count_seconds": round(r["count_seconds"], 4),
                "list_seconds": round(r["list_seconds"], 4),
            }
        for engine_name in ("sqlite", "postgresql", "sqlite_sql", "postgresql_sql"):
            if engine_name in row:
                row[engine_name]["count_vs_duckdb"] = round(
                    row[engine_name]["count_seconds"] / row["duckdb"]["count_seconds"], 1
                )
                row[engine_name]["list_vs_duckdb"] = round(
                    row[engine_name]["list_seconds"] / row["duckdb"]["list_seconds"], 1
                )
        definitions.append(row)
        print(json.dumps(row), flush=True)
    out = {
        "benchmark": "segments",
        "command": " ".join(["python -m bench.segments_bench", *sys.argv[1:]]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "source": source_state(),
        "fans": args.fans,
        "purchases": purchases,
        "messages": args.events - purchases,
        "versions": {
            "duckdb": importlib.metadata.version("duckdb"),
            "polars": importlib.metadata.version("polars"),
        },
        "target_ratio": TARGET_RATIO,
        "definitions": definitions,
    }
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "segments.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
