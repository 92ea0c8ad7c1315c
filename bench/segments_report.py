"""The segments benchmark's section of docs/benchmarks.md (``bench/results/segments.json``)."""

from __future__ import annotations

import json
from typing import Any


def _cell(r: dict[str, Any], kind: str) -> str:
    seconds = r[f"{kind}_seconds"]
    shown = f"{seconds * 1000:,.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"
    ratio = r.get(f"{kind}_vs_duckdb")
    return f"{shown} ({ratio}x)" if ratio is not None else shown


#: The engines in the order shown, with their column titles.
ENGINES = {
    "sqlite": "SQLite",
    "sqlite_sql": "SQLite, by hand",
    "postgresql": "PostgreSQL",
    "postgresql_sql": "PostgreSQL, by hand",
    "duckdb": "DuckDB",
    "polars": "Polars",
}


def _table(data: dict[str, Any], kind: str, engines: list[str]) -> str:
    head = " | ".join(ENGINES[e] for e in engines)
    rows = [
        f"| `{d['name']}` | {d['members']:,} | "
        + " | ".join(_cell(d[e], kind) for e in engines)
        + " |"
        for d in data["definitions"]
    ]
    return f"| definition | members | {head} |\n|---|---|{'---|' * len(engines)}\n" + "\n".join(
        rows
    )


def segments_section(data: dict[str, Any]) -> str:
    """Markdown: the command, the data, and per definition the count and member-list times
    of each engine, with Huntaze's ratio to DuckDB, and how many of Huntaze's figures meet
    the target."""
    engines = [e for e in ENGINES if e in data["definitions"][0]]
    target = data["target_ratio"]
    ratios = {
        e: [d[e][f"{k}_vs_duckdb"] for d in data["definitions"] for k in ("count", "list")]
        for e in ("sqlite", "postgresql")
        if e in engines
    }
    worst = max(r for rs in ratios.values() for r in rs)
    within = "; ".join(
        f"{ENGINES[e]} {sum(r <= target for r in rs)} of {len(rs)}" for e, rs in ratios.items()
    )
    criteria = "\n".join(
        f"- `{d['name']}`: `{json.dumps(d['criteria'])}`" for d in data["definitions"]
    )
    return f"""
## Segments: {data["fans"]:,} fans, {data["purchases"] + data["messages"]:,} events

Command: `{data["command"]}` (DuckDB {data["versions"]["duckdb"]}, Polars
{data["versions"]["polars"]}). {data["fans"]:,} fans, {data["purchases"]:,} purchases and
{data["messages"]:,} inbound messages, a few whales and many small fans
(`bench/segments_data.py`), the same values in every engine. Huntaze runs the SQL its
criteria compiler makes, on SQLite and PostgreSQL on disk (warm). "By hand" is the same
database running the definition written by hand in SQL from the tables alone
(`HAND_SQL` in `bench/segments_bench.py`): the engine's own time for the question, without
the compiler. DuckDB and Polars run the definitions written by hand, in memory, in the same
process and run. Every engine found the same members. Medians of the runs after a warm-up.
In brackets: the time over DuckDB's.

{criteria}

Count:

{_table(data, "count", engines)}

Member list (every member's id fetched into Python):

{_table(data, "list", engines)}

Target (issue 11): within {target}x of DuckDB. Huntaze's figures within it: {within}.
Worst ratio in this run: {worst}x.
"""
