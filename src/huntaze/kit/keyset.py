"""Keyset pagination: every paged list of Huntaze orders by one column then the id, and its
cursor holds the last row's ``(value, id)``.

A list describes its order once as a :class:`Keyset` (the sort column, the id column, the
direction) and asks it for everything else: :meth:`Keyset.decode` checks a client's cursor
before any of it reaches the database, :meth:`Keyset.beyond` is the condition "after the
cursor" (also on other columns, for a ``UNION`` of several tables), :meth:`Keyset.order`
sorts, and :meth:`Keyset.next_cursor` makes the next page's cursor.

Two ways to read a page:

:meth:`Keyset.seek` adds the order and the condition to one statement: right for lists whose
sort column is never NULL or that stay small (quick replies, purchases of one fan, tokens).

:meth:`Keyset.page` is the form every index can serve, for large lists whose sort column may
be NULL (the fan list). For a sort column ``c`` it expects an index on
``(<equality filters>, c, id)`` and reads a page as one range of it, forwards for ascending
and backwards for descending, so a page costs the same however deep it is, with no sort
step:

- the rows where ``c`` is not NULL, ``ORDER BY c, id`` (both ascending or both descending),
  after the cursor by a row-value comparison ``(c, id) > (:c, :id)`` (``<`` descending),
  which SQLite (3.15+, "Row Values" §3.2) and PostgreSQL ("Row Constructor Comparison") both
  use as one index range;
- then, if the page is not full, the rows where ``c`` IS NULL, ``ORDER BY c, id`` (the
  same index range, in id order), after the cursor by ``id``.

So NULLs come last in both directions on both databases, though SQLite's indexes hold NULLs
first and PostgreSQL's last: each part is a plain index range on both.
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


def _checked(value: Any, last_id: Any, sort: SortColumn) -> tuple[Any, str]:
    """``(value, id)`` of a decoded cursor, each checked as its column can hold it.

    Raises:
        InvalidCursor: otherwise.
    """
    try:
        if not isinstance(last_id, str) or len(last_id) > MAX_CURSOR_ID:
            raise ValueError("id")
        check_text(last_id)
        return _value(value, sort), last_id
    except ValueError as exc:
        raise InvalidCursor(details=[{"field": "cursor"}]) from exc


#: The longest id a cursor may carry (ids are far shorter; a longer one was not made here).
MAX_CURSOR_ID = 255


@dataclass(frozen=True, slots=True)
class Keyset:
    """How one list pages: by ``sort`` then ``id_column``, both ascending or both descending.

    Attributes:
        sort: the sort column and how its values travel in a cursor.
        id_column: the mapped id column, the tie-breaker.
        descending: newest or largest first.
        name: when set, the cursor carries it (``[name, value, id]``) and a cursor made for
            another name is refused: lists a client may sort several ways set it; lists
            with one order carry ``[value, id]``.
    """

    sort: SortColumn
    id_column: Any
    descending: bool = False
    name: str | None = None

    def decode(self, cursor: str | None) -> tuple[Any, str] | None:
        """The ``(value, id)`` of the row ``cursor`` continues after, or None for no cursor.

        Every value is checked before any reaches the database: the id is text of at most
        :data:`MAX_CURSOR_ID` characters, the value one the sort column can hold
        (``datetime`` values with a zone).

        Raises:
            InvalidCursor: 400 ``invalid_cursor`` when it does not decode, was made for
                another sort, or holds a value the columns cannot hold.
        """
        if cursor is None:
            return None
        if self.name is None:
            value, last_id = decode_cursor(cursor, 2)
            return _checked(value, last_id, self.sort)
        made_for, value, last_id = decode_cursor(cursor, 3)
        if made_for != self.name:
            raise InvalidCursor(
                "The cursor was made for another sort; start again without it",
                [{"field": "cursor", "message": f"made for sort {made_for!r}, not {self.name!r}"}],
            )
        return _checked(value, last_id, self.sort)

    def encode(self, value: Any, last_id: str) -> str:
        """The cursor after the row ``(value, last_id)`` (datetimes as ISO 8601)."""
        if isinstance(value, datetime):
            value = value.isoformat()
        return encode_cursor([value, last_id] if self.name is None else [self.name, value, last_id])

    def next_cursor(self, rows: Sequence[Any], limit: int) -> str | None:
        """The cursor after the ``limit``-th of ``rows`` when more rows follow, else None.

        Call with the up to ``limit + 1`` rows a page read: the extra row only tells that
        another page follows. Rows have the sort column's attribute and ``id``.
        """
        if len(rows) <= limit:
            return None
        last = rows[limit - 1]
        return self.encode(getattr(last, self.sort.attr), last.id)

    def order(self, column: Any = None, id_column: Any = None) -> tuple[Any, Any]:
        """``ORDER BY`` terms: the sort column (or ``column``) then the id (or
        ``id_column``), in this list's direction, NULLs last."""
        column = self.sort.column if column is None else column
        id_column = self.id_column if id_column is None else id_column
        if self.descending:
            return column.desc().nulls_last(), id_column.desc()
        return column.asc().nulls_last(), id_column.asc()

    def beyond(
        self, after: tuple[Any, str] | None, column: Any = None, id_column: Any = None
    ) -> list[ColumnElement[bool]]:
        """The condition "after the row ``after``" in this list's order (empty for the first
        page), on the list's columns or on ``column`` and ``id_column`` (each part of a
        ``UNION`` passes its own). NULLs of a nullable sort come last."""
        if after is None:
            return []
        column = self.sort.column if column is None else column
        id_column = self.id_column if id_column is None else id_column
        value, last_id = after
        id_after = id_column < last_id if self.descending else id_column > last_id
        if value is None:
            return [and_(column.is_(None), id_after)]
        beyond = column < value if self.descending else column > value
        nulls = [column.is_(None)] if self.sort.nullable else []
        return [or_(beyond, and_(column == value, id_after), *nulls)]

    def seek(self, stmt: Select[T], after: tuple[Any, str] | None, limit: int) -> Select[T]:
        """``stmt`` ordered, after ``after`` and limited to ``limit + 1`` rows, in one
        statement."""
        return stmt.where(*self.beyond(after)).order_by(*self.order()).limit(limit + 1)

    def page(
        self, session: Session, stmt: Select[Any], after: tuple[Any, str] | None, limit: int
    ) -> list[Row[Any]]:
        """Up to ``limit + 1`` rows of ``stmt`` after ``after``, as one or two index ranges
        (see the module).

        ``stmt`` holds the columns and the filters, and selects the id and the sort column
        (the cursor is made of them: :meth:`next_cursor`).
        """
        want = limit + 1
        sort, column, id_column = self.sort, self.sort.column, self.id_column
        order = (column.desc(), id_column.desc()) if self.descending else (column, id_column)
        rows: list[Row[Any]] = []
        if after is None or after[0] is not None:
            part = stmt.where(column.is_not(None)) if sort.nullable else stmt
            if after is not None:
                mark = tuple_(literal(after[0], column.type), literal(after[1], id_column.type))
                pair = tuple_(column, id_column)
                part = part.where(pair < mark if self.descending else pair > mark)
            rows = list(session.execute(part.order_by(*order).limit(want)))
        if sort.nullable and len(rows) < want:
            part = stmt.where(column.is_(None))
            if after is not None and after[0] is None:
                part = part.where(id_column < after[1] if self.descending else id_column > after[1])
            # ordered by the (NULL) column too, so PostgreSQL sees the index's own order: it
            # does not take ``IS NULL`` as an equality that makes the column drop out of it
            rows.extend(session.execute(part.order_by(*order).limit(want - len(rows))))
        return rows
