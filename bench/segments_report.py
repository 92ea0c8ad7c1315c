"""The segments benchmark's section of docs/benchmarks.md (``bench/results/segments.json``)."""

from __future__ import annotations

import json
from typing import Any


def _cell(r: dict[str, Any], kind: str) -> str:
    seconds = r[f"{kind}_seconds"]
    shown = f"{seconds * 1000:,.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"
    ratio = r.get(f"{kind}_vs_duckdb")
    return f"{shown} ({ratio}x)" if ratio is not None else shown


def segments_section(data: dict[str, Any]) -> str:
    """Markdown: the command, the data, and per definition the count and member-list times
    of each engine, with Huntaze's ratio to DuckDB."""
    engines = [
        e for e in ("sqlite", "postgresql", "duckdb", "polars") if e in data["definitions"][0]
    ]
    head = " | ".join(f"{e} count | {e} list" for e in engines)
    rows = []
    for d in data["definitions"]:
        cells = " | ".join(f"{_cell(d[e], 'count')} | {_cell(d[e], 'list')}" for e in engines)
        rows.append(f"| `{d['name']}` | {d['members']:,} | {cells} |")
    worst = max(
        d[e][f"{k}_vs_duckdb"]
        for d in data["definitions"]
        for e in ("sqlite", "postgresql")
        if e in d
        for k in ("count", "list")
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
criteria compiler makes, on SQLite and PostgreSQL on disk (warm); DuckDB and Polars run the
same definitions written by hand, in memory, in the same process and run. Every engine found
the same members. Medians of the runs after a warm-up; "list" fetches every member's id into
Python. In brackets: Huntaze's time over DuckDB's.

{criteria}

| definition | members | {head} |
|---|---|{"---|---|" * len(engines)}
{chr(10).join(rows)}

Target (issue 11): within {data["target_ratio"]}x of DuckDB. Worst ratio in this run:
{worst}x.
"""
