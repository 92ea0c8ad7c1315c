"""API errors in one shape: ``{"error": {"code", "message", "details"}}`` (design.md §5)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar


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


class DomainError(ApiError):
    """A named error of one domain, with its status (``http_status``), stable code
    (``error_code``) and default message as class attributes. Each domain declares its own in
    its ``errors.py`` (``FanNotFound``, ``SendingAccountNotFound``…). No two classes share a
    code, so a code names one entity (``tests/test_errors.py`` checks it). The app maps
    every one to the error body once (:meth:`ApiError.body`).

    Args:
        message: overrides the class's default sentence.
        details: objects naming the offending field or line.
    """

    http_status: ClassVar[int] = 400
    error_code: ClassVar[str] = ""
    default_message: ClassVar[str] = ""

    def __init__(
        self, message: str | None = None, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(
            type(self).http_status,
            type(self).error_code,
            message or type(self).default_message,
            details,
        )


class NotFound(DomainError):
    """404: the entity does not exist, or belongs to another creator (indistinguishable)."""

    http_status = 404


class Conflict(DomainError):
    """409: the request conflicts with the entity's current state."""

    http_status = 409


def forbidden(message: str = "Your role does not allow this action") -> ApiError:
    """Return a 403 ``forbidden`` error."""
    return ApiError(403, "forbidden", message)
