"""Exact behaviour of the other CSV import formats (formats.md): Substack, Ko-fi, generic;
the demo samples; header lookup and peeking."""

from __future__ import annotations

import io
from typing import Any

import pytest

from huntaze.imports.base import ImportFormatError
from huntaze.imports.formats import generic, kofi, substack
from huntaze.imports.formats.registry import get_parser
from huntaze.imports.reading.csvread import Header, peek, sniff_delimiter
from huntaze.imports.records import FanRecord, PurchaseRecord, Record
from tests.imports.csv_support import (
    DEMO_MAPPING,
    FIXTURES,
    SAMPLES,
    errors,
    fans,
    run,
    run_file,
    utc,
)


def test_substack_2024_layout() -> None:
    records = run_file(substack.make_parser(), FIXTURES / "substack_email_list.csv")
    assert len(records) == 5
    amelie, jurgen, lapsed = fans(records)
    assert amelie == FanRecord(
        platform="substack",
        platform_fan_id="amelie.zoe@example.com",
        line=2,
        email="amelie.zoe@example.com",
        subscription_status="active",
        subscribed_at=utc(2024, 2, 1, 10),
        expires_at=utc(2025, 3, 1, 10),
        custom_fields={"plan": "monthly", "firstPaymentAt": "2024-02-01T10:00:05.123000+00:00"},
    )
    assert (jurgen.subscription_status, jurgen.consent, jurgen.custom_fields) == (
        "follower",
        None,
        {},
    )
    assert (lapsed.subscription_status, lapsed.consent, lapsed.expires_at) == (
        "expired",
        "opted_out",
        utc(2024, 1, 1),
    )
    assert errors(records) == [(5, "email"), (6, "active_subscription")]


def test_substack_older_signup_layout() -> None:
    records = run_file(substack.make_parser(), FIXTURES / "substack_signups_old.csv")
    li, paid = fans(records)
    assert li == FanRecord(
        platform="substack",
        platform_fan_id="li.xiaolong@example.com",
        line=2,
        email="li.xiaolong@example.com",
        subscription_status="follower",
        subscribed_at=utc(2021, 7, 7, 7, 7, 7, 7000),
        custom_fields={"preferDigests": True},
    )
    assert (paid.subscription_status, paid.expires_at) == ("active", utc(2022, 7, 7))
    assert errors(records) == [(4, "created_at")]


def test_substack_older_paid_layout() -> None:
    records = run_file(substack.make_parser(), FIXTURES / "substack_paid_old.csv")
    assert [(r.line, r.subscription_status, r.consent) for r in fans(records)] == [
        (2, "active", None),
        (3, "active", None),
        (4, "active", "opted_out"),
        (5, "none", None),
    ]
    assert fans(records)[0].custom_fields == {"type": "paid", "preferDigests": False}
    assert fans(records)[0].expires_at == utc(2023, 1, 1)
    assert all(r.username is None and r.display_name is None for r in fans(records))
    assert errors(records) == [(6, "email")]


def test_substack_rejects_other_headers() -> None:
    with pytest.raises(ImportFormatError) as info:
        run(substack.make_parser(), b"email,created_at\na@example.com,\n")
    assert info.value.column == "active_subscription"
    with pytest.raises(ImportFormatError) as info:
        run(substack.make_parser(), b"mail,active_subscription\n")
    assert info.value.column == "email"


# --- Ko-fi ----------------------------------------------------------------------------------


def test_kofi_payments() -> None:
    records = run_file(kofi.make_parser(), FIXTURES / "kofi_payments.csv")
    assert len(records) == 9
    purchases = [r for r in records if isinstance(r, PurchaseRecord)]
    assert purchases[0] == PurchaseRecord(
        fan=FanRecord(
            platform="kofi",
            platform_fan_id="email:amelie.zoe@example.com",
            line=2,
            display_name="Amélie Zoë",
            email="amelie.zoe@example.com",
        ),
        kind="tip",
        gross_cents=500,
        net_cents=500,
        currency="EUR",
        purchased_at=utc(2026, 7, 1, 13, 4, 30),
        transaction_id="TXN-0001",
        line=2,
    )
    # The first Message spans lines 2-4; the next transaction starts on line 5.
    assert [
        (p.line, p.kind, p.gross_cents, p.currency, p.purchased_at, p.fan.platform_fan_id)
        for p in purchases[1:]
    ] == [
        (5, "shop", 1250, "EUR", utc(2026, 9, 1, 15, 51), "email:amelie.zoe@example.com"),
        (6, "tip", 300, "USD", utc(2025, 1, 3, 10), "name:jürgen ødegaard"),
        (7, "subscription", 700, "USD", utc(2025, 2, 3, 10), "email:li@example.org"),
        (8, "custom", 10000, "USD", utc(2025, 3, 3, 10), "email:c@example.org"),
    ]
    assert purchases[2].fan.email is None
    assert purchases[2].fan.display_name == "Jürgen Ødegaard"
    assert errors(records) == [
        (9, "TransactionType"),
        (10, "TransactionId"),
        (11, "From"),
        (12, "DateTime (UTC)"),
    ]


def test_kofi_short_variant_with_email_column_bom_crlf() -> None:
    records = run_file(kofi.make_parser(), FIXTURES / "kofi_payments_short.csv")
    assert [(r.line, r.fan.platform_fan_id, r.kind, r.purchased_at) for r in records] == [  # type: ignore[union-attr]
        (2, "email:zoe@example.org", "tip", utc(2024, 12, 31, 23, 59, 59, 123456)),
        (4, "email:zoe@example.org", "tip", utc(2025, 1, 1)),
    ]


def test_kofi_requires_its_columns() -> None:
    with pytest.raises(ImportFormatError) as info:
        run(kofi.make_parser(), b"DateTime (UTC),From,Received,Currency,TransactionType\n")
    assert info.value.column == "TransactionId"


# --- generic --------------------------------------------------------------------------------


def test_generic_semicolon_file() -> None:
    mapping = {
        "key": "id",
        "username": "handle",
        "email": "e-mail",
        "displayName": "Full Name",
        "lifetimeValue": "spent",
        "currency": "cur",
        "tags": "labels",
        "subscribedAt": "joined",
        "custom.tier": "Tier",
    }
    parser = generic.make_parser(platform="Shop", mapping=mapping)
    assert parser.provides == frozenset(
        {
            "username",
            "email",
            "display_name",
            "lifetime_value_cents",
            "currency",
            "subscribed_at",
            "custom_fields",
        }
    )
    records = run_file(parser, FIXTURES / "generic_semicolon.csv")
    assert records[0] == FanRecord(
        platform="shop",
        platform_fan_id="f-1",
        line=2,
        username="amelie_z",
        display_name="Amélie Zoë",
        email="amelie@example.com",
        subscribed_at=utc(2024, 1, 1),
        lifetime_value_cents=123450,
        currency="EUR",
        tags=("vip", "whale", "fr"),
        custom_fields={"tier": "gold"},
    )
    assert (records[1].line, records[1].lifetime_value_cents) == (3, 1250)  # type: ignore[union-attr]
    assert errors(records) == [(4, "ID"), (5, "Spent")]


def test_generic_tab_file_keys_and_statuses() -> None:
    data = (
        b"user\tmail\tcents\tstatus\n"
        b"@Zoe\t\t250\tActive\n"
        b"\tJURGEN@example.org\t-5\tcanceled\n"
        b"x\t\t2.5\t\n"
        b"y\t\t1\tgone\n"
        b"z\t\t99999999999999999999\t\n"
    )
    mapping = {
        "username": "User",
        "email": "Mail",
        "lifetimeValueCents": "cents",
        "subscriptionStatus": "status",
    }
    records = run(generic.make_parser(mapping=mapping), data)
    assert [(r.platform, r.platform_fan_id, r.lifetime_value_cents) for r in fans(records)] == [
        ("other", "zoe", 250),
        ("other", "email:jurgen@example.org", -5),
    ]
    assert [r.subscription_status for r in fans(records)] == ["active", "cancelled"]
    assert errors(records) == [(4, "cents"), (5, "status"), (6, "cents")]


@pytest.mark.parametrize(
    "mapping",
    [
        None,
        {},
        {"displayName": "name"},
        {"key": "id", "nickname": "nick"},
        {"key": "id", "custom.": "x"},
        {"key": ""},
        {"key": "id", "lifetimeValue": "a", "lifetimeValueCents": "b"},
    ],
)
def test_generic_invalid_mappings(mapping: dict[str, Any] | None) -> None:
    with pytest.raises(ImportFormatError):
        generic.make_parser(mapping=mapping)


def test_generic_mapped_column_missing_from_header() -> None:
    parser = generic.make_parser(mapping={"key": "id", "email": "courriel"})
    with pytest.raises(ImportFormatError) as info:
        run(parser, b"id,email\n1,a@example.com\n")
    assert (info.value.column, info.value.line) == ("courriel", 1)


# --- demo samples ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "format_name", "mapping", "count"),
    [
        ("patreon_members.csv", "patreon_members", None, 24),
        ("substack_email_list.csv", "substack_subscribers", None, 26),
        ("kofi_payments.csv", "kofi_payments", None, 30),
        ("generic_fans.csv", "generic_csv", DEMO_MAPPING, 20),
    ],
)
def test_demo_samples_parse_cleanly(
    file: str, format_name: str, mapping: dict[str, Any] | None, count: int
) -> None:
    records = run_file(get_parser(format_name, mapping=mapping), SAMPLES / file)
    assert len(records) == count
    assert errors(records) == []


def test_demo_kofi_sample_has_repeat_buyers() -> None:
    records = run_file(kofi.make_parser(), SAMPLES / "kofi_payments.csv")
    buyers = {r.fan.platform_fan_id for r in records if isinstance(r, PurchaseRecord)}
    assert len(buyers) == 12


# --- csvread --------------------------------------------------------------------------------


def test_header_lookup() -> None:
    header = Header(["\ufeff Name ", "EMAIL", "email", ""])
    assert header.names == ("name", "email", "email", "")
    assert (header.index("name"), header.index("Email"), header.index("missing")) == (0, 1, 4)
    assert header.find("x", "E-mail", "email") == "EMAIL"


def test_peek_replays_and_parsing_leaves_the_stream_open() -> None:
    stream = io.BytesIO(b"id;name\n1;Zoe\n")
    head, replay = peek(stream, 4)
    assert head == b"id;n"
    assert replay.read() == b"id;name\n1;Zoe\n"
    assert sniff_delimiter(b"id;name\n1;Zoe\n") == ";"
    assert sniff_delimiter(b"\x00\x01") == ","
    source = io.BytesIO(b"id\n1\n")
    records = run_file_like(source)
    assert len(records) == 1 and not source.closed


def run_file_like(source: io.BytesIO) -> list[Record]:
    return list(generic.make_parser(mapping={"key": "id"}).parse(source))
