"""Generic CSV: any other CSV, read through a column mapping given by the user (formats.md).

The mapping maps our field names to the file's column names (matched trimmed and
case-insensitively):

=======================  ======================================================================
``key``                  ``platform_fan_id`` as written (trimmed)
``username``             ``username`` (trimmed, without a leading ``@``, lower case)
``email``                ``email`` (trimmed, lower case)
``displayName``          ``display_name``
``lifetimeValue``        ``lifetime_value_cents`` from a decimal in major units (``12.50``)
``lifetimeValueCents``   ``lifetime_value_cents`` from an integer number of cents
``currency``             ``currency`` (ISO 4217, upper-cased)
``subscribedAt``         ``subscribed_at`` (lenient parse; no zone means UTC)
``lastActiveAt``         ``last_active_at``
``expiresAt``            ``expires_at``
``subscriptionStatus``   ``subscription_status``: ``active``, ``expired``, ``cancelled``
                         (or ``canceled``), ``follower``, ``none``, any case; blank -> ``none``
``tags``                 ``tags``: split on ``,``, ``;`` or ``|``, trimmed, blanks and repeats
                         dropped
``custom.<name>``        ``custom_fields[<name>]`` (the trimmed text, when non-blank)
=======================  ======================================================================

At least one of ``key``, ``username`` and ``email`` is required. A row's key is the ``key``
cell; when that is blank (or unmapped), the normalised username; else ``"email:" + email``;
a row with none of them is a ``RowError``. The delimiter (comma, semicolon or tab) is
sniffed from the first 64 KiB.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, BinaryIO

from huntaze.imports.base import ImportFormatError
from huntaze.imports.reading.cells import Cells, FieldError, check_cents
from huntaze.imports.reading.csvread import CsvRows, Header, peek, sniff_delimiter
from huntaze.imports.records import FanRecord, Record
from huntaze.kit.validation import MAX_JSON_KEY, check_platform, check_text
from huntaze.models.crm import SubscriptionStatusValue

FORMAT = "generic_csv"

#: mapping key -> the FanRecord column it sets (``None``: key or tags, not a FAN_COLUMN).
_FIELDS: dict[str, str | None] = {
    "key": None,
    "username": "username",
    "email": "email",
    "displayName": "display_name",
    "lifetimeValue": "lifetime_value_cents",
    "lifetimeValueCents": "lifetime_value_cents",
    "currency": "currency",
    "subscribedAt": "subscribed_at",
    "lastActiveAt": "last_active_at",
    "expiresAt": "expires_at",
    "subscriptionStatus": "subscription_status",
    "tags": None,
}
_STATUSES: dict[str, SubscriptionStatusValue] = {
    "active": "active",
    "expired": "expired",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "follower": "follower",
    "none": "none",
    "": "none",
}
#: mapping key -> the record field whose errors name its column (``custom.*`` map 1:1).
_RECORD_FIELDS = {
    "key": "platform_fan_id",
    "displayName": "display_name",
    "lifetimeValue": "lifetime_value_cents",
    "lifetimeValueCents": "lifetime_value_cents",
    "subscribedAt": "subscribed_at",
    "lastActiveAt": "last_active_at",
    "expiresAt": "expires_at",
    "subscriptionStatus": "subscription_status",
}
_TAG_SPLIT = re.compile(r"[,;|]")
_CENTS = re.compile(r"[+-]?\d+")


def _check_mapping(mapping: Mapping[str, Any] | None) -> dict[str, str]:
    """Validate a mapping; return it with its column names trimmed.

    Raises:
        ImportFormatError: for a missing mapping, an unknown field, a blank column name, a
            custom field name over ``MAX_JSON_KEY`` characters, text that is not storable
            (:func:`~huntaze.kit.validation.check_text`), both ``lifetimeValue`` and
            ``lifetimeValueCents``, or none of key/username/email.
    """
    if not mapping:
        raise ImportFormatError("generic_csv needs a column mapping")
    checked: dict[str, str] = {}
    for field, column in mapping.items():
        if not isinstance(field, str):
            raise ImportFormatError(f"unknown mapping field {field!r}")
        if field not in _FIELDS and not (field.startswith("custom.") and len(field) > 7):
            raise ImportFormatError(f"unknown mapping field {field[:80]!r}")
        if len(field) - 7 > MAX_JSON_KEY and field.startswith("custom."):
            raise ImportFormatError(f"a custom field name is at most {MAX_JSON_KEY} characters")
        if not isinstance(column, str) or not column.strip():
            raise ImportFormatError(f"mapping field {field[:80]!r} needs a column name")
        try:
            check_text(field)
            check_text(column)
        except ValueError as exc:
            raise ImportFormatError(f"mapping field {field[:80]!r}: {exc}") from None
        checked[field] = column.strip()
    if "lifetimeValue" in checked and "lifetimeValueCents" in checked:
        raise ImportFormatError("map lifetimeValue or lifetimeValueCents, not both")
    if not any(name in checked for name in ("key", "username", "email")):
        raise ImportFormatError("the mapping needs a key, username or email column")
    return checked


class GenericCsvParser:
    """Parser for ``generic_csv`` (satisfies :class:`~huntaze.imports.base.Parser`).

    ``parse(stream)`` yields one ``FanRecord`` or ``RowError`` per non-blank data row.

    Raises:
        ImportFormatError: from ``parse``, before any record, when a mapped column is not in
            the header (``column`` names it), or the file is empty.
    """

    format = FORMAT

    def __init__(self, platform: str, mapping: dict[str, str]) -> None:
        self.platform = platform
        self.mapping = mapping
        key_field = next(f for f in ("key", "username", "email") if f in mapping)
        self.columns: dict[str, str] = {"platform_fan_id": mapping[key_field]}
        for field, column in mapping.items():
            self.columns.setdefault(_RECORD_FIELDS.get(field, field), column)
        provides = {_FIELDS.get(field) for field in mapping}
        if any(field.startswith("custom.") for field in mapping):
            provides.add("custom_fields")
        provides.discard(None)
        self.provides: frozenset[str] = frozenset(p for p in provides if p is not None)

    def parse(self, stream: BinaryIO) -> Iterator[Record]:
        """Yield a record per row of the CSV (see the module docstring)."""
        head, replay = peek(stream)
        delimiter = _choose_delimiter(head, self.mapping.values())
        rows = CsvRows(replay, delimiter=delimiter)
        for column in self.mapping.values():
            if not rows.header.has(column):
                raise ImportFormatError(
                    f"mapped column {column!r} is not in the file's header",
                    line=rows.header_line,
                    column=column,
                )
        yield from rows.records(_converter(self.platform, self.mapping, rows.header))


def _choose_delimiter(head: bytes, columns: Any) -> str:
    """The sniffed delimiter, unless another of ``, ; tab`` finds every mapped column in the
    header line and the sniffed one does not."""
    sniffed = sniff_delimiter(head)
    first = head.decode("utf-8-sig", errors="replace").lstrip("\r\n").split("\n", 1)[0]
    wanted = {column.strip().lower() for column in columns}
    for delimiter in (sniffed, ",", ";", "\t"):
        names = {
            cell.replace("\ufeff", "").strip().strip('"').lower() for cell in first.split(delimiter)
        }
        if wanted <= names:
            return delimiter
    return sniffed


def _converter(
    platform: str, mapping: dict[str, str], header: Header
) -> Callable[[int, list[str]], FanRecord]:
    """Build the row -> FanRecord function with every column index resolved once."""
    width = header.width

    def col(field: str) -> tuple[int, str]:
        column = mapping.get(field)
        if column is None:
            return width, field
        return header.index(column), header.find(column) or column

    i_key, c_key = col("key")
    i_user, c_user = col("username")
    i_email, c_email = col("email")
    c_fan_key = c_key if "key" in mapping else c_user if "username" in mapping else c_email
    i_name, _ = col("displayName")
    i_value, c_value = col("lifetimeValue")
    i_cents, c_cents = col("lifetimeValueCents")
    i_currency, c_currency = col("currency")
    i_since, c_since = col("subscribedAt")
    i_active, c_active = col("lastActiveAt")
    i_expires, c_expires = col("expiresAt")
    i_status, c_status = col("subscriptionStatus")
    i_tags, _ = col("tags")
    customs = [
        (field[7:], header.index(column))
        for field, column in mapping.items()
        if field[:7] == "custom."
    ]
    cells = Cells()
    date = cells.date

    def convert(line: int, row: list[str]) -> FanRecord:
        username = row[i_user].strip().lstrip("@").strip().lower() or None
        email = row[i_email].strip().lower() or None
        key = row[i_key].strip()
        if not key:
            if username:
                key = username
            elif email:
                key = "email:" + email
            else:
                raise FieldError(c_fan_key, "no key, username or email: the fan cannot be keyed")
        value = cells.cents(row[i_value], c_value)
        raw_cents = row[i_cents].strip()
        if raw_cents:
            if not _CENTS.fullmatch(raw_cents):
                raise FieldError(c_cents, f"not a whole number of cents: {raw_cents[:40]!r}")
            value = check_cents(int(raw_cents), c_cents)
        raw_status = row[i_status].strip()
        status = _STATUSES.get(raw_status.lower())
        if status is None:
            raise FieldError(c_status, f"unknown subscription status: {raw_status[:40]!r}")
        tags: tuple[str, ...] = ()
        raw_tags = row[i_tags]
        if raw_tags:
            tags = tuple(
                dict.fromkeys(t for t in (p.strip() for p in _TAG_SPLIT.split(raw_tags)) if t)
            )
        custom: dict[str, Any] = {}
        for name, i in customs:
            text = row[i].strip()
            if text:
                custom[name] = text
        return FanRecord(
            platform=platform,
            platform_fan_id=key,
            line=line,
            username=username,
            display_name=row[i_name].strip() or None,
            email=email,
            subscription_status=status,
            subscribed_at=date(row[i_since], c_since),
            expires_at=date(row[i_expires], c_expires),
            last_active_at=date(row[i_active], c_active),
            lifetime_value_cents=value,
            currency=cells.currency(row[i_currency], c_currency),
            tags=tags,
            custom_fields=custom,
        )

    return convert


def make_parser(
    platform: str | None = None, mapping: dict[str, Any] | None = None, **_: Any
) -> GenericCsvParser:
    """Return a ``generic_csv`` parser for ``mapping`` (see the module docstring); the fans'
    platform is ``platform`` (trimmed, lower case), ``"other"`` when not given.

    Raises:
        ValueError: for a platform :func:`~huntaze.kit.validation.check_platform` refuses
            (the import service answers that before reading the file).
        ImportFormatError: for a missing or invalid mapping (see :func:`_check_mapping`).
    """
    name = check_platform(platform) if platform and platform.strip() else "other"
    return GenericCsvParser(name, _check_mapping(mapping))
