"""The OnlyFans channel: each message is POSTed, signed, to a relay the creator runs.

OnlyFans has no public messaging API, so Huntaze does not talk to it. A *relay* (a browser
extension, an automation, a third-party API) receives one JSON document per message and sends
it; docs/relay.md is its contract. The request carries::

    Content-Type: application/json
    Idempotency-Key: <the message's idempotency key, the same on every attempt>
    X-Huntaze-Signature: t=<unix seconds>,sig=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

The signature is HMAC (RFC 2104) with SHA-256 over exactly the bytes sent; relays check it with
:func:`verify_signature`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import time
from collections.abc import Callable
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from huntaze.config import Settings
from huntaze.platforms.base import (
    AccountConfig,
    OutgoingMessage,
    PermanentError,
    ReconnectRequired,
    RetryableError,
    SendResult,
)

DEFAULT_TIMEOUT = 10.0
"""Seconds allowed for each of connect, write and read of one relay request."""

SIGNATURE_HEADER = "X-Huntaze-Signature"
DEFAULT_TOLERANCE = 300.0
"""Seconds a signature's timestamp may differ from the verifier's clock (replay window)."""

ERROR_TEXT_MAX = 500
"""Longest relay error text kept as the message's reason, in characters."""

RETRYABLE_4XX = frozenset({408, 409, 425, 429})
"""4xx statuses that mean "later": 408 Request Timeout, 409 Conflict (the same idempotency key is
still being processed), 425 Too Early, 429 Too Many Requests (RFC 9110 §15.5, RFC 6585 §4)."""

_DELAY_SECONDS = re.compile(r"\s*[0-9]+(?:\.[0-9]+)?\s*")
_DIGITS = re.compile(r"[0-9]{1,12}")


def _mac(secret: str, body: bytes, timestamp: int) -> str:
    data = f"{timestamp}.".encode("ascii") + body
    return hmac.new(secret.encode("utf-8"), data, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Huntaze-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds).

    ``sig`` is the lowercase hex HMAC-SHA256 (RFC 2104, FIPS 180-4) keyed with the UTF-8
    ``secret`` over the ASCII ``"<timestamp>."`` followed by the raw ``body`` bytes.
    """
    return f"t={timestamp},sig={_mac(secret, body, timestamp)}"


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
) -> bool:
    """Check an ``X-Huntaze-Signature`` header against the raw request ``body``.

    Args:
        secret: the shared relay secret.
        header: ``t=<unix seconds>,sig=<hex>``; several ``sig=`` entries are allowed (any may
            match), unknown keys are ignored.
        body: the request body exactly as received (before any JSON parsing).
        now: the verifier's clock, unix seconds.
        tolerance: largest accepted ``|now - t|`` in seconds (replay protection).

    Returns:
        ``True`` when the timestamp is fresh and a signature matches. The comparison is constant
        time (:func:`hmac.compare_digest`). Never raises on malformed input: returns ``False``.
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t" and _DIGITS.fullmatch(value) and timestamp is None:
            timestamp = int(value)
        elif key == "sig":
            candidates.append(value.strip().lower())
    if timestamp is None or not candidates or not math.isfinite(now):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = _mac(secret, body, timestamp).encode("ascii")
    ok = False
    for candidate in candidates:
        # Compare every candidate so timing does not reveal which one matched.
        ok |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
    return ok


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (RFC 9110 §10.2.3), or ``None``.

    Accepts delay-seconds (``120``) or an HTTP-date (``Wed, 21 Oct 2015 07:28:00 GMT``, read
    with :func:`email.utils.parsedate_to_datetime`); a date in the past gives ``0``. ``now`` is
    unix seconds. Unparsable values give ``None``.
    """
    if value is None or not value.strip():
        return None
    if _DELAY_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _error_text(response: httpx.Response) -> str:
    """The relay's reason: JSON ``error`` / ``message`` or the body, cut to 500 characters."""
    text = ""
    try:
        data: Any = response.json()
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict):
        for key in ("error", "message"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if isinstance(value, str) and value.strip():
                text = value.strip()
                break
    if not text:
        text = response.text.strip() or (response.reason_phrase or "").strip()
    if len(text) > ERROR_TEXT_MAX:
        text = text[: ERROR_TEXT_MAX - 1] + "…"
    return text


class OnlyFansRelayChannel:
    """Sends OnlyFans messages through the creator's relay (docs/relay.md).

    Args:
        config: the sending account; ``settings["relayUrl"]`` and ``secret`` override the
            defaults.
        settings: ``onlyfans_relay_url`` and ``onlyfans_relay_secret`` are the defaults.
        client: an :class:`httpx.Client` to use (its own timeouts apply); by default the
            channel makes one with ``timeout`` and closes it in :meth:`close`.
        now: the clock for signature timestamps and ``Retry-After`` dates, unix seconds.
        timeout: seconds for connect, write and read of the channel's own client (10 s).

    Relays drop repeated idempotency keys (docs/relay.md), so ``deduplicates`` is True.
    """

    deduplicates = True

    def __init__(
        self,
        config: AccountConfig,
        settings: Settings,
        client: httpx.Client | None = None,
        *,
        now: Callable[[], float] = time.time,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._config = config
        self._settings = settings
        self._owns_client = client is None
        self._client = (
            client if client is not None else httpx.Client(timeout=timeout, follow_redirects=False)
        )
        self._now = now

    def _target(self) -> tuple[str, str]:
        url = str(self._config.settings.get("relayUrl") or self._settings.onlyfans_relay_url)
        secret = self._config.secret or self._settings.onlyfans_relay_secret.get_secret_value()
        missing = [
            name
            for name, value in (
                ("relay URL (relayUrl or HUNTAZE_ONLYFANS_RELAY_URL)", url.strip()),
                ("relay secret (account secret or HUNTAZE_ONLYFANS_RELAY_SECRET)", secret),
            )
            if not value
        ]
        if missing:
            raise PermanentError("no " + " and no ".join(missing) + " configured")
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise PermanentError(f"relay URL must be an http(s):// URL, not {url!r}")
        return url.strip(), secret

    @staticmethod
    def payload(message: OutgoingMessage) -> bytes:
        """The request body: compact UTF-8 JSON (field list in docs/relay.md)."""
        document = {
            "messageId": message.message_id,
            "idempotencyKey": message.idempotency_key,
            "accountId": message.account_id,
            "recipientId": message.recipient,
            "fanId": message.fan_id,
            "content": message.content,
            "mediaUrls": list(message.media_urls),
            "priceCents": message.price_cents,
        }
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def send(self, message: OutgoingMessage) -> SendResult:
        """POST ``message`` to the relay once.

        Returns:
            The relay's ``externalId`` (a string, or ``None`` when its 2xx body has none).

        Raises:
            PermanentError: relay URL or secret missing (the error names which) or invalid; a
                4xx other than 401/403 and :data:`RETRYABLE_4XX`, with the relay's reason; an
                unexpected 1xx/3xx status.
            RetryableError: 429, 5xx and :data:`RETRYABLE_4XX`, with ``retry_after`` in seconds
                from ``Retry-After`` (RFC 9110 §10.2.3) when present; a timeout or network error.
            ReconnectRequired: 401 or 403: the relay refuses our signature or the account.
        """
        url, secret = self._target()
        body = self.payload(message)
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Idempotency-Key": message.idempotency_key,
            SIGNATURE_HEADER: sign(secret, body, int(self._now())),
        }
        try:
            response = self._client.post(url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise RetryableError(f"relay timed out: {type(exc).__name__}") from None
        except httpx.UnsupportedProtocol as exc:
            raise PermanentError(f"relay URL not usable: {exc}") from None
        except httpx.TransportError as exc:
            raise RetryableError(f"relay unreachable: {type(exc).__name__}: {exc}") from None
        except httpx.InvalidURL as exc:
            raise PermanentError(f"relay URL not usable: {exc}") from None
        return self._result(response)

    def _result(self, response: httpx.Response) -> SendResult:
        status = response.status_code
        if 200 <= status <= 299:
            external_id: str | None = None
            try:
                data: Any = response.json()
            except (ValueError, UnicodeDecodeError):
                data = None
            if isinstance(data, dict) and isinstance(data.get("externalId"), str | int):
                external_id = str(data["externalId"])
            return SendResult(external_id=external_id)
        text = _error_text(response)
        reason = (
            f"relay answered HTTP {status}: {text}" if text else f"relay answered HTTP {status}"
        )
        if status in (401, 403):
            raise ReconnectRequired(reason)
        if status >= 500 or status in RETRYABLE_4XX:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._now())
            raise RetryableError(reason, retry_after=retry_after)
        if 300 <= status <= 399:
            location = response.headers.get("Location", "")
            raise PermanentError(
                f"relay redirected (HTTP {status}) to {location!r}; "
                "set the relay URL to the final address"
            )
        raise PermanentError(reason)

    def close(self) -> None:
        """Close the HTTP client if the channel created it."""
        if self._owns_client:
            self._client.close()
