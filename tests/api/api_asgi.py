"""Drive the API the way a server does: one ASGI call with a body streamed in chunks (counting
how many the app asked for), or a real uvicorn server on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import uvicorn


@dataclass
class AsgiResult:
    """The response of :func:`call_asgi` and how much of the request body the app read."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks_read: int = 0
    bytes_read: int = 0

    def json(self) -> Any:
        import json

        return json.loads(self.body)


def call_asgi(
    app: Any,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    chunks: Iterable[bytes] = (),
    query: str = "",
) -> AsgiResult:
    """Call ``app`` once as an HTTP/1.1 server would, handing it ``chunks`` one
    ``http.request`` message at a time, only when it asks for the next one."""
    result = AsgiResult()
    source: Iterator[bytes] = iter(chunks)
    body_done = False
    raw_headers = [(k.lower().encode(), v.encode("latin-1")) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"testserver"), *raw_headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }

    async def receive() -> dict[str, Any]:
        nonlocal body_done
        if body_done:
            await anyio.sleep_forever()
        chunk = next(source, None)
        if chunk is None:
            body_done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        result.chunks_read += 1
        result.bytes_read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            result.status = message["status"]
            result.headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            result.body += message.get("body", b"")

    async def main() -> None:
        with anyio.fail_after(120):  # a hang is a failure, not a timing assertion
            await app(scope, receive, send)

    anyio.run(main)
    return result


def repeat(chunk: bytes, count: int) -> Iterator[bytes]:
    """``count`` times the same ``chunk`` (one object: no memory grows with the body)."""
    for _ in range(count):
        yield chunk


@dataclass
class LiveServer:
    """A uvicorn server on 127.0.0.1; ``clients`` lists the ``(host, port)`` of the client
    connection of each request served (the same port twice means the same TCP connection)."""

    url: str
    clients: list[tuple[str, int]]


@contextmanager
def live_server(app: Any) -> Iterator[LiveServer]:
    """Serve ``app`` with uvicorn on a random loopback port for the duration of the block."""
    clients: list[tuple[str, int]] = []

    async def recording(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            clients.append(tuple(scope["client"]))  # type: ignore[arg-type]
        await app(scope, receive, send)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(recording, lifespan="off", log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", clients)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
