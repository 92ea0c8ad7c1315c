"""The email channel: one message, one SMTP transaction (RFC 5321), sent with :mod:`smtplib`.

The server comes from a URL:

* ``smtp://user:pass@host:587`` — plain connection, upgraded with STARTTLS (RFC 3207) when the
  server advertises it (``?starttls=auto``, the default); ``?starttls=true`` requires it and
  ``?starttls=false`` never upgrades (for a local relay on loopback).
* ``smtps://user:pass@host:465`` — TLS from the first byte (RFC 8314).

The default ports are 587 (submission, RFC 6409) and 465. User and password are URL-decoded; a
login (``AUTH``) happens only when the URL names a user.

Reply codes are mapped per RFC 5321 §4.2: ``5yz`` is a permanent failure, ``4yz`` a transient
one; ``535`` (RFC 4954, bad credentials) means the account must be reconnected.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

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
"""Seconds allowed for connecting and for each SMTP reply."""

SUBJECT_MAX = 78
"""Longest default subject, in characters (RFC 5322 §2.1.1's recommended line length)."""

_MSGID_SAFE = re.compile(r"[A-Za-z0-9_+=-]+(?:\.[A-Za-z0-9_+=-]+)*")
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

    Raises:
        PermanentError: the URL is malformed, has another scheme or a bad ``starttls`` value.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise PermanentError(f"invalid SMTP URL: {exc}") from None
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


def message_id_for(idempotency_key: str) -> str:
    """The ``Message-ID`` (RFC 5322 §3.6.4) of every attempt of a message: ``<key@huntaze>``.

    A key that is not a plain dot-atom is replaced by its SHA-256 hex digest, so the header stays
    valid and still identical across attempts.
    """
    local = idempotency_key
    if not _MSGID_SAFE.fullmatch(local):
        local = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()
    return f"<{local}@huntaze>"


def default_subject(content: str) -> str:
    """The first non-blank line of ``content``, cut to :data:`SUBJECT_MAX` characters."""
    line = next((ln.strip() for ln in content.splitlines() if ln.strip()), "")
    if not line:
        return "(no subject)"
    if len(line) > SUBJECT_MAX:
        line = line[: SUBJECT_MAX - 1].rstrip() + "…"
    return line


def _reply_text(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()


def _by_code(code: int, what: str, text: bytes | str) -> Exception:
    """RFC 5321 §4.2.1: 5yz is permanent; 4yz (and anything odd) is worth retrying."""
    reason = f"{what}: {_reply_text(code, text)}"
    if 500 <= code <= 599:
        return PermanentError(reason)
    return RetryableError(reason)


class EmailChannel:
    """Sends messages by email through one SMTP server, keeping one connection open.

    Args:
        config: the sending account; ``settings["smtpUrl"]`` and ``settings["from"]`` override
            the defaults, ``secret`` is the SMTP password.
        settings: ``smtp_url`` and ``email_from`` are the defaults.
        timeout: seconds for the TCP connect and for each server reply (default 10 s).
        ssl_context: the TLS context for STARTTLS / ``smtps://`` (default: system trust store,
            hostname checked).

    The channel is safe to share between threads (sends are serialised). An SMTP server does
    not drop repeats, so ``deduplicates`` is False.
    """

    deduplicates = False

    def __init__(
        self,
        config: AccountConfig,
        settings: Settings,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._config = config
        self._settings = settings
        self._timeout = timeout
        self._ssl_context = ssl_context
        self._smtp: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    # -- configuration -------------------------------------------------------------------

    def _target(self) -> SmtpTarget:
        url = self._config.settings.get("smtpUrl")
        if url:
            return parse_smtp_url(str(url), self._config.secret)
        url = self._settings.smtp_url.get_secret_value()
        if not url:
            raise PermanentError("no SMTP server configured (smtpUrl or HUNTAZE_SMTP_URL)")
        return parse_smtp_url(url)

    def _sender(self) -> str:
        sender = str(self._config.settings.get("from") or self._settings.email_from).strip()
        if not sender:
            raise PermanentError("no sender address configured (from or HUNTAZE_EMAIL_FROM)")
        return sender

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    # -- connection ----------------------------------------------------------------------

    def _connect(self, target: SmtpTarget) -> smtplib.SMTP:
        smtp: smtplib.SMTP
        if target.implicit_tls:
            smtp = smtplib.SMTP_SSL(
                target.host, target.port, timeout=self._timeout, context=self._tls()
            )
        else:
            smtp = smtplib.SMTP(target.host, target.port, timeout=self._timeout)
        try:
            smtp.ehlo_or_helo_if_needed()
            if target.starttls != "false":
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=self._tls())
                    smtp.ehlo()
                elif target.starttls == "true":
                    raise PermanentError(
                        f"SMTP server {target.host}:{target.port} does not offer STARTTLS, "
                        "which the SMTP URL requires (?starttls=true)"
                    )
            if target.user is not None:
                if target.password is None:
                    raise PermanentError("SMTP URL names a user but no password is configured")
                smtp.login(target.user, target.password)
        except BaseException:
            _quietly_close(smtp)
            raise
        return smtp

    def _connection(self, target: SmtpTarget) -> smtplib.SMTP:
        """The open connection, checked with NOOP; a dropped one is reopened once."""
        if self._smtp is not None:
            try:
                code, _ = self._smtp.noop()
                if code == 250:
                    return self._smtp
            except (smtplib.SMTPServerDisconnected, OSError):
                pass
            self._discard()
        self._smtp = self._connect(target)
        return self._smtp

    def _discard(self) -> None:
        if self._smtp is not None:
            _quietly_close(self._smtp)
            self._smtp = None

    # -- sending -------------------------------------------------------------------------

    def build(self, message: OutgoingMessage, sender: str) -> EmailMessage:
        """Build the email for ``message``: plain text body, media URLs as trailing lines.

        Raises:
            PermanentError: no recipient, or a header value with line breaks.
        """
        if not message.recipient.strip():
            raise PermanentError("the message has no recipient address")
        body = message.content
        if message.media_urls:
            body = body.rstrip("\n") + "\n\n" + "\n".join(message.media_urls)
        email = EmailMessage()
        try:
            email["From"] = sender
            email["To"] = message.recipient.strip()
            email["Subject"] = message.subject or default_subject(message.content)
            email["Date"] = formatdate(usegmt=True)
            email["Message-ID"] = message_id_for(message.idempotency_key)
            email["X-Huntaze-Message-Id"] = message.message_id
        except ValueError as exc:  # CR/LF or an unparsable address in a header
            raise PermanentError(f"invalid email header: {exc}") from None
        email.set_content(body)
        return email

    def send(self, message: OutgoingMessage) -> SendResult:
        """Send ``message`` as one email; the result's ``external_id`` is its ``Message-ID``.

        Raises:
            PermanentError: configuration missing or invalid; a 5yz reply (RFC 5321 §4.2.1:
                550 mailbox unavailable/unknown user, 552 storage exceeded, 553 mailbox name
                not allowed, 554 transaction failed) with the server's text; STARTTLS required
                but not offered; AUTH or SMTPUTF8 needed but not supported.
            RetryableError: a 4yz reply (421 service closing, 450/451/452), the connection
                dropped (the message may have arrived: its Message-ID is the same on the retry),
                a timeout or another network error.
            ReconnectRequired: the server refused the login (RFC 4954 535 / 534).
        """
        with self._lock:
            target = self._target()
            sender = self._sender()
            email = self.build(message, sender)
            try:
                smtp = self._connection(target)
                smtp.send_message(email, from_addr=sender, to_addrs=[message.recipient.strip()])
            except PermanentError:
                self._discard()
                raise
            except smtplib.SMTPAuthenticationError as exc:
                self._discard()
                reason = "SMTP login refused: " + _reply_text(exc.smtp_code, exc.smtp_error)
                if 400 <= exc.smtp_code <= 499:  # 454: temporary authentication failure
                    raise RetryableError(reason) from None
                raise ReconnectRequired(reason) from None
            except smtplib.SMTPRecipientsRefused as exc:
                # smtplib has already sent RSET: the connection stays usable.
                code, text = next(iter(exc.recipients.values()), (554, b"recipient refused"))
                raise _by_code(code, "recipient refused", text) from None
            except smtplib.SMTPSenderRefused as exc:
                raise _by_code(exc.smtp_code, "sender refused", exc.smtp_error) from None
            except smtplib.SMTPDataError as exc:
                if exc.smtp_code == 421:
                    self._discard()
                raise _by_code(exc.smtp_code, "message refused", exc.smtp_error) from None
            except smtplib.SMTPNotSupportedError as exc:
                self._discard()
                raise PermanentError(f"SMTP server lacks a needed feature: {exc}") from None
            except smtplib.SMTPServerDisconnected as exc:
                self._discard()
                raise RetryableError(f"SMTP server disconnected: {exc}") from None
            except smtplib.SMTPResponseException as exc:  # connect, HELO, STARTTLS replies
                self._discard()
                raise _by_code(exc.smtp_code, "SMTP error", exc.smtp_error) from None
            except TimeoutError:
                self._discard()
                raise RetryableError(f"SMTP server timed out after {self._timeout:g} s") from None
            except (smtplib.SMTPException, OSError) as exc:  # refused, reset, TLS failures
                self._discard()
                raise RetryableError(
                    f"SMTP connection failed: {type(exc).__name__}: {exc}"
                ) from None
            return SendResult(external_id=str(email["Message-ID"]))

    def close(self) -> None:
        """QUIT and close the connection, if one is open (errors are ignored)."""
        with self._lock:
            if self._smtp is not None:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    self._smtp.quit()
                self._discard()


def _quietly_close(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        smtp.close()
