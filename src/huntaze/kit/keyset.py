"""Keyset pagination over one sort column plus the id, with NULLs last in both directions.

:func:`seek_page` is the form every index can serve. For a sort column ``c`` it expects an
index on ``(<equality filters>, c, id)`` and reads a page as one range of it, forwards for
ascending and backwards for descending, so a page costs the same however deep it is, with no
sort step:

- the rows where ``c`` is not NULL, ``ORDER BY c, id`` (both ascending or both descending),
  after the cursor by a row-value comparison ``(c, id) > (:c, :id)`` (``<`` descending),
  which SQLite (3.15+, "Row Values" §3.2) and PostgreSQL ("Row Constructor Comparison") both
  use as one index range;
- then, if the page is not full, the rows where ``c`` IS NULL, ``ORDER BY c, id`` (the
  same index range, in id order), after the cursor by ``id``.

So NULLs come last in both directions on both databases, though SQLite's indexes hold NULLs
first and PostgreSQL's last: each part is a plain index range on both.

:func:`order_and_seek` is the older one-statement form, kept for lists whose sort columns are
never NULL and small (quick replies, messages of one conversation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from sqlalchemy import ColumnElement, Row, Select, and_, literal, or_, tuple_
from sqlalchemy.orm import Session

from huntaze.kit.pagination import InvalidCursor, decode_cursor, encode_cursor
from huntaze.kit.validation import check_int64, check_text

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SortColumn:
    """A column a list may be sorted on.

    Attributes:
        column: the mapped attribute (``Fan.username``).
        kind: how its values travel in a cursor: ``text``, ``int`` (64-bit) or ``datetime``
            (ISO 8601, aware).
        nullable: whether it may hold NULL (then NULLs come last, see the module).
    """

    column: Any
    kind: Literal["text", "int", "datetime"] = "text"
    nullable: bool = False

    @property
    def attr(self) -> str:
        """The mapped attribute's name."""
        return str(self.column.key)


def encode_seek(name: str, value: Any, last_id: str) -> str:
    """Return the cursor after the row ``(value, last_id)`` of the sort called ``name``.

    The cursor holds ``[name, value, id]`` (datetimes as ISO 8601), so a cursor given with
    another sort is refused rather than misread.
    """
    if isinstance(value, datetime):
        value = value.isoformat()
    return encode_cursor([name, value, last_id])


def decode_seek(cursor: str, name: str, sort: SortColumn) -> tuple[Any, str]:
    """Return ``(value, id)`` from a cursor made by :func:`encode_seek` for sort ``name``.

    Raises:
        ApiError: 400 ``invalid_cursor`` when it does not decode, was made for another sort,
            or holds a value the sort column cannot hold.
    """
    made_for, value, last_id = decode_cursor(cursor, 3)
    if made_for != name:
        raise InvalidCursor(
            "The cursor was made for another sort; start again without it",
            [{"field": "cursor", "message": f"made for sort {made_for!r}, not {name!r}"}],
        )
    try:
        if not isinstance(last_id, str):
            raise ValueError("id")
        check_text(last_id)
        return _value(value, sort), last_id
    except ValueError as exc:
        raise InvalidCursor(details=[{"field": "cursor"}]) from exc


def _value(value: Any, sort: SortColumn) -> Any:
    if value is None:
        if not sort.nullable:
            raise ValueError("null")
        return None
    if sort.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("not an integer")
        return check_int64(value)
    if not isinstance(value, str):
        raise ValueError("not a string")
    check_text(value)
    if sort.kind == "datetime":
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime")
        return parsed
    return value


def seek_page(
    session: Session,
    stmt: Select[Any],
    sort: SortColumn,
    id_column: Any,
    *,
    descending: bool,
    limit: int,
    after: tuple[Any, str] | None,
) -> list[Row[Any]]:
    """Return up to ``limit + 1`` rows of ``stmt`` after ``after`` in the sort's order.

    ``stmt`` holds the columns and the filters, and selects the id and the sort column
    (the cursor is made of them: :func:`seek_cursor`); ``after`` is ``(value, id)`` of the
    previous page's last row (:func:`decode_seek`), or None for the first page. The extra row
    only tells that another page follows. Runs one or two statements (see the module).
    """
    want = limit + 1
    column = sort.column
    rows: list[Row[Any]] = []
    if after is None or after[0] is not None:
        part = stmt.where(column.is_not(None)) if sort.nullable else stmt
        if after is not None:
            mark = tuple_(literal(after[0], column.type), literal(after[1], id_column.type))
            pair = tuple_(column, id_column)
            part = part.where(pair < mark if descending else pair > mark)
        order = (column.desc(), id_column.desc()) if descending else (column, id_column)
        rows = list(session.execute(part.order_by(*order).limit(want)))
    if sort.nullable and len(rows) < want:
        part = stmt.where(column.is_(None))
        if after is not None and after[0] is None:
            part = part.where(id_column < after[1] if descending else id_column > after[1])
        # ordered by the (NULL) column too, so PostgreSQL sees the index's own order: it
        # does not take ``IS NULL`` as an equality that makes the column drop out of it
        order = (column.desc(), id_column.desc()) if descending else (column, id_column)
        rows.extend(session.execute(part.order_by(*order).limit(want - len(rows))))
    return rows


def seek_cursor(rows: Sequence[Any], limit: int, name: str, sort: SortColumn) -> str | None:
    """Return the cursor after the ``limit``-th of ``rows`` when more rows follow, else None.

    Call with the up to ``limit + 1`` rows :func:`seek_page` returned.
    """
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_seek(name, getattr(last, sort.attr), last.id)


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
        raise InvalidCursor()
    if value is not None and is_datetime:
        try:
            value = datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise InvalidCursor() from exc
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
