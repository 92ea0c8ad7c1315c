"""The SQL expressions that differ between PostgreSQL and SQLite, behind one seam per engine.

A service asks :func:`sql_for` for its engine's :class:`SqlExpressions` and builds portable
statements from them, instead of testing the dialect itself. Campaign fan-out and the
segment compiler build on the same seam.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Connection,
    Engine,
    Integer,
    Select,
    String,
    any_,
    cast,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import BIT, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from huntaze.db.base import UTCDateTime
from huntaze.db.dialect import is_postgres

_Q = TypeVar("_Q", bound=Select[Any])


class SqlExpressions(Protocol):
    """Expressions with the same meaning on both engines."""

    def first_word(self, text: Any) -> ColumnElement[str]:
        """``text`` up to its first space (all of it when it has none)."""
        ...

    def hex_number(self, number: Any, digits: int) -> ColumnElement[str]:
        """``number`` as lower-case hexadecimal, zero-padded to ``digits``."""
        ...

    def is_one_of(self, column: Any, values: Sequence[str]) -> ColumnElement[bool]:
        """``column`` equals one of ``values``, bound as ONE parameter whatever their
        number (a plain ``IN`` binds one per value: PostgreSQL's protocol carries at most
        65,535 per statement, SQLite 32,766 by default)."""
        ...

    def bucket(self, text: Any) -> ColumnElement[int]:
        """A stable bucket of ``text`` from 0 to 2**32 - 1: the first 32 bits of its MD5
        digest, the same on both engines (:func:`huntaze.db.engine.bucket_of`)."""
        ...

    def add_days(self, when: Any, days: int) -> ColumnElement[Any]:
        """The instant ``days`` days after the timestamp column ``when``, comparable with
        other timestamp columns (to the millisecond on SQLite)."""
        ...

    def day_of(self, when: Any) -> ColumnElement[str]:
        """The UTC day of the timestamp column ``when``, as ``YYYY-MM-DD`` text."""
        ...

    def whole_days(self, now: datetime, when: Any) -> ColumnElement[int]:
        """Whole days from the timestamp column ``when`` to ``now`` (rounded down)."""
        ...

    def hour_of(self, when: Any) -> ColumnElement[int]:
        """The UTC hour (0 to 23) of the timestamp column ``when``."""
        ...

    def json_list_has(self, column: Any, value: str) -> ColumnElement[bool]:
        """The JSON list in ``column`` holds the text ``value``."""
        ...

    def insert_ignoring_conflicts(self, table: Any) -> Any:
        """``INSERT INTO table … ON CONFLICT DO NOTHING``: rows that would break a unique
        key are skipped (both engines spell it the same; SQLAlchemy builds it per dialect)."""
        ...

    def hold_key(self, query: _Q) -> _Q:
        """``query`` (a SELECT of rows others reference) made to keep the rows it reads from
        being deleted until the transaction ends, as inserting a row with a foreign key to
        them would."""
        ...


class PostgresExpressions:
    """PostgreSQL: ``split_part``, ``lpad(to_hex())``, ``= ANY(:array)``
    (https://www.postgresql.org/docs/current/functions-string.html)."""

    def first_word(self, text: Any) -> ColumnElement[str]:
        """``split_part(text, ' ', 1)``."""
        return func.split_part(text, " ", 1)

    def hex_number(self, number: Any, digits: int) -> ColumnElement[str]:
        """``lpad(to_hex(number), digits, '0')``; past ``digits`` hex digits ``lpad`` cuts."""
        return func.lpad(func.to_hex(number), digits, "0")

    def is_one_of(self, column: Any, values: Sequence[str]) -> ColumnElement[bool]:
        """``column = ANY(:values)`` with a ``varchar[]`` array."""
        return column == any_(literal(list(values), ARRAY(String)))  # type: ignore[no-any-return]

    def bucket(self, text: Any) -> ColumnElement[int]:
        """``('x' || substr(md5(text), 1, 8))::bit(32)::bigint``."""
        hexed = literal("x", String) + func.substr(func.md5(text), 1, 8)
        return cast(cast(hexed, BIT(32)), BigInteger)

    def add_days(self, when: Any, days: int) -> ColumnElement[Any]:
        """``when + make_interval(days => n)``."""
        return when + func.make_interval(0, 0, 0, days)  # type: ignore[no-any-return]

    def day_of(self, when: Any) -> ColumnElement[str]:
        """``to_char(when AT TIME ZONE 'UTC', 'YYYY-MM-DD')``."""
        return func.to_char(func.timezone("UTC", when), "YYYY-MM-DD")

    def whole_days(self, now: datetime, when: Any) -> ColumnElement[int]:
        """``floor(extract(epoch from (:now - when)) / 86400)``."""
        seconds = func.extract("epoch", literal(now, UTCDateTime()) - when)
        return cast(func.floor(seconds / 86400), BigInteger)

    def hour_of(self, when: Any) -> ColumnElement[int]:
        """``extract(hour from when AT TIME ZONE 'UTC')::int``."""
        return cast(func.extract("hour", func.timezone("UTC", when)), Integer)

    def json_list_has(self, column: Any, value: str) -> ColumnElement[bool]:
        """``column @> :value_as_a_one_item_jsonb_list``."""
        return column.op("@>")(literal([value], JSONB))  # type: ignore[no-any-return]

    def insert_ignoring_conflicts(self, table: Any) -> Any:
        """PostgreSQL's ``INSERT … ON CONFLICT DO NOTHING``."""
        return pg_insert(table).on_conflict_do_nothing()

    def hold_key(self, query: _Q) -> _Q:
        """``FOR KEY SHARE`` (https://www.postgresql.org/docs/current/explicit-locking.html)."""
        return query.with_for_update(read=True, key_share=True)


class SqliteExpressions:
    """SQLite: ``instr``/``substr``, ``printf('%0Nx')``, ``json_each`` over a JSON array
    (https://www.sqlite.org/lang_corefunc.html, https://www.sqlite.org/json1.html)."""

    def first_word(self, text: Any) -> ColumnElement[str]:
        """``iif(instr(text, ' ') > 0, substr(text, 1, instr(text, ' ') - 1), text)``."""
        position = func.instr(text, " ")
        return func.iif(position > 0, func.substr(text, 1, position - 1), text)

    def hex_number(self, number: Any, digits: int) -> ColumnElement[str]:
        """``printf('%0<digits>x', number)``."""
        return func.printf(f"%0{digits}x", number)

    def is_one_of(self, column: Any, values: Sequence[str]) -> ColumnElement[bool]:
        """``column IN (SELECT value FROM json_each(:values))`` with a JSON array."""
        listed = func.json_each(literal(json.dumps(list(values)), String)).table_valued("value")
        return column.in_(select(listed.c.value))  # type: ignore[no-any-return]

    def bucket(self, text: Any) -> ColumnElement[int]:
        """``huntaze_bucket(text)``, a function each connection registers
        (:func:`huntaze.db.engine.make_engine`)."""
        return func.huntaze_bucket(text, type_=BigInteger)

    def add_days(self, when: Any, days: int) -> ColumnElement[Any]:
        """``strftime('%Y-%m-%d %H:%M:%f', when, '+n days')``: the stored text form, to the
        millisecond (https://www.sqlite.org/lang_datefunc.html)."""
        return func.strftime("%Y-%m-%d %H:%M:%f", when, f"+{int(days)} days")

    def day_of(self, when: Any) -> ColumnElement[str]:
        """``substr(when, 1, 10)``: timestamps are stored as UTC text."""
        return func.substr(when, 1, 10)

    def whole_days(self, now: datetime, when: Any) -> ColumnElement[int]:
        """``cast(julianday(:now) - julianday(when) as integer)`` (truncation is rounding down
        for the past)."""
        span = func.julianday(literal(now, UTCDateTime())) - func.julianday(when)
        return cast(span, BigInteger)

    def hour_of(self, when: Any) -> ColumnElement[int]:
        """``cast(substr(when, 12, 2) as integer)``: timestamps are stored as UTC text
        (``YYYY-MM-DD HH:…``)."""
        return cast(func.substr(when, 12, 2), Integer)

    def json_list_has(self, column: Any, value: str) -> ColumnElement[bool]:
        """``EXISTS (SELECT 1 FROM json_each(column) WHERE value = :value)``."""
        items = func.json_each(column).table_valued("value")
        return exists(select(literal(1)).select_from(items).where(items.c.value == value))

    def insert_ignoring_conflicts(self, table: Any) -> Any:
        """SQLite's ``INSERT … ON CONFLICT DO NOTHING`` (https://www.sqlite.org/lang_upsert.html)."""
        return sqlite_insert(table).on_conflict_do_nothing()

    def hold_key(self, query: _Q) -> _Q:
        """Unchanged: a writing transaction holds SQLite's one write lock, so no delete can
        come between its read and its commit."""
        return query


_POSTGRES = PostgresExpressions()
_SQLITE = SqliteExpressions()


def sql_for(bind: Connection | Engine | Session) -> SqlExpressions:
    """The expressions of ``bind``'s engine."""
    return _POSTGRES if is_postgres(bind) else _SQLITE
