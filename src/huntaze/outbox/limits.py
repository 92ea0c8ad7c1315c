"""Send-rate limits: one account never starts more than N sends in any rolling window W.

Limits are written in the ``limits`` library's notation (``10/minute``, ``5/2seconds``,
several windows joined by ``;``) and parsed by that library. The decision itself is a count,
not a token estimate (design.md §8): an account may start ``N - (attempts started in the
last W)`` sends now, for every window. The attempts come from the ``send_attempts`` table,
which every worker writes before calling the platform, so the guarantee holds across workers,
crashes and restarts.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import limits as limits_lib


@dataclass(frozen=True, slots=True)
class Window:
    """At most ``amount`` sends in any ``seconds``-long rolling window."""

    amount: int
    seconds: float

    @property
    def span(self) -> timedelta:
        """The window as a timedelta."""
        return timedelta(seconds=self.seconds)


def parse_limits(text: str) -> tuple[Window, ...]:
    """Parse ``"10/minute;300/hour"`` into windows (the ``limits`` library's notation).

    Raises:
        ValueError: for text the ``limits`` library does not read, or a zero amount.
    """
    try:
        items = limits_lib.parse_many(text)
    except ValueError as exc:
        raise ValueError(f"not a send limit: {text!r} (examples: 10/minute, 5/2seconds)") from exc
    windows = tuple(Window(int(item.amount), float(item.get_expiry())) for item in items)
    if not windows or any(w.amount <= 0 or w.seconds <= 0 for w in windows):
        raise ValueError(f"not a send limit: {text!r}")
    return windows


def parse_platform_limits(raw: str) -> dict[str, tuple[Window, ...]]:
    """Parse ``HUNTAZE_SEND_LIMITS`` (a JSON object of platform -> limit text).

    Raises:
        ValueError: for invalid JSON or an invalid limit (naming the platform).
    """
    try:
        data = json.loads(raw or "{}")
    except ValueError as exc:
        raise ValueError(f"HUNTAZE_SEND_LIMITS is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("HUNTAZE_SEND_LIMITS must be a JSON object of platform -> limits")
    parsed = {}
    for platform, text in data.items():
        try:
            parsed[str(platform)] = parse_limits(str(text))
        except ValueError as exc:
            raise ValueError(f"HUNTAZE_SEND_LIMITS[{platform!r}]: {exc}") from exc
    return parsed


def widened(windows: Sequence[Window], guard: timedelta) -> tuple[Window, ...]:
    """``windows`` each lengthened by ``guard``: what the outbox counts, so the jitter between
    stamping an attempt and the platform receiving it cannot fit N + 1 sends in a window."""
    extra = guard.total_seconds()
    return tuple(Window(w.amount, w.seconds + extra) for w in windows)


def longest(windows: Sequence[Window]) -> timedelta:
    """The longest window: attempts older than this never matter."""
    return max((w.span for w in windows), default=timedelta(0))


def capacity(windows: Sequence[Window], starts: Sequence[datetime], now: datetime) -> int:
    """How many sends may start at ``now``.

    Args:
        windows: the account's limits (empty means unlimited: returns a large number).
        starts: start times of the account's attempts within the longest window, ascending.
        now: the current instant (UTC).
    """
    if not windows:
        return 1 << 30
    free = 1 << 30
    for w in windows:
        recent = len(starts) - bisect_right(starts, now - w.span)
        free = min(free, w.amount - recent)
    return max(free, 0)


def next_free_at(windows: Sequence[Window], starts: Sequence[datetime], now: datetime) -> datetime:
    """The earliest instant at which one more send may start (``now`` if one may already)."""
    when = now
    for w in windows:
        first = bisect_right(starts, now - w.span)
        recent = len(starts) - first
        if recent >= w.amount:
            # the oldest attempt that must age out for a slot to free in this window
            when = max(when, starts[first + recent - w.amount] + w.span)
    return when


def schedule_time(
    windows: Sequence[Window], starts: Sequence[datetime], now: datetime, position: int
) -> datetime | None:
    """When the send at 0-based ``position`` in the account's queue may start, if the queue
    is served at the full rate from ``now``.

    For one window of N sends per W, the k-th future send reuses the slot of the send N places
    before it, so it starts at ``max(now, slot_free[k mod N]) + (k // N) * W``, where
    ``slot_free`` are the instants the last N attempts age out. With several windows the
    latest of their times is taken. O(N) per window, whatever the position, so a 100,000-deep
    backlog is estimated as cheaply as the first message.

    Returns ``None`` when that instant falls past the end of the calendar (year 9999): a
    backlog so deep, or a window so long, that no date can be promised.
    """
    when = now
    try:
        for w in windows:
            recent = [t for t in starts if t > now - w.span][-w.amount :]
            slots = [now] * (w.amount - len(recent)) + [t + w.span for t in recent]
            slots.sort()
            cycle, slot = divmod(position, w.amount)
            when = max(when, max(now, slots[slot]) + cycle * w.span)
    except OverflowError:
        return None
    return when
