"""API errors in one shape: ``{"error": {"code", "message", "details"}}`` (design.md §5)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any


class ApiError(Exception):
    """An error the API answers with its own status and a stable machine-readable code.

    Args:
        status: HTTP status (400, 401, 403, 404, 409, 413, 422, 429).
        code: snake_case code, for example ``fan_not_found``.
        message: a sentence for a person.
        details: optional list of objects naming the offending field or line.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []

    def body(self) -> dict[str, Any]:
        """Return the JSON body: ``{"error": {"code", "message", "details"}}``."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


async def send_error(send: Callable[[dict[str, Any]], Awaitable[None]], error: ApiError) -> None:
    """Answer ``error`` as a whole JSON response through an ASGI ``send``, for the ASGI
    middlewares that answer before (or instead of) the app (ASGI 3.0 HTTP messages,
    https://asgi.readthedocs.io/en/latest/specs/www.html)."""
    body = json.dumps(error.body()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def not_found(kind: str) -> ApiError:
    """Return a 404 ``<kind>_not_found`` error (also used for another tenant's ids)."""
    return ApiError(404, f"{kind}_not_found", f"{kind.replace('_', ' ').capitalize()} not found")


def forbidden(message: str = "Your role does not allow this action") -> ApiError:
    """Return a 403 ``forbidden`` error."""
    return ApiError(403, "forbidden", message)
