"""``POST /api/experiments/analyze``: a winner only when the result holds (seed 004 named
one whenever a rate was higher), with the reason when there is none."""

from __future__ import annotations

from typing import Any


def _analyze(client, headers, variants: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = client.post(
        "/api/experiments/analyze", json={"variants": variants, **extra}, headers=headers
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def _v(name: str, users: int, conversions: int, **extra: Any) -> dict[str, Any]:
    return {"name": name, "users": users, "conversions": conversions, **extra}


def test_a_higher_rate_that_is_not_significant_wins_nothing(client, tenant) -> None:  # type: ignore[no-untyped-def]
    body = _analyze(client, tenant["headers"], [_v("A", 2000, 100), _v("B", 2000, 110)])
    assert body["winner"] is None and body["reason"] == "not_significant"
    b = body["variants"][1]
    assert b["lift"] > 0 and b["pValue"] > 0.05 and 0.5 < b["chanceToBeatControl"] < 0.9
    assert body["minimumDetectableEffect"] > 0.01


def test_a_significant_rise_wins(client, tenant) -> None:  # type: ignore[no-untyped-def]
    body = _analyze(client, tenant["headers"], [_v("A", 20000, 1000), _v("B", 20000, 1200)])
    assert body["winner"] == "B" and body["reason"] == "significant"
    assert body["variants"][1]["pValue"] < 0.001 and body["power"] > 0.9
    lo, hi = body["variants"][1]["ci"]
    assert lo < 0.06 < hi


def test_too_few_samples_win_nothing_even_when_significant(client, tenant) -> None:  # type: ignore[no-untyped-def]
    variants = [_v("A", 800, 8), _v("B", 800, 60)]
    body = _analyze(client, tenant["headers"], variants)
    assert body["variants"][1]["pValue"] < 0.001
    assert body["winner"] is None and body["reason"] == "samples_too_small"
    lowered = {"impressions": 500, "clicks": 0, "conversions": 5}
    body = _analyze(client, tenant["headers"], variants, minimums=lowered)
    assert body["winner"] == "B"


def test_a_sample_ratio_mismatch_blocks_any_winner(client, tenant) -> None:  # type: ignore[no-untyped-def]
    body = _analyze(client, tenant["headers"], [_v("A", 20000, 1000), _v("B", 18500, 1200)])
    assert body["srm"]["mismatch"] is True
    assert body["winner"] is None and body["reason"] == "sample_ratio_mismatch"
    weighted = [_v("A", 20000, 1000, weight=1), _v("B", 18500, 1200, weight=0.925)]
    assert _analyze(client, tenant["headers"], weighted)["srm"]["mismatch"] is False


def test_several_treatments_are_corrected(client, tenant) -> None:  # type: ignore[no-untyped-def]
    variants = [_v("A", 5000, 250), _v("B", 5000, 290), _v("C", 5000, 300), _v("D", 5000, 255)]
    body = _analyze(client, tenant["headers"], variants)
    for v in body["variants"][1:]:
        assert v["adjustedPValue"] >= v["pValue"]
    assert body["variants"][0]["pValue"] is None
    bh = _analyze(client, tenant["headers"], variants, correction="bh")
    assert [v["adjustedPValue"] for v in bh["variants"][1:]] != [
        v["adjustedPValue"] for v in body["variants"][1:]
    ]


def test_revenue_per_user_is_tested_when_its_spread_is_given(client, tenant) -> None:  # type: ignore[no-untyped-def]
    variants = [
        _v("A", 2000, 100, revenueCents=200000, revenueSquaresCents2=8.0e8),
        _v("B", 2000, 100, revenueCents=260000, revenueSquaresCents2=1.1e9),
    ]
    body = _analyze(client, tenant["headers"], variants)
    assert body["variants"][0]["revenuePerUser"] == 1.0
    assert body["variants"][1]["revenuePerUser"] == 1.3
    assert 0 < body["variants"][1]["revenuePValue"] < 1


def test_sequential_mode_is_more_cautious_than_a_single_look(client, tenant) -> None:  # type: ignore[no-untyped-def]
    variants = [_v("A", 3000, 150), _v("B", 3000, 190)]
    fixed = _analyze(client, tenant["headers"], variants)["variants"][1]["pValue"]
    sequential = _analyze(client, tenant["headers"], variants, sequential=True)
    assert sequential["variants"][1]["pValue"] > fixed


def test_impossible_counts_are_refused(client, tenant) -> None:  # type: ignore[no-untyped-def]
    for body in (
        {"variants": [_v("A", 10, 11), _v("B", 10, 1)]},
        {"variants": [_v("A", 10, 1)]},
        {"variants": [_v("A", 10, 1), _v("A", 10, 1)]},
        {"variants": [_v("A", -1, 0), _v("B", 10, 1)]},
        {"variants": [_v("A", 10, 1), _v("B", 10, 1)], "confidence": 1.5},
        {"variants": [_v("A", 10, 1, weight=0), _v("B", 10, 1)]},
    ):
        r = client.post("/api/experiments/analyze", json=body, headers=tenant["headers"])
        assert r.status_code == 422, (body, r.text)


def test_zero_counts_answer_without_error(client, tenant) -> None:  # type: ignore[no-untyped-def]
    body = _analyze(client, tenant["headers"], [_v("A", 0, 0), _v("B", 0, 0)])
    assert body["winner"] is None and body["variants"][1]["pValue"] == 1.0
