"""Benchmark: the send-rate limiter under a 10x backlog, beside the ``limits`` library.

1,000 accounts limited to ``10/minute`` are each offered 100 messages a minute (one every
0.6 s, with a per-account random phase from a seeded RNG) for 10 simulated minutes. Time is
simulated: a plain loop advances the clock in 0.1 s ticks, nothing sleeps. At every tick each
account with a backlog asks its limiter, one message at a time, whether the next message may
start now, until the limiter says no.

- Huntaze: per account an ascending list of attempt start times; a decision is one call to
  ``capacity(windows, starts, now)`` (a start appends ``now``). Starts older than the longest
  window are pruned before each decision so the lists stay small (the database version keeps
  them in ``send_attempts`` and selects only the recent ones); the pruning is timed apart.
- Anchor: ``limits.strategies.MovingWindowRateLimiter`` over ``limits.storage.MemoryStorage``
  with ``limits.parse("10/minute")``; a decision is one ``hit()`` (test and record). The
  memory storage reads the wall clock (``time.time()`` in ``limits.storage.memory``) and its
  calls take no timestamp, so for the anchor only that module's ``time`` reference is
  replaced by the simulated clock (the library's code is not modified).

Both run on the same workload; an independent checker counts, over every recorded start,
the rolling 60 s windows holding more than 10 starts. Writes bench/results/limiter.json.

Usage: python -m bench.limiter_bench [--accounts N] [--minutes M] [--seed S]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import statistics
import time
from bisect import bisect_right
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import limits as limits_lib
import limits.storage.memory as limits_memory
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from huntaze.outbox.limits import capacity, longest, parse_limits

ROOT = Path(__file__).resolve().parent
LIMIT = "10/minute"
AMOUNT, WINDOW_S = 10, 60
TICK_S = 0.1
TICKS_PER_S = 10
WINDOW_TICKS = WINDOW_S * TICKS_PER_S
ARRIVAL_EVERY_S = 0.6  # 100 messages a minute: 10x the limit
SIM_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def arrivals_per_tick(phase: float, ticks: int) -> list[int]:
    """How many of one account's messages have arrived by each tick (cumulative)."""
    out = []
    for tick in range(ticks):
        t = tick * TICK_S + 1e-9  # a message arriving exactly on a tick is there at that tick
        out.append(0 if t < phase else int((t - phase) / ARRIVAL_EVERY_S) + 1)
    return out


def simulate(
    phases: list[float],
    ticks: int,
    decide: Callable[[int, int], bool],
) -> tuple[list[list[int]], int]:
    """Serve every account's backlog tick by tick; ``decide(account, tick)`` says whether one
    message may start now (and records it). Returns the start ticks per account and the
    number of decisions."""
    arrived = [arrivals_per_tick(p, ticks) for p in phases]
    starts: list[list[int]] = [[] for _ in phases]
    decisions = 0
    for tick in range(ticks):
        for account in range(len(phases)):
            account_starts = starts[account]
            backlog = arrived[account][tick] - len(account_starts)
            while backlog > 0:
                decisions += 1
                if not decide(account, tick):
                    break
                account_starts.append(tick)
                backlog -= 1
    return starts, decisions


def run_huntaze(phases: list[float], ticks: int) -> dict[str, Any]:
    windows = parse_limits(LIMIT)
    keep = longest(windows)
    lists: list[list[datetime]] = [[] for _ in phases]
    clock = [SIM_EPOCH + timedelta(seconds=tick * TICK_S) for tick in range(ticks)]
    spent = [0, 0]  # decision ns, pruning ns
    largest = [0]
    perf = time.perf_counter_ns

    def decide(account: int, tick: int) -> bool:
        now = clock[tick]
        starts = lists[account]
        p0 = perf()
        old = bisect_right(starts, now - keep)
        if old:
            del starts[:old]
        p1 = perf()
        free = capacity(windows, starts, now)
        d1 = perf()
        spent[0] += d1 - p1
        spent[1] += p1 - p0
        if free >= 1:
            starts.append(now)
            largest[0] = max(largest[0], len(starts))
            return True
        return False

    recorded, decisions = simulate(phases, ticks, decide)
    return {
        "recorded": recorded,
        "decisions": decisions,
        "decision_ns": spent[0],
        "prune_ns": spent[1],
        "largest_list": largest[0],
    }


class _SimTime:
    """Stands in for the ``time`` module inside ``limits.storage.memory``: ``time()`` is the
    simulated clock, in seconds since the epoch like the real one."""

    def __init__(self) -> None:
        self.now = SIM_EPOCH.timestamp()

    def time(self) -> float:
        return self.now


def _no_sweep(self: MemoryStorage) -> None:
    """Replaces MemoryStorage's timer restart for the context measurement."""


def run_limits(phases: list[float], ticks: int, expiry_thread: bool = True) -> dict[str, Any]:
    item = limits_lib.parse(LIMIT)
    sim = _SimTime()
    keys = [f"account-{i}" for i in range(len(phases))]
    epoch = SIM_EPOCH.timestamp()
    spent = [0]
    perf = time.perf_counter_ns
    with contextlib.ExitStack() as patches:
        patches.enter_context(mock.patch.object(limits_memory, "time", sim))
        if not expiry_thread:
            # context only: the storage's 10 ms background expiry sweep competes for the GIL
            patches.enter_context(
                mock.patch.object(MemoryStorage, "_MemoryStorage__schedule_expiry", _no_sweep)
            )
        storage = MemoryStorage()
        limiter = MovingWindowRateLimiter(storage)

        def decide(account: int, tick: int) -> bool:
            sim.now = epoch + tick / TICKS_PER_S
            d0 = perf()
            ok = limiter.hit(item, keys[account])
            spent[0] += perf() - d0
            return ok

        try:
            recorded, decisions = simulate(phases, ticks, decide)
        finally:
            storage.timer.cancel()
    return {"recorded": recorded, "decisions": decisions, "decision_ns": spent[0]}


def violations(starts: list[list[int]]) -> int:
    """Rolling windows (t - 60 s, t] holding more than 10 starts, over every account: for each
    start, count the starts of its account in the 60 s ending at it (plain scan, no bisect)."""
    found = 0
    for ticks in starts:
        for i, end in enumerate(ticks):
            inside = 0
            j = i
            while j >= 0 and ticks[j] > end - WINDOW_TICKS:
                inside += 1
                j -= 1
            if inside > AMOUNT:
                found += 1
    return found


def timer_overhead_ns(samples: int = 200_000) -> float:
    """Cost of one ``perf_counter_ns`` pair, included in every timed decision."""
    perf = time.perf_counter_ns
    total = 0
    for _ in range(samples):
        a = perf()
        total += perf() - a
    return total / samples


def summarise(result: dict[str, Any], minutes: float) -> dict[str, Any]:
    capacity_total = AMOUNT * minutes
    utilisation = [len(s) / capacity_total for s in result["recorded"]]
    out = {
        "decisions": result["decisions"],
        "starts": sum(len(s) for s in result["recorded"]),
        "us_per_decision": round(result["decision_ns"] / result["decisions"] / 1000, 3),
        "violations": violations(result["recorded"]),
        "utilisation_min": round(min(utilisation), 4),
        "utilisation_mean": round(statistics.fmean(utilisation), 4),
    }
    if "prune_ns" in result:
        out["prune_us_per_decision"] = round(result["prune_ns"] / result["decisions"] / 1000, 3)
        out["largest_start_list"] = result["largest_list"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    phases = [rng.uniform(0, ARRIVAL_EVERY_S) for _ in range(args.accounts)]
    ticks = round(args.minutes * 60 * TICKS_PER_S)
    results = {}
    for name, run in (("huntaze", run_huntaze), ("limits", run_limits)):
        started = time.perf_counter()
        raw = run(phases, ticks)
        results[name] = summarise(raw, args.minutes)
        results[name]["run_seconds"] = round(time.perf_counter() - started, 1)
        print(f"{name}: {json.dumps(results[name])}", flush=True)
    # context for the anchor's figure: the same run without MemoryStorage's background sweep
    quiet = run_limits(phases, ticks, expiry_thread=False)
    results["limits"]["us_per_decision_without_expiry_thread"] = round(
        quiet["decision_ns"] / quiet["decisions"] / 1000, 3
    )
    print(
        f"limits without its expiry thread: "
        f"{results['limits']['us_per_decision_without_expiry_thread']} us/decision",
        flush=True,
    )
    out = {
        "benchmark": "limiter",
        "command": "python -m bench.limiter_bench"
        + (f" --accounts {args.accounts}" if args.accounts != 1_000 else "")
        + (f" --minutes {args.minutes:g}" if args.minutes != 10 else "")
        + (f" --seed {args.seed}" if args.seed != 3 else ""),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "setup": {
            "accounts": args.accounts,
            "limit": LIMIT,
            "offered_per_minute": round(60 / ARRIVAL_EVERY_S),
            "arrivals": f"one message every {ARRIVAL_EVERY_S} s per account, random phase "
            f"(seed {args.seed})",
            "simulated_minutes": args.minutes,
            "clock": f"simulated, {TICK_S} s ticks; at each tick every account with a backlog "
            "decides message by message until refused",
            "huntaze": "capacity(windows, starts, now) over a per-account list of start times; "
            "starts older than the longest window pruned before each decision (timed apart; "
            "the database version keeps them in send_attempts)",
            "limits": f"limits {limits_lib.__version__} MovingWindowRateLimiter.hit on "
            "MemoryStorage; its wall clock (time.time in limits.storage.memory) is replaced by "
            "the simulated clock for this run only; its background expiry thread (a sweep of "
            "all keys every 10 ms of wall time) runs as usual and competes for the GIL during "
            "decisions; "
            "us_per_decision_without_expiry_thread repeats the run with that sweep disabled, "
            "for context",
            "timer_overhead_ns": round(timer_overhead_ns(), 1),
        },
        "huntaze": results["huntaze"],
        "limits": results["limits"],
    }
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "limiter.json").write_text(json.dumps(out, indent=2) + "\n")
    print()
    print(
        f"{'limiter':<10}{'decisions':>12}{'us/decision':>13}{'violations':>12}"
        f"{'util min':>10}{'util mean':>11}"
    )
    for name in ("huntaze", "limits"):
        r = out[name]
        print(
            f"{name:<10}{r['decisions']:>12,}{r['us_per_decision']:>13}{r['violations']:>12}"
            f"{r['utilisation_min']:>10.2%}{r['utilisation_mean']:>11.2%}"
        )
    print(
        f"(perf_counter_ns pair overhead, included in each decision: "
        f"{out['setup']['timer_overhead_ns']} ns)"
    )


if __name__ == "__main__":
    main()
