"""An ASGI middleware that answers 413 when a request body passes a size limit.

Every request has a limit: :data:`DEFAULT_MAX_BODY_BYTES` for JSON routes, or the limit of the
first :class:`BodyRule` whose path prefix matches (the imports' larger one, for example). The
check runs when the app first asks for the body: a declared ``Content-Length`` over the limit is
refused before a byte is read, and a ``Transfer-Encoding: chunked`` body is counted as it
arrives and refused as soon as it passes the limit, so an oversized body is never read in full,
parsed or stored.

The refusal is raised as :class:`BodyReadRefused`, an ``HTTPException``: FastAPI re-raises the
``HTTPException`` s it meets while reading a body (it turns every other exception into a 400
"There was an error parsing the body", which is how a chunked upload over the import limit
used to answer 400), so the app's handler for :class:`BodyReadRefused` answers with its
``{"error": ...}`` body.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException

from huntaze.kit.errors import ApiError, send_error

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]

#: The body limit of every route without a :class:`BodyRule` of its own: 1 MiB of JSON.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
#: ``POST /api/messages/bulk`` takes up to 100,000 ``fanIds`` (about 34 bytes each in JSON,
#: 3.4 MB), so its rule allows 8 MiB.
BULK_MAX_BODY_BYTES = 8 * 1024 * 1024


class BodyReadRefused(HTTPException):
    """An :class:`~huntaze.kit.errors.ApiError` raised while the request body is read (a body
    over its limit, a caller refused before its body is read).

    Args:
        error: the error to answer; its status becomes the exception's status.
    """

    def __init__(self, error: ApiError) -> None:
        super().__init__(status_code=error.status, detail=error.message)
        self.error = error


def body_too_large(limit: int) -> ApiError:
    """The 413 ``body_too_large`` error of a JSON body over ``limit`` bytes."""
    return ApiError(
        413,
        "body_too_large",
        f"The request body is larger than {limit} bytes",
        [{"field": "body", "message": f"at most {limit} bytes", "limitBytes": limit}],
    )


def file_too_large(limit: int) -> ApiError:
    """The 413 ``file_too_large`` error of an upload over ``limit`` bytes."""
    return ApiError(
        413,
        "file_too_large",
        f"The upload is larger than {limit} bytes; import big files with `huntaze import PATH`",
        [{"field": "file", "message": f"at most {limit} bytes", "limitBytes": limit}],
    )


@dataclass(frozen=True, slots=True)
class BodyRule:
    """The body limit of the paths starting with ``prefix``.

    Attributes:
        prefix: a path prefix, for example ``"/api/crm/import"``.
        limit: returns the limit in bytes (called per request, so a settings change applies).
        error: builds the 413 error from the limit (:func:`body_too_large` by default).
    """

    prefix: str
    limit: Callable[[], int]
    error: Callable[[int], ApiError] = body_too_large


class BodySizeLimit:
    """Refuse request bodies over their limit with 413, before they are read in full.

    Args:
        app: the wrapped ASGI app.
        rules: per-prefix limits, the first match wins.
        default: the limit in bytes of every other path.
    """

    def __init__(
        self,
        app: ASGIApp,
        rules: Sequence[BodyRule] = (),
        default: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.app = app
        self.rules = tuple(rules)
        self.default = BodyRule("", lambda: default)

    def rule_for(self, path: str) -> BodyRule:
        """The rule of ``path``: the first whose prefix matches, else the default."""
        return next((r for r in self.rules if path.startswith(r.prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = self.rule_for(scope["path"])
        limit = rule.limit()
        declared = _content_length(scope)
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            if declared is not None and declared > limit:
                raise BodyReadRefused(rule.error(limit))
            message: Message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyReadRefused(rule.error(limit))
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyReadRefused as exc:
            # Only when no exception handler inside answered it (the app's handler does).
            if started:
                raise
            await send_error(send, exc.error)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
