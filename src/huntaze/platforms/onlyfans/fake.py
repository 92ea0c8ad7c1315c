"""A fake OnlyFans relay for tests: a real HTTP server on 127.0.0.1 (design.md §1.4).

It implements the relay side of docs/relay.md: it checks the signature on the raw body with
:func:`verify_signature` (401 when it fails), deduplicates by ``Idempotency-Key``, records what
it accepts and answers ``{"externalId": "of_<n>"}``. It can be scripted to answer 429, 5xx,
400 or 403, or to stall so that the client times out::

    with FakeRelay(secret="s3cret") as relay:
        channel = OnlyFansRelayChannel(
            AccountConfig("acc_1", "onlyfans", {"relayUrl": relay.url}, "s3cret"), settings
        )
        channel.send(message)
        assert relay.messages[0].payload["content"] == "hi"
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from huntaze.kit.lifecycle import StartStop
from huntaze.platforms.onlyfans.signature import (
    DEFAULT_TOLERANCE,
    SIGNATURE_HEADER,
    verify_signature,
)


@dataclass(frozen=True, slots=True)
class RelayRequest:
    """One request the fake answered.

    Attributes:
        headers: request headers (names as sent).
        body: the raw body.
        payload: the parsed JSON body (``{}`` when it was not a JSON object).
        status: the status the fake answered.
        external_id: the ``externalId`` answered, for 200s.
        duplicate: a repeat of an idempotency key already accepted.
        received_monotonic: :func:`time.monotonic` at arrival, seconds.
        received_at: :func:`time.time` at arrival, unix seconds.
    """

    headers: dict[str, str]
    body: bytes
    payload: dict[str, Any]
    status: int
    external_id: str | None
    duplicate: bool
    received_monotonic: float
    received_at: float

    @property
    def idempotency_key(self) -> str | None:
        """The ``Idempotency-Key`` header."""
        return _header(self.headers, "Idempotency-Key")


def _header(headers: dict[str, str], name: str) -> str | None:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


class FakeRelay(StartStop):
    """A loopback relay that verifies, deduplicates, records and misbehaves on request.

    Args:
        secret: the shared HMAC secret.
        now: the clock used to check signature timestamps, unix seconds.
        tolerance: accepted timestamp skew, seconds.
        on_delivery: called with each first delivery (status 200, not a duplicate) in the
            server's request thread, before the 200 is answered; what it raises is not caught.
        keep_records: False to keep nothing in ``messages``, ``duplicates`` and ``requests``
            (a long-running relay such as ``serve --demo``'s; the idempotency keys it has
            answered are still remembered, as the contract requires).

    Attributes:
        messages: first deliveries, in arrival order (status 200, not duplicates).
        duplicates: repeats of an already accepted idempotency key (answered 200, same id).
        requests: everything answered, including refusals.
    """

    def __init__(
        self,
        secret: str = "relay-secret",  # noqa: S107 - a test default
        *,
        now: Callable[[], float] = time.time,
        tolerance: float = DEFAULT_TOLERANCE,
        on_delivery: Callable[[RelayRequest], None] | None = None,
        keep_records: bool = True,
    ) -> None:
        self.secret = secret
        self.now = now
        self.tolerance = tolerance
        self.on_delivery = on_delivery
        self.keep_records = keep_records
        self.messages: list[RelayRequest] = []
        self.duplicates: list[RelayRequest] = []
        self.requests: list[RelayRequest] = []
        self._seen: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._rate_limits: list[str | None] = []
        self._failures: list[int] = []
        self._delays: list[float] = []
        self._rejected: dict[str, tuple[int, str]] = {}
        self._forbidden = False
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeRelay:
        """Listen on a free port of 127.0.0.1 and serve in a daemon thread."""
        if self._server is None:
            server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
            server.daemon_threads = True
            server.block_on_close = False  # kept-alive client connections must not block stop()
            self._server = server
            self._stopping.clear()
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; stalled requests are released."""
        if self._server is not None:
            self._stopping.set()
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(5.0)
            self._server = None
            self._thread = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>/messages`` (valid once started)."""
        if self._server is None:
            raise RuntimeError("FakeRelay is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/messages"

    # -- scripting ------------------------------------------------------------------------

    def rate_limit_next(self, count: int = 1, retry_after: str | None = "1") -> None:
        """Answer 429 with this ``Retry-After`` (seconds or an HTTP-date; ``None`` for none)
        to the next ``count`` requests."""
        with self._lock:
            self._rate_limits.extend([retry_after] * count)

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        """Answer ``status`` (a 5xx) to the next ``count`` requests."""
        with self._lock:
            self._failures.extend([status] * count)

    def reject_recipients(
        self, *recipient_ids: str, status: int = 400, error: str = "recipient not found"
    ) -> None:
        """Answer ``status`` (a 4xx, default 400) with ``{"error": error}`` for messages to these
        ``recipientId`` values."""
        with self._lock:
            for recipient_id in recipient_ids:
                self._rejected[recipient_id] = (status, error)

    def forbid(self, forbidden: bool = True) -> None:
        """Answer 403 to everything (the relay lost its OnlyFans session) until undone."""
        with self._lock:
            self._forbidden = forbidden

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """Wait ``seconds`` before answering the next ``count`` requests (to force timeouts)."""
        with self._lock:
            self._delays.extend([seconds] * count)

    # -- request handling -----------------------------------------------------------------

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], Any]:
        """Answer one ``POST``: ``(status, extra headers, JSON document)``."""
        arrived, arrived_at = time.monotonic(), time.time()
        with self._lock:
            delay = self._delays.pop(0) if self._delays else 0.0
        if delay > 0:
            self._stopping.wait(delay)
        status, extra, document, duplicate, payload = self._decide(headers, body)
        external_id = document.get("externalId") if status == 200 else None
        record = RelayRequest(
            headers=headers,
            body=body,
            payload=payload,
            status=status,
            external_id=external_id,
            duplicate=duplicate,
            received_monotonic=arrived,
            received_at=arrived_at,
        )
        if self.keep_records:
            with self._lock:
                self.requests.append(record)
                if status == 200:
                    (self.duplicates if duplicate else self.messages).append(record)
        if status == 200 and not duplicate and self.on_delivery is not None:
            self.on_delivery(record)
        return status, extra, document

    def _decide(
        self, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any], bool, dict[str, Any]]:
        signature = _header(headers, SIGNATURE_HEADER) or ""
        if not verify_signature(self.secret, signature, body, self.now(), self.tolerance):
            return 401, {}, {"error": "invalid signature"}, False, {}
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        payload: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
        key = _header(headers, "Idempotency-Key")
        with self._lock:
            if self._forbidden:
                return 403, {}, {"error": "relay session expired; reconnect"}, False, payload
            if self._rate_limits:
                retry_after = self._rate_limits.pop(0)
                extra = {} if retry_after is None else {"Retry-After": retry_after}
                return 429, extra, {"error": "slow down"}, False, payload
            if self._failures:
                status = self._failures.pop(0)
                return status, {}, {"error": "relay unavailable"}, False, payload
            if not payload or not key or payload.get("idempotencyKey") != key:
                error = {"error": "bad request: JSON object and matching Idempotency-Key needed"}
                return 400, {}, error, False, payload
            if key in self._seen:
                return 200, {}, {"externalId": self._seen[key]}, True, payload
            rejection = self._rejected.get(str(payload.get("recipientId")))
            if rejection is not None:
                return rejection[0], {}, {"error": rejection[1]}, False, payload
            external_id = f"of_{len(self._seen) + 1}"
            self._seen[key] = external_id
            return 200, {}, {"externalId": external_id}, False, payload


def _make_handler(relay: FakeRelay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 5.0  # seconds an idle kept-alive connection may hold a thread

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            status, extra, document = relay.handle(dict(self.headers.items()), body)
            data = json.dumps(document).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (timeout test)
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            """Stay quiet in test output."""

    return Handler
