"""Cell values of the CSV import formats: booleans, amounts, currencies and dates, each
parsed once per distinct text (:class:`Cells`), and the error a bad cell raises."""

from __future__ import annotations

from datetime import UTC, datetime

from huntaze.kit.dates import parse_datetime
from huntaze.kit.money import normalise_currency, to_cents

#: Boolean spellings (lower case and as commonly written) -> value.
BOOLS: dict[str, bool] = {
    **dict.fromkeys(("true", "yes", "y", "1", "True", "Yes", "TRUE", "YES"), True),
    **dict.fromkeys(("false", "no", "n", "0", "False", "No", "FALSE", "NO"), False),
}


class FieldError(ValueError):
    """Raised by a row converter for a bad value; becomes ``RowError(line, column, reason)``."""

    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def parse_bool(value: str, column: str) -> bool | None:
    """Parse ``true``/``false``/``yes``/``no`` (any case, also ``y``/``n``/``1``/``0``).

    Returns ``None`` for a blank value.

    Raises:
        FieldError: naming ``column`` for any other value.
    """
    text = value.strip().lower()
    if not text:
        return None
    flag = BOOLS.get(text)
    if flag is not None:
        return flag
    raise FieldError(column, f"not a boolean: {value[:40]!r}")


#: The largest amount accepted, in cents (10 trillion in major units): keeps BIGINT safe.
MAX_CENTS = 10**15


def check_cents(cents: int, column: str) -> int:
    """Return ``cents``, or raise :class:`FieldError` if its magnitude exceeds ``MAX_CENTS``."""
    if -MAX_CENTS <= cents <= MAX_CENTS:
        return cents
    raise FieldError(column, "amount out of range")


class Cells:
    """Per-file memo of parsed cell values: exports repeat the same amounts, currencies and
    often timestamps, so each distinct text is parsed once (at most ``limit`` kept per kind).

    Every method takes the raw cell and the column name for the error, returns ``None`` for a
    blank cell, and raises :class:`FieldError` naming the column for a bad value.
    """

    __slots__ = ("_cents", "_currency", "_dates", "limit")

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self._dates: dict[str, datetime | None] = {}
        self._cents: dict[str, int | None] = {}
        self._currency: dict[str, str | None] = {}

    def date(self, value: str, column: str) -> datetime | None:
        """Parse a timestamp (via :func:`huntaze.kit.dates.parse_datetime`) to aware UTC."""
        cache = self._dates
        if value in cache:
            return cache[value]
        text = value.strip()
        result: datetime | None = None
        if text:
            try:
                result = datetime.fromisoformat(text)
                result = (
                    result.replace(tzinfo=UTC) if result.tzinfo is None else result.astimezone(UTC)
                )
            except OverflowError:  # a valid date whose UTC instant is past year 9999 or before 1
                raise FieldError(column, f"date out of range: {text[:40]!r}") from None
            except ValueError:
                try:
                    result = parse_datetime(text)
                except (ValueError, OverflowError):
                    raise FieldError(column, f"not a date: {text[:40]!r}") from None
        if len(cache) < self.limit:
            cache[value] = result
        return result

    def cents(self, value: str, column: str) -> int | None:
        """Parse an amount in major units (``2.99``, ``$1,234.50``) to integer cents."""
        cache = self._cents
        if value in cache:
            return cache[value]
        text = value.strip()
        result: int | None = None
        if text:
            try:
                result = to_cents(text)
            except (ValueError, ArithmeticError):  # to_cents lets decimal errors through
                raise FieldError(column, f"not an amount: {text[:40]!r}") from None
            check_cents(result, column)
        if len(cache) < self.limit:
            cache[value] = result
        return result

    def currency(self, value: str, column: str) -> str | None:
        """Parse an ISO 4217 code, any case, to upper case."""
        cache = self._currency
        if value in cache:
            return cache[value]
        try:
            result = normalise_currency(value)
        except ValueError:
            raise FieldError(column, f"not a currency code: {value.strip()[:40]!r}") from None
        if len(cache) < self.limit:
            cache[value] = result
        return result
