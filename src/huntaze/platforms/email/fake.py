"""A fake SMTP server for tests: a real :mod:`aiosmtpd` server on 127.0.0.1 (design.md §1.4).

It speaks SMTP (RFC 5321) on a free loopback port, records what it receives and can be told to
misbehave: require AUTH, refuse recipients (550), answer 421/451 to the next messages, or drop
the connection in the middle of a transaction::

    with FakeSmtpServer(username="bot", password="s3cret") as smtp:
        channel = EmailChannel(AccountConfig("acc_1", "email", {"smtpUrl": smtp.url}), settings)
        channel.send(message)
        assert smtp.messages[0].message["Subject"] == "Hi"
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from huntaze.kit.lifecycle import StartStop


@dataclass(frozen=True, slots=True)
class ReceivedEmail:
    """One message the fake accepted.

    Attributes:
        mail_from: the envelope sender (``MAIL FROM``).
        rcpt_tos: the envelope recipients (``RCPT TO``).
        message: the parsed message (``email.policy.default``, line ends as ``\\n``).
        data: the raw bytes after ``DATA`` (CRLF line ends).
        login: the AUTH user of the session, or ``None`` when it did not log in.
        tls: whether the session was encrypted (STARTTLS or implicit TLS).
    """

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    data: bytes
    login: str | None
    tls: bool

    @property
    def headers(self) -> dict[str, str]:
        """The message headers by name (the last one wins when a name repeats)."""
        return {name: str(value) for name, value in self.message.items()}


def _over_tls(server: SMTP) -> bool:
    transport = server.transport
    return transport is not None and transport.get_extra_info("ssl_object") is not None


class _Controller(Controller):
    """A controller that learns its port after binding port 0 and tracks live sessions."""

    def __init__(self, handler: Any, sessions: list[SMTP], **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._sessions = sessions

    def factory(self) -> SMTP:
        server = super().factory()  # type: ignore[no-untyped-call]
        assert isinstance(server, SMTP)
        self._sessions.append(server)
        return server

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class FakeSmtpServer(StartStop):
    """A loopback SMTP server that records messages and fails on request.

    Args:
        username, password: when given, AUTH (PLAIN/LOGIN, over plain text for tests) is
            required before ``MAIL FROM`` (530 otherwise) and wrong credentials get 535.
        tls_context: a server-side TLS context; with ``implicit_tls`` the whole session is TLS
            (for ``smtps://``), otherwise it is offered through STARTTLS (RFC 3207).
        implicit_tls: see ``tls_context``.
        on_message: called with each accepted message in the server's thread, before the
            ``250`` is answered; what it raises turns into a ``500`` reply (aiosmtpd's).
        keep_records: False to keep nothing in ``messages`` (a long-running server such as
            ``serve --demo``'s).

    Thread-safe: the server runs in its own thread and event loop.
    """

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        tls_context: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        on_message: Callable[[ReceivedEmail], None] | None = None,
        keep_records: bool = True,
    ) -> None:
        self.on_message = on_message
        self.keep_records = keep_records
        self.username = username
        self.password = password
        self.implicit_tls = implicit_tls and tls_context is not None
        self.messages: list[ReceivedEmail] = []
        self.dropped = 0
        self.refused: list[str] = []
        self.failed_logins = 0
        self._rejected: set[str] = set()
        self._temp_failures: list[int] = []
        self._drops = 0
        self._lock = threading.Lock()
        self._sessions: list[SMTP] = []
        self._mail_sessions: list[SMTP] = []
        kwargs: dict[str, Any] = {
            "hostname": "127.0.0.1",
            "port": 0,
            "server_hostname": "fake-smtp.test",
            "auth_require_tls": False,
            "ready_timeout": 5.0,
        }
        if username is not None:
            kwargs["authenticator"] = self._authenticate
        if tls_context is not None:
            if self.implicit_tls:
                kwargs["ssl_context"] = tls_context
            else:
                kwargs["tls_context"] = tls_context
        self._controller = _Controller(self, self._sessions, **kwargs)
        self._running = False

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeSmtpServer:
        """Bind a free port on 127.0.0.1 and serve in a background thread."""
        if not self._running:
            self._controller.start()
            self._running = True
        return self

    def stop(self) -> None:
        """Stop serving and close every session."""
        if self._running:
            self._controller.stop()
            self._running = False

    @property
    def port(self) -> int:
        """The TCP port (valid once started)."""
        return int(self._controller.port)

    @property
    def url(self) -> str:
        """``smtp://user:pass@127.0.0.1:port`` (``smtps://`` with implicit TLS), credentials
        URL-encoded, none when AUTH is not required."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        auth = ""
        if self.username is not None:
            auth = f"{quote(self.username, safe='')}:{quote(self.password or '', safe='')}@"
        return f"{scheme}://{auth}127.0.0.1:{self.port}"

    @property
    def sessions(self) -> int:
        """How many connections started a mail transaction (``MAIL FROM``)."""
        with self._lock:
            return len(self._mail_sessions)

    # -- scripting ------------------------------------------------------------------------

    def reject_recipients(self, *addresses: str) -> None:
        """Answer ``550 5.1.1`` (unknown user) to ``RCPT TO`` for these addresses."""
        with self._lock:
            self._rejected.update(a.lower() for a in addresses)

    def fail_next(self, count: int = 1, code: int = 451) -> None:
        """Answer ``code`` (421 or 451) instead of 250 after ``DATA`` for the next ``count``
        messages; the messages are not recorded."""
        if code not in (421, 451):
            raise ValueError("fail_next takes 421 or 451")
        with self._lock:
            self._temp_failures.extend([code] * count)

    def drop_next(self, count: int = 1) -> None:
        """Reset the TCP connection instead of answering ``DATA`` for the next ``count``
        messages, as a crashing server would; the messages are not recorded."""
        with self._lock:
            self._drops += count

    def disconnect_all(self) -> None:
        """Close every open session now, as a server dropping idle connections does."""
        sessions = list(self._sessions)
        done = threading.Event()

        def close() -> None:
            for server in sessions:
                if server.transport is not None:
                    server.transport.close()
            done.set()

        self._controller.loop.call_soon_threadsafe(close)
        done.wait(5.0)

    # -- aiosmtpd hooks -------------------------------------------------------------------

    def _authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode("utf-8", "replace") == self.username
            and auth_data.password.decode("utf-8", "replace") == self.password
        )
        if not ok:
            with self._lock:
                self.failed_logins += 1
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.username is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        with self._lock:
            if not any(s is server for s in self._mail_sessions):
                self._mail_sessions.append(server)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        with self._lock:
            rejected = address.lower() in self._rejected
            if rejected:
                self.refused.append(address)
        if rejected:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            drop = self._drops > 0
            if drop:
                self._drops -= 1
                self.dropped += 1
            temp = self._temp_failures.pop(0) if not drop and self._temp_failures else None
        if drop:
            assert server.transport is not None
            server.transport.abort()  # type: ignore[attr-defined]
            await asyncio.sleep(0)
            raise ConnectionResetError("fake SMTP server dropped the connection")
        if temp == 421:
            return "421 4.3.2 Service shutting down, try again later"
        if temp == 451:
            return "451 4.3.0 Temporary local problem, try again later"
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        # Parsed with LF line ends, so ``get_content()`` reads like the text that was sent.
        parsed = BytesParser(policy=default_policy).parsebytes(data.replace(b"\r\n", b"\n"))
        assert isinstance(parsed, EmailMessage)
        login = None
        if isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode("utf-8", "replace")
        received = ReceivedEmail(
            mail_from=str(envelope.mail_from),
            rcpt_tos=tuple(envelope.rcpt_tos),
            message=parsed,
            data=data,
            login=login,
            tls=session.ssl is not None or _over_tls(server),
        )
        if self.keep_records:
            with self._lock:
                self.messages.append(received)
        if self.on_message is not None:
            self.on_message(received)
        return "250 2.0.0 OK: queued"
