"""The parser contract and the Patreon Members CSV, exactly (formats.md)."""

from __future__ import annotations

import dataclasses

import pytest

from huntaze.imports.base import ImportFormatError
from huntaze.imports.formats import patreon
from huntaze.imports.formats.registry import get_parser
from huntaze.imports.records import FAN_COLUMNS, FanRecord
from tests.imports.csv_support import (
    FIXTURES,
    errors,
    fans,
    run,
    run_file,
    utc,
)


def test_fan_record_positional_order_is_what_patreon_relies_on() -> None:
    names = [f.name for f in dataclasses.fields(FanRecord)]
    assert names == [
        "platform",
        "platform_fan_id",
        "line",
        "username",
        "display_name",
        "email",
        "subscription_status",
        "subscribed_at",
        "expires_at",
        "last_active_at",
        "lifetime_value_cents",
        "currency",
        "consent",
        "tags",
        "custom_fields",
        "custom_json",  # set by the record checks, not by parsers
    ]


@pytest.mark.parametrize(
    ("name", "platform", "provides"),
    [
        (
            "patreon_members",
            "patreon",
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
            },
        ),
        (
            "substack_subscribers",
            "substack",
            {
                "email",
                "subscription_status",
                "subscribed_at",
                "expires_at",
                "consent",
                "custom_fields",
            },
        ),
        ("kofi_payments", "kofi", {"display_name", "email"}),
    ],
)
def test_registry_gives_parsers(name: str, platform: str, provides: set[str]) -> None:
    parser = get_parser(name)
    assert parser.format == name
    assert parser.platform == platform
    assert parser.provides == frozenset(provides)
    assert parser.provides <= set(FAN_COLUMNS)


# --- Patreon --------------------------------------------------------------------------------


def test_patreon_2024_header_bom_crlf_quoted_newlines() -> None:
    records = run_file(patreon.make_parser(), FIXTURES / "patreon_members_2024.csv")
    assert len(records) == 9
    assert errors(records) == [
        (7, "User ID"),
        (8, "Lifetime Amount"),
        (11, "Free Member"),  # 5 fields under a 30-field header (line 10 is blank)
        (12, "Patronage Since Date"),
    ]
    amelie, jurgen, li, follower, ola = fans(records)
    assert amelie == FanRecord(
        platform="patreon",
        platform_fan_id="70000001",
        line=2,
        display_name="Amélie Zoë",
        email="amelie.zoe@example.com",
        subscription_status="active",
        subscribed_at=utc(2023, 3, 1, 10, 15),
        expires_at=utc(2024, 6, 1),
        last_active_at=utc(2024, 5, 1, 8, 0, 0, 123456),
        lifetime_value_cents=5980,
        currency="EUR",
        custom_fields={
            "tier": "Gold, with extras",
            "chargeFrequency": "monthly",
            "lastChargeStatus": "Paid",
            "country": "FR",
            "pledgeAmountCents": 500,
            "followsYou": True,
            "freeMember": False,
            "freeTrial": False,
        },
    )
    # Jürgen's row starts on line 4 because Amélie's Additional Details spans lines 2-3.
    assert (jurgen.line, jurgen.platform_fan_id, jurgen.display_name) == (
        4,
        "70000002",
        "Jürgen Ødegaard",
    )
    assert jurgen.subscription_status == "expired"
    assert jurgen.subscribed_at == utc(2022, 11, 15, 23, 59, 59, 999999)
    assert jurgen.last_active_at == utc(2024, 4, 1, 0, 0, 0, 1)
    assert jurgen.expires_at is None
    assert (jurgen.lifetime_value_cents, jurgen.currency) == (1200, "NOK")
    assert (li.line, li.email, li.display_name, li.subscription_status) == (
        5,
        None,
        "李小龙",
        "cancelled",
    )
    assert (li.lifetime_value_cents, li.currency) == (123450, "USD")
    assert li.custom_fields["chargeFrequency"] == "annually"
    assert li.custom_fields["pledgeAmountCents"] == 0
    assert follower == FanRecord(
        platform="patreon",
        platform_fan_id="70000004",
        line=6,
        display_name="Follower Fan",
        email="follower@example.com",
        subscription_status="follower",
        custom_fields={"followsYou": True, "freeMember": True, "freeTrial": False},
    )
    assert (ola.line, ola.platform_fan_id, ola.email, ola.display_name) == (
        9,
        "email:ola@example.com",
        "ola@example.com",
        "Ola, Nordmann",
    )
    assert ola.custom_fields["freeTrial"] is True
    assert ola.lifetime_value_cents == 1000


def test_patreon_never_keeps_address_or_phone() -> None:
    records = run_file(patreon.make_parser(), FIXTURES / "patreon_members_2024.csv")
    text = repr(records)
    for private in ("Rue Exemple", "75001", "+33", "Paris", "amelie#1234", "Likes cats"):
        assert private not in text


def test_patreon_2021_header_with_twitter() -> None:
    records = run_file(patreon.make_parser(), FIXTURES / "patreon_members_2021.csv")
    assert len(records) == 3
    zoe, former = fans(records)
    assert zoe.platform_fan_id == "80000001"
    assert zoe.custom_fields == {
        "tier": "Supporter",
        "chargeFrequency": "monthly",
        "lastChargeStatus": "Paid",
        "country": "DE",
        "pledgeAmountCents": 500,
        "followsYou": True,
    }
    assert (former.line, former.subscription_status, former.lifetime_value_cents) == (
        3,
        "cancelled",
        300,
    )
    # The former patron's note spans lines 3-5, so the keyless row starts on line 6.
    assert errors(records) == [(6, "User ID")]


def test_patreon_oldest_header_with_dollar_columns() -> None:
    records = run_file(patreon.make_parser(), FIXTURES / "patreon_members_2019.csv")
    bjork, penny = fans(records)
    assert len(records) == 2
    assert (bjork.lifetime_value_cents, bjork.custom_fields["pledgeAmountCents"]) == (123450, 1000)
    assert bjork.currency is None  # no Currency column in this generation
    assert (penny.line, penny.lifetime_value_cents) == (3, 100)


def test_patreon_bad_values_name_their_column() -> None:
    header = "Patron Status,Patronage Since Date,Pledge Amount,User ID,Currency,Follows You\n"
    data = (
        header
        + "Active patron,2024-01-01 00:00:00,x,1,USD,Yes\n"
        + "Active patron,2024-01-01 00:00:00,1,2,US Dollars,Yes\n"
        + "Active patron,2024-01-01 00:00:00,1,3,USD,Maybe\n"
        + "Someday patron,2024-01-01 00:00:00,1,4,usd,no\n"
        + "Active patron,2024-01-01 00:00:00,1E100,5,USD,Yes\n"
        + "Active patron,2024-01-01 00:00:00,NaN,6,USD,Yes\n"
    ).encode()
    records = run(patreon.make_parser(), data)
    assert errors(records) == [
        (2, "Pledge Amount"),
        (3, "Currency"),
        (4, "Follows You"),
        (6, "Pledge Amount"),
        (7, "Pledge Amount"),
    ]
    (odd,) = fans(records)
    assert (odd.line, odd.subscription_status, odd.currency) == (5, "none", "USD")


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Name,Email,Patronage Since Date,Pledge Amount,User ID", "Patron Status"),
        ("Name,Email,Patron Status,Pledge Amount,User ID", "Patronage Since Date"),
        ("Name,Email,Patron Status,Patronage Since Date,User ID", "Pledge Amount"),
        ("Name,Patron Status,Patronage Since Date,Pledge $", "User ID"),
    ],
)
def test_patreon_rejects_other_headers(header: str, column: str) -> None:
    with pytest.raises(ImportFormatError) as info:
        run(patreon.make_parser(), (header + "\nx,y,z,1,2\n").encode())
    assert (info.value.column, info.value.line) == (column, 1)


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\r\n  \n", b",,,\n"])
def test_empty_files_are_format_errors(data: bytes) -> None:
    with pytest.raises(ImportFormatError):
        run(patreon.make_parser(), data)


def test_patreon_header_names_are_trimmed_and_case_insensitive() -> None:
    data = (
        b"\n PATRON STATUS ,patronage since date,\xef\xbb\xbfPledge $ , user id\r\n"
        b"Active patron,,,7\r\n"
    )
    records = run(patreon.make_parser(), data)
    assert records == [
        FanRecord(platform="patreon", platform_fan_id="7", line=3, subscription_status="active")
    ]


# --- Substack -------------------------------------------------------------------------------
