"""Recording send outcomes: sent, retried with backoff, failed, paused for reconnection,
released, or reported by a chatter. Each outcome is its own small transaction, recorded right
after its send (see :class:`huntaze.outbox.worker.Worker`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import ColumnElement, Connection, and_, delete, or_, select, update

from huntaze.models.messaging import AccountStatus, BreakerState, OutboxStatus
from huntaze.outbox.tables import ACCOUNTS, ATTEMPTS, OUTBOX, Claimed
from huntaze.platforms.base import SendResult

log = structlog.get_logger("huntaze.outbox")

ERROR_MAX = 2000
"""Longest reason kept in ``last_error``, in characters."""
EXTERNAL_ID_MAX = 255
"""Longest platform id kept in ``external_id`` (its column's length), in characters."""


def bounded(reason: str) -> str:
    """``reason`` as stored in ``last_error``: NUL and other control characters (but line
    breaks) dropped, cut to :data:`ERROR_MAX` characters."""
    kept = "".join(c for c in reason if c in "\n\t" or c.isprintable())
    return kept[:ERROR_MAX]


def external_id_of(result: SendResult) -> str | None:
    """The platform's id as stored: ``None`` when it is longer than :data:`EXTERNAL_ID_MAX`
    characters or holds control characters (a relay's answer is bounded, never trusted to
    fit; the message is sent all the same)."""
    value = result.external_id
    if value is None or len(value) > EXTERNAL_ID_MAX or not value.isprintable():
        return None
    return value


def held_by(message_id: str, worker_id: str) -> ColumnElement[bool]:
    """The condition that ``worker_id`` still holds ``message_id`` (claimed, processing)."""
    return and_(
        OUTBOX.c.id == message_id,
        OUTBOX.c.status == OutboxStatus.PROCESSING,
        OUTBOX.c.claimed_by == worker_id,
    )


def release_in(conn: Connection, worker_id: str, items: Sequence[Claimed], now: datetime) -> int:
    """Queue ``items`` again inside ``conn``'s transaction, undoing their attempt and removing
    their ``send_attempts`` rows; returns how many ``worker_id`` still held."""
    ids = [i.message.message_id for i in items]
    res = conn.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.id.in_(ids),
            OUTBOX.c.status == OutboxStatus.PROCESSING,
            OUTBOX.c.claimed_by == worker_id,
        )
        .values(
            status=OutboxStatus.QUEUED,
            claimed_until=None,
            attempts=OUTBOX.c.attempts - 1,
            updated_at=now,
        )
    )
    conn.execute(
        delete(ATTEMPTS).where(
            ATTEMPTS.c.message_id.in_(ids),
            ATTEMPTS.c.started_at.in_(sorted({i.claimed_at for i in items})),
        )
    )
    return res.rowcount or 0


if TYPE_CHECKING:
    import random

    from huntaze.kit.clock import Clock
    from huntaze.outbox.connection import OutboxConnections
    from huntaze.outbox.policy import BreakerPolicy, RetryPolicy


class Outcomes:
    """Records what became of claimed messages; each outcome is one short transaction.

    Args:
        db: the outbox's connections, shared with its claims
            (:class:`~huntaze.outbox.service.Outbox`).
        clock: the time source (UTC).
        retry, breaker: the retry and circuit-breaker policies.
        rng: randomness for the retry jitter.
    """

    def __init__(
        self,
        db: OutboxConnections,
        clock: Clock,
        retry: RetryPolicy,
        breaker: BreakerPolicy,
        rng: random.Random,
    ) -> None:
        self.db = db
        self.clock = clock
        self.retry = retry
        self.breaker = breaker
        self.rng = rng

    def _mark_sent_fast(self, worker_id: str, done: Sequence[tuple[Claimed, SendResult]]) -> int:
        """``mark_sent`` for accounts whose breaker was closed, on the kept hot-path
        connection (:meth:`OutboxConnections.mark_sent`: the send loop's only write)."""
        delivered = [(item.message.message_id, external_id_of(result)) for item, result in done]
        try:
            return self.db.mark_sent(worker_id, self.clock.now(), delivered)
        except Exception:
            self.db.close()  # a broken connection is replaced on next use
            raise

    def finish_manual(
        self,
        worker_id: str,
        message_id: str,
        sent: bool,
        external_id: str | None,
        reason: str | None,
    ) -> bool:
        """Record what a chatter did with a message they hold; False if they do not hold it."""
        now = self.clock.now()
        values: dict[str, Any] = (
            {
                "status": OutboxStatus.SENT,
                "sent_at": now,
                "external_id": external_id,
                "last_error": None,
            }
            if sent
            else {
                "status": OutboxStatus.FAILED,
                "last_error": bounded(reason or "reported failed by hand"),
            }
        )
        with self.db.record() as conn, conn.begin():
            res = conn.execute(
                update(OUTBOX)
                .where(held_by(message_id, worker_id), OUTBOX.c.claimed_until >= now)
                .values(claimed_until=None, updated_at=now, **values)
            )
        return bool(res.rowcount)

    def mark_sent(self, worker_id: str, done: Sequence[tuple[Claimed, SendResult]]) -> int:
        """Record sends the platform accepted; return how many rows this worker still held.

        The breaker of each account that succeeded closes.
        """
        if not done:
            return 0
        if all(item.breaker_clean for item, _ in done):
            return self._mark_sent_fast(worker_id, done)
        now = self.clock.now()
        changed = 0
        with self.db.record() as conn, conn.begin():
            for item, result in done:
                res = conn.execute(
                    update(OUTBOX)
                    .where(held_by(item.message.message_id, worker_id))
                    .values(
                        status=OutboxStatus.SENT,
                        sent_at=now,
                        external_id=external_id_of(result),
                        claimed_until=None,
                        last_error=None,
                        updated_at=now,
                    )
                )
                changed += res.rowcount or 0
            accounts = sorted({item.account_id for item, _ in done if not item.breaker_clean})
            if not accounts:
                return changed
            conn.execute(
                update(ACCOUNTS)
                .where(
                    ACCOUNTS.c.id.in_(accounts),
                    or_(
                        ACCOUNTS.c.breaker_state != BreakerState.CLOSED,
                        ACCOUNTS.c.breaker_failures != 0,
                    ),
                )
                .values(
                    breaker_state=BreakerState.CLOSED,
                    breaker_failures=0,
                    breaker_opened_at=None,
                    updated_at=now,
                )
            )
        return changed

    def mark_retry(
        self, worker_id: str, item: Claimed, reason: str, retry_after: float | None
    ) -> tuple[str, bool]:
        """Record a transient failure: back to ``queued`` after a backoff (at most
        :attr:`RetryPolicy.max_delay_seconds`, whatever ``retry_after`` asks), or ``failed``
        after the last attempt. Feeds the account's breaker. Returns the new status, and
        whether the account's breaker is open now (the worker then gives back the account's
        other claimed rows)."""
        now = self.clock.now()
        final = item.attempts >= item.max_attempts
        with self.db.record() as conn, conn.begin():
            if final:
                values: dict[str, Any] = {"status": OutboxStatus.FAILED, "claimed_until": None}
            else:
                delay = self.retry.delay(item.attempts, retry_after, self.rng)
                values = {
                    "status": OutboxStatus.QUEUED,
                    "claimed_until": None,
                    "not_before": now + timedelta(seconds=delay),
                }
            conn.execute(
                update(OUTBOX)
                .where(held_by(item.message.message_id, worker_id))
                .values(last_error=bounded(reason), updated_at=now, **values)
            )
            opened = self._breaker_failure(conn, item.account_id, now)
        return str(values["status"]), opened

    def _breaker_failure(self, conn: Connection, account_id: str, now: datetime) -> bool:
        q = select(ACCOUNTS.c.breaker_state, ACCOUNTS.c.breaker_failures).where(
            ACCOUNTS.c.id == account_id
        )
        row = conn.execute(self.db.hold(q, exclusive=True)).first()
        if row is None:
            return False
        state, failures = self.breaker.after_failure(row.breaker_state, row.breaker_failures)
        values: dict[str, Any] = {"breaker_state": state, "breaker_failures": failures}
        if state == "open":
            values["breaker_opened_at"] = now
        conn.execute(
            update(ACCOUNTS).where(ACCOUNTS.c.id == account_id).values(updated_at=now, **values)
        )
        return state == BreakerState.OPEN

    def mark_failed(self, worker_id: str, item: Claimed, reason: str) -> None:
        """Record a permanent failure: the message fails at once with ``reason``."""
        now = self.clock.now()
        with self.db.record() as conn, conn.begin():
            conn.execute(
                update(OUTBOX)
                .where(held_by(item.message.message_id, worker_id))
                .values(
                    status=OutboxStatus.FAILED,
                    claimed_until=None,
                    last_error=bounded(reason),
                    updated_at=now,
                )
            )

    def mark_reconnect(self, worker_id: str, item: Claimed, reason: str) -> None:
        """The account's credentials were refused: pause the account, requeue the row as it
        was (the attempt is not held against it)."""
        now = self.clock.now()
        with self.db.record() as conn, conn.begin():
            conn.execute(
                update(OUTBOX)
                .where(held_by(item.message.message_id, worker_id))
                .values(
                    status=OutboxStatus.QUEUED,
                    claimed_until=None,
                    attempts=OUTBOX.c.attempts - 1,
                    last_error=bounded(reason),
                    updated_at=now,
                )
            )
            conn.execute(
                update(ACCOUNTS)
                .where(ACCOUNTS.c.id == item.account_id)
                .values(
                    status=AccountStatus.RECONNECT_REQUIRED,
                    status_reason=bounded(reason),
                    updated_at=now,
                )
            )

    def release(self, worker_id: str, items: Sequence[Claimed]) -> int:
        """Give back rows claimed but not sent (graceful stop, a breaker that opened, an
        account paused mid-batch): queued again, attempt undone, and their ``send_attempts``
        removed so they do not hold rate capacity. Returns how many this worker still held."""
        if not items:
            return 0
        with self.db.begin() as conn, conn.begin():
            return release_in(conn, worker_id, items, self.clock.now())

    def prune_attempts(self, keep_seconds: float = 86_400.0) -> int:
        """Delete attempts older than ``keep_seconds`` (longer than any window); return count."""
        cutoff = self.clock.now() - timedelta(seconds=keep_seconds)
        with self.db.begin() as conn, conn.begin():
            res = conn.execute(delete(ATTEMPTS).where(ATTEMPTS.c.started_at < cutoff))
        return res.rowcount or 0
