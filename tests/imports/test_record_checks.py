"""The import's record checks accept exactly what the shared rules of kit/validation accept
(their fast paths never let through a value the rules refuse)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huntaze.imports.records import FanRecord, PurchaseRecord, RowError
from huntaze.imports.validate import RecordChecker
from huntaze.kit.validation import check_email, check_json, check_text

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHECK = RecordChecker({"email": "E-mail", "custom.tier": "Tier"})

TEXT = st.text(max_size=6) | st.sampled_from(["a\x00b", "\ud800", "x" * 300, "é", "∞"])
KEYS = TEXT | st.sampled_from(["k" * 255, "k" * 256, "tier"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**65), 2**65)
    | st.sampled_from([2**53, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64])
    | st.floats()
    | TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=40,
)


def _accepts(check: Any, value: Any) -> bool:
    try:
        check(value)
    except ValueError:
        return False
    return True


@SETTINGS
@given(custom=st.dictionaries(KEYS, JSON, max_size=6))
def test_custom_fields_follow_check_json(custom: dict[str, Any]) -> None:
    fan = FanRecord("patreon", "1", 3, custom_fields=custom)
    error = CHECK(fan)
    assert (error is None) == _accepts(check_json, custom)
    if error is not None:
        assert error.line == 3 and error.reason


def test_a_bad_custom_field_names_its_column() -> None:
    fan = FanRecord("patreon", "1", 3, custom_fields={"tier": "G\x00ld", "country": "FR"})
    assert CHECK(fan) == RowError(3, "Tier", "tier: must not contain the NUL character (\\u0000)")
    fan = FanRecord("patreon", "1", 3, custom_fields={"plan": "x" * 70_000})
    error = CHECK(fan)
    assert error is not None and error.column == "customFields.plan"
    fan = FanRecord("patreon", "1", 3, custom_fields={"a": "x" * 40_000, "b": "y" * 40_000})
    error = CHECK(fan)  # each value fits, not both
    assert error is not None and error.column == "customFields"
    deep: dict[str, Any] = {"v": 1}
    for _ in range(20):
        deep = {"d": deep}
    error = CHECK(FanRecord("patreon", "1", 3, custom_fields={"extra": deep}))
    assert error is not None and error.column == "customFields.extra"


EMAILS = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    [
        "a@b",
        "@b",
        "a@",
        "a@b@",
        "A@B.COM",
        "a b@c",
        "a@b\r\nBcc: c@d",
        "a\t@b",
        "a\x7f@b",
        "é@b.fr",
        "a@" + "b" * 330,
        "\u2028a@b",
    ]
)


@SETTINGS
@given(email=EMAILS)
def test_emails_follow_check_email(email: str) -> None:
    fan = FanRecord("patreon", "1", 2, email=email)
    error = CHECK(fan)
    assert (error is None) == _accepts(check_email, email)
    if error is None:
        assert fan.email == check_email(email)
    else:
        assert error.column == "E-mail"


def test_purchases_check_their_payer_and_amounts() -> None:
    fan = FanRecord("kofi", "email:a@b", 4, display_name="A" * 256)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    ok = PurchaseRecord(fan, "tip", 100, 100, "USD", when, "t1", 4)
    assert CHECK(ok) == RowError(4, "displayName", "at most 255 characters (256 given)")
    fan.display_name = "A"
    assert CHECK(ok) is None
    ok.transaction_id = "t" * 129
    assert CHECK(ok) == RowError(4, "transactionId", "at most 128 characters (129 given)")
    ok.transaction_id, ok.gross_cents = "t1", 10**16
    error = CHECK(ok)
    assert error is not None and error.column == "grossCents"
    ok.gross_cents, ok.purchased_at = 100, datetime(1800, 1, 1, tzinfo=UTC)
    error = CHECK(ok)
    assert error is not None and error.column == "purchasedAt"


NAMES = st.text(max_size=8) | st.sampled_from(
    ["a\x00", "\ud800x", "李\u200d", "\t", "x" * 255, "x" * 256]
)


@SETTINGS
@given(text=NAMES)
def test_keys_and_names_follow_check_text_and_the_column_size(text: str) -> None:
    expected = 0 < len(text) <= 255 and _accepts(check_text, text)
    for fan in (
        FanRecord("tiktok", text, 5),
        FanRecord("tiktok", "k", 5, username=text),
        FanRecord("tiktok", "k", 5, display_name=text),
    ):
        assert (CHECK(fan) is None) == expected
