"""The outbox's worker side: claim due rows within each account's limits, record outcomes.

Shape (design.md §8 "Outbox claim"): accounts with due rows take turns (round robin on
``last_served_at``); for each, the claimable count is the send-rate capacity
(:mod:`huntaze.messaging.limits`, counted from ``send_attempts``), at most one probe when its
breaker half-opens; rows go by priority then age, with low priority bumped after
``low_priority_max_age`` so it is never starved. PostgreSQL locks the account row
(``FOR UPDATE SKIP LOCKED``) so two workers never claim for one account at once; SQLite takes
the write lock at ``BEGIN IMMEDIATE``. Each claim writes one ``send_attempts`` row per message
before any platform call, so a crash can never over-send.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, or_, select, update

from huntaze.config import Settings
from huntaze.kit.clock import Clock
from huntaze.messaging.limits import Window, capacity, longest, parse_limits, parse_platform_limits
from huntaze.messaging.outcomes import OutcomeRecorder
from huntaze.messaging.policy import BreakerPolicy, RetryPolicy
from huntaze.messaging.tables import (
    ACCOUNTS,
    ATTEMPTS,
    OUTBOX,
    Claimed,
)
from huntaze.platforms.base import OutgoingMessage

__all__ = ["Claimed", "Outbox", "outbox_from_settings"]


class Outbox(OutcomeRecorder):
    """Claims and completes outbox rows for workers.

    Args:
        engine: the database.
        clock: the time source (UTC).
        settings: for ``HUNTAZE_SEND_LIMITS``.
        lease_seconds: how long a claim holds a row before another worker may take it.
        low_priority_max_age: seconds after which a row is served as if high priority.
        retry, breaker: the retry and circuit-breaker policies.
        rng: randomness for jitter (tests pass a seeded one).
    """

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        settings: Settings,
        *,
        lease_seconds: float = 60.0,
        low_priority_max_age: float = 600.0,
        retry: RetryPolicy | None = None,
        breaker: BreakerPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.lease = timedelta(seconds=lease_seconds)
        self.low_priority_max_age = low_priority_max_age
        self.retry = retry or RetryPolicy()
        self.breaker = breaker or BreakerPolicy()
        self.rng = rng or random.Random()
        self.platform_limits = parse_platform_limits(settings.send_limits)
        self.pg = engine.dialect.name == "postgresql"

    def limits_for(self, platform: str, override: str | None) -> tuple[Window, ...]:
        """The account's windows: its own ``send_limits``, else the platform's default."""
        if override:
            return parse_limits(override)
        return self.platform_limits.get(platform, ())

    def _begin(self) -> Any:
        conn = self.engine.connect()
        if not self.pg:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        return conn

    def _record(self) -> Any:
        """A connection for recording outcomes. On PostgreSQL these small commits do not wait
        for the WAL flush (``synchronous_commit = off``): a killed worker loses nothing the
        server acknowledged, and a server crash can only lose the last fraction of a second of
        outcomes, whose messages are then sent again (at-least-once, with their idempotency
        keys)."""
        conn = self._begin()
        if self.pg:
            conn = conn.execution_options(postgresql_synchronous_commit_off=True)
        return conn

    def recent_starts(
        self, conn: Connection, account_id: str, windows: Sequence[Window], now: datetime
    ) -> list[datetime]:
        """Start times of the account's attempts inside its longest window, ascending."""
        if not windows:
            return []
        since = now - longest(windows)
        rows = conn.execute(
            select(ATTEMPTS.c.started_at)
            .where(ATTEMPTS.c.account_id == account_id, ATTEMPTS.c.started_at > since)
            .order_by(ATTEMPTS.c.started_at)
        )
        return [r[0] for r in rows]

    def claim(
        self, worker_id: str, max_messages: int = 200, per_account: int = 50, max_accounts: int = 50
    ) -> list[Claimed]:
        """Claim due rows across accounts, each within its limits; commit and return them.

        Manual accounts are skipped (chatters claim those through the API), and so are
        accounts waiting to be reconnected.
        """
        now = self.clock.now()
        claimed: list[Claimed] = []
        with self._begin() as conn, conn.begin():
            accounts_q = (
                select(
                    ACCOUNTS.c.id,
                    ACCOUNTS.c.platform,
                    ACCOUNTS.c.channel,
                    ACCOUNTS.c.send_limits,
                    ACCOUNTS.c.breaker_state,
                    ACCOUNTS.c.breaker_opened_at,
                    ACCOUNTS.c.breaker_failures,
                )
                .where(
                    ACCOUNTS.c.status == "active",
                    ACCOUNTS.c.channel != "manual",
                    or_(
                        select(OUTBOX.c.id)
                        .where(
                            OUTBOX.c.account_id == ACCOUNTS.c.id,
                            OUTBOX.c.status == "queued",
                            OUTBOX.c.not_before <= now,
                        )
                        .exists(),
                        select(OUTBOX.c.id)
                        .where(
                            OUTBOX.c.account_id == ACCOUNTS.c.id,
                            OUTBOX.c.status == "processing",
                            OUTBOX.c.claimed_until < now,
                        )
                        .exists(),
                    ),
                )
                .order_by(ACCOUNTS.c.last_served_at.asc().nulls_first(), ACCOUNTS.c.id)
                .limit(max_accounts)
            )
            if self.pg:
                accounts_q = accounts_q.with_for_update(skip_locked=True, of=ACCOUNTS)
            for account in conn.execute(accounts_q).all():
                room = max_messages - len(claimed)
                if room <= 0:
                    break
                claimed.extend(
                    self._claim_account(conn, account, worker_id, now, room, per_account)
                )
        return claimed

    def claim_account(self, account_id: str, worker_id: str, limit: int) -> list[Claimed]:
        """Claim up to ``limit`` due rows of one account (any channel, manual included),
        within its limits; used by chatters working a manual account."""
        now = self.clock.now()
        with self._begin() as conn, conn.begin():
            q = select(
                ACCOUNTS.c.id,
                ACCOUNTS.c.platform,
                ACCOUNTS.c.channel,
                ACCOUNTS.c.send_limits,
                ACCOUNTS.c.breaker_state,
                ACCOUNTS.c.breaker_opened_at,
                ACCOUNTS.c.breaker_failures,
            ).where(ACCOUNTS.c.id == account_id, ACCOUNTS.c.status == "active")
            if self.pg:
                q = q.with_for_update()
            account = conn.execute(q).first()
            if account is None:
                return []
            return self._claim_account(conn, account, worker_id, now, limit, limit)

    def _pick(self, conn: Connection, account_id: str, now: datetime, take: int) -> list[str]:
        """Up to ``take`` claimable ids of one account, in claim order: expired leases first,
        then rows past the low-priority age (served as high), then by priority and age.

        Three indexed reads instead of one ``ORDER BY CASE …`` over the account's whole queue:
        the last one walks the partial index ``ix_outbox_queued`` (account, priority, age)
        and stops after ``take`` rows, however deep the backlog.
        """
        aged = now - timedelta(seconds=self.low_priority_max_age)
        queries = [
            select(OUTBOX.c.id)
            .where(
                OUTBOX.c.account_id == account_id,
                OUTBOX.c.status == "processing",
                OUTBOX.c.claimed_until < now,
            )
            .order_by(OUTBOX.c.created_at, OUTBOX.c.id),
            select(OUTBOX.c.id)
            .where(
                OUTBOX.c.account_id == account_id,
                OUTBOX.c.status == "queued",
                OUTBOX.c.priority > 0,
                OUTBOX.c.created_at < aged,
                OUTBOX.c.not_before <= now,
            )
            .order_by(OUTBOX.c.created_at, OUTBOX.c.id),
            select(OUTBOX.c.id)
            .where(
                OUTBOX.c.account_id == account_id,
                OUTBOX.c.status == "queued",
                OUTBOX.c.not_before <= now,
            )
            .order_by(OUTBOX.c.priority, OUTBOX.c.created_at, OUTBOX.c.id),
        ]
        picked: dict[str, None] = {}
        for query in queries:
            room = take - len(picked)
            if room <= 0:
                break
            q = query.limit(room + len(picked))
            if self.pg:
                q = q.with_for_update(skip_locked=True)
            for (message_id,) in conn.execute(q):
                if len(picked) < take:
                    picked.setdefault(message_id, None)
        return list(picked)

    def _claim_account(
        self,
        conn: Connection,
        account: Any,
        worker_id: str,
        now: datetime,
        room: int,
        per_account: int,
    ) -> list[Claimed]:
        allowed = self.breaker.may_send(account.breaker_state, account.breaker_opened_at, now)
        if allowed == 0:
            return []
        windows = self.limits_for(account.platform, account.send_limits)
        free = capacity(windows, self.recent_starts(conn, account.id, windows, now), now)
        take = min(free, room, per_account, allowed if allowed > 0 else free)
        if take <= 0:
            return []
        ids = self._pick(conn, account.id, now, take)
        if not ids:
            return []
        rows = conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(ids))
            .values(
                status="processing",
                claimed_until=now + self.lease,
                claimed_by=worker_id,
                attempts=OUTBOX.c.attempts + 1,
                updated_at=now,
            )
            .returning(
                OUTBOX.c.id,
                OUTBOX.c.idempotency_key,
                OUTBOX.c.platform,
                OUTBOX.c.recipient,
                OUTBOX.c.content,
                OUTBOX.c.media,
                OUTBOX.c.price_cents,
                OUTBOX.c.subject,
                OUTBOX.c.fan_id,
                OUTBOX.c.attempts,
                OUTBOX.c.max_attempts,
            )
        ).all()
        # RETURNING follows the table's physical order, not the claim order: restore it
        rank = {message_id: n for n, message_id in enumerate(ids)}
        rows = sorted(rows, key=lambda r: rank[r.id])
        conn.execute(
            insert(ATTEMPTS),
            [{"account_id": account.id, "message_id": r.id, "started_at": now} for r in rows],
        )
        values: dict[str, Any] = {"last_served_at": now}
        if allowed == 1:
            values["breaker_state"] = "half_open"
        conn.execute(update(ACCOUNTS).where(ACCOUNTS.c.id == account.id).values(**values))
        return [
            Claimed(
                message=OutgoingMessage(
                    message_id=r.id,
                    idempotency_key=r.idempotency_key,
                    account_id=account.id,
                    platform=r.platform,
                    recipient=r.recipient,
                    content=r.content,
                    media_urls=tuple(r.media or ()),
                    price_cents=r.price_cents,
                    subject=r.subject,
                    fan_id=r.fan_id,
                ),
                account_id=account.id,
                channel=account.channel,
                attempts=r.attempts,
                max_attempts=r.max_attempts,
                claimed_at=now,
                breaker_clean=account.breaker_state == "closed" and not account.breaker_failures,
            )
            for r in rows
        ]


def outbox_from_settings(engine: Engine, clock: Clock, settings: Settings) -> Outbox:
    """The outbox with the lease, age bump and attempt budget of ``settings``."""
    return Outbox(
        engine,
        clock,
        settings,
        lease_seconds=settings.lease_seconds,
        low_priority_max_age=settings.low_priority_max_age_seconds,
        retry=RetryPolicy(max_attempts=settings.max_attempts),
    )
