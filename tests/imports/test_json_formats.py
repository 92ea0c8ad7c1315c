"""OnlyFans, Instagram and TikTok parsers on synthetic fixtures: exact records and lines."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import huntaze
from huntaze.imports.formats import instagram, onlyfans, tiktok
from huntaze.imports.formats.registry import get_parser
from huntaze.imports.records import FanRecord, PurchaseRecord, Record, RowError

FIXTURES = Path(__file__).parent / "fixtures" / "json"
SAMPLE_DIR = Path(huntaze.__file__).parent / "demo" / "samples"


def utc(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0, us: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, us, tzinfo=UTC)


def parse(parser: Any, data: bytes) -> list[Record]:
    return list(parser.parse(io.BytesIO(data)))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def summary(records: list[Record]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for r in records:
        if isinstance(r, RowError):
            out.append(("error", r.line, r.column, r.reason))
        elif isinstance(r, PurchaseRecord):
            out.append((r.line, r.transaction_id, r.kind, r.gross_cents, r.net_cents))
        else:
            out.append((r.line, r.platform_fan_id, r.username, r.subscribed_at))
    return out


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


def test_instagram_followers_exact() -> None:
    records = parse(instagram.make_parser(), fixture("instagram_followers_1.json"))
    assert summary(records) == [
        (2, "josé.ramos", "José.Ramos", utc(2024, 12, 5, 21, 21, 14)),
        (13, "björk.fan", "björk.fan", utc(2023, 11, 14, 22, 13, 20)),
        (23, "title_only", "@Title_Only", utc(2020, 9, 13, 12, 26, 40)),
        ("error", 32, "value", "no username (value, title or href)"),
        ("error", 37, "timestamp", "not a Unix timestamp: 'soon'"),
        (48, "café_latin", "café_latin", utc(2023, 11, 14, 22, 13, 21)),
    ]
    first = records[0]
    assert isinstance(first, FanRecord)
    assert (first.platform, first.subscription_status) == ("instagram", "follower")


def test_instagram_wrapped_form_and_helpers() -> None:
    data = b'{"relationships_followers": [{"string_list_data": [{"value": "a", "timestamp": 1}]}]}'
    assert summary(parse(instagram.make_parser(), data)) == [
        (1, "a", "a", utc(1970, 1, 1, 0, 0, 1))
    ]
    assert instagram.repair_mojibake("Jos\u00c3\u00a9") == "José"
    assert instagram.repair_mojibake("José") == "José"
    assert instagram.repair_mojibake("李") == "李"
    assert instagram.username_from_href("https://www.instagram.com/_u/a.b?x=1") == "a.b"
    assert instagram.username_from_href("https://www.instagram.com/") is None


# -- TikTok ---------------------------------------------------------------------------------


def test_tiktok_json_old_layout() -> None:
    records = parse(tiktok.make_json_parser(), fixture("tiktok_user_data_old.json"))
    assert summary(records) == [
        (11, "chloé_dubois", "Chloé_Dubois", utc(2021, 11, 11, 1, 22, 22)),
        (12, "kenji.sato", "@Kenji.Sato", utc(2021, 11, 12, 2)),
        ("error", 13, "UserName", "missing username"),
        ("error", 14, "Date", "not a date: 'not a date'"),
    ]


def test_tiktok_json_new_layout_single_line() -> None:
    records = parse(tiktok.make_json_parser(), fixture("tiktok_user_data_new.json"))
    assert summary(records) == [
        (1, "ñandú_runner", "ñandú_runner", utc(2025, 8, 2, 1, 0, 44)),
        (1, "zoë.k", "Zoë.K", utc(2025, 8, 3, 1, 0, 44)),
    ]
    assert all(isinstance(r, FanRecord) and r.subscription_status == "follower" for r in records)


def test_tiktok_txt_crlf() -> None:
    records = parse(tiktok.make_txt_parser(), fixture("tiktok_Follower_crlf.txt"))
    assert summary(records) == [
        (1, "ñoño_fan", "Ñoño_fan", utc(2025, 8, 2, 1, 0, 44)),
        (4, "second.user", "@Second.User", utc(2025, 8, 3, 2)),
        ("error", 8, "Username", "missing username"),
        (10, "fourth_user", "fourth_user", utc(2025, 8, 5, 4)),
    ]


def test_tiktok_txt_lf_bom_missing_blank_line_and_bad_date() -> None:
    records = parse(tiktok.make_txt_parser(), fixture("tiktok_Follower_lf.txt"))
    assert summary(records) == [
        (1, "first_lf", "first_lf", utc(2025, 8, 2, 1, 0, 44)),
        (3, "second_lf", "second_lf", utc(2025, 8, 3, 1, 0, 44)),
        (6, "third_lf", "third_lf", None),
        ("error", 8, "Date", "not a date: '2025-13-45 01:00:44'"),
    ]


def test_tiktok_txt_odd_input() -> None:
    assert parse(tiktok.make_txt_parser(), b"") == []
    assert parse(tiktok.make_txt_parser(), b"\n\n\r\n") == []
    data = b"Followers\n\nusername:a\ndate:2025-01-01\n" + b"x" * 200_000 + b"\n\nUsername: b"
    assert summary(parse(tiktok.make_txt_parser(), data)) == [
        ("error", 1, "Username", "missing username"),
        (3, "a", "a", utc(2025, 1, 1)),
        (7, "b", "b", None),
    ]


# -- Streaming behaviour shared by the JSON parsers ------------------------------------------


JSON_CASES = [
    (onlyfans.OnlyFansFansParser, "onlyfans_fans.json"),
    (onlyfans.OnlyFansTransactionsParser, "onlyfans_transactions.json"),
    (instagram.InstagramFollowersParser, "instagram_followers_1.json"),
    (tiktok.TikTokJsonParser, "tiktok_user_data_old.json"),
    (tiktok.TikTokJsonParser, "tiktok_user_data_new.json"),
]


@pytest.mark.parametrize(("cls", "name"), JSON_CASES)
def test_tiny_chunks_give_identical_records(cls: Any, name: str) -> None:
    expected = parse(cls(), fixture(name))
    for chunk in (1, 2, 3, 5, 8, 13, 64, 1000):
        assert parse(cls(chunk_size=chunk), fixture(name)) == expected, chunk


@pytest.mark.parametrize(("cls", "name"), JSON_CASES)
def test_truncated_file_keeps_records_before_the_error(cls: Any, name: str) -> None:
    data = fixture(name)
    full = parse(cls(), data)
    cut = len(data) * 2 // 3
    records = parse(cls(chunk_size=7), data[:cut])
    *kept, last = records
    assert kept == full[: len(kept)]
    assert len(kept) <= len(full)
    assert isinstance(last, RowError)
    assert last.column is None
    assert last.reason.startswith("invalid JSON: ")
    assert kept[-1].line <= last.line <= data[:cut].count(b"\n") + 1


def test_truncated_onlyfans_fans_reports_exact_line() -> None:
    data = fixture("onlyfans_fans.json")
    cut = data.index(b'"Mei L')
    records = parse(onlyfans.make_fans_parser(), data[:cut])
    assert [r.line for r in records] == [3, 33, 54]  # the fault is on line 54
    assert records[-1] == RowError(
        54, None, "invalid JSON: Expecting value (unexpected end of file)"
    )
    records = parse(onlyfans.make_fans_parser(), data[: cut + 4])
    assert records[-1] == RowError(
        54, None, "invalid JSON: Unterminated string (unexpected end of file)"
    )
    records = parse(onlyfans.make_fans_parser(), data + b"\n{}")
    assert records[-1] == RowError(96, None, "invalid JSON: extra data after the document")


def test_registry_and_provides() -> None:
    fans = get_parser("onlyfans_fans")
    assert (fans.format, fans.platform) == ("onlyfans_fans", "onlyfans")
    assert "lifetime_value_cents" in fans.provides
    assert "email" not in fans.provides
    tx = get_parser("onlyfans_transactions")
    assert tx.provides == frozenset({"username", "display_name"})
    for name in ("instagram_followers", "tiktok_followers_json", "tiktok_followers_txt"):
        parser = get_parser(name, platform="x", mapping={})
        assert parser.format == name
        assert parser.provides == frozenset({"username", "subscription_status", "subscribed_at"})


SAMPLES = [
    ("onlyfans_fans", "onlyfans_fans.json"),
    ("onlyfans_transactions", "onlyfans_transactions.json"),
    ("instagram_followers", "instagram_followers_1.json"),
    ("tiktok_followers_json", "tiktok_user_data.json"),
    ("tiktok_followers_txt", "tiktok_Follower.txt"),
]


@pytest.mark.parametrize(("format_name", "sample"), SAMPLES)
def test_demo_samples_parse_cleanly(format_name: str, sample: str) -> None:
    data = (SAMPLE_DIR / sample).read_bytes()
    records = parse(get_parser(format_name), data)
    assert 10 <= len(records) <= 40
    assert not [r for r in records if isinstance(r, RowError)]


def test_demo_transactions_match_demo_fans() -> None:
    def load(format_name: str, sample: str) -> list[Record]:
        data = (SAMPLE_DIR / sample).read_bytes()
        return parse(get_parser(format_name), data)

    fans = [r for r in load("onlyfans_fans", "onlyfans_fans.json") if isinstance(r, FanRecord)]
    records = load("onlyfans_transactions", "onlyfans_transactions.json")
    purchases = [p for p in records if isinstance(p, PurchaseRecord)]
    assert len(purchases) == len(records)
    assert {p.fan.platform_fan_id for p in purchases} <= {f.platform_fan_id for f in fans}
    kinds = [p.kind for p in purchases]
    assert {"subscription", "renewal", "tip", "ppv_message", "ppv_post", "custom"} <= set(kinds)
    assert kinds.count("chargeback") == 1
