"""Property tests: the CSV parsers never crash, and give exactly one record per data row, on the
line where the row starts."""

from __future__ import annotations

import io
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huntaze.imports.base import ImportFormatError, Parser
from huntaze.imports.formats import generic, kofi, patreon, substack
from huntaze.imports.records import FanRecord, PurchaseRecord, Record, RowError

PATREON_HEADER = [
    "Name",
    "Email",
    "Discord",
    "Patron Status",
    "Follows You",
    "Free Member",
    "Free Trial",
    "Lifetime Amount",
    "Pledge Amount",
    "Charge Frequency",
    "Tier",
    "Addressee",
    "Street",
    "City",
    "State",
    "Zip",
    "Country",
    "Phone",
    "Patronage Since Date",
    "Last Charge Date",
    "Last Charge Status",
    "Additional Details",
    "User ID",
    "Last Updated",
    "Currency",
    "Max Posts",
    "Access Expiration",
    "Next Charge Date",
    "Full country name",
    "Subscription Source",
]
PATREON_OLD_HEADER = [
    "Name",
    "Email",
    "Twitter",
    "Patron Status",
    "Follows You",
    "Lifetime $",
    "Pledge $",
    "Max Amount",
    "Tier",
    "Patronage Since Date",
    "Last Charge Date",
    "Last Charge Status",
    "User ID",
    "Last Updated",
]
SUBSTACK_HEADERS = [
    [
        "email",
        "active_subscription",
        "expiry",
        "plan",
        "email_disabled",
        "created_at",
        "first_payment_at",
    ],
    ["email", "active_subscription", "expiry", "email_disabled", "prefer_digests", "created_at"],
    ["email", "expiry", "email_disabled", "prefer_digests", "stripe_connected_customer_id", "type"],
]
KOFI_HEADER = [
    "DateTime (UTC)",
    "From",
    "Message",
    "Item",
    "Received",
    "Given",
    "Currency",
    "TransactionType",
    "TransactionId",
    "Reference",
    "SalesTax",
    "SalesTaxPercentage",
    "SalesTaxIncludesShipping",
    "BuyerCountry",
    "BuyerStateOrProvince",
    "BuyerEmail",
    "PaymentProvider",
]
GENERIC_HEADER = ["id", "handle", "email", "spent", "tags", "joined", "status", "note"]
GENERIC_MAPPING = {
    "key": "id",
    "username": "handle",
    "email": "email",
    "lifetimeValue": "spent",
    "tags": "tags",
    "subscribedAt": "joined",
    "subscriptionStatus": "status",
    "custom.note": "note",
}

PLAUSIBLE = [
    "",
    " ",
    "Active patron",
    "Declined patron",
    "Former patron",
    "Yes",
    "No",
    "true",
    "FALSE",
    "2.99",
    "$1,234.50",
    "-3",
    "1E100",
    "NaN",
    "-Infinity",
    "99999999999999999999",
    "abc",
    "USD",
    "usd",
    "EURO",
    "2024-01-02 03:04:05.123456",
    "2024-02-01T10:00:00.000Z",
    "09/01/2026 15:51",
    "2025-01-03 10:00",
    "not a date",
    "Donation",
    "Shop Order",
    "Commission",
    "Refund",
    "zoe@example.com",
    "ZOË@EXAMPLE.ORG ",
    "12345",
    "Amélie, Zoë",
    'say "hi"',
    "line one\nline two",
    "crlf\r\ninside",
    "李小龙",
    "active",
    "canceled",
    "vip; whale | x",
]
cells = st.one_of(
    st.sampled_from(PLAUSIBLE),
    st.text(
        alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
        max_size=12,
    ),
)
FAST = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])


def make_parsers() -> list[Parser]:
    return [
        patreon.make_parser(),
        substack.make_parser(),
        kofi.make_parser(),
        generic.make_parser(platform="other", mapping=GENERIC_MAPPING),
    ]


def drain(parser: Parser, data: bytes) -> list[Record]:
    """Parse, allowing only an ImportFormatError raised before the first record."""
    out: list[Record] = []
    try:
        for record in parser.parse(io.BytesIO(data)):
            out.append(record)
    except ImportFormatError:
        assert out == [], "ImportFormatError after records were yielded"
    return out


def check_record(record: Record) -> None:
    assert isinstance(record, FanRecord | PurchaseRecord | RowError)
    if isinstance(record, RowError):
        assert record.reason
    elif isinstance(record, FanRecord):
        assert record.platform_fan_id
    else:
        assert record.transaction_id and record.fan.platform_fan_id


@FAST
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    for parser in make_parsers():
        for record in drain(parser, data):
            check_record(record)


@FAST
@given(text=st.text(max_size=600), header=st.sampled_from([",".join(KOFI_HEADER), "id,email"]))
def test_arbitrary_text_after_a_real_header_never_crashes(text: str, header: str) -> None:
    data = (header + "\n" + text).encode("utf-8", errors="surrogatepass")
    for parser in make_parsers():
        for record in drain(parser, data):
            check_record(record)


def _line_breaks(text: str) -> int:
    return len(re.findall(r"\r\n|\r|\n", text))


def _format(row: list[str], delimiter: str) -> str:
    """Quote a cell only when it must be (as Excel and the platforms do); the csv module's
    writer leaves a lone ``\r`` unquoted when the line terminator is ``\n``."""
    special = (delimiter, '"', "\r", "\n")
    return delimiter.join(
        '"' + cell.replace('"', '""') + '"' if any(c in cell for c in special) else cell
        for cell in row
    )


def _write(
    header: list[str], rows: list[list[str]], delimiter: str, crlf: bool, bom: bool
) -> tuple[bytes, list[int]]:
    """Write a CSV; return it and the 1-based start line of each non-blank data row."""
    terminator = "\r\n" if crlf else "\n"
    parts = ["\ufeff" if bom else "", _format(header, delimiter), terminator]
    line = 2
    starts: list[int] = []
    for row in rows:
        written = _format(row, delimiter) + terminator
        if any(cell.strip() for cell in row):
            starts.append(line)
        line += _line_breaks(written)
        parts.append(written)
    return "".join(parts).encode("utf-8"), starts


def rows_for(width: int) -> Any:
    return st.lists(
        st.lists(cells, min_size=0, max_size=width + 2),
        max_size=12,
    )


def assert_one_record_per_row(parser: Parser, data: bytes, starts: list[int]) -> None:
    records = list(parser.parse(io.BytesIO(data)))
    assert [r.line for r in records] == starts
    for record in records:
        check_record(record)
        if isinstance(record, FanRecord | PurchaseRecord):
            assert record.line in starts


@FAST
@given(
    header=st.sampled_from([PATREON_HEADER, PATREON_OLD_HEADER]).flatmap(st.permutations),
    rows=rows_for(30),
    crlf=st.booleans(),
    bom=st.booleans(),
)
def test_patreon_rows(header: list[str], rows: list[list[str]], crlf: bool, bom: bool) -> None:
    data, starts = _write(header, rows, ",", crlf, bom)
    assert_one_record_per_row(patreon.make_parser(), data, starts)


@FAST
@given(
    header=st.sampled_from(SUBSTACK_HEADERS).flatmap(st.permutations),
    rows=rows_for(7),
    crlf=st.booleans(),
    bom=st.booleans(),
)
def test_substack_rows(header: list[str], rows: list[list[str]], crlf: bool, bom: bool) -> None:
    data, starts = _write(header, rows, ",", crlf, bom)
    assert_one_record_per_row(substack.make_parser(), data, starts)


@FAST
@given(
    header=st.permutations(KOFI_HEADER),
    rows=rows_for(17),
    crlf=st.booleans(),
    bom=st.booleans(),
)
def test_kofi_rows(header: list[str], rows: list[list[str]], crlf: bool, bom: bool) -> None:
    data, starts = _write(header, rows, ",", crlf, bom)
    assert_one_record_per_row(kofi.make_parser(), data, starts)


@FAST
@given(
    header=st.permutations(GENERIC_HEADER),
    rows=rows_for(8),
    delimiter=st.sampled_from([",", ";", "\t"]),
    crlf=st.booleans(),
    bom=st.booleans(),
)
def test_generic_rows(
    header: list[str], rows: list[list[str]], delimiter: str, crlf: bool, bom: bool
) -> None:
    data, starts = _write(header, rows, delimiter, crlf, bom)
    parser = generic.make_parser(platform="other", mapping=GENERIC_MAPPING)
    assert_one_record_per_row(parser, data, starts)
