"""Scripted network fakes for tests, the one place for them (the fakes the demo runs live in
``huntaze.platforms.*.fake``): a resolver standing in for DNS, servers on 127.0.0.1 whose
answers are scripted (an HTTP(S) relay, an SMTP server that refuses every login, a TCP service
that sends fixed bytes), self-signed certificates for their TLS, and the settings a channel
under test is built with."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from huntaze.config import Settings

# -- DNS ----------------------------------------------------------------------------------


class Resolver:
    """Answers ``socket.getaddrinfo`` for names ending in ``.test`` from a script (a list of
    answers per name, the last one repeating) and counts the lookups; every other name (IP
    literals among them) goes to the real resolver. Install with :meth:`install`."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.answers: dict[str, list[list[str]]] = {}
        self.calls: dict[str, int] = {}

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch) -> Resolver:
        """A resolver standing in for ``socket.getaddrinfo`` until ``monkeypatch`` undoes it."""
        fake = cls(socket.getaddrinfo)
        monkeypatch.setattr(socket, "getaddrinfo", fake)
        return fake

    def set(self, name: str, *answers: list[str]) -> None:
        """Script the answers of ``name``: one list of addresses per lookup."""
        self.answers[name] = list(answers)
        self.calls[name] = 0

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if not (isinstance(name, str) and name.endswith(".test")):
            return self.real(host, port, *args, **kwargs)
        if name not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        self.calls[name] += 1
        script = self.answers[name]
        answer = script.pop(0) if len(script) > 1 else script[0]
        infos: list[Any] = []
        for text in answer:
            ip = ipaddress.ip_address(text)
            if ip.version == 4:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (text, int(port or 0))))
            else:
                infos.append(
                    (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (text, int(port or 0), 0, 0))
                )
        return infos


# -- servers ------------------------------------------------------------------------------


class _Serving:
    """A threading ``socketserver`` server on 127.0.0.1, served from a daemon thread while
    inside ``with``; subclasses call :meth:`_listen` with their server."""

    server: ThreadingHTTPServer | socketserver.ThreadingTCPServer
    thread: threading.Thread

    def _listen(self, server: ThreadingHTTPServer | socketserver.ThreadingTCPServer) -> None:
        server.daemon_threads = True
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        """The listening port."""
        return int(self.server.server_address[1])

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


#: (status, headers, body bytes) a scripted relay answers.
Answer = tuple[int, dict[str, str], bytes]


class ScriptedRelay(_Serving):
    """An HTTP server on 127.0.0.1 that answers each GET or POST with ``script(request)``,
    where ``request`` is ``{"line", "headers", "body", "payload"}`` (the request line, headers
    as sent, the raw body and its JSON, ``{}`` when it is not JSON). The default answers 200
    ``{"externalId": "ok"}``. ``requests`` records every request.

    With ``tls`` (a server context) it speaks HTTPS and records in ``server_names`` the TLS
    server name each client sent (``None`` for none)."""

    def __init__(
        self,
        script: Callable[[dict[str, Any]], Answer] | None = None,
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        outer = self
        self.script = script or (lambda _r: (200, {}, b'{"externalId": "ok"}'))
        self.requests: list[dict[str, Any]] = []
        self.server_names: list[str | None] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {}
                request = {
                    "line": self.requestline,
                    "headers": dict(self.headers.items()),
                    "body": body,
                    "payload": payload,
                }
                outer.requests.append(request)
                status, headers, answer = outer.script(request)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:

            def remember(sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
                outer.server_names.append(name)

            tls.sni_callback = remember
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        self._listen(server)

    @property
    def hosts(self) -> list[str]:
        """The ``Host`` header of each request, in order."""
        return [request["headers"].get("Host", "") for request in self.requests]

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>/relay``."""
        return f"http://127.0.0.1:{self.port}/relay"


class RefusingSmtp(_Serving):
    """An SMTP server on 127.0.0.1 that offers AUTH PLAIN and refuses every login with a 535
    reply that repeats the decoded credentials (the worst a server could do)."""

    def __init__(self) -> None:
        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 refusing.test ESMTP\r\n")
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    command = line.decode("utf-8", "replace").strip()
                    verb = command.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.wfile.write(b"250-refusing.test\r\n250 AUTH PLAIN\r\n")
                    elif verb == "AUTH":
                        parts = command.split()
                        given = base64.b64decode(parts[2]).decode() if len(parts) > 2 else ""
                        shown = given.replace("\x00", " ")
                        self.wfile.write(f"535 5.7.8 no such login: {shown}\r\n".encode())
                    elif verb == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self._listen(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler))


class RawReply:
    """A TCP service on 127.0.0.1 that is not what the client expects: it accepts one
    connection, reads what the client sends first when ``read_first`` (a service that waits
    for a request), sends ``reply`` and closes. Leaving ``with`` waits up to 5 s for that."""

    def __init__(self, reply: bytes, *, read_first: bool = False) -> None:
        self.reply = reply
        self.read_first = read_first
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            if self.read_first:
                conn.recv(65536)
            conn.sendall(self.reply)

    @property
    def port(self) -> int:
        """The listening port."""
        return int(self.listener.getsockname()[1])

    def __enter__(self) -> RawReply:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(5)
        self.listener.close()


# -- TLS and settings ---------------------------------------------------------------------


def self_signed(folder: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a self-signed certificate of ``name``
    (a DNS name, or an IP address, which the certificate then names as one), valid for a day;
    its files are written in ``folder``."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    try:
        alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        alt = x509.DNSName(name)
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / f"{name}.pem", folder / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    return server, ssl.create_default_context(cafile=str(cert_file))


def channel_settings(**overrides: Any) -> Settings:
    """Settings for a channel under test: no default relay, SMTP server or sender, private
    targets allowed (the fakes listen on loopback); ``overrides`` replace any of them."""
    values: dict[str, Any] = {
        "smtp_url": SecretStr(""),
        "email_from": "",
        "onlyfans_relay_url": "",
        "onlyfans_relay_secret": SecretStr(""),
        "allow_private_urls": True,
    }
    values.update(overrides)
    return Settings(**values)
