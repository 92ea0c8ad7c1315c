"""Ko-fi Payments History CSV (one row per transaction), as described in formats.md.

Header (shorter variants exist, some with ``Email`` instead of ``BuyerEmail``)::

    DateTime (UTC),From,Message,Item,Received,Given,Currency,TransactionType,TransactionId,
    Reference,SalesTax,SalesTaxPercentage,SalesTaxIncludesShipping,BuyerCountry,
    BuyerStateOrProvince,BuyerEmail,PaymentProvider

Each row gives one :class:`~huntaze.imports.records.PurchaseRecord`:

* ``fan``: keyed ``"email:<buyer email>"`` (``BuyerEmail``, else ``Email``; trimmed, lower
  case), else ``"name:<From>"`` (trimmed, lower case); the prefixes keep the two kinds of key
  apart. ``display_name`` = ``From`` (as written, trimmed), ``email`` = the buyer email. The
  writer sums a fan's purchases into the lifetime value.
* ``kind`` from ``TransactionType`` (any case): ``Donation``/``Tip`` -> ``tip``,
  ``Subscription`` -> ``subscription``, ``Shop Order`` -> ``shop``, ``Commission`` ->
  ``custom``; any other value is a ``RowError``.
* ``gross_cents`` = ``net_cents`` = ``Received`` in cents; ``currency`` upper-cased (required).
* ``purchased_at`` from ``DateTime (UTC)``, parsed leniently as UTC
  (``2026-07-01T13:04:30Z``, ``2025-01-03 10:00``, ``09/01/2026 15:51`` = 1 September).
* ``transaction_id`` = ``TransactionId`` (required).

``Message`` (which may span lines) and the sales-tax and address columns are not read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from huntaze.imports.base import ImportFormatError
from huntaze.imports.reading.cells import Cells, FieldError
from huntaze.imports.reading.csvread import CsvRows, Header
from huntaze.imports.records import FanRecord, PurchaseRecord, Record
from huntaze.models.crm import PurchaseKindValue

FORMAT = "kofi_payments"
PLATFORM = "kofi"

_KINDS: dict[str, PurchaseKindValue] = {
    "donation": "tip",
    "tip": "tip",
    "subscription": "subscription",
    "shop order": "shop",
    "commission": "custom",
}
_REQUIRED = ("DateTime (UTC)", "TransactionType", "TransactionId", "Received", "Currency")
_PROVIDES = frozenset({"display_name", "email"})
#: Record field -> the column it comes from, for the report.
_COLUMNS = {
    "platform_fan_id": "BuyerEmail",
    "display_name": "From",
    "email": "BuyerEmail",
    "transaction_id": "TransactionId",
    "gross_cents": "Received",
    "net_cents": "Received",
    "currency": "Currency",
    "purchased_at": "DateTime (UTC)",
}


class KofiPaymentsParser:
    """Parser for ``kofi_payments`` (satisfies :class:`~huntaze.imports.base.Parser`).

    ``parse(stream)`` yields one ``PurchaseRecord`` or ``RowError`` per non-blank data row.

    Raises:
        ImportFormatError: from ``parse``, before any record, when the header lacks one of
            ``DateTime (UTC)``, ``TransactionType``, ``TransactionId``, ``Received`` or
            ``Currency``, or has none of ``BuyerEmail``, ``Email`` and ``From``.
    """

    format = FORMAT
    platform = PLATFORM
    provides = _PROVIDES
    columns = _COLUMNS

    def parse(self, stream: BinaryIO) -> Iterator[Record]:
        """Yield a record per row of a Ko-fi payments CSV (see the module docstring)."""
        rows = CsvRows(stream)
        header = rows.header
        missing = next((name for name in _REQUIRED if not header.has(name)), None)
        if missing is None and header.find("BuyerEmail", "Email", "From") is None:
            missing = "From"
        if missing is not None:
            raise ImportFormatError(
                f"not a Ko-fi payments export: no {missing!r} column",
                line=rows.header_line,
                column=missing,
            )
        yield from rows.records(_converter(header))


def _converter(header: Header) -> Callable[[int, list[str]], PurchaseRecord]:
    """Build the row -> PurchaseRecord function with every column index resolved once."""

    def col(*names: str) -> tuple[int, str]:
        return header.index(*names), header.find(*names) or names[0]

    i_date, c_date = col("DateTime (UTC)")
    i_from, c_from = col("From")
    i_email = header.index("BuyerEmail", "Email")
    i_received, c_received = col("Received")
    i_currency, c_currency = col("Currency")
    i_type, c_type = col("TransactionType")
    i_txn, c_txn = col("TransactionId")
    cells = Cells()

    def convert(line: int, row: list[str]) -> PurchaseRecord:
        txn = row[i_txn].strip()
        if not txn:
            raise FieldError(c_txn, "blank TransactionId")
        name = row[i_from].strip()
        email = row[i_email].strip().lower()
        if email:
            key = "email:" + email
        elif name:
            key = "name:" + name.lower()
        else:
            raise FieldError(c_from, "no buyer email and no From: the buyer cannot be keyed")
        raw_kind = row[i_type].strip()
        kind = _KINDS.get(raw_kind.lower())
        if kind is None:
            raise FieldError(c_type, f"unknown TransactionType: {raw_kind[:40]!r}")
        amount = cells.cents(row[i_received], c_received)
        if amount is None:
            raise FieldError(c_received, "blank amount")
        currency = cells.currency(row[i_currency], c_currency)
        if currency is None:
            raise FieldError(c_currency, "blank currency")
        when = cells.date(row[i_date], c_date)
        if when is None:
            raise FieldError(c_date, "blank date")
        fan = FanRecord(
            platform=PLATFORM,
            platform_fan_id=key,
            line=line,
            display_name=name or None,
            email=email or None,
        )
        return PurchaseRecord(
            fan=fan,
            kind=kind,
            gross_cents=amount,
            net_cents=amount,
            currency=currency,
            purchased_at=when,
            transaction_id=txn,
            line=line,
        )

    return convert


def make_parser(
    platform: str | None = None, mapping: dict[str, Any] | None = None, **_: Any
) -> KofiPaymentsParser:
    """Return the ``kofi_payments`` parser; ``platform`` and ``mapping`` are ignored (the
    platform is always ``kofi``)."""
    return KofiPaymentsParser()
