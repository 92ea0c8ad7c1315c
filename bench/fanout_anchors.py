"""The fan-out's anchors (issue 11: "the segment and fan-out figures beside DuckDB and
Polars"): the launch benchmark's fan-out done by DuckDB and by Polars on the same fans.

What each does, timed, per run: what a launch computes from the fans table.

- The skip count: how many of the creator's OnlyFans fans opted out.
- One row per other fan, with the columns Huntaze's outbox row carries:
  - an ascending message id;
  - the creator, account, platform and fan;
  - the recipient (the fan's id on its platform);
  - the text rendered from ``Hi {firstName}, new set from {city}!``. ``firstName`` is the
    first word of the display name, else the username; ``city`` is a custom field read
    from the fan's JSON;
  - status, priority, attempts, due time;
  - ``<campaign>:<fan>`` as the idempotency key;
  - the campaign and the times.

How each engine holds the result:

- **DuckDB** inserts them with one ``INSERT … SELECT`` into an ``outbox`` table. The table
  has a primary key and a unique (account, idempotency key), as Huntaze's has. It lives in a
  database file on disk and is committed.
- **Polars** builds them as a DataFrame in memory: no file, no index, no transaction.

The fans are built from the enqueue benchmark's generator (:func:`bench.enqueue_bench.
_fan_rows`), so the values are the ones Huntaze's SQLite and PostgreSQL hold. They are loaded
untimed, and each run starts from an empty outbox. Both engines must queue the same number of
rows as Huntaze, with the same text for the fans checked.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.enqueue_bench import CITIES, FAN_COLUMNS, _fan_rows

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

CREATOR = "cre_anchor"
ACCOUNT = "acc_anchor"
CAMPAIGN = "cmp_anchor"


def fans_table(n: int) -> pa.Table:
    """The enqueue benchmark's ``n`` fans as an Arrow table (the columns Huntaze stores)."""
    import pyarrow as pa

    stamp = datetime.now(UTC).replace(tzinfo=None)
    rows = list(_fan_rows(CREATOR, n, ""))
    columns = {name: [r[i] for r in rows] for i, name in enumerate(FAN_COLUMNS)}
    columns["created_at"] = columns["updated_at"] = [stamp] * n
    columns["lifetime_value_cents"] = [int(v) for v in columns["lifetime_value_cents"]]
    return pa.table(columns)


def expected_text(i: int) -> str:
    """What the template renders for fan ``i`` of :func:`bench.enqueue_bench._fan_rows`."""
    first = f"Zoë{i}" if i % 10 == 0 else "Zoë"
    return f"Hi {first}, new set from {CITIES[i % len(CITIES)]}!"


def _fan_id(i: int) -> str:
    return f"fan_{i:012d}"


DUCKDB_OUTBOX = """
CREATE TABLE outbox (
    id VARCHAR PRIMARY KEY, creator_id VARCHAR, account_id VARCHAR, platform VARCHAR,
    fan_id VARCHAR, recipient VARCHAR, content VARCHAR, priority SMALLINT, status VARCHAR,
    attempts INTEGER, max_attempts INTEGER, not_before TIMESTAMPTZ, idempotency_key VARCHAR,
    campaign_id VARCHAR, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ,
    UNIQUE (account_id, idempotency_key)
)"""

DUCKDB_COUNT = """
SELECT count(*) FILTER (WHERE consent = 'opted_out') FROM fans
WHERE creator_id = $creator AND platform = 'onlyfans'"""

DUCKDB_INSERT = """
INSERT INTO outbox
SELECT 'msg_' || lpad(CAST(row_number() OVER () AS VARCHAR), 12, '0'), creator_id, $account,
    platform, id, platform_fan_id,
    'Hi ' || coalesce(nullif(split_part(coalesce(display_name, ''), ' ', 1), ''), username, '')
        || ', new set from '
        || coalesce(nullif(json_extract_string(custom_fields, '$.city'), ''), '') || '!',
    2, 'queued', 0, 3, $now, $campaign || ':' || id, $campaign, $now, $now
FROM fans
WHERE creator_id = $creator AND platform = 'onlyfans' AND consent <> 'opted_out'"""


def duckdb_runs(table: pa.Table, repeat: int) -> dict[str, Any]:
    """Time DuckDB's fan-out ``repeat`` times on a database file; return seconds per run
    and what the last run queued and skipped."""
    import duckdb

    runs: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "anchor.duckdb"))
        con.register("fans_arrow", table)
        con.execute("CREATE TABLE fans AS SELECT * FROM fans_arrow")
        con.unregister("fans_arrow")
        con.execute("CHECKPOINT")
        params = {"creator": CREATOR, "account": ACCOUNT, "campaign": CAMPAIGN}
        for _ in range(repeat):
            con.execute("DROP TABLE IF EXISTS outbox")
            con.execute(DUCKDB_OUTBOX)
            con.execute("CHECKPOINT")
            started = time.perf_counter()
            con.execute("BEGIN")
            row = con.execute(DUCKDB_COUNT, {"creator": CREATOR}).fetchone()
            skipped = int(row[0]) if row else 0
            con.execute(DUCKDB_INSERT, {**params, "now": datetime.now(UTC)})
            con.execute("COMMIT")
            runs.append(time.perf_counter() - started)
        queued = _one_int(con.execute("SELECT count(*) FROM outbox").fetchone())
        texts = dict(
            con.execute(
                "SELECT fan_id, content FROM outbox WHERE fan_id IN (?, ?, ?)",
                [_fan_id(1), _fan_id(10), _fan_id(12_345)],
            ).fetchall()
        )
        con.close()
    return {"runs": runs, "queued": queued, "skipped": skipped, "texts": texts}


def _one_int(row: tuple[Any, ...] | None) -> int:
    assert row is not None
    return int(row[0])


def polars_fanout(fans: pl.DataFrame, now: datetime) -> tuple[pl.DataFrame, int]:
    """Polars' fan-out: the outbox rows as a DataFrame, and the opted-out count."""
    import polars as pl

    audience = fans.filter((pl.col("creator_id") == CREATOR) & (pl.col("platform") == "onlyfans"))
    skipped = audience.select((pl.col("consent") == "opted_out").sum()).item()
    ready = audience.filter(pl.col("consent") != "opted_out")
    first = pl.coalesce(
        pl.col("display_name").fill_null("").str.split(" ").list.first().replace("", None),
        pl.col("username"),
        pl.lit(""),
    )
    city = pl.coalesce(
        pl.col("custom_fields").str.json_path_match("$.city").replace("", None), pl.lit("")
    )
    rows = ready.select(
        pl.concat_str(
            pl.lit("msg_"), pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(12)
        ).alias("id"),
        pl.col("creator_id"),
        pl.lit(ACCOUNT).alias("account_id"),
        pl.col("platform"),
        pl.col("id").alias("fan_id"),
        pl.col("platform_fan_id").alias("recipient"),
        pl.concat_str(pl.lit("Hi "), first, pl.lit(", new set from "), city, pl.lit("!")).alias(
            "content"
        ),
        pl.lit(2, pl.Int16).alias("priority"),
        pl.lit("queued").alias("status"),
        pl.lit(0).alias("attempts"),
        pl.lit(3).alias("max_attempts"),
        pl.lit(now).alias("not_before"),
        (pl.lit(CAMPAIGN + ":") + pl.col("id")).alias("idempotency_key"),
        pl.lit(CAMPAIGN).alias("campaign_id"),
        pl.lit(now).alias("created_at"),
        pl.lit(now).alias("updated_at"),
    )
    return rows, int(skipped)


def polars_runs(table: pa.Table, repeat: int) -> dict[str, Any]:
    """Time Polars' fan-out ``repeat`` times in memory; return seconds per run and what the
    last run queued and skipped."""
    import polars as pl

    fans = pl.from_arrow(table)
    assert isinstance(fans, pl.DataFrame)
    runs: list[float] = []
    rows, skipped = fans.head(0), 0
    for _ in range(repeat):
        started = time.perf_counter()
        rows, skipped = polars_fanout(fans, datetime.now(UTC))
        runs.append(time.perf_counter() - started)
    picked = rows.filter(pl.col("fan_id").is_in([_fan_id(1), _fan_id(10), _fan_id(12_345)]))
    texts = dict(zip(picked["fan_id"].to_list(), picked["content"].to_list(), strict=True))
    return {"runs": runs, "queued": rows.height, "skipped": skipped, "texts": texts}


ENGINES: dict[str, Callable[[pa.Table, int], dict[str, Any]]] = {
    "duckdb": duckdb_runs,
    "polars": polars_runs,
}


def anchors(n: int, repeat: int) -> dict[str, Any]:
    """Both anchors on ``n`` fans: per engine, the median seconds, every run, and what was
    queued and skipped; checked against what Huntaze queues for the same fans."""
    import duckdb
    import polars as pl

    table = fans_table(n)
    versions = {"duckdb": duckdb.__version__, "polars": pl.__version__}
    out: dict[str, Any] = {}
    for name, run in ENGINES.items():
        got = run(table, repeat)
        assert got["queued"] == n - n // 1000, (name, got["queued"])
        assert got["skipped"] == n // 1000, (name, got["skipped"])
        for i in (1, 10, 12_345):
            if i < n:
                assert got["texts"][_fan_id(i)] == expected_text(i), (name, got["texts"])
        out[name] = {
            "version": versions[name],
            "seconds": round(statistics.median(got["runs"]), 3),
            "runs_seconds": [round(x, 3) for x in got["runs"]],
            "queued": got["queued"],
            "skipped": got["skipped"],
        }
        print(f"{name}: {out[name]['runs_seconds']}", flush=True)
    return out
