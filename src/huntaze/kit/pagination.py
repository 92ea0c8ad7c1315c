"""Cursor pagination: ``?limit=&cursor=`` -> ``{"items": [...], "nextCursor": "..."}``.

A cursor is opaque to clients: urlsafe base64 of a small JSON array holding the last row's
sort value and id (keyset pagination, so pages stay stable and cheap however deep).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from huntaze.kit.errors import DomainError

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class InvalidCursor(DomainError):
    """400 ``invalid_cursor``: a ``cursor`` this list did not make (or made for another
    sort); start again without it."""

    error_code = "invalid_cursor"
    default_message = "The cursor is not valid"


def encode_cursor(values: list[Any]) -> str:
    """Return the opaque cursor for ``values`` (JSON-serialisable; datetimes as ISO strings)."""
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    """Return the values inside ``cursor``.

    Raises:
        ApiError: 400 ``invalid_cursor`` when it was not made by :func:`encode_cursor` or
            holds the wrong number of values.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidCursor() from exc
    if not isinstance(values, list) or len(values) != length:
        raise InvalidCursor()
    return values
