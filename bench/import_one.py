"""One measured import in a fresh process: prints JSON with seconds, rows and peak RSS.

Usage: python -m bench.import_one huntaze|ceiling|shape DATABASE_URL CSV_PATH CREATOR_ID
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import resource
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from huntaze.db.engine import make_engine
from huntaze.imports.service import import_stream
from huntaze.imports.writing import bulkload
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


def _insert_batches(
    engine: Any, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """SQLite: insert ``rows`` with one ``executemany`` and one transaction per 10,000;
    return how many."""
    marks = ",".join("?" * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
    done = 0
    source = iter(rows)
    while batch := list(itertools.islice(source, 10_000)):
        with engine.begin() as conn:
            conn.exec_driver_sql(sql, batch)
        done += len(batch)
    return done


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
            rows = _insert_batches(engine, "bench_ceiling", CEILING_COLUMNS, tuples())
    seconds = time.perf_counter() - started
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bench_ceiling")
    return {"seconds": seconds, "rows": rows}


def stored_shape(url: str, path: Path, creator_id: str) -> dict[str, Any]:
    """What the database alone needs to store the rows Huntaze stored: the creator's fans
    (every column, as the first import left them) dumped to CSV (not timed), then loaded
    into an empty copy of ``fans`` the way the bulk import loads (primary key and unique key
    in place, the fan list's sort indexes built after the load), and those indexes built.

    SQLite: csv.reader + one executemany per 10,000 rows. PostgreSQL: COPY (FORMAT csv).
    Run after the first import of ``creator_id``; ``path`` is only a scratch directory's
    sibling for the dump.
    """
    engine = make_engine(url)
    pg = engine.dialect.name == "postgresql"
    dump = path.with_suffix(".shape.csv")
    with engine.connect() as conn:
        columns = [
            r[0] if pg else r[1]
            for r in conn.exec_driver_sql(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'fans' "
                "AND table_schema = current_schema() ORDER BY ordinal_position"
                if pg
                else "PRAGMA table_info(fans)"
            )
        ]
    cols = ", ".join(columns)
    sorts = [
        (str(index.name), ", ".join(str(c.key) for c in index.expressions))  # type: ignore[union-attr]
        for index in bulkload.sort_indexes()
    ]
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        if pg:
            cur = raw.cursor()  # type: ignore[union-attr]
            with (
                dump.open("wb") as out,
                cur.copy(
                    f"COPY (SELECT {cols} FROM fans WHERE creator_id = %s ORDER BY ctid) "
                    "TO STDOUT (FORMAT csv)",  # in the order the import wrote them
                    (creator_id,),
                ) as copy,
            ):
                for chunk in copy:
                    out.write(chunk)
            conn.exec_driver_sql("DROP TABLE IF EXISTS bench_shape")
            conn.exec_driver_sql("CREATE TABLE bench_shape (LIKE fans INCLUDING DEFAULTS)")
            conn.exec_driver_sql("ALTER TABLE bench_shape ADD PRIMARY KEY (id)")
            conn.exec_driver_sql(
                "ALTER TABLE bench_shape ADD UNIQUE (creator_id, platform, platform_fan_id)"
            )
        else:
            with dump.open("w", encoding="utf-8", newline="") as out:
                writer = csv.writer(out)
                rows = raw.execute(  # type: ignore[union-attr]
                    f"SELECT {cols} FROM fans WHERE +creator_id = ? ORDER BY rowid", (creator_id,)
                )  # streamed in the order the import wrote them (``+``: a table scan, no sort)
                for row in rows:
                    writer.writerow(["\\N" if v is None else v for v in row])
            table_sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'fans'"
            ).scalar_one()
            conn.exec_driver_sql("DROP TABLE IF EXISTS bench_shape")
            conn.exec_driver_sql(
                table_sql.replace("CREATE TABLE fans", "CREATE TABLE bench_shape", 1)
            )
    started = time.perf_counter()
    rows_loaded = 0
    if pg:
        with engine.begin() as conn, dump.open("rb") as fh:
            cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cur.copy(f"COPY bench_shape ({cols}) FROM STDIN (FORMAT csv)") as copy:
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
            rows_loaded = -1
    else:
        with dump.open(encoding="utf-8", newline="") as fh:
            values = (tuple(None if v == "\\N" else v for v in r) for r in csv.reader(fh))
            rows_loaded = _insert_batches(engine, "bench_shape", columns, values)
    load_seconds = time.perf_counter() - started
    for name, index_cols in sorts:
        with engine.connect() as conn:
            if not pg:  # as bulkload.ensure_sort_indexes builds them
                raw = conn.connection.driver_connection
                for pragma in ("temp_store=FILE", "cache_size=-4096", "threads=2"):
                    raw.execute(f"PRAGMA {pragma}")  # type: ignore[union-attr]
            with conn.begin():
                conn.exec_driver_sql(
                    f"CREATE INDEX bench_shape_{name} ON bench_shape ({index_cols})"
                )
    seconds = time.perf_counter() - started
    with engine.begin() as conn:
        if rows_loaded < 0:
            rows_loaded = conn.exec_driver_sql("SELECT count(*) FROM bench_shape").scalar_one()
        conn.exec_driver_sql("DROP TABLE bench_shape")
    dump.unlink()
    return {"seconds": seconds, "load_seconds": round(load_seconds, 2), "rows": rows_loaded}


def main() -> None:
    kind, url, path, creator_id = sys.argv[1:5]
    fn = {"huntaze": huntaze, "ceiling": ceiling, "shape": stored_shape}[kind]
    result = fn(url, Path(path), creator_id)
    result["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    sys.stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8")
    main()
