"""Lenient date parsing for exports; every result is a timezone-aware UTC datetime."""

from __future__ import annotations

from datetime import UTC, datetime

from dateutil import parser as _dateutil


def parse_datetime(text: str) -> datetime:
    """Parse an export's timestamp into an aware UTC datetime.

    Accepts ISO 8601 (``2024-02-01T10:00:00.000Z``, ``2025-01-01T00:00:00+00:00``), space
    separated (``2024-01-02 03:04:05.123456``), a trailing ``UTC``, and the month/day forms
    seen in Ko-fi files (``09/01/2026 15:51``), through :mod:`dateutil`. A value without a zone
    is UTC.

    Raises:
        ValueError: if the text is not a date.
    """
    text = text.strip()
    if not text:
        raise ValueError("empty date")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        if text.endswith(" UTC"):
            text = text[:-4]
        try:
            value = _dateutil.parse(text, dayfirst=False, yearfirst=True)
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"not a date: {text!r}") from exc
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def from_unix(seconds: float) -> datetime:
    """Return the aware UTC datetime for Unix ``seconds``.

    Raises:
        ValueError: if the number is out of range.
    """
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"not a Unix timestamp: {seconds!r}") from exc
