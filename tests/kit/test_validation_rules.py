"""The shared value rules (kit/validation) that the API schemas and the importers both apply."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ValidationError

from huntaze.kit import validation as v


class _Model(BaseModel):
    when: v.UtcDateTime | None = None
    text: v.SafeStr | None = None
    amount: v.Int64 | None = None
    extra: v.JsonObject | None = None


@pytest.mark.parametrize(
    "given",
    ["2025-06-01", "2025-06-01T00:00:00", "2025-06-01T00:00:00Z", "2025-06-01T02:00:00+02:00"],
)
def test_a_date_a_naive_datetime_and_an_aware_one_mean_the_same_instant(given: str) -> None:
    assert _Model(when=given).when == datetime(2025, 6, 1, tzinfo=UTC)


def test_a_result_is_always_utc() -> None:
    when = _Model(when="2025-06-01T02:00:00+02:00").when
    assert when is not None and when.utcoffset() is not None and when.tzinfo == UTC


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800", "x\udfffy"])
def test_nul_and_lone_surrogates_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError) as err:
        _Model(text=bad)
    assert err.value.errors()[0]["loc"] == ("text",)


def test_ordinary_unicode_passes() -> None:
    assert _Model(text="jürgen 💸 日本").text == "jürgen 💸 日本"


@pytest.mark.parametrize("amount", [2**63, -(2**63) - 1, 10**30])
def test_integers_beyond_64_bits_are_refused(amount: int) -> None:
    with pytest.raises(ValidationError):
        _Model(amount=amount)
    assert _Model(amount=2**63 - 1).amount == 2**63 - 1


def test_json_nested_past_the_bound_is_refused_without_recursion() -> None:
    deep: dict[str, object] = {}
    node = deep
    for _ in range(100_000):  # far beyond Python's recursion limit
        child: dict[str, object] = {}
        node["k"] = child
        node = child
    with pytest.raises(ValueError, match="nested too deep"):
        v.check_json(deep)
    shallow = {"a": {"b": [1, 2, {"c": "d"}]}}
    assert v.check_json(shallow) is shallow


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"k" * 300: 1}, "a key is at most"),
        ({"a": "x" * (v.MAX_JSON_CHARS + 1)}, "too large"),
        ({"a": list(range(v.MAX_JSON_NODES + 1))}, "too many values"),
        ({"a": 2**64}, "between"),
        ({"a": float("nan")}, "finite"),
        ({"a\x00": 1}, "NUL"),
        ({"a": "\ud800"}, "surrogate"),
    ],
)
def test_json_bounds_name_the_rule_broken(value: dict[str, object], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        v.check_json(value)


@pytest.mark.parametrize(
    ("given", "expected"), [("OnlyFans", "onlyfans"), (" ko-fi ", "ko-fi"), ("x_1", "x_1")]
)
def test_platform_names_are_normalised(given: str, expected: str) -> None:
    assert v.check_platform(given) == expected


@pytest.mark.parametrize("bad", ["Only Fans!/../x", "x" * 33, "", "-lead", "a/b"])
def test_platform_names_outside_the_pattern_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="platform"):
        v.check_platform(bad)


@pytest.mark.parametrize(
    "bad", ["a@b.c\r\nBcc: x@y.z", "no-at-sign", "@b.c", "a@", "a b@c.d", "x" * 320 + "@b.c"]
)
def test_emails_that_would_break_a_header_or_a_column_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        v.check_email(bad)
    assert v.check_email(" Jo@Example.COM ") == "jo@example.com"


@pytest.mark.parametrize("edge", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-02:00"])
def test_an_instant_off_the_calendar_in_utc_is_refused_not_an_overflow(edge: str) -> None:
    with pytest.raises(ValidationError, match="outside the calendar"):
        _Model(when=edge)
