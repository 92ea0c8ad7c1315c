"""Patreon Members CSV (Audience -> Members -> Export), as described in formats.md.

Reads the three header generations: current (30 columns, 2024 on), previous (27 columns, with
``Twitter``), and older (``Lifetime $`` / ``Pledge $`` whose values may hold ``$`` and
thousands commas). Columns are matched by name.

Mapping (one :class:`~huntaze.imports.records.FanRecord` per row):

==========================  ===================================================================
``User ID``                 ``platform_fan_id``; else ``"email:" + email``
``Name``                    ``display_name`` (``None`` when blank)
``Email``                   ``email``: trimmed, lower case (``None`` when blank)
``Patron Status``           ``subscription_status``: ``Active patron`` -> ``active``,
                            ``Declined patron`` -> ``expired``, ``Former patron`` ->
                            ``cancelled``, empty -> ``follower``, anything else -> ``none``
``Patronage Since Date``    ``subscribed_at`` (UTC)
``Last Charge Date``        ``last_active_at`` (UTC)
``Access Expiration``       ``expires_at`` (UTC; ``None`` when absent or blank)
``Lifetime Amount`` / ``$`` ``lifetime_value_cents`` (total as given; ``None`` when blank)
``Currency``                ``currency`` (ISO 4217, upper case; ``None`` when blank)
==========================  ===================================================================

``custom_fields`` gets, for the columns present and non-blank: ``tier``, ``pledgeAmountCents``
(int, from ``Pledge Amount`` / ``Pledge $``), ``chargeFrequency``, ``lastChargeStatus``,
``country``, and ``followsYou`` / ``freeMember`` / ``freeTrial`` (bool from ``Yes``/``No``).
Address, phone, Discord, Twitter and ``Additional Details`` are never read (privacy).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from huntaze.imports.base import ImportFormatError
from huntaze.imports.reading.cells import BOOLS, Cells, FieldError
from huntaze.imports.reading.csvread import CsvRows, Header
from huntaze.imports.records import FanBlock, FanRecord, Record
from huntaze.models.crm import SubscriptionStatusValue

FORMAT = "patreon_members"
PLATFORM = "patreon"

STATUS: dict[str, SubscriptionStatusValue] = {
    "active patron": "active",
    "declined patron": "expired",
    "former patron": "cancelled",
    "": "follower",
}

_PROVIDES = frozenset(
    {
        "display_name",
        "email",
        "subscription_status",
        "subscribed_at",
        "expires_at",
        "last_active_at",
        "lifetime_value_cents",
        "currency",
        "custom_fields",
    }
)

#: Record field (or ``custom.<key>``) -> the column it comes from, for the report.
_COLUMNS = {
    "platform_fan_id": "User ID",
    "display_name": "Name",
    "email": "Email",
    "subscribed_at": "Patronage Since Date",
    "last_active_at": "Last Charge Date",
    "expires_at": "Access Expiration",
    "lifetime_value_cents": "Lifetime Amount",
    "currency": "Currency",
    "custom.tier": "Tier",
    "custom.pledgeAmountCents": "Pledge Amount",
    "custom.chargeFrequency": "Charge Frequency",
    "custom.lastChargeStatus": "Last Charge Status",
    "custom.country": "Country",
}

# (custom_fields key, header names) of the plain-text extras, and of the Yes/No extras.
TEXT_EXTRAS = (
    ("tier", ("Tier",)),
    ("chargeFrequency", ("Charge Frequency",)),
    ("lastChargeStatus", ("Last Charge Status",)),
    ("country", ("Country",)),
)
BOOL_EXTRAS = (
    ("followsYou", ("Follows You",)),
    ("freeMember", ("Free Member",)),
    ("freeTrial", ("Free Trial",)),
)


def col(header: Header, *names: str) -> tuple[int, str]:
    """Return the index of the first of ``names`` present (or the sentinel) and its spelling."""
    return header.index(*names), header.find(*names) or names[0]


class PatreonMembersParser:
    """Parser for ``patreon_members`` (satisfies :class:`huntaze.imports.base.Parser`).

    ``parse(stream)`` yields one ``FanRecord`` or ``RowError`` per non-blank data row.

    Raises:
        ImportFormatError: from ``parse``, before any record, when the header lacks the markers
            (``Patron Status``, ``Patronage Since Date``, ``Pledge Amount`` or ``Pledge $``) or
            has neither ``User ID`` nor ``Email``.
    """

    format = FORMAT
    platform = PLATFORM
    provides = _PROVIDES
    columns = _COLUMNS

    def parse(self, stream: BinaryIO) -> Iterator[Record]:
        """Yield a record per row of a Patreon Members CSV (see the module docstring)."""
        rows = CsvRows(stream)
        check_header(rows.header, rows.header_line)
        yield from rows.records(converter(rows.header))

    def parse_blocks(self, stream: BinaryIO) -> Iterator[FanBlock | Record]:
        """Yield the file's fans as :class:`~huntaze.imports.records.FanBlock` objects
        (converted a column at a time), with the rows the blocks leave out as single records,
        in the order the writer must apply them; see :mod:`.patreon_blocks`.

        Raises:
            ImportFormatError: as :meth:`parse` does.
        """
        from huntaze.imports.formats.patreon_blocks import fan_blocks

        return fan_blocks(stream)


def check_header(header: Header, line: int) -> None:
    """Raise :class:`ImportFormatError` unless ``header`` (on ``line``) is a Patreon members
    header (see :class:`PatreonMembersParser`)."""
    missing = [name for name in ("Patron Status", "Patronage Since Date") if not header.has(name)]
    if not (header.has("Pledge Amount") or header.has("Pledge $")):
        missing.append("Pledge Amount")
    if not missing and not (header.has("User ID") or header.has("Email")):
        missing.append("User ID")
    if missing:
        raise ImportFormatError(
            f"not a Patreon members export: no {missing[0]!r} column",
            line=line,
            column=missing[0],
        )


def converter(header: Header) -> Callable[[int, list[str]], FanRecord]:
    """Build the row -> FanRecord function with every column index resolved once."""
    i_id = header.index("User ID")
    i_email = header.index("Email")
    i_name = header.index("Name")
    i_status = header.index("Patron Status")
    i_since, c_since = col(header, "Patronage Since Date")
    i_last, c_last = col(header, "Last Charge Date")
    i_expiry, c_expiry = col(header, "Access Expiration")
    i_life, c_life = col(header, "Lifetime Amount", "Lifetime $")
    i_pledge, c_pledge = col(header, "Pledge Amount", "Pledge $")
    i_cur, c_cur = col(header, "Currency")
    texts = [(key, header.index(*names)) for key, names in TEXT_EXTRAS if header.has(names[0])]
    bools = [(key, *col(header, *names)) for key, names in BOOL_EXTRAS if header.has(names[0])]
    status_map = STATUS
    bool_map = BOOLS
    cells = Cells()
    date = cells.date
    cents = cells.cents

    def convert(line: int, row: list[str]) -> FanRecord:
        email = row[i_email].strip().lower() or None
        key = row[i_id].strip()
        if not key:
            if email is None:
                raise FieldError("User ID", "no User ID and no Email: the member cannot be keyed")
            key = "email:" + email
        custom: dict[str, Any] = {}
        for name, i in texts:
            value = row[i].strip()
            if value:
                custom[name] = value
        pledge = cents(row[i_pledge], c_pledge)
        if pledge is not None:
            custom["pledgeAmountCents"] = pledge
        for name, i, column in bools:
            value = row[i]
            flag = bool_map.get(value)
            if flag is None:
                flag = bool_map.get(value.strip().lower())
                if flag is None:
                    if not value or value.isspace():
                        continue
                    raise FieldError(column, f"not Yes or No: {value[:40]!r}")
            custom[name] = flag
        # Positional (FanRecord's field order, pinned by a test): keywords cost ~0.7 us a row.
        return FanRecord(
            PLATFORM,
            key,
            line,
            None,  # username
            row[i_name].strip() or None,
            email,
            status_map.get(row[i_status].strip().lower(), "none"),
            date(row[i_since], c_since),
            date(row[i_expiry], c_expiry),
            date(row[i_last], c_last),
            cents(row[i_life], c_life),
            cells.currency(row[i_cur], c_cur),
            None,  # consent
            (),  # tags
            custom,
        )

    return convert


def make_parser(
    platform: str | None = None, mapping: dict[str, Any] | None = None, **_: Any
) -> PatreonMembersParser:
    """Return the ``patreon_members`` parser; ``platform`` and ``mapping`` are ignored (the
    platform is always ``patreon``)."""
    return PatreonMembersParser()
