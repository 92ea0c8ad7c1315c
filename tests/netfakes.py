"""Test helpers for the address guard: a scripted resolver standing in for DNS, and a relay
on loopback whose answers are scripted per recipient (any status, headers and body)."""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Resolver:
    """Answers ``socket.getaddrinfo`` for names ending in ``.test`` from a script (a list of
    answers per name, the last one repeating) and counts the lookups; every other name (IP
    literals among them) goes to the real resolver. Install with
    ``monkeypatch.setattr(socket, "getaddrinfo", Resolver(socket.getaddrinfo))``."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.answers: dict[str, list[list[str]]] = {}
        self.calls: dict[str, int] = {}

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


#: (status, headers, body bytes) a scripted relay answers.
Answer = tuple[int, dict[str, str], bytes]


class ScriptedRelay:
    """A relay on 127.0.0.1 that answers each POST with ``script(request)``, where
    ``request`` is ``{"line", "headers", "body", "payload"}`` (the request line, headers as
    sent, the raw body and its JSON). The default answers 200 ``{"externalId": "ok"}``.
    ``requests`` records every request."""

    def __init__(self, script: Callable[[dict[str, Any]], Answer] | None = None) -> None:
        outer = self
        self.script = script or (lambda _r: (200, {}, b'{"externalId": "ok"}'))
        self.requests: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
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

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        """The listening port."""
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>/relay``."""
        return f"http://127.0.0.1:{self.port}/relay"

    def __enter__(self) -> ScriptedRelay:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
