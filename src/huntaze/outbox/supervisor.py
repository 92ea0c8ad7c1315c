"""The in-process worker of ``huntaze serve``: run in a thread, watched, restarted if it dies.

A :class:`~huntaze.outbox.worker.Worker` already survives a bad message or a database
outage (each loop turn catches what went wrong and carries on). The supervisor is the second
line: if the loop still ends with an exception, the worker is built again and restarted after
a growing pause (1 s, 2 s, 4 s … at most 60 s), and ``/api/health`` reports it. Health is
``dead`` when the thread is gone and no restart is coming, and ``stalled`` when the loop has
not turned for longer than ``stall_seconds`` (a send that hangs past every timeout).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from huntaze.outbox.worker import Worker

log = structlog.get_logger("huntaze.supervisor")

RESTART_PAUSE_MAX = 60.0
"""The longest pause, in seconds, before a crashed worker is started again."""


@dataclass(frozen=True, slots=True)
class WorkerHealth:
    """What ``/api/health`` says of the in-process worker.

    Attributes:
        state: ``running``, ``restarting`` (it crashed; a new one starts after a pause),
            ``stalled`` (no loop turn for ``stall_seconds``), ``stopped`` or ``dead``.
        healthy: False for ``stalled`` and ``dead``: health then answers 503.
        last_heartbeat: the last loop turn (UTC), or ``None`` before the first.
        last_progress: the last time a turn handled messages (UTC), or ``None``.
        restarts: how many times the worker was started again after a crash.
        last_error: the exception type of the last crash (no message: it may hold data).
    """

    state: str
    healthy: bool
    last_heartbeat: datetime | None
    last_progress: datetime | None
    restarts: int
    last_error: str | None


class SupervisedWorker:
    """Runs workers made by ``make_worker`` in a daemon thread, one at a time, and restarts
    them when they crash.

    Args:
        make_worker: builds a fresh worker (fresh outbox connection and channels).
        stall_seconds: a loop silent for longer than this is reported ``stalled`` (wall
            seconds; longer than any single send may take, 10 s timeouts per call).
        restart: False to report a crash as ``dead`` instead of restarting (tests).
        first_pause: seconds before the first restart; each further one doubles it, up to
            :data:`RESTART_PAUSE_MAX`.
    """

    def __init__(
        self,
        make_worker: Callable[[], Worker],
        *,
        stall_seconds: float = 120.0,
        restart: bool = True,
        first_pause: float = 1.0,
    ) -> None:
        self._make = make_worker
        self._stall = stall_seconds
        self._restart = restart
        self._first_pause = first_pause
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._worker: Worker | None = None
        self._restarts = 0
        self._last_error: str | None = None
        self._crashed = False
        self._lock = threading.Lock()

    @property
    def worker(self) -> Worker | None:
        """The worker running now, if any."""
        return self._worker

    def start(self) -> SupervisedWorker:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="huntaze-worker", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        pause = self._first_pause
        while not self._stopping.is_set():
            worker = self._make()
            with self._lock:
                self._worker = worker
                self._crashed = False
            try:
                worker.run()
                return  # stopped on request
            except Exception as exc:
                log.exception("worker_crashed", error_type=type(exc).__name__)
                with self._lock:
                    self._crashed = True
                    self._last_error = type(exc).__name__
                if not self._restart:
                    return
                if self._stopping.wait(pause):
                    return
                pause = min(pause * 2, RESTART_PAUSE_MAX)
                with self._lock:
                    self._restarts += 1

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the running worker to finish its message in hand and return; wait for it."""
        self._stopping.set()
        worker = self._worker
        if worker is not None:
            worker.stop()
        if self._thread is not None:
            self._thread.join(timeout)

    def health(self) -> WorkerHealth:
        """The worker's state now (see :class:`WorkerHealth`)."""
        with self._lock:
            worker, crashed = self._worker, self._crashed
            restarts, error = self._restarts, self._last_error
        alive = self._thread is not None and self._thread.is_alive()
        beat = worker.last_heartbeat if worker is not None else None
        progress = worker.last_progress if worker is not None else None
        if self._stopping.is_set() and not alive:
            state = "stopped"
        elif not alive:
            state = "dead"
        elif crashed:
            state = "restarting"
        elif worker is not None and time.monotonic() - worker.last_beat_monotonic > self._stall:
            state = "stalled"
        else:
            state = "running"
        return WorkerHealth(
            state=state,
            healthy=state in ("running", "restarting", "stopped"),
            last_heartbeat=beat,
            last_progress=progress,
            restarts=restarts,
            last_error=error,
        )
