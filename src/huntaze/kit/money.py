"""Money as integer minor units plus an ISO 4217 code (design.md §1.7)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

_STRIP = str.maketrans("", "", "$€£, \u00a0")
#: Amounts at or past this many major units are refused (they would not fit a BIGINT of cents).
MAX_AMOUNT = Decimal(10) ** 13


def to_cents(value: str | float | int | Decimal) -> int:
    """Convert a decimal amount in major units (``"2.99"``, ``"$1,234.50"``, ``2.99``) to cents.

    Symbols ``$ € £``, spaces and thousands commas are dropped; the result is rounded half-up
    to the minor unit.

    Raises:
        ValueError: if the value is not a finite number below ``MAX_AMOUNT`` in size.
    """
    if isinstance(value, bool):
        raise ValueError("not an amount")
    if isinstance(value, int):
        return value * 100
    try:
        if isinstance(value, float):
            amount = Decimal(repr(value))
        elif isinstance(value, Decimal):
            amount = value
        else:
            amount = Decimal(value.translate(_STRIP))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise ValueError(f"not an amount: {value!r}")
    return int((amount * 100).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def normalise_currency(code: str | None) -> str | None:
    """Return an upper-case 3-letter ISO 4217 code, or ``None`` for blank input.

    Raises:
        ValueError: if the code is not three letters.
    """
    if code is None:
        return None
    code = code.strip().upper()
    if not code:
        return None
    if len(code) != 3 or not code.isalpha():
        raise ValueError(f"not an ISO 4217 currency code: {code!r}")
    return code
