"""Retry backoff and circuit-breaker rules of the outbox (pure functions, no I/O)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from huntaze.models.messaging import BreakerState


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter.

    The delay before attempt ``n + 1`` is uniform in ``[0, min(cap, base * 2**n))`` seconds
    ("Full Jitter" in Marc Brooker, *Exponential Backoff And Jitter*, AWS Architecture Blog,
    2015), and never shorter than the platform's ``Retry-After`` (RFC 9110 §10.2.3), up to
    ``max_delay_seconds``: a relay answering ``Retry-After: 999999999999`` waits an hour,
    not thirty thousand years (and never overflows a date).

    Attributes:
        base_seconds: the first delay's upper bound.
        cap_seconds: the largest backoff of our own.
        max_attempts: attempts before a message fails (the seed's 3).
        max_delay_seconds: the longest any retry waits, ``Retry-After`` included
            (``HUNTAZE_MAX_RETRY_DELAY_SECONDS``, one hour by default).
    """

    base_seconds: float = 2.0
    cap_seconds: float = 300.0
    max_attempts: int = 3
    max_delay_seconds: float = 3600.0

    def delay(
        self, attempts: int, retry_after: float | None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after ``attempts`` failed attempts (``attempts`` ≥ 1), in
        ``[0, max_delay_seconds]``; a ``retry_after`` that is negative, not a number or
        infinite counts as no hint and as the maximum respectively."""
        exponent = min(max(attempts - 1, 0), 64)  # 2**64 times base is past any cap already
        bound = min(self.cap_seconds, self.base_seconds * (2**exponent))
        jittered = (rng or random).uniform(0, bound)
        hint = retry_after if retry_after is not None and retry_after == retry_after else 0.0
        return min(max(jittered, hint, 0.0), self.max_delay_seconds)


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """A per-account circuit breaker.

    After ``failure_threshold`` consecutive transient failures the breaker opens: nothing is
    sent and rows stay queued. After ``cooldown_seconds`` it half-opens and lets one probe
    through: success closes it, failure opens it again (Nygard, *Release It!*, "Circuit
    Breaker"). A probe that ends otherwise (a permanent error, a release on stop, a worker
    killed mid-send) settles nothing, so another probe is let through once
    ``probe_timeout_seconds`` (the outbox sets its lease there) have passed since the last one.
    """

    failure_threshold: int = 5
    cooldown_seconds: float = 60.0
    probe_timeout_seconds: float = 60.0

    def may_send(
        self,
        state: str,
        opened_at: datetime | None,
        now: datetime,
        probed_at: datetime | None = None,
    ) -> int:
        """How many sends the breaker lets through now: all (``-1``), one probe, or none.

        ``probed_at`` (UTC) is when the half-open breaker's probe was claimed (the account's
        ``last_served_at``).
        """
        if state == BreakerState.CLOSED:
            return -1
        if state == BreakerState.OPEN and opened_at is not None:
            return 1 if now >= opened_at + timedelta(seconds=self.cooldown_seconds) else 0
        if state == BreakerState.HALF_OPEN and probed_at is not None:
            # the probe is in flight until its lease runs out; then it is tried again
            return 1 if now >= probed_at + timedelta(seconds=self.probe_timeout_seconds) else 0
        return 0

    def after_failure(self, state: str, failures: int) -> tuple[str, int]:
        """The (state, consecutive failures) after a transient failure."""
        failures += 1
        if state == BreakerState.HALF_OPEN or failures >= self.failure_threshold:
            return BreakerState.OPEN, failures
        return state, failures
