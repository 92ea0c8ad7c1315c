"""Instagram and TikTok parsers on synthetic fixtures, streaming in tiny chunks, truncated
files, the registry and the demo samples."""

from __future__ import annotations

from typing import Any

import pytest

from huntaze.imports.formats import instagram, onlyfans, tiktok
from huntaze.imports.formats.registry import get_parser
from huntaze.imports.records import FanRecord, PurchaseRecord, Record, RowError
from tests.imports.json_support import SAMPLE_DIR, fixture, parse, summary, utc


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
