from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet

from huntaze.config import Settings, box_from_settings
from huntaze.kit.clock import FrozenClock
from huntaze.kit.crypto import SecretBox
from huntaze.kit.dates import from_unix, parse_datetime
from huntaze.kit.errors import ApiError
from huntaze.kit.money import normalise_currency, to_cents
from huntaze.kit.pagination import decode_cursor, encode_cursor
from huntaze.kit.templates import render, variables


@pytest.mark.parametrize(
    ("raw", "cents"),
    [("2.99", 299), ("$1,234.50", 123450), ("0", 0), (2.99, 299), (5, 500), (Decimal("0.005"), 1)],
)
def test_to_cents(raw: object, cents: int) -> None:
    assert to_cents(raw) == cents  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["abc", "", "NaN", "inf", "1E100", "-1e20"])
def test_to_cents_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        to_cents(raw)


def test_currency() -> None:
    assert normalise_currency(" usd ") == "USD"
    assert normalise_currency("") is None
    with pytest.raises(ValueError):
        normalise_currency("dollars")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-01T10:00:00.000Z", datetime(2024, 2, 1, 10, tzinfo=UTC)),
        ("2024-01-02 03:04:05.123456", datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)),
        ("2025-01-01T02:00:00+02:00", datetime(2025, 1, 1, tzinfo=UTC)),
        ("09/01/2026 15:51", datetime(2026, 9, 1, 15, 51, tzinfo=UTC)),
        ("2025-08-02 01:00:44 UTC", datetime(2025, 8, 2, 1, 0, 44, tzinfo=UTC)),
    ],
)
def test_parse_datetime(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected


def test_parse_datetime_rejects() -> None:
    with pytest.raises(ValueError):
        parse_datetime("not a date")
    with pytest.raises(ValueError):
        from_unix(1e30)
    assert from_unix(0) == datetime(1970, 1, 1, tzinfo=UTC)


def test_frozen_clock() -> None:
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.advance(90)
    assert clock.now() == datetime(2026, 1, 1, 0, 1, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        FrozenClock(datetime(2026, 1, 1))


def test_cursor_roundtrip_and_garbage() -> None:
    cur = encode_cursor(["2026-01-01T00:00:00+00:00", "fan_1"])
    assert decode_cursor(cur, 2) == ["2026-01-01T00:00:00+00:00", "fan_1"]
    for bad in ("zzz", encode_cursor([1])):
        with pytest.raises(ApiError) as info:
            decode_cursor(bad, 2)
        assert info.value.status == 400


def test_templates() -> None:
    assert variables("Hi {firstName}, {x} and {firstName}") == ["firstName", "x"]
    assert render("Hi {firstName}{x}!", {"firstName": "Zoë"}, default="?") == "Hi Zoë?!"
    assert render('json {"a": 1} {', {}) == 'json {"a": 1} {'


def test_secret_box_rotation() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = SecretBox([old]).encrypt("relay-secret")
    rotated_box = SecretBox([new, old])
    assert rotated_box.decrypt(token) == "relay-secret"
    rotated = rotated_box.rotate(token)
    assert SecretBox([new]).decrypt(rotated) == "relay-secret"
    with pytest.raises(ValueError):
        SecretBox([new]).decrypt(token)
    with pytest.raises(ValueError):
        SecretBox([])


def test_box_from_settings_generates_a_private_key_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "k"
    box = box_from_settings(Settings(secret_key_file=str(path)))
    token = box.encrypt("x")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert box_from_settings(Settings(secret_key_file=str(path))).decrypt(token) == "x"
    key = Fernet.generate_key().decode()
    assert (
        box_from_settings(Settings(secret_keys=key)).decrypt(SecretBox([key]).encrypt("y")) == "y"
    )


def test_ids_are_prefixed_unique_and_time_ordered() -> None:
    from huntaze.kit.ids import new_id, new_ids

    first = new_id("fan")
    batch = new_ids("fan", 1000)
    assert len(set(batch)) == 1000
    assert all(i.startswith("fan_") and len(i) == 31 for i in [first, *batch])
    assert first[:15] <= batch[0][:15]


def test_id_heads_make_ids_of_the_same_length_that_sort_by_number() -> None:
    from huntaze.kit.ids import SEQUENCE_DIGITS, new_id, new_id_head

    heads = {new_id_head("msg") for _ in range(100)}
    assert len(heads) == 100  # the random part keeps runs of one millisecond apart
    head = heads.pop()
    ids = [f"{head}{n:0{SEQUENCE_DIGITS}x}" for n in (1, 2, 15, 16, 255, 4096)]
    assert all(i.startswith("msg_") and len(i) == len(new_id("msg")) for i in ids)
    assert ids == sorted(ids)
