"""Analysing an A/B test's counts (seed 004's A/B testing, and beyond it): the calculator
behind ``POST /api/experiments/analyze``; the experiments of campaigns use the same code.

Seed 004 named a winner whenever one variant's rate was higher, significant or not. Here a
winner needs all of: no sample ratio mismatch, every variant past the minimum samples, and a
significant difference after the correction for several treatments.
"""

from __future__ import annotations

from huntaze.experiments import statistics as st
from huntaze.experiments.schemas import AnalyzeIn, AnalyzeOut, Srm, VariantIn, VariantOut


def _rate(v: VariantIn) -> float:
    return v.conversions / v.users if v.users else 0.0


def _short(v: VariantIn, minimums: AnalyzeIn) -> bool:
    m = minimums.minimums
    clicks_short = v.clicks is not None and v.clicks < m.clicks
    return v.users < m.impressions or v.conversions < m.conversions or clicks_short


def analyze(data: AnalyzeIn) -> AnalyzeOut:
    """Compare every variant with the first (the control) and decide whether one wins.

    Formulas and sources: :mod:`huntaze.experiments.statistics`.
    """
    control, treatments = data.variants[0], data.variants[1:]
    alpha = 1 - data.confidence
    srm_p = st.sample_ratio_mismatch(
        [v.users for v in data.variants], [v.weight for v in data.variants]
    )
    raw: list[float] = []
    for v in treatments:
        if data.sequential:
            raw.append(
                st.always_valid_p(control.conversions, control.users, v.conversions, v.users)
            )
        else:
            test = st.two_proportion_z(
                control.conversions, control.users, v.conversions, v.users, data.alternative
            )
            raw.append(test.p_value)
    if len(raw) == 1:
        adjusted = raw
    else:
        adjusted = st.holm(raw) if data.correction == "holm" else st.benjamini_hochberg(raw)
    base = _rate(control)
    out = [_variant(control, data, None, None, None)]
    for v, p, adj in zip(treatments, raw, adjusted, strict=True):
        out.append(_variant(v, data, p, adj, base))
    if data.variants[0].revenue_cents is not None:
        _revenue(data, out)
    winner, reason = _verdict(data, out, srm_p < st.SRM_THRESHOLD, alpha)
    best = max(treatments, key=_rate)
    users = min(control.users, best.users)
    return AnalyzeOut(
        srm=Srm(p_value=srm_p, mismatch=srm_p < st.SRM_THRESHOLD),
        variants=out,
        winner=winner,
        reason=reason,
        power=st.power_two_proportions(base, _rate(best), users, data.confidence, data.alternative)
        if users
        else None,
        minimum_detectable_effect=st.minimum_detectable_effect(
            base, min(v.users for v in data.variants), data.confidence, data.alternative
        ),
    )


def _variant(
    v: VariantIn, data: AnalyzeIn, p: float | None, adjusted: float | None, base: float | None
) -> VariantOut:
    rate = _rate(v)
    control = data.variants[0]
    return VariantOut(
        name=v.name,
        users=v.users,
        conversions=v.conversions,
        rate=rate,
        lift=None if base is None or base == 0 else (rate - base) / base,
        ci=st.wilson_interval(v.conversions, v.users, data.confidence),
        p_value=p,
        adjusted_p_value=adjusted,
        chance_to_beat_control=None
        if base is None
        else st.chance_to_beat(control.conversions, control.users, v.conversions, v.users),
    )


def _revenue(data: AnalyzeIn, out: list[VariantOut]) -> None:
    """Revenue per user for each variant, and Welch's test against the control where the
    sums of squares are given."""
    control = data.variants[0]
    c_total = float(control.revenue_cents or 0)
    c_mean, c_var = st.mean_and_variance(
        c_total, control.revenue_squares_cents2 or 0.0, control.users
    )
    for v, result in zip(data.variants, out, strict=True):
        if v.revenue_cents is None:
            continue
        mean, var = st.mean_and_variance(
            float(v.revenue_cents), v.revenue_squares_cents2 or 0.0, v.users
        )
        result.revenue_per_user = mean / 100
        if (
            v is not control
            and v.revenue_squares_cents2 is not None
            and control.revenue_squares_cents2 is not None
        ):
            result.revenue_p_value = st.welch_t(c_mean, c_var, control.users, mean, var, v.users)


def _verdict(
    data: AnalyzeIn, out: list[VariantOut], mismatch: bool, alpha: float
) -> tuple[str | None, str]:
    """The winner and why (see :class:`AnalyzeOut`)."""
    if mismatch:
        return None, "sample_ratio_mismatch"
    if any(_short(v, data) for v in data.variants):
        return None, "samples_too_small"
    control = out[0]
    significant = [
        r for r in out[1:] if r.adjusted_p_value is not None and r.adjusted_p_value < alpha
    ]
    better = [r for r in significant if r.rate > control.rate]
    if better:
        return max(better, key=lambda r: r.rate).name, "significant"
    if significant and len(significant) == len(out) - 1:
        return control.name, "significant"  # every treatment is significantly worse
    return None, "not_significant"
