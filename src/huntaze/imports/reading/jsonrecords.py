"""From the elements of a JSON export to import records (the JSON formats' shared rules).

:mod:`huntaze.imports.reading.jsonstream` streams the elements; :func:`stream_records` turns
each into a record, a :class:`FieldError` into a rejected row, and a stream error into a
whole-file error (before the first element) or a final rejected row (after it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from huntaze.imports.base import ImportFormatError
from huntaze.imports.reading.jsonstream import JSONStreamError
from huntaze.imports.records import Record, RowError


class FieldError(ValueError):
    """One field of an element is unusable; parsers yield ``RowError(line, column, reason)``.

    Attributes:
        column: the key at fault (dotted for nested keys: ``"user.id"``), or ``None`` when
            the element as a whole is wrong (not an object).
        reason: why, for the import report.
    """

    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def as_row_error(exc: JSONStreamError) -> RowError:
    """Turn a stream error into the final ``RowError(line, None, reason)`` parsers yield.

    Syntax errors read ``"invalid JSON: <what>"``; shape errors give the message as is.
    """
    reason = f"invalid JSON: {exc}" if exc.syntax else str(exc)
    return RowError(exc.line, None, reason)


def json_text(value: Any) -> str | None:
    """Return ``value`` stripped, ``None`` when blank or not a string.

    The text is kept as written: a NUL character or a lone surrogate (from a ``\\u0000`` or
    ``\\udXXX`` escape) makes the import's shared value rules reject the row
    (:mod:`huntaze.imports.validate`), as the API would.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text or None


def stream_records(
    items: Iterator[tuple[int, Any]], convert: Callable[[Any, int], Record]
) -> Iterator[Record]:
    """Yield ``convert(element, line)`` for each ``(line, element)`` of ``items`` (a
    :class:`FieldError` it raises becomes a ``RowError`` at that line).

    Raises:
        ImportFormatError: when ``items`` fails before its first element (invalid JSON, no
            such array, nesting too deep): the file as a whole is not this format. A failure
            after the first element is yielded as a final ``RowError`` instead, the elements
            before it kept.
    """
    started = False
    try:
        for line, item in items:
            started = True
            try:
                yield convert(item, line)
            except FieldError as exc:
                yield RowError(line, exc.column, exc.reason)
    except JSONStreamError as exc:
        if not started:
            reason = f"invalid JSON: {exc}" if exc.syntax else str(exc)
            raise ImportFormatError(reason, line=exc.line) from None
        yield as_row_error(exc)
