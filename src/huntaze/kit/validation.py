"""Value rules shared by the API schemas and the importers, so both accept the same data.

Each rule is a plain function that returns the cleaned value or raises :class:`ValueError`
with a sentence for a person; :mod:`pydantic` turns that into a 422 naming the field, and the
importers into a rejected row naming the line and column. The ``Annotated`` aliases at the
end wrap the same functions for request models.

Bounds follow the columns they land in (``models/``): ``BIGINT`` is a signed 64-bit integer
(PostgreSQL "Numeric Types", SQLite "Datatypes In SQLite" 8-byte INTEGER); PostgreSQL
``text`` and ``varchar`` cannot hold the NUL character (PostgreSQL "Character Types"), and
a lone UTF-16 surrogate is not a Unicode scalar value, so neither encodes to UTF-8 (Unicode
Standard §3.9, D76).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

#: Signed 64-bit bounds of a ``BIGINT`` column.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
#: Bounds of a 32-bit ``INTEGER`` column.
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

#: Free-form JSON (custom fields, settings, mappings): at most this many levels of nesting …
MAX_JSON_DEPTH = 8
#: … this many values in all (every object member, array item and scalar counts one) …
MAX_JSON_NODES = 2_000
#: … and this many characters of keys and strings together.
MAX_JSON_CHARS = 64 * 1024
#: A key of a free-form JSON object (a custom field name) is at most this long.
MAX_JSON_KEY = 255

#: A platform name: lower-case letters, digits, ``_`` and ``-``, starting with a letter or
#: digit, at most 32 characters (the ``platform`` columns are ``VARCHAR(32)``).
PLATFORM_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
#: An email address is at most 320 characters (RFC 3696 §3, erratum 1690: 64 + 1 + 255).
MAX_EMAIL = 320
#: A tag is at most this many characters.
MAX_TAG = 100

_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(value: str) -> str:
    """Return ``value`` if it is valid Unicode text a database column can store.

    Raises:
        ValueError: if it holds a NUL character or a lone surrogate (U+D800 to U+DFFF).
    """
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (\\u0000)")
    if _SURROGATE.search(value):
        raise ValueError("is not valid Unicode (it holds a lone surrogate)")
    return value


def check_int64(value: int) -> int:
    """Return ``value`` if it fits a signed 64-bit ``BIGINT``.

    Raises:
        ValueError: naming the bounds otherwise.
    """
    if INT64_MIN <= value <= INT64_MAX:
        return value
    raise ValueError(f"must be between {INT64_MIN} and {INT64_MAX}")


def check_platform(value: str) -> str:
    """Return a platform name, trimmed and lower-cased (``" OnlyFans"`` -> ``"onlyfans"``).

    Raises:
        ValueError: unless it matches :data:`PLATFORM_PATTERN` (letters, digits, ``_``, ``-``;
            1 to 32 characters).
    """
    text = value.strip().lower()
    if PLATFORM_PATTERN.fullmatch(text) is None:
        raise ValueError(
            "a platform is 1 to 32 lower-case letters, digits, '_' or '-' (for example onlyfans)"
        )
    return text


def check_email(value: str) -> str:
    """Return an email address, trimmed and lower-cased.

    Only the shape is checked: one ``@`` with text on both sides, no whitespace or control
    characters (a CR or LF would split an SMTP header, RFC 5322 §2.2), at most
    :data:`MAX_EMAIL` characters.

    Raises:
        ValueError: describing the first rule broken.
    """
    text = value.strip().lower()
    if len(text) > MAX_EMAIL:
        raise ValueError(f"an email address is at most {MAX_EMAIL} characters")
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in text):
        raise ValueError("an email address has no spaces, line breaks or control characters")
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise ValueError("not an email address (expected name@domain)")
    return check_text(text)


def check_json(
    value: Any,
    *,
    max_depth: int = MAX_JSON_DEPTH,
    max_nodes: int = MAX_JSON_NODES,
    max_chars: int = MAX_JSON_CHARS,
) -> Any:
    """Return free-form JSON ``value`` if it stays within the bounds; walks without recursion.

    The top-level value is depth 1; each nested object or array adds one. Keys must be strings
    of at most :data:`MAX_JSON_KEY` characters; strings and keys pass :func:`check_text`;
    integers pass :func:`check_int64`; floats must be finite.

    Raises:
        ValueError: naming the first bound exceeded and, where it helps, the path to it.
    """
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    nodes = 0
    chars = 0
    while stack:
        item, depth, path = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise ValueError(f"too many values (at most {max_nodes})")
        if isinstance(item, dict):
            if depth > max_depth:
                raise ValueError(f"nested too deep at {path or 'the top'} (at most {max_depth})")
            for key, child in item.items():
                if not isinstance(key, str):
                    raise ValueError(f"keys must be strings (at {path or 'the top'})")
                if len(key) > MAX_JSON_KEY:
                    raise ValueError(f"a key is at most {MAX_JSON_KEY} characters")
                _checked(key, path)
                chars += len(key)
                stack.append((child, depth + 1, f"{path}.{key}" if path else key))
        elif isinstance(item, list):
            if depth > max_depth:
                raise ValueError(f"nested too deep at {path or 'the top'} (at most {max_depth})")
            for index, child in enumerate(item):
                stack.append((child, depth + 1, f"{path}[{index}]"))
        elif isinstance(item, str):
            _checked(item, path)
            chars += len(item)
        elif isinstance(item, bool) or item is None:
            pass
        elif isinstance(item, int):
            try:
                check_int64(item)
            except ValueError as exc:
                raise ValueError(f"{path or 'value'}: {exc}") from None
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                raise ValueError(f"{path or 'value'}: must be a finite number")
        else:
            raise ValueError(f"{path or 'value'}: not a JSON value")
        if chars > max_chars:
            raise ValueError(f"too large (at most {max_chars} characters of text)")
    return value


def _checked(text: str, path: str) -> None:
    try:
        check_text(text)
    except ValueError as exc:
        raise ValueError(f"{path or 'value'}: {exc}") from None


def as_utc(value: Any) -> Any:
    """Read a date as midnight UTC and a datetime without a zone as UTC; others unchanged.

    Used before pydantic's own datetime parsing, so ``2025-06-01``,
    ``2025-06-01T00:00:00`` and ``2025-06-01T00:00:00Z`` all mean the same instant.
    Strings that are not ISO 8601 dates are passed on for pydantic to reject.
    """
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            try:
                return datetime.combine(date.fromisoformat(text), time(), UTC)
            except ValueError:
                return value
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return value
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    return value


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the calendar in UTC (years 1 to 9999)") from None


#: Text a column can store (no NUL, no lone surrogate).
SafeStr = Annotated[str, AfterValidator(check_text)]
#: An integer that fits ``BIGINT``.
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
#: Non-negative cents that fit ``BIGINT``.
Cents = Annotated[int, Field(ge=0, le=INT64_MAX)]
#: An aware UTC datetime; a date means midnight UTC, a naive datetime is UTC.
UtcDateTime = Annotated[datetime, BeforeValidator(as_utc), AfterValidator(_to_utc)]
#: A platform name (see :func:`check_platform`).
Platform = Annotated[str, AfterValidator(check_platform)]
#: An email address (see :func:`check_email`).
Email = Annotated[str, AfterValidator(check_email)]
#: A free-form JSON object within :func:`check_json`'s bounds.
JsonObject = Annotated[dict[str, Any], AfterValidator(check_json)]
