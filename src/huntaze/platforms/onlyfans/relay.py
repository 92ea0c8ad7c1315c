"""The OnlyFans channel: each message is POSTed, signed, to a relay the creator runs.

OnlyFans has no public messaging API, so Huntaze does not talk to it. A *relay* (a browser
extension, an automation, a third-party API) receives one JSON document per message and sends
it; docs/relay.md is its contract. The request carries::

    Content-Type: application/json
    Idempotency-Key: <the message's idempotency key, the same on every attempt>
    X-Huntaze-Signature: t=<unix seconds>,sig=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

The signature is HMAC (RFC 2104) with SHA-256 over exactly the bytes sent; relays check it with
:func:`huntaze.platforms.onlyfans.signature.verify_signature`.

The relay URL is user-given, so the channel reaches it through :mod:`huntaze.kit.netguard`:
each new connection resolves the host once, refuses private, loopback, link-local and metadata
addresses unless the operator allows them (``HUNTAZE_ALLOW_PRIVATE_URLS``,
``HUNTAZE_ALLOWED_PRIVATE_TARGETS``), and connects to the checked address while TLS verifies
the host name. Redirects are never followed. What a refused relay answered never reaches the
message's error: only the status and the contract's ``error`` field do (docs/relay.md).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

from huntaze.config import Settings
from huntaze.kit.netguard import TargetPolicy, UnresolvableTarget, UnsafeTarget, unsafe_reason
from huntaze.kit.netguard_http import guarded_client
from huntaze.kit.redact import is_secret_name, redact_text, redact_url
from huntaze.platforms.base import (
    AccountConfig,
    OutgoingMessage,
    PermanentError,
    ReconnectRequired,
    RetryableError,
    SendResult,
)
from huntaze.platforms.onlyfans.signature import SIGNATURE_HEADER, sign

DEFAULT_TIMEOUT = 10.0
"""Seconds allowed for each of connect, write and read of one relay request."""

ERROR_TEXT_MAX = 300
"""Longest relay ``error`` text kept in the message's reason, in characters."""

RESPONSE_BYTES_MAX = 64 * 1024
"""Most bytes of a relay's answer read (a larger body is cut: its JSON then does not parse)."""

URL_MAX = 2048
"""Longest relay URL accepted, in characters."""

RETRYABLE_4XX = frozenset({408, 409, 425, 429})
"""4xx statuses that mean "later": 408 Request Timeout, 409 Conflict (the same idempotency key is
still being processed), 425 Too Early, 429 Too Many Requests (RFC 9110 §15.5, RFC 6585 §4)."""

_DELAY_SECONDS = re.compile(r"\s*[0-9]+(?:\.[0-9]+)?\s*")


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


def parse_relay_url(url: str) -> tuple[str, str, int]:
    """Check a relay URL's shape; return its ``(scheme, host, port)``.

    The URL must be ``http://`` or ``https://`` with a host, a port in 1-65535 (default 80 or
    443), at most :data:`URL_MAX` characters and no whitespace or control characters. Error
    messages never repeat the URL (it may carry a password or a token).

    Raises:
        PermanentError: the URL is not usable, with the reason.
    """
    text = url.strip()
    if not text:
        raise PermanentError("relay URL is empty")
    if len(text) > URL_MAX:
        raise PermanentError(f"relay URL is longer than {URL_MAX} characters")
    if any(c.isspace() or not c.isprintable() for c in text):
        raise PermanentError("relay URL contains spaces or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise PermanentError("relay URL has an invalid host or port") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise PermanentError("relay URL must be an http:// or https:// URL")
    if not host:
        raise PermanentError("relay URL has no host")
    if port == 0:
        raise PermanentError("relay URL has an invalid host or port")
    return scheme, host, port or (443 if scheme == "https" else 80)


def url_secrets(url: str) -> tuple[str, ...]:
    """The credentials a URL carries: its userinfo password and the values of its
    secret-looking query parameters (raw and URL-decoded), to scrub from any text."""
    found: list[str] = []
    try:
        parts = urlsplit(url.strip())
        if parts.password:
            found += [parts.password, unquote(parts.password)]
        for name, value in parse_qsl(parts.query, keep_blank_values=False):
            if is_secret_name(name):
                found.append(value)
    except ValueError:
        pass
    return tuple(found)


def _clean(text: str, limit: int, secrets: tuple[str, ...]) -> str:
    """``text`` with control characters dropped, credentials masked, cut to ``limit``."""
    kept = "".join(c if c.isprintable() else " " for c in text).strip()
    kept = redact_text(kept, secrets)
    if len(kept) > limit:
        kept = kept[: limit - 1] + "…"
    return kept


def _error_field(body: bytes, secrets: tuple[str, ...]) -> str:
    """The relay's reason: the ``error`` string of a JSON object body (docs/relay.md), cleaned
    (:func:`_clean`) and cut to :data:`ERROR_TEXT_MAX`; ``""`` for anything else. Nothing
    else of the body is ever kept: a relay URL pointed at another service must not read that
    service's answer back through the message's error."""
    try:
        data: Any = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return ""
    value = data.get("error") if isinstance(data, dict) else None
    if not isinstance(value, str):
        return ""
    return _clean(value, ERROR_TEXT_MAX, secrets)


class OnlyFansRelayChannel:
    """Sends OnlyFans messages through the creator's relay (docs/relay.md).

    Args:
        config: the sending account; ``settings["relayUrl"]`` and ``secret`` override the
            defaults.
        settings: ``onlyfans_relay_url`` and ``onlyfans_relay_secret`` are the defaults.
        client: an :class:`httpx.Client` to use (its own timeouts apply, and its own transport:
            the address guard applies only if it is built with
            :func:`huntaze.kit.netguard_http.guarded_client`); by default the channel makes a
            guarded one with ``timeout`` and closes it in :meth:`close`.
        now: the clock for signature timestamps and ``Retry-After`` dates, unix seconds.
        timeout: seconds for connect, write and read of the channel's own client (10 s).

    The relay host is checked on every new connection against ``settings.allow_private_urls``
    and ``settings.allowed_private_targets`` (:mod:`huntaze.kit.netguard`). Relays drop
    repeated idempotency keys (docs/relay.md), so ``deduplicates`` is True.
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
        self._policy_error: str | None = None
        try:
            policy = TargetPolicy.parse(
                settings.allow_private_urls, settings.allowed_private_targets
            )
        except ValueError as exc:
            policy = TargetPolicy()
            self._policy_error = f"HUNTAZE_ALLOWED_PRIVATE_TARGETS is invalid: {exc}"
        self._owns_client = client is None
        self._client = client if client is not None else guarded_client(policy, timeout=timeout)
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
        parse_relay_url(url)
        if self._policy_error is not None:
            raise PermanentError(self._policy_error)
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

        Every reason is ``relay answered HTTP <status>``, plus the relay's ``error`` field
        when its body is a JSON object with one (control characters dropped, credentials
        masked, at most :data:`ERROR_TEXT_MAX` characters); no other part of an answer is
        kept.

        Raises:
            PermanentError: relay URL or secret missing (the error names which) or invalid; the
                relay host resolves to an address the guard refuses (the reason names the rule
                and the setting that lifts it); a 4xx other than 401/403 and
                :data:`RETRYABLE_4XX`; an unexpected 1xx/3xx status (redirects are not
                followed).
            RetryableError: 429, 5xx and :data:`RETRYABLE_4XX`, with ``retry_after`` in seconds
                from ``Retry-After`` (RFC 9110 §10.2.3) when present; a timeout, a network
                error, or a relay host that does not resolve.
            ReconnectRequired: 401 or 403: the relay refuses our signature or the account.
        """
        url, secret = self._target()
        secrets = (secret, *url_secrets(url))
        body = self.payload(message)
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Idempotency-Key": message.idempotency_key,
            SIGNATURE_HEADER: sign(secret, body, int(self._now())),
        }
        try:
            with self._client.stream("POST", url, content=body, headers=headers) as response:
                answer = _read_capped(response)
        except UnsafeTarget as exc:
            raise PermanentError(unsafe_reason(exc, "relay URL", _override_hint(exc))) from None
        except UnresolvableTarget as exc:
            raise RetryableError(f"relay host {exc.host} does not resolve") from None
        except httpx.TimeoutException as exc:
            raise RetryableError(f"relay timed out: {type(exc).__name__}") from None
        except httpx.UnsupportedProtocol:
            raise PermanentError("relay URL must be an http:// or https:// URL") from None
        except httpx.ProtocolError as exc:
            # no detail: it may quote what a service that does not speak HTTP sent
            raise RetryableError(f"relay unreachable: {type(exc).__name__}") from None
        except httpx.TransportError as exc:
            detail = _clean(str(exc), ERROR_TEXT_MAX, secrets)
            raise RetryableError(f"relay unreachable: {type(exc).__name__}: {detail}") from None
        except httpx.InvalidURL:
            raise PermanentError("relay URL is not usable: invalid URL") from None
        except httpx.HTTPError as exc:  # an answer that could not be decoded, and the like
            raise RetryableError(f"relay request failed: {type(exc).__name__}") from None
        return self._result(response, answer, secrets)

    def _result(
        self, response: httpx.Response, answer: bytes, secrets: tuple[str, ...]
    ) -> SendResult:
        status = response.status_code
        if 200 <= status <= 299:
            external_id: str | None = None
            try:
                data: Any = json.loads(answer.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                data = None
            if isinstance(data, dict) and isinstance(data.get("externalId"), str | int):
                external_id = str(data["externalId"])
            return SendResult(external_id=external_id)
        text = _error_field(answer, secrets)
        reason = (
            f"relay answered HTTP {status}: {text}" if text else f"relay answered HTTP {status}"
        )
        if status in (401, 403):
            raise ReconnectRequired(reason)
        if status >= 500 or status in RETRYABLE_4XX:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._now())
            raise RetryableError(reason, retry_after=retry_after)
        if 300 <= status <= 399:
            location = _clean(redact_url(response.headers.get("Location", "")), 200, secrets)
            raise PermanentError(
                f"relay redirected (HTTP {status}) to {location!r}; "
                "set the relay URL to the final address"
            )
        raise PermanentError(reason)

    def close(self) -> None:
        """Close the HTTP client if the channel created it."""
        if self._owns_client:
            self._client.close()


def _read_capped(response: httpx.Response) -> bytes:
    """Up to :data:`RESPONSE_BYTES_MAX` bytes of the answer's body; the rest is not read (the
    connection is then closed rather than reused)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= RESPONSE_BYTES_MAX:
            break
    return b"".join(chunks)[:RESPONSE_BYTES_MAX]


def _override_hint(exc: UnsafeTarget) -> str:
    return (
        "set HUNTAZE_ALLOW_PRIVATE_URLS=true (or add "
        f"{_host_port(exc.host, exc.port)} to HUNTAZE_ALLOWED_PRIVATE_TARGETS) to allow it"
    )


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
