"""Format detection from a file's first bytes, by the markers in formats.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from huntaze.imports.formats.detect import detect_format

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).parents[2] / "src" / "huntaze" / "demo" / "samples"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (FIXTURES / "patreon_members_2024.csv", "patreon_members"),
        (FIXTURES / "patreon_members_2021.csv", "patreon_members"),
        (FIXTURES / "patreon_members_2019.csv", "patreon_members"),
        (FIXTURES / "substack_email_list.csv", "substack_subscribers"),
        (FIXTURES / "substack_signups_old.csv", "substack_subscribers"),
        (FIXTURES / "substack_paid_old.csv", "substack_subscribers"),
        (FIXTURES / "kofi_payments.csv", "kofi_payments"),
        (FIXTURES / "kofi_payments_short.csv", "kofi_payments"),
        (FIXTURES / "generic_semicolon.csv", None),
        (SAMPLES / "patreon_members.csv", "patreon_members"),
        (SAMPLES / "substack_email_list.csv", "substack_subscribers"),
        (SAMPLES / "kofi_payments.csv", "kofi_payments"),
        (SAMPLES / "generic_fans.csv", None),
    ],
)
def test_csv_files(path: Path, expected: str | None) -> None:
    assert detect_format(path.read_bytes()[: 64 * 1024]) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        # Instagram followers: a top-level array.
        (
            b'[\n  {"title": "", "media_list_data": [], "string_list_data": [{"href": "https'
            b'://www.instagram.com/zoe", "value": "zoe", "timestamp": 1733433674}]}',
            "instagram_followers",
        ),
        (b'\xef\xbb\xbf [{"title": "zoe", "media_list_data": []', "instagram_followers"),
        # TikTok JSON, older and newer trees, cut mid-document.
        (
            b'{"Activity": {"Follower List": {"FansList": [{"Date": "2021-11-11 01:22:22", "Use',
            "tiktok_followers_json",
        ),
        (
            b'{"Profile And Settings": {"Follower": {"FansList" : []}}}',
            "tiktok_followers_json",
        ),
        # OnlyFans fans, wrapped or bare.
        (
            b'{"list": [{"id": 12345, "username": "u12345", "subscribedOnData": {"totalSumm": 1',
            "onlyfans_fans",
        ),
        (b'[{"id": 1, "username": "zoe", "subscribedOn": true}]', "onlyfans_fans"),
        # OnlyFans transactions.
        (
            b'{"list": [{"id": "t1", "createdAt": "2025-01-01T00:00:00+00:00", "amount": 5,'
            b' "fee": 1, "net": 4, "description": "Tip from <a href=\\"x\\">zoe</a>"',
            "onlyfans_transactions",
        ),
        # TikTok TXT, LF and CRLF, with and without " UTC".
        (
            b"Date: 2025-08-02 01:00:44 UTC\nUsername: someuser\n\nDate: 2025-08",
            "tiktok_followers_txt",
        ),
        (b"\r\nDate: 2025-08-02 01:00:44\r\nUsername: zoe\r\n", "tiktok_followers_txt"),
        # CSV with the markers only.
        (
            b"Patron Status,Patronage Since Date,Pledge $\n",
            "patreon_members",
        ),
        (b"\xef\xbb\xbfEMAIL , Active_Subscription\r\n", "substack_subscribers"),
        (b"email,stripe_connected_customer_id\n", "substack_subscribers"),
        (b'"DateTime (UTC)","TransactionType"\n', "kofi_payments"),
        # Unknown.
        (b"", None),
        (b"   \n\n", None),
        (b"{}", None),
        (b'[{"id": 1}]', None),
        (b'{"description": "x", "net": 1}', None),
        (b"Patron Status,Pledge Amount\n", None),
        (b"email\n", None),
        (b"DateTime (UTC),From\n", None),
        (b"Username: zoe\nDate: 2025-01-01\n", None),
        (b"\x00\x01\x02\xff\xfe", None),
        (b'"unterminated, quote\n', None),
    ],
)
def test_heads(head: bytes, expected: str | None) -> None:
    assert detect_format(head) == expected
