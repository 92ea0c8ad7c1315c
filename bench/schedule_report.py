"""The scheduling benchmark's section of docs/benchmarks.md (``bench/results/schedule.json``)."""

from __future__ import annotations

from typing import Any


def _lateness(summary: dict[str, float] | None) -> str:
    if summary is None:
        return "none | none | none"
    return f"{summary['p50']} s | {summary['p99']} s | {summary['max']} s"


def schedule_section(data: dict[str, Any]) -> str:
    """Markdown: per database, how many campaigns launched and messages went out, and the
    launch and send lateness percentiles against the target."""
    rows = [
        f"| {r['database']} | {r['workers']} | {r['launched']:,} / {r['campaigns']:,} | "
        f"{r['sent']:,} | {_lateness(r['launch_lateness_seconds'])} | "
        f"{_lateness(r['send_lateness_seconds'])} |"
        for r in data["results"]
    ]
    return f"""
## Scheduling lateness: {data["results"][0]["campaigns"]:,} campaigns due within a minute

Command: `{data["command"]}`. One creator, one fan per campaign, each campaign to a
dynamic segment naming its fan, the start times spread evenly over one minute; `huntaze
worker` processes (the deployment's loop, a `noop` channel with no send limit) launch and
send them. Launch lateness is a campaign's `startedAt` minus its `scheduledFor`; send
lateness its message's `sent_at` minus its `scheduledFor`. The issue names no anchor.

| database | workers | launched | sent | launch p50 | launch p99 | launch max | send p50 | send p99 | send max |
|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Target (issue 11): p99 lateness ≤ {data["target_p99_seconds"]} s.
"""
