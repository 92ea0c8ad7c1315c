"""Keyset pagination over one sort column plus the id, with NULLs last in both directions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_

from huntaze.kit.errors import ApiError
from huntaze.kit.pagination import decode_cursor, encode_cursor

T = TypeVar("T")


def order_and_seek(
    stmt: Select[T],
    column: Any,
    id_column: Any,
    *,
    descending: bool,
    cursor: str | None,
    is_datetime: bool = False,
) -> Select[T]:
    """Order ``stmt`` by ``column`` then ``id_column`` and skip to after ``cursor``.

    Raises:
        ApiError: 400 ``invalid_cursor`` for a cursor that does not decode.
    """
    if descending:
        stmt = stmt.order_by(column.desc().nulls_last(), id_column.desc())
    else:
        stmt = stmt.order_by(column.asc().nulls_last(), id_column.asc())
    if cursor is None:
        return stmt
    value, last_id = decode_cursor(cursor, 2)
    if not isinstance(last_id, str):
        raise ApiError(400, "invalid_cursor", "The cursor is not valid")
    if value is not None and is_datetime:
        try:
            value = datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise ApiError(400, "invalid_cursor", "The cursor is not valid") from exc
    id_after = id_column < last_id if descending else id_column > last_id
    condition: ColumnElement[bool]
    if value is None:
        condition = and_(column.is_(None), id_after)
    else:
        beyond = column < value if descending else column > value
        condition = or_(beyond, and_(column == value, id_after), column.is_(None))
    return stmt.where(condition)


def next_cursor(rows: list[Any], limit: int, value_attr: str) -> str | None:
    """Return the cursor after the last of ``rows`` when a further page may exist.

    Call with up to ``limit + 1`` rows fetched; the extra row only signals that more follow.
    """
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    value = getattr(last, value_attr)
    if isinstance(value, datetime):
        value = value.isoformat()
    return encode_cursor([value, last.id])
