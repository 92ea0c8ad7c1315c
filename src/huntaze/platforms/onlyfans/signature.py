"""The relay signature: how a relay knows a request comes from Huntaze (docs/relay.md).

Every request to a relay carries::

    X-Huntaze-Signature: t=<unix seconds>,sig=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

The signature is HMAC (RFC 2104) with SHA-256 over exactly the bytes sent. Huntaze signs with
:func:`sign`; relays check with :func:`verify_signature` (also importable as
``huntaze.platforms.onlyfans.verify_signature``), which refuses timestamps further than
:data:`DEFAULT_TOLERANCE` seconds from their clock (replay protection).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re

SIGNATURE_HEADER = "X-Huntaze-Signature"
DEFAULT_TOLERANCE = 300.0
"""Seconds a signature's timestamp may differ from the verifier's clock (replay window)."""

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
