"""The experiment statistics agree with statsmodels and SciPy computing the same quantities,
and the sequential p-value keeps its promise under peeking."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from huntaze.experiments import statistics as st

CASES = [
    (1000, 50, 1000, 65),
    (5000, 400, 5200, 380),
    (120, 3, 90, 9),
    (10**6, 31000, 10**6, 31500),
]


@pytest.mark.parametrize(("na", "ca", "nb", "cb"), CASES)
def test_the_z_test_matches_statsmodels(na, ca, nb, cb) -> None:  # type: ignore[no-untyped-def]
    z, p = proportions_ztest([cb, ca], [nb, na], alternative="two-sided")
    ours = st.two_proportion_z(ca, na, cb, nb)
    assert ours.z == pytest.approx(z, rel=1e-9) and ours.p_value == pytest.approx(p, rel=1e-9)
    _, p_one = proportions_ztest([cb, ca], [nb, na], alternative="larger")
    assert st.two_proportion_z(ca, na, cb, nb, "larger").p_value == pytest.approx(p_one, rel=1e-9)


@pytest.mark.parametrize(("n", "c"), [(1000, 50), (10, 0), (10, 10), (37, 5)])
def test_the_wilson_interval_matches_statsmodels(n, c) -> None:  # type: ignore[no-untyped-def]
    for confidence in (0.9, 0.95, 0.99):
        lo, hi = proportion_confint(c, n, alpha=1 - confidence, method="wilson")
        ours = st.wilson_interval(c, n, confidence)
        assert ours == pytest.approx((lo, hi), abs=1e-12)


def test_holm_and_benjamini_hochberg_match_statsmodels() -> None:
    # statsmodels' Holm takes 0.1 to 0.3 s a call here: every size from 2 to 8 once, and
    # ties (a repeated p-value, and p-values that adjust past 1)
    rng = random.Random(4)
    cases = [[rng.random() ** 3 for _ in range(m)] for m in range(2, 9)]
    cases += [[0.01, 0.01, 0.04, 0.2], [0.5, 0.6, 0.9]]
    for ps in cases:
        assert st.holm(ps) == pytest.approx(list(multipletests(ps, method="holm")[1]))
        assert st.benjamini_hochberg(ps) == pytest.approx(
            list(multipletests(ps, method="fdr_bh")[1])
        )


def test_welch_matches_scipy_on_the_raw_samples() -> None:
    rng = np.random.default_rng(11)
    a = rng.exponential(300, 800).round()
    b = rng.exponential(340, 700).round()
    expected = sps.ttest_ind(b, a, equal_var=False).pvalue
    ma, va = st.mean_and_variance(a.sum(), (a * a).sum(), len(a))
    mb, vb = st.mean_and_variance(b.sum(), (b * b).sum(), len(b))
    assert st.welch_t(ma, va, len(a), mb, vb, len(b)) == pytest.approx(expected, rel=1e-6)


def test_the_srm_check_is_pearsons_chi_square() -> None:
    assert st.sample_ratio_mismatch([5000, 5000], [1, 1]) == pytest.approx(1.0)
    expected = sps.chisquare([5200, 4800], [5000, 5000]).pvalue
    assert st.sample_ratio_mismatch([5200, 4800], [1, 1]) == pytest.approx(expected)
    assert st.sample_ratio_mismatch([6000, 3000], [2, 1]) == pytest.approx(1.0)


@pytest.mark.parametrize(("na", "ca", "nb", "cb"), CASES[:3])
def test_the_chance_to_beat_control_matches_sampling_the_posteriors(na, ca, nb, cb) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(5)
    draws = 400_000
    a = rng.beta(1 + ca, 1 + na - ca, draws)
    b = rng.beta(1 + cb, 1 + nb - cb, draws)
    assert st.chance_to_beat(ca, na, cb, nb) == pytest.approx(float((b > a).mean()), abs=0.015)


def test_power_matches_statsmodels() -> None:
    for pa, pb, n in [(0.05, 0.065, 1000), (0.1, 0.12, 4000), (0.3, 0.28, 2500)]:
        d = (pb - pa) / math.sqrt((pa * (1 - pa) + pb * (1 - pb)) / 2)
        expected = NormalIndPower().power(abs(d), nobs1=n, alpha=0.05, ratio=1.0)
        assert st.power_two_proportions(pa, pb, n, 0.95, "two-sided") == pytest.approx(
            expected, rel=1e-6
        )


def test_the_minimum_detectable_effect_has_the_target_power() -> None:
    mde = st.minimum_detectable_effect(0.05, 5000, 0.95, "two-sided")
    assert mde is not None and 0.005 < mde < 0.02
    assert st.power_two_proportions(0.05, 0.05 + mde, 5000, 0.95, "two-sided") == pytest.approx(
        0.8, abs=1e-6
    )
    more = st.minimum_detectable_effect(0.05, 50_000, 0.95, "two-sided")
    assert more is not None and more < mde


def test_the_always_valid_p_value_survives_peeking() -> None:
    """A/A tests looked at after every 200 users: stopping at the first p < 0.05 declares a
    difference in far more than 5% of them with the fixed-horizon p-value, and in at most
    about 5% with the always-valid one."""
    rng = np.random.default_rng(3)
    runs, looks, step, rate = 300, 40, 200, 0.1
    naive = valid = 0
    for _ in range(runs):
        a = rng.random((looks, step)) < rate
        b = rng.random((looks, step)) < rate
        ca, cb = np.cumsum(a.sum(axis=1)), np.cumsum(b.sum(axis=1))
        ns = [step * (k + 1) for k in range(looks)]
        naive += any(
            st.two_proportion_z(int(x), n, int(y), n).p_value < 0.05 for x, y, n in zip(ca, cb, ns)
        )
        valid += any(st.always_valid_p(int(x), n, int(y), n) < 0.05 for x, y, n in zip(ca, cb, ns))
    assert naive / runs > 0.12
    assert valid / runs <= 0.07
