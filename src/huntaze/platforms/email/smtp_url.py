"""SMTP server URLs: ``smtp://user:pass@host:587`` and ``smtps://user:pass@host:465``.

* ``smtp://`` — plain connection, upgraded with STARTTLS (RFC 3207) when the server advertises
  it (``?starttls=auto``, the default); ``?starttls=true`` requires it and ``?starttls=false``
  never upgrades (for a local relay on loopback).
* ``smtps://`` — TLS from the first byte (RFC 8314).

The default ports are 587 (submission, RFC 6409) and 465. User and password are URL-decoded.
:func:`parse_smtp_url` checks a URL's shape only; whether its host may be reached is
:mod:`huntaze.kit.netguard`'s business, at connect time.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from huntaze.platforms.base import PermanentError

URL_MAX = 2048
"""Longest SMTP URL accepted, in characters."""

_STARTTLS_MODES = {"auto", "true", "false"}


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    """A parsed SMTP URL.

    Attributes:
        host, port: the server (port 587 for ``smtp://``, 465 for ``smtps://`` by default).
        implicit_tls: ``smtps://``: TLS from the start.
        starttls: ``auto`` (upgrade when offered), ``true`` (required) or ``false``.
        user, password: the login, URL-decoded; no login when ``user`` is ``None``.
    """

    host: str
    port: int
    implicit_tls: bool
    starttls: str
    user: str | None
    password: str | None


def parse_smtp_url(url: str, password: str | None = None) -> SmtpTarget:
    """Parse ``smtp://`` / ``smtps://`` URLs; ``password`` (when given) overrides the URL's.

    Error messages never repeat the URL or a part of its authority (it may hold a password).

    Raises:
        PermanentError: the URL is malformed (too long, spaces or control characters, a bad
            host or port), has another scheme or a bad ``starttls`` value.
    """
    text = url.strip()
    if len(text) > URL_MAX:
        raise PermanentError(f"SMTP URL is longer than {URL_MAX} characters")
    if any(c.isspace() or not c.isprintable() for c in text):
        raise PermanentError("SMTP URL contains spaces or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
        parts.hostname  # noqa: B018 - raises ValueError for a malformed IPv6 literal
    except ValueError:
        raise PermanentError("invalid SMTP URL: bad host or port (1-65535)") from None
    if port == 0:
        raise PermanentError("invalid SMTP URL: bad host or port (1-65535)")
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise PermanentError(f"SMTP URL must start with smtp:// or smtps://, not {scheme!r}")
    if not parts.hostname:
        raise PermanentError("SMTP URL has no host")
    query = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
    starttls = query.get("starttls", "auto")
    if starttls not in _STARTTLS_MODES:
        raise PermanentError(f"SMTP URL: starttls must be true, false or auto, not {starttls!r}")
    implicit = scheme == "smtps"
    if implicit and starttls == "true":
        raise PermanentError("SMTP URL: smtps:// already uses TLS; drop ?starttls=true")
    user = unquote(parts.username) if parts.username else None
    if password is None and parts.password is not None:
        password = unquote(parts.password)
    return SmtpTarget(
        host=parts.hostname,
        port=port or (465 if implicit else 587),
        implicit_tls=implicit,
        starttls="false" if implicit else starttls,
        user=user,
        password=password,
    )
