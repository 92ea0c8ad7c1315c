"""What the fan-list sort indexes (migration 0006) cost a first import, on both databases.

For each database, a fresh schema at head is imported into with the Patreon Members CSV of
``bench/gen_patreon.py`` (``bench.import_one``, one fresh process per import), once per
index variant (:data:`VARIANTS`: the index set before 0006 — the ``ix_fans_sort_*``
dropped, the old ``(creator_id, lifetime_value_cents)`` and ``(creator_id, last_active_at)``
created —, all of 0006 (head and the two text sorts 0008 withdrew), 0006 with an index for
the withdrawn ``updatedAt`` sort, head, or head without ``subscribedAt``), the variants
taking turns ``--repeat`` times so that the machine's drift hits them alike; the median of
each is reported. Prints JSON and writes nothing else.

Usage: python -m bench.fanlist_import_cost [--rows 200000] [--repeat 2] [--pg URL]
       [--sqlite-only] [--update] [--variants before_0006,with_0006,...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from bench.gen_patreon import generate
from bench.import_bench import _run
from huntaze.auth.tokens import get_or_create_creator
from huntaze.db.engine import make_engine, make_sessionmaker, normalise_url
from huntaze.db.migrate import upgrade
from huntaze.kit.clock import SystemClock

SCHEMA = "bench_fanlist_import"
#: the sort indexes at head (0006's six, less the two migration 0008 withdrew)
SORT_INDEXES = [
    "ix_fans_sort_created",
    "ix_fans_sort_ltv",
    "ix_fans_sort_last_active",
    "ix_fans_sort_subscribed",
]
TEXT_SORTS = {
    "ix_fans_sort_username": "creator_id, username, id",
    "ix_fans_sort_display_name": "creator_id, display_name, id",
}
OLD_INDEXES = {
    "ix_fans_creator_last_active": "creator_id, last_active_at",
    "ix_fans_creator_ltv": "creator_id, lifetime_value_cents",
}


def _fresh(url: str, pg: bool, sqlite_path: Path | None) -> tuple[Engine, str]:
    """A database at head with one creator; returns the engine and the creator id."""
    if pg:
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        admin.dispose()
        base = normalise_url(url)
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{SCHEMA}"
    else:
        assert sqlite_path is not None
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{sqlite_path}"
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as session:
        creator_id = get_or_create_creator(session, "bench", SystemClock().now()).id
        session.commit()
    return engine, creator_id


#: variant -> (sort indexes dropped, indexes created: name -> columns)
VARIANTS: dict[str, tuple[list[str], dict[str, str]]] = {
    "before_0006": (SORT_INDEXES, OLD_INDEXES),
    "with_0006": ([], TEXT_SORTS),
    "with_0006_and_updated_at": (
        [],
        {**TEXT_SORTS, "ix_fans_sort_updated": "creator_id, updated_at, id"},
    ),
    "without_text_sorts": ([], {}),  # head: migration 0008
    "created_ltv_last_active_only": (["ix_fans_sort_subscribed"], {}),
}


def _as_variant(engine: Engine, variant: str) -> None:
    """Drop and create the variant's indexes on ``fans``."""
    dropped, created = VARIANTS[variant]
    with engine.begin() as conn:
        for name in dropped:
            conn.execute(text(f"DROP INDEX {name}"))
        for name, columns in created.items():
            conn.execute(text(f"CREATE INDEX {name} ON fans ({columns})"))


def measure(
    name: str,
    url: str,
    pg: bool,
    csv_path: Path,
    rows: int,
    repeat: int,
    variants: list[str],
    changed: Path | None = None,
) -> Any:
    """Median first-import seconds of each index variant, on one database; with ``changed``,
    the seconds of importing ``changed`` (the same members, other values: every fan updated)
    after ``csv_path``."""
    runs: dict[str, list[float]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeat):
            for variant in variants:
                engine, creator_id = _fresh(url, pg, Path(tmp) / "cost.db")
                _as_variant(engine, variant)
                db_url = engine.url.render_as_string(hide_password=False)
                engine.dispose()
                result = _run("huntaze", db_url, csv_path, creator_id)
                assert result["report"]["inserted"] == rows, result
                if changed is not None:
                    result = _run("huntaze", db_url, changed, creator_id)
                    assert result["report"]["inserted"] == 0, result
                runs[variant].append(round(result["seconds"], 2))
                print(name, variant, runs[variant][-1], flush=True)
    base = statistics.median(runs[variants[0]])
    out: dict[str, Any] = {"database": name, "rows": rows}
    for variant in variants:
        seconds = statistics.median(runs[variant])
        out[variant] = {
            "seconds": seconds,
            "rows_per_s": round(rows / seconds),
            "runs": runs[variant],
            f"vs_{variants[0]}": f"{seconds / base - 1:+.0%}",
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--pg",
        default=os.environ.get("HUNTAZE_TEST_DATABASE_URL")
        or "postgresql+psycopg://root@127.0.0.1:5432/test",
    )
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument(
        "--update",
        action="store_true",
        help="time the import of a second file updating every fan, not the first import",
    )
    parser.add_argument(
        "--variants",
        default="before_0006,with_0006",
        help=f"comma-separated, the first is the baseline; of {', '.join(VARIANTS)}",
    )
    args = parser.parse_args()
    variants = args.variants.split(",")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "members.csv"
        generate(csv_path, args.rows)
        changed = None
        if args.update:
            changed = Path(tmp) / "members_changed.csv"
            generate(changed, args.rows, seed=7)
        for name, url, pg in (("sqlite", "", False), ("postgresql", args.pg, True)):
            if pg and args.sqlite_only:
                continue
            results.append(
                measure(name, url, pg, csv_path, args.rows, args.repeat, variants, changed)
            )
    kind = "update of every fan" if args.update else "first import"
    print(
        json.dumps(
            {"benchmark": "fanlist_import_cost", "timed": kind, "results": results}, indent=2
        )
    )


if __name__ == "__main__":
    main()
