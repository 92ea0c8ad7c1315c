"""Whole-column cell conversion with pyarrow compute, for the block import path.

Each function takes a column of cells (an Arrow string array, blank cells as ``""``) and
returns the converted column with ``None`` for a blank cell, and a boolean *slow* mask: the
cells it cannot vouch for, whose rows the format then converts one by one with the same
rules as the row path (:mod:`.cells`, :mod:`.validate`), which decide (accept, or reject
with the reason). A converter only takes the common, unambiguous spellings, so that what it
accepts is exactly what the row path would produce:

* text is trimmed of what Python's :meth:`str.strip` trims (:data:`PY_SPACE`);
* amounts are plain decimals, ``1234`` or ``1234.5`` (up to 13 digits and 2 decimals);
* dates are ``YYYY-MM-DD HH:MM:SS[.ffffff]`` without a zone (UTC, as
  :meth:`datetime.fromisoformat` reads them there), with a year between 1901 and 9998;
* emails are printable ASCII with an ``@`` that has text on both sides;
* currency codes are three ASCII letters.

pyarrow compute functions: https://arrow.apache.org/docs/python/api/compute.html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

#: Every character for which :meth:`str.isspace` is true (what :meth:`str.strip` removes).
PY_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)

_AMOUNT = r"^[0-9]{1,13}(\.[0-9]{1,2})?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?$"
_EMAIL = r"^[\x21-\x7e]+@[\x21-\x3f\x41-\x7e]+$"
_CURRENCY = r"^[A-Za-z]{3}$"
#: Text that JSON writes as itself between quotes (no quote, backslash or control character).
_JSON_PLAIN = r'^[^"\\\x00-\x1f]*$'

Column = Any  # a pyarrow Array (string, int64 or boolean)


def trim(column: Column) -> Column:
    """The cells with :data:`PY_SPACE` removed at both ends."""
    return pc.utf8_trim(column, characters=PY_SPACE)


def blank(column: Column) -> Column:
    """Mask of the cells that are empty or only white space."""
    return pc.equal(trim(column), "")


def _null_if_blank(trimmed: Column) -> Column:
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def text(column: Column, limit: int) -> tuple[Column, Column]:
    """Trimmed text, ``None`` when blank; slow when over ``limit`` characters or holding NUL."""
    trimmed = trim(column)
    slow = pc.or_(pc.greater(pc.utf8_length(trimmed), limit), pc.match_substring(trimmed, "\x00"))
    return _null_if_blank(trimmed), slow


def email(column: Column, limit: int) -> tuple[Column, Column]:
    """A trimmed, lower-case email, ``None`` when blank; slow unless it is printable ASCII
    with text on both sides of its last ``@`` and at most ``limit`` characters."""
    trimmed = trim(column)
    ok = pc.and_(
        pc.match_substring_regex(trimmed, _EMAIL), pc.less_equal(pc.utf8_length(trimmed), limit)
    )
    is_blank = pc.equal(trimmed, "")
    return _null_if_blank(pc.ascii_lower(trimmed)), pc.invert(pc.or_(ok, is_blank))


def cents(column: Column) -> tuple[Column, Column]:
    """An amount in major units as int64 cents, ``None`` when blank; slow unless a plain
    decimal (see the module docstring)."""
    trimmed = trim(column)
    ok = pc.match_substring_regex(trimmed, _AMOUNT)
    safe = pc.if_else(ok, trimmed, "0")
    amount = pc.cast(safe, pa.decimal128(15, 2))
    value = pc.cast(pc.multiply(amount, pa.scalar(100, pa.decimal128(3, 0))), pa.int64())
    is_blank = pc.equal(trimmed, "")
    value = pc.if_else(ok, value, pa.scalar(None, pa.int64()))
    return value, pc.invert(pc.or_(ok, is_blank))


def timestamp_text(column: Column) -> tuple[Column, Column]:
    """A date as ``YYYY-MM-DD HH:MM:SS.ffffff`` UTC text (the stored form, see
    :func:`huntaze.db.base.db_timestamp`), ``None`` when blank; slow unless in the form of the
    module docstring and a real date (a cell like ``2023-02-30 …`` makes the whole column
    slow, and the row path rejects it)."""
    trimmed = trim(column)
    ok = pc.match_substring_regex(trimmed, _DATE)
    is_blank = pc.equal(trimmed, "")
    safe = pc.if_else(ok, trimmed, "2000-01-01 00:00:00")
    try:
        moments = pc.cast(safe, pa.timestamp("us"))
    except pa.ArrowInvalid:
        none = pa.nulls(len(column), pa.string())
        return none, pc.invert(is_blank)
    year = pc.year(moments)
    ok = pc.and_(ok, pc.and_(pc.greater(year, 1900), pc.less(year, 9999)))
    # The checked text itself, in the stored form: "T" -> " ", fraction padded to 6 digits
    # (pc.strftime costs ~1.7 us a value, this ~0.2).
    spaced = pc.replace_substring(safe, "T", " ")
    dotted = pc.if_else(
        pc.equal(pc.utf8_length(spaced), 19), pc.binary_join_element_wise(spaced, ".", ""), spaced
    )
    rendered = pc.utf8_rpad(dotted, width=26, padding="0")
    value = pc.if_else(ok, rendered, pa.scalar(None, pa.string()))
    return value, pc.invert(pc.or_(ok, is_blank))


def currency(column: Column) -> tuple[Column, Column]:
    """An ISO 4217 code in upper case, ``None`` when blank; slow unless three ASCII letters."""
    trimmed = trim(column)
    ok = pc.match_substring_regex(trimmed, _CURRENCY)
    is_blank = pc.equal(trimmed, "")
    value = pc.if_else(ok, pc.ascii_upper(trimmed), pa.scalar(None, pa.string()))
    return value, pc.invert(pc.or_(ok, is_blank))


def lookup(column: Column, mapping: Mapping[str, str], default: str) -> tuple[Column, Column]:
    """``mapping[cell.strip().lower()]``, else ``default``; slow for a non-ASCII cell (whose
    Unicode lower case the row path decides)."""
    trimmed = trim(column)
    keys = pa.array(list(mapping), pa.string())
    values = pa.array(list(mapping.values()), pa.string())
    index = pc.index_in(pc.ascii_lower(trimmed), value_set=keys)
    value = pc.fill_null(pc.take(values, index), default)
    return value, pc.invert(pc.string_is_ascii(trimmed))


def flags(column: Column, true: Sequence[str], false: Sequence[str]) -> tuple[Column, Column]:
    """A boolean from the spellings ``true``/``false`` (trimmed, any ASCII case), ``None``
    when blank; slow otherwise (the row path rejects it or reads it)."""
    lowered = pc.ascii_lower(trim(column))
    is_true = pc.is_in(lowered, value_set=pa.array(list(true), pa.string()))
    is_false = pc.is_in(lowered, value_set=pa.array(list(false), pa.string()))
    is_blank = pc.equal(lowered, "")
    value = pc.if_else(is_true, True, pc.if_else(is_false, False, pa.scalar(None, pa.bool_())))
    return value, pc.invert(pc.or_(pc.or_(is_true, is_false), is_blank))


def json_object(members: Sequence[tuple[str, Column]], limit: int) -> tuple[Column, Column]:
    """Each row's members as a JSON object text, as ``orjson.dumps(…, OPT_SORT_KEYS)`` writes
    it: keys sorted, no spaces, ``None`` members left out, ``{}`` when none.

    ``members`` are ``(key, column)``: a string, int64 or boolean column. Keys are plain
    ASCII names. Slow when a text holds a character JSON escapes (a quote, a backslash or a
    control character) or the object is over ``limit`` bytes.
    """
    parts: list[Column] = []
    slow: Column = None
    for key, column in sorted(members, key=lambda member: member[0]):
        prefix = f'"{key}":'
        if pa.types.is_string(column.type):
            plain = pc.match_substring_regex(column, _JSON_PLAIN)
            bad = pc.fill_null(pc.invert(plain), False)
            slow = bad if slow is None else pc.or_(slow, bad)
            rendered = pc.binary_join_element_wise(prefix + '"', column, '"', "")
        elif pa.types.is_boolean(column.type):
            words = pc.if_else(column, "true", "false")
            rendered = pc.binary_join_element_wise(prefix, words, "")
        else:
            rendered = pc.binary_join_element_wise(prefix, pc.cast(column, pa.string()), "")
        parts.append(rendered)
    size = len(members[0][1]) if members else 0
    if not parts:
        return pa.array(["{}"] * size, pa.string()), pa.array([False] * size)
    # Each member with its comma ("" when absent), joined, the last comma cut: every member
    # ends in a quote, a digit or a letter, so only that comma is trimmed. (Joining with
    # null_handling="skip" returns an empty array when every member of every row is null.)
    pieces = [pc.fill_null(pc.binary_join_element_wise(part, ",", ""), "") for part in parts]
    joined = pieces[0] if len(pieces) == 1 else pc.binary_join_element_wise(*pieces, "")
    body = pc.utf8_rtrim(joined, characters=",")
    text_ = pc.binary_join_element_wise("{", body, "}", "")
    too_long = pc.greater(pc.binary_length(text_), limit)
    slow = too_long if slow is None else pc.or_(slow, too_long)
    return text_, slow
