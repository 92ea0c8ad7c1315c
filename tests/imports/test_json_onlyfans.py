"""The OnlyFans fans and transactions parsers on synthetic fixtures: exact records and lines."""

from __future__ import annotations

import json
from typing import Any

import pytest

from huntaze.imports.formats import onlyfans
from huntaze.imports.records import FanRecord, PurchaseRecord, RowError
from tests.imports.json_support import fixture, parse, summary, utc

# -- OnlyFans fans --------------------------------------------------------------------------


def test_onlyfans_fans_exact_records() -> None:
    records = parse(onlyfans.make_fans_parser(), fixture("onlyfans_fans.json"))
    assert len(records) == 7
    zoe, lukasz, mei, e_id, e_seen, e_total, last = records
    assert zoe == FanRecord(
        platform="onlyfans",
        platform_fan_id="410001",
        line=3,
        username="u410001",
        display_name="Zoë Åberg",
        subscription_status="active",
        subscribed_at=utc(2024, 1, 5, 8),
        expires_at=utc(2025, 4, 5, 8),
        last_active_at=utc(2025, 3, 2, 10, 15, 30, 123456),
        lifetime_value_cents=123456,
        currency="USD",
        tags=("Whales", "Fans"),
        custom_fields={
            "creatorLabel": "VIP Zoë",
            "spendCents": {
                "subscriptions": 11988,
                "tips": 100000,
                "messages": 8468,
                "posts": 2000,
                "streams": 1000,
            },
            "priceCents": 999,
            "regularPriceCents": 1250,
        },
    )
    assert isinstance(lukasz, FanRecord)
    assert (lukasz.line, lukasz.subscription_status, lukasz.lifetime_value_cents) == (
        33,
        "expired",
        499,
    )
    assert lukasz.subscribed_at == utc(2023, 6, 1, 10)  # +02:00 converted to UTC
    assert lukasz.last_active_at == utc(2023, 6, 30, 23, 59, 59, 999999)  # lastActivity
    assert lukasz.custom_fields == {"spendCents": {"subscriptions": 499}}  # blank label dropped
    assert isinstance(mei, FanRecord)
    assert (mei.line, mei.subscription_status, mei.lifetime_value_cents, mei.custom_fields) == (
        51,
        "cancelled",
        0,
        {},
    )
    assert e_id == RowError(63, "id", "missing fan id")
    assert e_seen == RowError(67, "lastSeen", "not a date: 'yesterday-ish'")
    assert e_total == RowError(74, "subscribedOnData.totalSumm", "not an amount: 'x'")
    assert last == FanRecord(
        platform="onlyfans",
        platform_fan_id="410007",
        line=83,
        username="u410007",
        last_active_at=utc(2025, 5, 1),
        currency="USD",
    )


def test_onlyfans_fans_single_line_and_bare_array() -> None:
    doc = json.loads(fixture("onlyfans_fans.json"))
    pretty = parse(onlyfans.make_fans_parser(), fixture("onlyfans_fans.json"))
    compact = parse(onlyfans.make_fans_parser(), json.dumps(doc).encode())
    bare = parse(onlyfans.make_fans_parser(), json.dumps(doc["list"], indent=1).encode())

    assert {r.line for r in compact} == {1}
    bare_text = json.dumps(doc["list"], indent=1)
    starts = [n for n, text in enumerate(bare_text.splitlines(), 1) if text == " {"]
    assert [r.line for r in bare] == starts
    assert len(starts) == 7
    for got in (compact, bare):
        for a, b in zip(got, pretty, strict=True):
            a.line = b.line = 0
        assert got == pretty


@pytest.mark.parametrize(
    ("status", "expired_now", "data_status", "expected"),
    [
        (True, False, None, "active"),
        (True, False, "Set to Expire", "cancelled"),
        (True, True, None, "active"),
        (False, True, None, "expired"),
        (False, True, "canceled", "expired"),
        (False, False, "Cancelled", "cancelled"),
        (False, False, None, "none"),
        (None, None, "Active", "none"),
    ],
)
def test_onlyfans_status_rule(
    status: bool | None, expired_now: bool | None, data_status: str | None, expected: str
) -> None:
    item = {"subscribedOn": status, "subscribedOnExpiredNow": expired_now}
    assert onlyfans.fan_status(item, {"status": data_status}) == expected


def test_onlyfans_fans_id_forms() -> None:
    data = b'[{"id": "42"}, {"id": true}, {"id": -1}, {"id": 1.5}, {"id": null}, 7, {"id": 9}]'
    assert summary(parse(onlyfans.make_fans_parser(), data)) == [
        (1, "42", None, None),
        ("error", 1, "id", "invalid user id True"),
        ("error", 1, "id", "invalid user id -1"),
        ("error", 1, "id", "invalid user id 1.5"),
        ("error", 1, "id", "missing fan id"),
        ("error", 1, None, "expected a JSON object, got int"),
        (1, "9", None, None),
    ]


# -- OnlyFans transactions ------------------------------------------------------------------


def test_onlyfans_transactions_exact() -> None:
    records = parse(onlyfans.make_transactions_parser(), fixture("onlyfans_transactions.json"))
    assert summary(records) == [
        (2, "tx-0001", "renewal", 999, 799),
        (3, "tx-0002", "subscription", 999, 799),
        (4, "tx-0003", "tip", 5000, 4000),
        (5, "tx-0004", "tip", 500, 400),  # net = amount - fee
        (6, "tx-0005", "tip", 350, 280),
        (7, "tx-0006", "ppv_message", 1500, 1200),
        (8, "tx-0007", "ppv_post", 700, 560),
        (9, "tx-0008", "stream", 1000, 800),
        (10, "tx-0009", "custom", 10000, 8000),
        (11, "tx-0010", "chargeback", -1500, -1200),
        ("error", 12, "status", "pending transaction (status loading) is not imported yet"),
        ("error", 13, "status", "pending transaction (status pending_return) is not imported yet"),
        ("error", 14, "description", "unknown payment kind: 'Referral payment from Someone'"),
        ("error", 15, "user.id", "missing user id"),
        ("error", 16, "id", "missing transaction id"),
    ]
    first, second, tip = records[0], records[1], records[2]
    assert isinstance(first, PurchaseRecord)
    assert first.fan == FanRecord(
        platform="onlyfans",
        platform_fan_id="410001",
        line=2,
        username="u410001",
        display_name="Zoë Åberg",
    )
    assert (first.currency, first.purchased_at) == ("USD", utc(2025, 3, 5, 8))
    assert isinstance(second, PurchaseRecord)
    assert second.purchased_at == utc(2024, 1, 5, 8, 0, 0, 250000)
    assert isinstance(tip, PurchaseRecord)
    assert (tip.currency, tip.purchased_at) == ("USD", utc(2025, 2, 10, 20, 30))


def test_onlyfans_transaction_field_errors() -> None:
    base = {
        "id": "t",
        "createdAt": "2025-01-01T00:00:00+00:00",
        "amount": 10,
        "fee": 2,
        "description": "Tip from x",
        "user": {"id": 5},
    }
    cases: list[tuple[dict[str, Any], Any]] = [
        ({"status": "weird"}, ("status", "unknown transaction status 'weird'")),
        ({"createdAt": None}, ("createdAt", "missing transaction date")),
        ({"amount": "ten"}, ("amount", "not an amount: 'ten'")),
        ({"amount": None}, ("amount", "missing amount")),
        ({"fee": None}, ("net", "missing net amount and fee")),
        ({"currency": "dollars"}, ("currency", "not an ISO 4217 currency code: 'DOLLARS'")),
        ({"description": "<b></b>"}, ("description", "unknown payment kind: ''")),
        ({"description": None}, ("description", "missing description")),
        ({"user": "x"}, ("user", "expected a JSON object, got str")),
        ({"id": 77, "currency": "eur"}, (77, "EUR", 1000, 800)),
        ({"description": "<p>TIP&nbsp;from <a>x</a>", "status": "DONE"}, ("tip",)),
    ]
    for change, expected in cases:
        element = {**base, **change}
        (record,) = parse(onlyfans.make_transactions_parser(), json.dumps([element]).encode())
        if isinstance(record, RowError):
            assert (record.column, record.reason) == expected, change
        elif len(expected) == 1:
            assert record.kind == expected[0]  # type: ignore[union-attr]
        else:
            assert isinstance(record, PurchaseRecord)
            got = (record.transaction_id, record.currency, record.gross_cents, record.net_cents)
            assert got == (str(expected[0]), *expected[1:])


def test_strip_html_is_tolerant() -> None:
    assert onlyfans.strip_html('Tip from <a href="x">Zoë &amp; Co</a>') == "Tip from Zoë & Co"
    for broken in (
        "<div><<>>Stream&#32;from</",
        "<!--",
        "<a href='x",
        "</",
        "<![CDATA[x",
        "&#xD800;",
    ):
        assert isinstance(onlyfans.strip_html(broken), str)
    assert onlyfans.strip_html("<b>Stream&#32;from</b> <a>x") == "Stream from x"
    assert onlyfans.description_kind("Recurring subscription from <a>x</a>") == "renewal"
    assert onlyfans.description_kind("Subscription  from\n<a>x</a>") == "subscription"


# -- Instagram ------------------------------------------------------------------------------
