"""The outbox's worker side: claim due rows within each account's limits, record outcomes.

Shape (design.md §8 "Outbox claim"): accounts with due rows take turns (round robin on
``last_served_at``); for each, the claimable count is the send-rate capacity
(:mod:`huntaze.outbox.limits`, counted from ``send_attempts``), at most one probe when its
breaker half-opens; rows go by priority then age, with low priority bumped after
``low_priority_max_age`` so it is never starved. PostgreSQL locks the account row
(``FOR UPDATE SKIP LOCKED``) so two workers never claim for one account at once; SQLite takes
the write lock at ``BEGIN IMMEDIATE``. Each claim writes one ``send_attempts`` row per message
before any platform call, so a crash can never over-send.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.orm import Session

from huntaze.config import Settings
from huntaze.kit.clock import Clock
from huntaze.models.messaging import AccountStatus, BreakerState, OutboxMessage, OutboxStatus
from huntaze.outbox.claim_each import claim_account_rows
from huntaze.outbox.claim_many import claim_rows, recent_starts_many
from huntaze.outbox.connection import connections_for
from huntaze.outbox.due import ACCOUNT_COLUMNS, EXHAUSTED, due_accounts
from huntaze.outbox.limits import (
    Window,
    capacity,
    longest,
    parse_limits,
    parse_platform_limits,
    widened,
)
from huntaze.outbox.outcomes import Outcomes, held_by, release_in
from huntaze.outbox.plan import Plan
from huntaze.outbox.policy import BreakerPolicy, RetryPolicy
from huntaze.outbox.tables import (
    ACCOUNTS,
    ATTEMPTS,
    OUTBOX,
    PROCESSING,
    Claimed,
)
from huntaze.platforms.base import OutgoingMessage

__all__ = ["EXHAUSTED", "Claimed", "Outbox", "detach_fan", "outbox_from_settings"]


class Outbox:
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
        # a probe is in flight for as long as its lease
        self.breaker = replace(breaker or BreakerPolicy(), probe_timeout_seconds=lease_seconds)
        self.rng = rng or random.Random()
        self.platform_limits = parse_platform_limits(settings.send_limits)
        #: added to every window when counting (``HUNTAZE_SEND_LIMIT_GUARD_SECONDS``)
        self.guard = timedelta(seconds=settings.send_limit_guard_seconds)
        self.db = connections_for(engine)
        #: records what became of claimed messages (sent, retried, failed, released)
        self.outcomes = Outcomes(self.db, clock, self.retry, self.breaker, self.rng)

    def limits_for(self, platform: str, override: str | None) -> tuple[Window, ...]:
        """The account's windows: its own ``send_limits``, else the platform's default."""
        if override:
            return parse_limits(override)
        return self.platform_limits.get(platform, ())

    def close(self) -> None:
        """Give the hot-path connection back (workers call this when they stop)."""
        self.db.close()

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
        accounts waiting to be reconnected. The attempts are stamped with the clock read
        once the claim holds its lock (SQLite's write lock, PostgreSQL's account rows), never
        before: a claim that waited for the lock must not look older than it is, or the next
        claim would find capacity too early. Rows whose lease ran out after their last
        attempt are failed (:data:`EXHAUSTED`), never claimed again.
        """
        with self.db.begin() as conn, conn.begin():
            # SQLite: BEGIN IMMEDIATE has run, this connection is the only writer from here
            now = self.clock.now()
            self._fail_exhausted(conn, now)
            accounts = conn.execute(due_accounts(now).limit(max_accounts)).all()
            if self.db.locks_rows:
                return self._claim_many(conn, accounts, worker_id, now, max_messages, per_account)
            plans = self._plan(conn, accounts, now, max_messages, per_account)
            claimed: list[Claimed] = []
            for plan in plans:
                claimed.extend(self._claim_planned(conn, plan, worker_id, now))
            return claimed

    def _claim_many(
        self,
        conn: Connection,
        accounts: Sequence[Any],
        worker_id: str,
        now: datetime,
        room: int,
        share: int,
    ) -> list[Claimed]:
        """Lock the accounts this claim needs and claim for all of them in one statement
        (:mod:`.claim_many`; where claims lock rows)."""
        plans, now = self._lock_planned(conn, accounts, now, room, share)
        rows = claim_rows(
            conn,
            plans,
            worker_id,
            now,
            now + self.lease,
            now - timedelta(seconds=self.low_priority_max_age),
        )
        by_id = {p.account.id: p for p in plans}
        return [
            self._claimed(by_id[r.account_id].account, r, now, by_id[r.account_id].limited)
            for r in rows
        ]

    def _fail_exhausted(self, conn: Connection, now: datetime) -> None:
        """Fail the rows whose lease ran out after their last attempt: a worker took them and
        never recorded an outcome (it was killed, or the outcome could not be written), and
        the attempt budget is spent, so they must not be sent again."""
        conn.execute(
            update(OUTBOX)
            .where(
                OUTBOX.c.status == PROCESSING,
                OUTBOX.c.claimed_until < now,
                OUTBOX.c.attempts >= OUTBOX.c.max_attempts,
            )
            .values(
                status=OutboxStatus.FAILED, claimed_until=None, last_error=EXHAUSTED, updated_at=now
            )
        )

    def _lock_planned(
        self, conn: Connection, accounts: Sequence[Any], now: datetime, room: int, share: int
    ) -> tuple[list[Plan], datetime]:
        """Lock just the accounts this claim needs, then plan under the locks (where claims
        lock rows).

        The candidates were read without locks. Those that may take rows now are tried in
        round-robin order with ``FOR UPDATE SKIP LOCKED``, as many as filled ``room`` in the
        unlocked plan: accounts another worker holds are passed over for the next ones, so
        concurrent workers claim for disjoint accounts instead of one holding them all, and
        accounts at their send-rate limit are never locked. The clock is read again once the
        locks are held, and capacity is computed again under them, as a claim may have
        committed since the first read. Returns the plans and that instant.
        """
        hopeful = self._plan(conn, accounts, now, sys.maxsize, share)
        needed = len(self._fill(hopeful, room))
        if not needed:
            return [], now
        locked = conn.execute(
            ACCOUNT_COLUMNS.where(
                ACCOUNTS.c.id.in_([p.account.id for p in hopeful]),
                # checked again on the locked row: a worker may have paused the account since
                ACCOUNTS.c.status == AccountStatus.ACTIVE,
                ACCOUNTS.c.channel != "manual",
            )
            .order_by(ACCOUNTS.c.last_served_at.asc().nulls_first(), ACCOUNTS.c.id)
            .limit(needed)
            # FOR NO KEY UPDATE: the claim changes no key, so inserts checking a foreign key
            # to the account (FOR KEY SHARE, e.g. a bulk being queued) do not block it
            .with_for_update(skip_locked=True, key_share=True)
        ).all()
        now = self.clock.now()
        return self._plan(conn, locked, now, room, share), now

    def _plan(
        self, conn: Connection, accounts: Sequence[Any], now: datetime, room: int, share: int
    ) -> list[Plan]:
        """How many rows each account may take now: its send-rate capacity, its breaker's
        allowance (one probe when half-opening), its ``share`` and what is left of ``room``.
        Accounts that may take nothing are left out."""
        windows = {
            a.id: widened(self.limits_for(a.platform, a.send_limits), self.guard) for a in accounts
        }
        since = {a: now - longest(w) for a, w in windows.items() if w}
        if self.db.locks_rows:
            starts = recent_starts_many(conn, since)
        else:
            starts = {a: self.recent_starts(conn, a, windows[a], now) for a in since}
        plans = []
        for account in accounts:
            if room <= 0:
                break
            allowed = self.breaker.may_send(
                account.breaker_state, account.breaker_opened_at, now, account.last_served_at
            )
            if allowed == 0:
                continue
            free = capacity(windows[account.id], starts.get(account.id, []), now)
            take = min(free, room, share, allowed if allowed > 0 else free)
            if take <= 0:
                continue
            plans.append(Plan(account, take, probe=allowed == 1, limited=bool(windows[account.id])))
            room -= take
        return plans

    @staticmethod
    def _fill(plans: Sequence[Plan], room: int) -> list[Plan]:
        """The leading plans whose takes fill ``room``."""
        out = []
        for plan in plans:
            if room <= 0:
                break
            out.append(plan)
            room -= plan.take
        return out

    def claim_account(self, account_id: str, worker_id: str, limit: int) -> list[Claimed]:
        """Claim up to ``limit`` due rows of one account (any channel, manual included),
        within its limits; used by chatters working a manual account."""
        with self.db.begin() as conn, conn.begin():
            q = ACCOUNT_COLUMNS.where(
                ACCOUNTS.c.id == account_id, ACCOUNTS.c.status == AccountStatus.ACTIVE
            )
            account = conn.execute(self.db.hold(q)).first()
            now = self.clock.now()  # once the account (or SQLite's write lock) is held
            if account is None:
                return []
            plans = self._plan(conn, [account], now, limit, limit)
            return self._claim_planned(conn, plans[0], worker_id, now) if plans else []

    def _claim_planned(
        self, conn: Connection, plan: Plan, worker_id: str, now: datetime
    ) -> list[Claimed]:
        """Claim one account's planned rows, statement by statement (where one writer at a
        time keeps claims apart, and for manual sends)."""
        rows = claim_account_rows(
            conn,
            plan,
            worker_id,
            now,
            now + self.lease,
            now - timedelta(seconds=self.low_priority_max_age),
            lock=self.db.locks_rows,
        )
        return [self._claimed(plan.account, r, now, plan.limited) for r in rows]

    def restamp(self, worker_id: str, item: Claimed) -> Claimed | None:
        """Move a claimed attempt's start to now, just before a send that starts late.

        A claim stamps its attempts when it commits, but a worker sends its batch one
        message after another: a send that starts well after its stamp would let the limit
        count it as older than it is. Under the same lock a claim takes (SQLite's write
        lock; the account row on PostgreSQL), with the clock read once the lock is held,
        the account's recent attempts are counted again without this one: if the send still
        fits in every window (widened by the guard), its ``send_attempts`` row is stamped
        now and the updated value is returned; if not, the row goes back to the queue with
        its attempt undone (as :meth:`release` does) and ``None`` is returned. ``None`` too
        when this worker no longer holds the row (its lease ran out and another took it).
        """
        with self.db.begin() as conn, conn.begin():
            q = select(ACCOUNTS.c.platform, ACCOUNTS.c.send_limits).where(
                ACCOUNTS.c.id == item.account_id
            )
            account = conn.execute(self.db.hold(q)).first()
            now = self.clock.now()
            held = conn.execute(
                update(OUTBOX)
                .where(held_by(item.message.message_id, worker_id))
                .values(updated_at=now)
            ).rowcount
            if account is None or not held:
                return None
            windows = widened(self.limits_for(account.platform, account.send_limits), self.guard)
            starts = self.recent_starts(conn, item.account_id, windows, now)
            if item.claimed_at in starts:  # its own attempt does not count against itself
                starts.remove(item.claimed_at)
            if capacity(windows, starts, now) < 1:
                release_in(conn, worker_id, [item], now)
                return None
            conn.execute(
                update(ATTEMPTS)
                .where(
                    ATTEMPTS.c.message_id == item.message.message_id,
                    ATTEMPTS.c.started_at == item.claimed_at,
                )
                .values(started_at=now)
            )
        return replace(item, claimed_at=now)

    @staticmethod
    def _claimed(account: Any, r: Any, now: datetime, limited: bool) -> Claimed:
        return Claimed(
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
                campaign_id=r.campaign_id,
            ),
            account_id=account.id,
            channel=account.channel,
            attempts=r.attempts,
            max_attempts=r.max_attempts,
            claimed_at=now,
            breaker_clean=account.breaker_state == BreakerState.CLOSED
            and not account.breaker_failures,
            limited=limited,
            config_version=account.config_version,
        )


def detach_fan(session: Session, creator_id: str, fan_id: str) -> None:
    """Before a fan is deleted: its outbox rows stay, with their recipient, and their
    ``fan_id`` becomes NULL (what ``ON DELETE SET NULL`` would do; the outbox has no foreign
    key to fans, so a bulk insert pays no check per row, see
    :class:`huntaze.models.messaging.OutboxMessage`). Added to ``session``'s transaction."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.creator_id == creator_id, OutboxMessage.fan_id == fan_id)
        .values(fan_id=None)
    )


def outbox_from_settings(engine: Engine, clock: Clock, settings: Settings) -> Outbox:
    """The outbox with the lease, age bump and attempt budget of ``settings``."""
    return Outbox(
        engine,
        clock,
        settings,
        lease_seconds=settings.lease_seconds,
        low_priority_max_age=settings.low_priority_max_age_seconds,
        retry=RetryPolicy(
            max_attempts=settings.max_attempts,
            max_delay_seconds=settings.max_retry_delay_seconds,
        ),
    )
