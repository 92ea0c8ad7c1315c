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
from collections.abc import Callable
from datetime import datetime

import structlog
from psycopg import DatabaseError
from sqlalchemy.exc import SQLAlchemyError

from huntaze.messaging import idempotency
from huntaze.messaging.channels import ChannelFactory
from huntaze.messaging.outbox import Claimed, Outbox
from huntaze.platforms.base import (
    PermanentError,
    ReconnectRequired,
    RetryableError,
    SendResult,
)

log = structlog.get_logger("huntaze.worker")
HOUSEKEEPING_SECONDS = 600.0

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
    ) -> None:
        self.outbox = outbox
        self.channels = channels
        self.worker_id = worker_id or default_worker_id()
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.group_seconds = group_seconds
        self.observer = observer
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
        """
        claimed = self.outbox.claim(self.worker_id, max_messages=self.batch)
        group: list[tuple[Claimed, SendResult, float]] = []
        group_started = 0.0
        done = 0
        try:
            for index, item in enumerate(claimed):
                if self.stopping.is_set():
                    self._flush(group)
                    self.outbox.release(self.worker_id, claimed[index:])
                    break
                started = time.perf_counter()
                outcome, held = self._send(item)
                done += 1
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
        return done

    def _flush(self, group: list[tuple[Claimed, SendResult, float]]) -> None:
        """Record a group of successes in one write, then report them to the observer."""
        if not group:
            return
        self.outbox.mark_sent(self.worker_id, [(item, result) for item, result, _ in group])
        if self.observer is not None:
            for item, _, seconds in group:
                self.observer(item, "sent", seconds)
        group.clear()

    def _send(self, item: Claimed) -> tuple[str, SendResult | None]:
        """Send one message. Returns its outcome, and the result when it is a success left
        for :meth:`_flush` to record (a channel that deduplicates); every other outcome is
        recorded at once, so a worker killed right after such a send repeats that one
        message only, and duplicates never exceed the kills."""
        try:
            channel = self.channels.get(item.account_id)
            result = channel.send(item.message)
        except RetryableError as exc:
            status = self.outbox.mark_retry(self.worker_id, item, exc.reason, exc.retry_after)
            return ("failed" if status == "failed" else "retry"), None
        except PermanentError as exc:
            self.outbox.mark_failed(self.worker_id, item, exc.reason)
            return "failed", None
        except ReconnectRequired as exc:
            self.outbox.mark_reconnect(self.worker_id, item, exc.reason)
            self.channels.forget(item.account_id)
            return "reconnect", None
        except Exception as exc:  # a bug in a channel must not kill the worker
            log.exception("channel_error", message_id=item.message.message_id)
            self.outbox.mark_retry(
                self.worker_id, item, f"internal error: {type(exc).__name__}", None
            )
            return "retry", None
        if channel.deduplicates:
            return "sent", result
        self.outbox.mark_sent(self.worker_id, [(item, result)])
        return "sent", None

    def housekeeping(self) -> None:
        """Delete send attempts older than a day and expired idempotency keys."""
        self.outbox.prune_attempts()
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

    def _beat(self) -> None:
        self.last_beat_monotonic = time.monotonic()
        try:
            self.last_heartbeat = self.outbox.clock.now()
        except Exception:  # a clock cannot stop the loop either
            self.last_heartbeat = None

    def stop(self) -> None:
        """Ask the loop to finish the message in hand, release the rest, and return."""
        self.stopping.set()
