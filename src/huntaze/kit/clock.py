"""Injected time. Domain code asks a :class:`Clock` for "now" instead of reading the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current time as a timezone-aware UTC datetime."""

    def now(self) -> datetime:
        """Return the current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real wall clock (UTC)."""

    def now(self) -> datetime:
        """Return ``datetime.now(UTC)``."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock for tests: it stands still until moved with :meth:`advance` or :meth:`set`."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")

    def now(self) -> datetime:
        """Return the frozen instant (UTC)."""
        return self._now

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by ``seconds`` and return the new instant."""
        self._now += timedelta(seconds=seconds)
        return self._now

    def set(self, instant: datetime) -> None:
        """Jump to ``instant`` (timezone-aware).

        Raises:
            ValueError: if ``instant`` is naive.
        """
        if instant.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self._now = instant
