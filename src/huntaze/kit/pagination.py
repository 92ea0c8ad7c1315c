"""Cursor pagination: ``?limit=&cursor=`` -> ``{"items": [...], "nextCursor": "..."}``.

A cursor is opaque to clients: urlsafe base64 of a small JSON array holding the last row's
sort value and id (keyset pagination, so pages stay stable and cheap however deep).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from huntaze.kit.errors import ApiError

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


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
        raise ApiError(400, "invalid_cursor", "The cursor is not valid") from exc
    if not isinstance(values, list) or len(values) != length:
        raise ApiError(400, "invalid_cursor", "The cursor is not valid")
    return values
