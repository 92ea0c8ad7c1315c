"""An ASGI middleware that answers 413 when a request body passes a size limit.

It checks ``Content-Length`` first and also counts the bytes of a chunked body as they
arrive, so an upload is refused before it is parsed or stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuse bodies larger than ``limit()`` bytes on paths starting with ``prefixes``.

    Args:
        app: the wrapped ASGI app.
        prefixes: path prefixes to guard (for example ``("/api/crm/import",)``).
        limit: returns the limit in bytes (read per request, so settings changes apply).
    """

    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...], limit: Callable[[], int]) -> None:
        self.app = app
        self.prefixes = prefixes
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        limit = self.limit()
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _answer_413(send, limit)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message: Message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _answer_413(send, limit)


async def _answer_413(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "error": {
                "code": "file_too_large",
                "message": (
                    f"The upload is larger than {limit} bytes; import big files with "
                    "`huntaze import PATH`"
                ),
                "details": [{"limitBytes": limit}],
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
