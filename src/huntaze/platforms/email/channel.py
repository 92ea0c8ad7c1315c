"""The email channel: one message, one SMTP transaction (RFC 5321), sent with :mod:`smtplib`.

The server comes from a URL (parsed by :mod:`huntaze.platforms.email.smtp_url`):

* ``smtp://user:pass@host:587`` — plain connection, upgraded with STARTTLS (RFC 3207) when the
  server advertises it (``?starttls=auto``, the default); ``?starttls=true`` requires it and
  ``?starttls=false`` never upgrades (for a local relay on loopback).
* ``smtps://user:pass@host:465`` — TLS from the first byte (RFC 8314).

The default ports are 587 (submission, RFC 6409) and 465. User and password are URL-decoded; a
login (``AUTH``) happens only when the URL names a user.

Reply codes are mapped per RFC 5321 §4.2: ``5yz`` is a permanent failure, ``4yz`` a transient
one; ``535`` (RFC 4954, bad credentials) means the account must be reconnected.

The server is user-given, so it is reached through :mod:`huntaze.kit.netguard`: the host is
resolved once per connection, private, loopback, link-local and metadata addresses are refused
unless the operator allows them (``HUNTAZE_ALLOW_PRIVATE_URLS``,
``HUNTAZE_ALLOWED_PRIVATE_TARGETS``), and the socket connects to the checked address while
STARTTLS and ``smtps://`` verify the certificate against the host name. Server replies kept
in a reason are cut to :data:`REPLY_TEXT_MAX` characters, with control characters dropped and
credentials masked; a reply that is not SMTP at all is not kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import smtplib
import socket
import ssl
import threading
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from huntaze.config import Settings
from huntaze.kit.netguard import (
    CheckedTarget,
    TargetPolicy,
    UnresolvableTarget,
    UnsafeTarget,
    check_target,
    connect_checked,
    unsafe_reason,
)
from huntaze.kit.redact import redact_text
from huntaze.platforms.base import (
    AccountConfig,
    OutgoingMessage,
    PermanentError,
    ReconnectRequired,
    RetryableError,
    SendResult,
)
from huntaze.platforms.email.smtp_url import SmtpTarget, parse_smtp_url

DEFAULT_TIMEOUT = 10.0
"""Seconds allowed for connecting and for each SMTP reply."""

REPLY_TEXT_MAX = 300
"""Longest server reply text kept in a reason, in characters."""

SUBJECT_MAX = 78
"""Longest default subject, in characters (RFC 5322 §2.1.1's recommended line length)."""

_MSGID_SAFE = re.compile(r"[A-Za-z0-9_+=-]+(?:\.[A-Za-z0-9_+=-]+)*")


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


def _reply_text(code: int, text: bytes | str, secrets: tuple[str, ...] = ()) -> str:
    """``<code> <text>`` of a server reply, cleaned for a reason: control characters dropped,
    credentials (and ``secrets``) masked, cut to :data:`REPLY_TEXT_MAX`. A reply whose code is
    not a 2yz-5yz SMTP code (RFC 5321 §4.2) keeps no text: whatever answered is not an SMTP
    server, and its words must not be read back."""
    if not 200 <= code <= 599:
        return "a reply that is not SMTP"
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    kept = "".join(c if c.isprintable() else " " for c in text).strip()
    kept = redact_text(kept, secrets)
    if len(kept) > REPLY_TEXT_MAX:
        kept = kept[: REPLY_TEXT_MAX - 1] + "…"
    return f"{code} {kept}".strip()


def _by_code(code: int, what: str, text: bytes | str, secrets: tuple[str, ...] = ()) -> Exception:
    """RFC 5321 §4.2.1: 5yz is permanent; 4yz (and anything odd) is worth retrying."""
    reason = f"{what}: {_reply_text(code, text, secrets)}"
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

    The server's host is checked on every new connection against
    ``settings.allow_private_urls`` and ``settings.allowed_private_targets``
    (:mod:`huntaze.kit.netguard`). The channel is safe to share between threads (sends are
    serialised). An SMTP server does not drop repeats, so ``deduplicates`` is False.
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
        self._policy_error: str | None = None
        try:
            self._policy = TargetPolicy.parse(
                settings.allow_private_urls, settings.allowed_private_targets
            )
        except ValueError as exc:
            self._policy = TargetPolicy()
            self._policy_error = f"HUNTAZE_ALLOWED_PRIVATE_TARGETS is invalid: {exc}"

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

    def _checked(self, target: SmtpTarget) -> CheckedTarget:
        """Resolve and check the server's host once (:func:`check_target`).

        Raises:
            PermanentError: the host resolves to a refused address (the reason names the rule),
                or the operator's allow-list is invalid.
            RetryableError: the host does not resolve.
        """
        if self._policy_error is not None:
            raise PermanentError(self._policy_error)
        try:
            return check_target(target.host, target.port, self._policy)
        except UnsafeTarget as exc:
            where = f"[{exc.host}]:{exc.port}" if ":" in exc.host else f"{exc.host}:{exc.port}"
            hint = (
                f"set HUNTAZE_ALLOW_PRIVATE_URLS=true (or add {where} to "
                "HUNTAZE_ALLOWED_PRIVATE_TARGETS) to allow it"
            )
            raise PermanentError(unsafe_reason(exc, "SMTP URL", hint)) from None
        except UnresolvableTarget as exc:
            raise RetryableError(f"SMTP host {exc.host} does not resolve") from None

    def _connect(self, target: SmtpTarget) -> smtplib.SMTP:
        checked = self._checked(target)
        smtp: smtplib.SMTP
        if target.implicit_tls:
            smtp = _PinnedSMTPSSL(checked, timeout=self._timeout, context=self._tls())
        else:
            smtp = _PinnedSMTP(checked, timeout=self._timeout)
        try:
            code, text = smtp.connect(target.host, target.port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, text)
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
            PermanentError: configuration missing or invalid; the server's host resolves to an
                address the guard refuses (:mod:`huntaze.kit.netguard`); a 5yz reply (RFC 5321
                §4.2.1: 550 mailbox unavailable/unknown user, 552 storage exceeded, 553 mailbox name
                not allowed, 554 transaction failed) with the server's text; STARTTLS required
                but not offered; AUTH or SMTPUTF8 needed but not supported.
            RetryableError: a 4yz reply (421 service closing, 450/451/452), the connection
                dropped (the message may have arrived: its Message-ID is the same on the retry),
                a timeout or another network error, a host that does not resolve.
            ReconnectRequired: the server refused the login (RFC 4954 535 / 534).
        """
        with self._lock:
            target = self._target()
            sender = self._sender()
            email = self.build(message, sender)
            secrets = tuple(s for s in (target.password, self._config.secret) if s)
            try:
                smtp = self._connection(target)
                smtp.send_message(email, from_addr=sender, to_addrs=[message.recipient.strip()])
            except PermanentError:
                self._discard()
                raise
            except smtplib.SMTPAuthenticationError as exc:
                self._discard()
                reason = "SMTP login refused: " + _reply_text(
                    exc.smtp_code, exc.smtp_error, secrets
                )
                if 400 <= exc.smtp_code <= 499:  # 454: temporary authentication failure
                    raise RetryableError(reason) from None
                raise ReconnectRequired(reason) from None
            except smtplib.SMTPRecipientsRefused as exc:
                # smtplib has already sent RSET: the connection stays usable.
                code, text = next(iter(exc.recipients.values()), (554, b"recipient refused"))
                raise _by_code(code, "recipient refused", text, secrets) from None
            except smtplib.SMTPSenderRefused as exc:
                raise _by_code(exc.smtp_code, "sender refused", exc.smtp_error, secrets) from None
            except smtplib.SMTPDataError as exc:
                if exc.smtp_code == 421:
                    self._discard()
                raise _by_code(exc.smtp_code, "message refused", exc.smtp_error, secrets) from None
            except smtplib.SMTPNotSupportedError as exc:
                self._discard()
                detail = redact_text(str(exc), secrets)[:REPLY_TEXT_MAX]
                raise PermanentError(f"SMTP server lacks a needed feature: {detail}") from None
            except smtplib.SMTPServerDisconnected as exc:
                self._discard()
                detail = redact_text(str(exc), secrets)[:REPLY_TEXT_MAX]
                raise RetryableError(f"SMTP server disconnected: {detail}") from None
            except smtplib.SMTPResponseException as exc:  # connect, HELO, STARTTLS replies
                self._discard()
                raise _by_code(exc.smtp_code, "SMTP error", exc.smtp_error, secrets) from None
            except TimeoutError:
                self._discard()
                raise RetryableError(f"SMTP server timed out after {self._timeout:g} s") from None
            except (smtplib.SMTPException, OSError) as exc:  # refused, reset, TLS failures
                self._discard()
                detail = redact_text(str(exc), secrets)[:REPLY_TEXT_MAX]
                raise RetryableError(
                    f"SMTP connection failed: {type(exc).__name__}: {detail}"
                ) from None
            return SendResult(external_id=str(email["Message-ID"]))

    def close(self) -> None:
        """QUIT and close the connection, if one is open (errors are ignored)."""
        with self._lock:
            if self._smtp is not None:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    self._smtp.quit()
                self._discard()


class _PinnedSMTP(smtplib.SMTP):
    """:class:`smtplib.SMTP` whose socket connects to the checked addresses of a
    :class:`CheckedTarget` (never resolving the host again), while ``_host`` (the name
    STARTTLS sends as SNI and checks the certificate against) stays the host name. Built
    unconnected; call ``connect(host, port)``."""

    def __init__(self, checked: CheckedTarget, *, timeout: float, **kwargs: Any) -> None:
        self._checked = checked
        super().__init__(timeout=timeout, **kwargs)
        self._host = checked.host

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return connect_checked(self._checked, timeout)


class _PinnedSMTPSSL(smtplib.SMTP_SSL):
    """:class:`smtplib.SMTP_SSL` connected like :class:`_PinnedSMTP`: TLS from the first
    byte, server name and certificate check on the host name."""

    def __init__(self, checked: CheckedTarget, *, timeout: float, context: ssl.SSLContext) -> None:
        self._checked = checked
        super().__init__(timeout=timeout, context=context)
        self._host = checked.host

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = connect_checked(self._checked, timeout)
        try:
            return self.context.wrap_socket(sock, server_hostname=self._host)
        except BaseException:
            sock.close()
            raise


def _quietly_close(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        smtp.close()
