"""Benchmark: import a generated 1,000,000-row Patreon Members CSV into SQLite and PostgreSQL.

For each database, in the same run: Huntaze's first import, a re-import of the same file,
and the ceiling (plain csv + executemany on SQLite, COPY on PostgreSQL), in ``--repeat``
rounds (3 by default), each on a fresh database; each measurement's median run is reported,
and each ratio (to the ceiling, first import to re-import) is the median of the rounds' own.
Each measurement runs in its own process, so peak RSS is that import's alone. Writes
bench/results/import.json.

Usage: python -m bench.import_bench [--rows N] [--repeat R] [--pg URL] [--sqlite-only]
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.gen_patreon import generate
from huntaze.auth.tokens import get_or_create_creator
from huntaze.db.engine import make_engine, make_sessionmaker
from huntaze.db.migrate import upgrade
from huntaze.kit.clock import SystemClock

ROOT = Path(__file__).resolve().parent
LISTMONK_ROWS_PER_S = 10_000  # listmonk's published import rate (~10k rows/s)


def _run(kind: str, url: str, path: Path, creator_id: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.import_one", kind, url, str(path), creator_id],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT.parent,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _prepare(url: str, pg: bool) -> str:
    engine = make_engine(url)
    if pg:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS hz_bench CASCADE"))
            conn.execute(text("CREATE SCHEMA hz_bench"))
    engine.dispose()
    return url


def _round(url: str, path: Path, rows: int) -> tuple[dict[str, Any], ...]:
    """One round on a fresh database: the first import, the re-import, the ceiling, and the
    stored shape (the database alone loading the rows the first import stored)."""
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as session:
        creator = get_or_create_creator(session, "bench", SystemClock().now())
        session.commit()
        creator_id = creator.id
    engine.dispose()
    first = _run("huntaze", url, path, creator_id)
    again = _run("huntaze", url, path, creator_id)
    ceil = _run("ceiling", url, path, creator_id)
    shape = _run("shape", url, path, creator_id)
    assert first["report"]["inserted"] == rows, first
    assert again["report"]["unchanged"] == rows, again
    assert shape["rows"] == rows, shape
    return first, again, ceil, shape


def _median_round(rounds: list[tuple[dict[str, Any], ...]]) -> tuple[dict[str, Any], ...]:
    """Per measurement (first, re-import, ceiling, shape), the run with the median time."""
    picked = []
    for i in range(4):
        runs = sorted((r[i] for r in rounds), key=lambda run: run["seconds"])
        picked.append(runs[len(runs) // 2])
    return tuple(picked)


def _median_ratio(rounds: list[tuple[dict[str, Any], ...]], top: int, bottom: int) -> float:
    """The median over rounds of one measurement's time over another's in the same round."""
    ratios = sorted(r[top]["seconds"] / r[bottom]["seconds"] for r in rounds)
    return round(float(ratios[len(ratios) // 2]), 2)


def bench_database(
    name: str, fresh: Callable[[], str], path: Path, rows: int, repeat: int
) -> dict[str, Any]:
    """Measure the first import, the re-import and the ceiling on one database, ``repeat``
    rounds each on a fresh database (``fresh()`` gives its URL); report each measurement's
    median run, and every round's seconds."""
    rounds = [_round(fresh(), path, rows) for _ in range(repeat)]
    first, again, ceil, shape = _median_round(rounds)
    result = {
        "database": name,
        "rows": rows,
        "first_import": {
            "seconds": round(first["seconds"], 2),
            "rows_per_s": round(rows / first["seconds"]),
            "peak_rss_mb": first["peak_rss_mb"],
            "index_rebuild_seconds": first["index_rebuild_seconds"],
        },
        "reimport": {
            "seconds": round(again["seconds"], 2),
            "rows_per_s": round(rows / again["seconds"]),
            "peak_rss_mb": again["peak_rss_mb"],
            # ratios are taken within each round (the same minutes of the machine), then
            # the median of the rounds
            "speedup_vs_first": _median_ratio(rounds, 0, 1),
        },
        "ceiling": {
            "method": "csv + executemany" if name == "sqlite" else "COPY",
            "seconds": round(ceil["seconds"], 2),
            "rows_per_s": round(rows / ceil["seconds"]),
            "peak_rss_mb": ceil["peak_rss_mb"],
        },
        "vs_ceiling": _median_ratio(rounds, 0, 2),
        "stored_shape": {
            "method": "csv + executemany" if name == "sqlite" else "COPY (FORMAT csv)",
            "seconds": round(shape["seconds"], 2),
            "load_seconds": shape["load_seconds"],
            "rows_per_s": round(rows / shape["seconds"]),
            "peak_rss_mb": shape["peak_rss_mb"],
        },
        "vs_stored_shape": _median_ratio(rounds, 0, 3),
        "rounds": [
            {
                "first": round(f["seconds"], 2),
                "reimport": round(a["seconds"], 2),
                "ceiling": round(c["seconds"], 2),
                "stored_shape": round(sh["seconds"], 2),
            }
            for f, a, c, sh in rounds
        ],
        "vs_listmonk": round(rows / first["seconds"] / LISTMONK_ROWS_PER_S, 1),
    }
    print(json.dumps(result, indent=2), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--pg",
        default=os.environ.get("HUNTAZE_TEST_DATABASE_URL")
        or "postgresql+psycopg://root@127.0.0.1:5432/test",
    )
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds on fresh databases; medians reported"
    )
    args = parser.parse_args()
    data_dir = ROOT / "data"
    data_dir.mkdir(exist_ok=True)
    csv_path = data_dir / f"patreon_members_{args.rows}.csv"
    if not csv_path.exists():
        started = time.perf_counter()
        generate(csv_path, args.rows)
        print(f"generated {csv_path} in {time.perf_counter() - started:.1f}s", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        count = iter(range(1000))

        def fresh_sqlite() -> str:
            for old in Path(tmp).glob("bench*.db*"):
                old.unlink()  # the last round's database (about 1.2 GB at 1,000,000 rows)
            return f"sqlite:///{tmp}/bench{next(count)}.db"

        results.append(bench_database("sqlite", fresh_sqlite, csv_path, args.rows, args.repeat))
    if not args.sqlite_only:
        sep = "&" if "?" in args.pg else "?"

        def fresh_pg() -> str:
            url = _prepare(args.pg, pg=True)
            return f"{url}{sep}options=-csearch_path%3Dhz_bench"

        results.append(bench_database("postgresql", fresh_pg, csv_path, args.rows, args.repeat))
    out = {
        "benchmark": "import",
        "command": f"python -m bench.import_bench --rows {args.rows}"
        + ("" if args.repeat == 3 else f" --repeat {args.repeat}"),
        "repeat": args.repeat,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "file_mb": round(csv_path.stat().st_size / 1e6, 1),
        "results": results,
    }
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "import.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
