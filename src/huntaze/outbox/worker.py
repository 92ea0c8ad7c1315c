"""The worker loop: claim due messages, send each through its account's channel, record the
outcome. Any number of workers may run, in any number of processes, on SQLite or PostgreSQL.

A worker killed at any moment loses nothing: its rows come back when their lease runs out.
On a graceful stop (SIGTERM) it finishes the message in hand, records what it sent and
releases the rest.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

import structlog
from psycopg import DatabaseError
from sqlalchemy.exc import SQLAlchemyError

from huntaze.idempotency import service as idempotency
from huntaze.outbox.channels import ChannelFactory
from huntaze.outbox.service import Claimed, Outbox
from huntaze.platforms.base import (
    OutgoingMessage,
    PermanentError,
    ReconnectRequired,
    RetryableError,
    SendResult,
)

log = structlog.get_logger("huntaze.worker")
HOUSEKEEPING_SECONDS = 600.0
RESTAMP_AFTER = 0.05
"""Seconds after its claim beyond which a rate-limited send is restamped before it starts
(well inside the outbox's guard, so a send that starts a little late needs no extra write)."""

#: Called with (claimed, outcome, seconds taken) after each send; metrics hook in here.
SendObserver = Callable[[Claimed, str, float], None]


def default_worker_id() -> str:
    """``<host>:<pid>:<thread>``: unique among live workers."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


class Worker:
    """Drains the outbox.

    Args:
        outbox: claims and completions.
        channels: makes the channel of each account.
        worker_id: the name leases are taken under.
        batch: the most messages claimed at once.
        poll_seconds: the pause when nothing was due (wall time; domain time comes from the
            outbox's clock).
        group_seconds: the longest wall time a success on a deduplicating channel waits to
            be recorded with the others of its batch.
        observer: called after each send with its outcome (``sent``, ``retry``, ``failed``,
            ``reconnect``) and duration in seconds.
        jobs: periodic jobs the process adds (the campaigns' scheduler, the segments'
            refresh), run between batches (:meth:`run_jobs`).
        job_seconds: the wall time between two runs of the jobs, unless one of them said it
            has more to do.
        prepare: turns each claimed message into what its channel receives, at send time
            (the process that runs the worker adds campaign link tracking,
            :class:`huntaze.tracking.links.LinkRewriter`); the stored row keeps the text as
            queued. It must give the same result on every attempt.
    """

    def __init__(
        self,
        outbox: Outbox,
        channels: ChannelFactory,
        *,
        worker_id: str | None = None,
        batch: int = 200,
        poll_seconds: float = 0.2,
        group_seconds: float = 1.0,
        observer: SendObserver | None = None,
        jobs: Sequence[Callable[[], object]] = (),
        job_seconds: float = 0.25,
        prepare: Callable[[OutgoingMessage], OutgoingMessage] | None = None,
    ) -> None:
        self.outbox = outbox
        self.channels = channels
        self.worker_id = worker_id or default_worker_id()
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.group_seconds = group_seconds
        self.observer = observer
        self.prepare = prepare
        #: periodic jobs the process that runs the worker adds (campaign scheduling): each
        #: runs at most every ``job_seconds`` of wall time, between batches
        self.jobs = tuple(jobs)
        self.job_seconds = job_seconds
        self._jobs_ran = 0.0
        self._jobs_more = False
        self.stopping = threading.Event()
        #: monotonic seconds of the last loop turn (wall time, for stall detection)
        self.last_beat_monotonic = time.monotonic()
        #: the last loop turn and the last turn that handled messages (the outbox's clock, UTC)
        self.last_heartbeat: datetime | None = None
        self.last_progress: datetime | None = None

    def run_once(self) -> int:
        """Claim one batch and send it; return how many messages were handled.

        Successes on channels that deduplicate (``Channel.deduplicates``) are recorded together,
        at the end of the batch or after ``group_seconds`` of wall time, whichever comes
        first; every other outcome is recorded right after its send.

        A send on a rate-limited account that starts more than :data:`RESTAMP_AFTER` after
        its claim is restamped first (:meth:`Outbox.restamp`), or given back when it no
        longer fits the limit. Once an account's breaker opens, or the account must be
        reconnected, its other rows of the batch are given back without spending an attempt.
        """
        claimed = self.outbox.claim(self.worker_id, max_messages=self.batch)
        group: list[tuple[Claimed, SendResult, float]] = []
        group_started = 0.0
        done = 0
        stopped: set[str] = set()  # accounts whose breaker opened or that were paused
        held_back: list[Claimed] = []
        try:
            for index, item in enumerate(claimed):
                if self.stopping.is_set():
                    self._flush(group)
                    held_back.extend(claimed[index:])
                    break
                if item.account_id in stopped:
                    held_back.append(item)
                    continue
                if item.limited:
                    # build the channel first (a first use makes an HTTP client or opens an
                    # SMTP session): the restamp must sit right before the request
                    self._warm(item)
                if item.limited and self._late(item):
                    restamped = self.outbox.restamp(self.worker_id, item)
                    if restamped is None:
                        continue
                    item = restamped
                started = time.perf_counter()
                outcome, held = self._send(item)
                done += 1
                if outcome in ("reconnect", "breaker_open"):
                    stopped.add(item.account_id)
                    outcome = "reconnect" if outcome == "reconnect" else "retry"
                if held is not None:
                    if not group:
                        group_started = time.monotonic()
                    group.append((item, held, time.perf_counter() - started))
                    if time.monotonic() - group_started >= self.group_seconds:
                        self._flush(group)
                elif self.observer is not None:
                    self.observer(item, outcome, time.perf_counter() - started)
        finally:
            self._flush(group)
            if held_back:
                self.outbox.outcomes.release(self.worker_id, held_back)
        return done

    def _warm(self, item: Claimed) -> None:
        """Build (or rebuild) the item's channel now; an error is raised again, and handled,
        by :meth:`_send`."""
        try:
            self.channels.get(item.account_id, item.config_version)
        except Exception:
            return

    def _late(self, item: Claimed) -> bool:
        return (self.outbox.clock.now() - item.claimed_at).total_seconds() > RESTAMP_AFTER

    def _flush(self, group: list[tuple[Claimed, SendResult, float]]) -> None:
        """Record a group of successes in one write, then report them to the observer.

        If the group cannot be written, each success is recorded on its own, and one that
        still cannot be is recorded without its platform id; one that cannot be recorded at
        all is logged and left to its lease (it is not sent again once its attempts are
        spent). One bad outcome never loses the others."""
        if not group:
            return
        try:
            self.outbox.outcomes.mark_sent(
                self.worker_id, [(item, result) for item, result, _ in group]
            )
        except Exception as exc:
            log.warning("group_outcome_failed", error_type=type(exc).__name__, size=len(group))
            self.outbox.close()
            for item, result, _ in group:
                self._record_sent(item, result)
        if self.observer is not None:
            for item, _, seconds in group:
                self.observer(item, "sent", seconds)
        group.clear()

    def _record_sent(self, item: Claimed, result: SendResult) -> None:
        for attempt in (result, SendResult(external_id=None)):
            try:
                self.outbox.outcomes.mark_sent(self.worker_id, [(item, attempt)])
                return
            except Exception as exc:
                log.warning(
                    "outcome_failed",
                    message_id=item.message.message_id,
                    error_type=type(exc).__name__,
                )
                self.outbox.close()

    def _send(self, item: Claimed) -> tuple[str, SendResult | None]:
        """Send one message. Returns its outcome (``sent``, ``retry``, ``failed``,
        ``reconnect``, or ``breaker_open`` for a retry that opened the account's breaker),
        and the result when it is a success left for :meth:`_flush` to record (a channel
        that deduplicates); every other outcome is recorded at once, so a worker killed
        right after such a send repeats that one message only, and duplicates never exceed
        the kills. Nothing raised here escapes: a channel bug retries the message, and an
        outcome that cannot be recorded fails it with that reason."""
        try:
            channel = self.channels.get(item.account_id, item.config_version)
            message = item.message if self.prepare is None else self.prepare(item.message)
            result = channel.send(message)
        except RetryableError as exc:
            return self._record(item, "retry", exc.reason, exc.retry_after), None
        except PermanentError as exc:
            return self._record(item, "failed", exc.reason), None
        except ReconnectRequired as exc:
            outcome = self._record(item, "reconnect", exc.reason)
            self.channels.forget(item.account_id)
            return outcome, None
        except Exception as exc:  # a bug in a channel must not kill the worker
            log.exception("channel_error", message_id=item.message.message_id)
            return self._record(item, "retry", f"internal error: {type(exc).__name__}"), None
        if channel.deduplicates:
            return "sent", result
        self._record_sent(item, result)
        return "sent", None

    def _record(
        self, item: Claimed, outcome: str, reason: str, retry_after: float | None = None
    ) -> str:
        """Record a retry, a failure or a pause; return the outcome as :meth:`_send` says it.
        If that write fails, the message is failed with the write's error type instead, and
        if even that fails it is logged and left to its lease."""
        try:
            if outcome == "retry":
                status, opened = self.outbox.outcomes.mark_retry(
                    self.worker_id, item, reason, retry_after
                )
                if status == "failed":
                    return "failed"
                return "breaker_open" if opened else "retry"
            if outcome == "failed":
                self.outbox.outcomes.mark_failed(self.worker_id, item, reason)
                return "failed"
            self.outbox.outcomes.mark_reconnect(self.worker_id, item, reason)
            return "reconnect"
        except Exception as exc:
            error_type = type(exc).__name__
            log.warning("outcome_failed", message_id=item.message.message_id, error_type=error_type)
            self.outbox.close()
        try:
            self.outbox.outcomes.mark_failed(
                self.worker_id, item, f"internal error recording the outcome: {error_type}"
            )
        except Exception as again:
            log.error(
                "outcome_lost",
                message_id=item.message.message_id,
                error_type=type(again).__name__,
            )
        return "failed"

    def housekeeping(self) -> None:
        """Delete send attempts older than a day and expired idempotency keys."""
        self.outbox.outcomes.prune_attempts()
        idempotency.prune(self.outbox.engine, self.outbox.clock.now())

    def run(self, max_idle_polls: int | None = None) -> None:
        """Loop until :meth:`stop` (or after ``max_idle_polls`` empty polls in a row); tidy
        up every ``HOUSEKEEPING_SECONDS``.

        Nothing a platform answers or a message holds ends the loop: an exception in one turn
        is logged with its type, and the loop carries on after a pause (rows it held come
        back when their lease runs out). A database outage closes the outbox's connection,
        which is opened again on the next turn.
        """
        idle = 0
        tidied = 0.0
        log.info("worker_started", worker_id=self.worker_id)
        try:
            while not self.stopping.is_set():
                self._beat()
                try:
                    if time.monotonic() - tidied > HOUSEKEEPING_SECONDS:
                        self.housekeeping()
                        tidied = time.monotonic()
                    self.run_jobs()
                    handled = self.run_once()
                except (SQLAlchemyError, DatabaseError) as exc:
                    # the database is away: claimed rows come back when their lease ends
                    log.warning("worker_database_error", error=type(exc).__name__)
                    self.outbox.close()
                    self.stopping.wait(max(self.poll_seconds, 1.0))
                    continue
                except Exception as exc:
                    log.exception("worker_turn_failed", error_type=type(exc).__name__)
                    self.outbox.close()
                    self.stopping.wait(max(self.poll_seconds, 1.0))
                    continue
                if handled:
                    idle = 0
                    self.last_progress = self.last_heartbeat
                    continue
                idle += 1
                if max_idle_polls is not None and idle >= max_idle_polls:
                    break
                self.stopping.wait(self.poll_seconds)
        finally:
            self.channels.close()
            self.outbox.close()
            log.info("worker_stopped", worker_id=self.worker_id)

    def run_jobs(self, force: bool = False) -> None:
        """Run the periodic jobs when ``job_seconds`` have passed since they last ran, when
        one of them said it has more to do (it returned an object whose ``more`` is true,
        as a scheduler tick with a full batch does: the next turn runs the jobs again, after
        one batch of sends), or when ``force``. A job's exception propagates to the loop,
        which logs it and carries on after a pause."""
        if not self.jobs:
            return
        waited = time.monotonic() - self._jobs_ran
        if not (force or self._jobs_more or waited >= self.job_seconds):
            return
        self._jobs_ran = time.monotonic()
        self._jobs_more = False
        for job in self.jobs:
            if getattr(job(), "more", False) is True:
                self._jobs_more = True

    def _beat(self) -> None:
        self.last_beat_monotonic = time.monotonic()
        try:
            self.last_heartbeat = self.outbox.clock.now()
        except Exception:  # a clock cannot stop the loop either
            self.last_heartbeat = None

    def stop(self) -> None:
        """Ask the loop to finish the message in hand, release the rest, and return."""
        self.stopping.set()
