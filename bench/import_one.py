"""One measured import in a fresh process: prints JSON with seconds, rows and peak RSS.

Usage: python -m bench.import_one huntaze|ceiling DATABASE_URL CSV_PATH CREATOR_ID
"""

from __future__ import annotations

import csv
import io
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from huntaze.crm.importers import bulkload
from huntaze.crm.imports import import_stream
from huntaze.db.engine import make_engine
from huntaze.kit.clock import SystemClock


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def huntaze(url: str, path: Path, creator_id: str) -> dict[str, Any]:
    """Huntaze end to end, as ``huntaze import`` runs it: encoding detection and the strict
    decoding pass, the Patreon parser, the shared value checks, and committed rows."""
    engine = make_engine(url)
    rebuild = [0.0]
    repair = bulkload.repair

    def timed_repair(engine: Any) -> None:  # the same call, timed: the deferred rebuild
        begun = time.perf_counter()
        repair(engine)
        rebuild[0] += time.perf_counter() - begun

    bulkload.repair = timed_repair
    started = time.perf_counter()
    with path.open("rb") as stream:
        report = import_stream(
            engine, creator_id, stream, SystemClock(), format_name="patreon_members"
        )
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "index_rebuild_seconds": round(rebuild[0], 2),
        "report": {k: v for k, v in report.as_dict().items() if k != "errors"},
    }


CEILING_COLUMNS = (
    "creator_id",
    "platform",
    "platform_fan_id",
    "display_name",
    "email",
    "status",
    "subscribed_at",
    "last_active_at",
    "lifetime",
    "currency",
)


def ceiling(url: str, path: Path, creator_id: str) -> dict[str, Any]:
    """The floor of the work: the same rows, no mapping, straight into a keyed table.

    SQLite: csv.reader + one executemany per 10,000 rows. PostgreSQL: COPY.
    """
    engine = make_engine(url)
    pg = engine.dialect.name == "postgresql"
    cols = ", ".join(CEILING_COLUMNS)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_ceiling")
        conn.exec_driver_sql(
            "CREATE TABLE bench_ceiling (creator_id text, platform text, platform_fan_id text, "
            "display_name text, email text, status text, subscribed_at text, "
            "last_active_at text, lifetime text, currency text, "
            "UNIQUE (creator_id, platform, platform_fan_id))"
        )
    started = time.perf_counter()
    rows = 0
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)

        def tuples() -> Any:
            for r in reader:
                yield (creator_id, "patreon", r[22], r[0], r[1], r[3], r[18], r[19], r[7], r[24])

        if pg:
            with engine.begin() as conn:
                cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                with cur.copy(f"COPY bench_ceiling ({cols}) FROM STDIN") as copy:
                    for t in tuples():
                        copy.write_row(t)
                        rows += 1
        else:
            batch: list[tuple[str, ...]] = []
            marks = ",".join("?" * len(CEILING_COLUMNS))
            sql = f"INSERT INTO bench_ceiling ({cols}) VALUES ({marks})"
            for t in tuples():
                batch.append(t)
                if len(batch) == 10_000:
                    with engine.begin() as conn:
                        conn.exec_driver_sql(sql, batch)
                    rows += len(batch)
                    batch = []
            with engine.begin() as conn:
                if batch:
                    conn.exec_driver_sql(sql, batch)
                rows += len(batch)
    seconds = time.perf_counter() - started
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bench_ceiling")
    return {"seconds": seconds, "rows": rows}


def main() -> None:
    kind, url, path, creator_id = sys.argv[1:5]
    fn = huntaze if kind == "huntaze" else ceiling
    result = fn(url, Path(path), creator_id)
    result["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    sys.stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8")
    main()
