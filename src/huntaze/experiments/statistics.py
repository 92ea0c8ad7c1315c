"""The statistics of an A/B test with any number of variants, the first being the control.

Every function is pure: counts in, numbers out. Distributions come from SciPy
(``scipy.stats``); each formula names its source. tests/experiments compare the results with
statsmodels computing the same quantities.

- Conversion rates are compared with the two-proportion z-test, pooled under the null
  (Agresti, *Categorical Data Analysis*, 3rd ed., 2013, §3.1.3; statsmodels
  ``proportions_ztest``). Seed 004 uses it too.
- A rate's interval is Wilson's score interval (Wilson, JASA 22, 1927; Brown, Cai and
  DasGupta, *Statistical Science* 16, 2001).
- Several treatments against one control are corrected with Holm's step-down method (Holm,
  *Scand. J. Statist.* 6, 1979) or Benjamini-Hochberg (JRSS B 57, 1995).
- The sample ratio mismatch check is Pearson's chi-square goodness-of-fit test of the users
  against the planned weights (Fabijan et al., "Diagnosing Sample Ratio Mismatch in Online
  Controlled Experiments", KDD 2019), flagged below p = 0.0005, a threshold meant for a
  check run on every look.
- Revenue per user is compared with Welch's t-test (Welch, *Biometrika* 34, 1947), from each
  variant's sum and sum of squares.
- The chance to beat control is the posterior probability that the treatment's rate exceeds
  the control's, each rate with a uniform Beta(1, 1) prior, using the normal approximation of
  the two Beta posteriors (accurate once each variant has a few dozen conversions and
  non-conversions).
- Sequential mode replaces the fixed-horizon test with the always-valid p-value of the
  mixture sequential probability ratio test for a normal mean difference (Johari, Pekelis
  and Walsh, "Always Valid Inference", Operations Research 70, 2022, eq. 9): it may be read
  at every look without inflating false positives.
- Power and the minimum detectable effect use the normal approximation for two proportions
  (Chow, Shao and Wang, *Sample Size Calculations in Clinical Research*, 2nd ed., §4.2;
  statsmodels ``NormalIndPower``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from scipy import stats

#: The SRM check's threshold.
SRM_THRESHOLD = 0.0005
#: The power at which the minimum detectable effect is given.
TARGET_POWER = 0.8

Alternative = Literal["two-sided", "larger"]


@dataclass(frozen=True, slots=True)
class ZTest:
    """A two-proportion z-test: the statistic and its p-value."""

    z: float
    p_value: float


def two_proportion_z(
    conversions_a: int,
    users_a: int,
    conversions_b: int,
    users_b: int,
    alternative: Alternative = "two-sided",
) -> ZTest:
    """Test B's conversion rate against A's (pooled standard error under the null).

    ``alternative="larger"`` tests whether B converts more (one-sided). With no users in a
    variant, or no variance at all (every user converted, or none), z is 0 and p is 1.
    """
    if users_a <= 0 or users_b <= 0:
        return ZTest(0.0, 1.0)
    pa, pb = conversions_a / users_a, conversions_b / users_b
    pooled = (conversions_a + conversions_b) / (users_a + users_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / users_a + 1 / users_b))
    if se == 0:
        return ZTest(0.0, 1.0)
    z = (pb - pa) / se
    p = 2 * stats.norm.sf(abs(z)) if alternative == "two-sided" else stats.norm.sf(z)
    return ZTest(z, float(min(1.0, p)))


def wilson_interval(conversions: int, users: int, confidence: float) -> tuple[float, float]:
    """Wilson's score interval of a conversion rate at ``confidence`` (``(0, 1)`` with no
    users)."""
    if users <= 0:
        return (0.0, 1.0)
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    p = conversions / users
    denom = 1 + z * z / users
    centre = (p + z * z / (2 * users)) / denom
    half = z * math.sqrt(p * (1 - p) / users + z * z / (4 * users * users)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input's order."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    m = len(p_values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), in the input's order."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i], reverse=True)
    m = len(p_values)
    adjusted = [0.0] * m
    running = 1.0
    for k, i in enumerate(order):
        rank = m - k
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = min(1.0, running)
    return adjusted


def sample_ratio_mismatch(users: Sequence[int], weights: Sequence[float]) -> float:
    """The chi-square test's p-value of ``users`` against the split ``weights`` (1.0 with
    fewer than two variants or no users)."""
    total = sum(users)
    if len(users) < 2 or total == 0:
        return 1.0
    scale = total / sum(weights)
    expected = [w * scale for w in weights]
    return float(stats.chisquare(users, expected).pvalue)


def welch_t(mean_a: float, var_a: float, n_a: int, mean_b: float, var_b: float, n_b: int) -> float:
    """Welch's two-sided p-value for B's mean against A's, from each sample's mean and
    unbiased variance (1.0 when either sample has fewer than two values or no variance)."""
    if n_a < 2 or n_b < 2:
        return 1.0
    sa, sb = var_a / n_a, var_b / n_b
    se2 = sa + sb
    if se2 <= 0:
        return 1.0
    t = (mean_b - mean_a) / math.sqrt(se2)
    df = se2 * se2 / (sa * sa / (n_a - 1) + sb * sb / (n_b - 1))
    return float(min(1.0, 2 * stats.t.sf(abs(t), df)))


def mean_and_variance(total: float, squares: float, n: int) -> tuple[float, float]:
    """A sample's mean and unbiased variance from its sum and sum of squares."""
    if n <= 0:
        return (0.0, 0.0)
    mean = total / n
    if n < 2:
        return (mean, 0.0)
    return (mean, max(0.0, (squares - n * mean * mean) / (n - 1)))


def chance_to_beat(conversions_a: int, users_a: int, conversions_b: int, users_b: int) -> float:
    """P(rate B > rate A) under Beta(1 + conversions, 1 + non-conversions) posteriors, by the
    normal approximation of each posterior."""

    def posterior(c: int, n: int) -> tuple[float, float]:
        a, b = 1 + c, 1 + max(n - c, 0)
        mean = a / (a + b)
        return mean, a * b / ((a + b) ** 2 * (a + b + 1))

    ma, va = posterior(conversions_a, users_a)
    mb, vb = posterior(conversions_b, users_b)
    return float(stats.norm.cdf((mb - ma) / math.sqrt(va + vb)))


def always_valid_p(
    conversions_a: int, users_a: int, conversions_b: int, users_b: int, tau2: float = 1e-4
) -> float:
    """The mixture SPRT's always-valid p-value for the difference of two rates.

    With the estimated difference ``d`` and its variance ``v`` (unpooled), and a normal
    mixing distribution of variance ``tau2`` over the true difference, the likelihood ratio
    is ``sqrt(v / (v + tau2)) * exp(tau2 * d**2 / (2 * v * (v + tau2)))`` and the p-value
    ``min(1, 1 / ratio)``. ``tau2`` = 1e-4 puts the mixture's scale at differences of about
    one percentage point.
    """
    if users_a <= 0 or users_b <= 0:
        return 1.0
    pa, pb = conversions_a / users_a, conversions_b / users_b
    v = pa * (1 - pa) / users_a + pb * (1 - pb) / users_b
    if v <= 0:
        return 1.0
    d = pb - pa
    log_ratio = 0.5 * math.log(v / (v + tau2)) + tau2 * d * d / (2 * v * (v + tau2))
    return float(min(1.0, math.exp(-log_ratio)))


def power_two_proportions(
    rate_a: float,
    rate_b: float,
    users_per_variant: int,
    confidence: float,
    alternative: Alternative,
) -> float:
    """The power of the z-test to detect ``rate_b`` against ``rate_a`` with
    ``users_per_variant`` users each (unpooled normal approximation)."""
    if users_per_variant <= 0 or rate_a == rate_b:
        return 0.0 if users_per_variant <= 0 else 1 - confidence
    alpha = 1 - confidence
    z_alpha = stats.norm.ppf(1 - alpha / 2 if alternative == "two-sided" else 1 - alpha)
    se = math.sqrt((rate_a * (1 - rate_a) + rate_b * (1 - rate_b)) / users_per_variant)
    if se == 0:
        return 1.0
    effect = abs(rate_b - rate_a) / se
    power = stats.norm.sf(z_alpha - effect)
    if alternative == "two-sided":
        power += stats.norm.cdf(-z_alpha - effect)
    return float(power)


def minimum_detectable_effect(
    rate_a: float, users_per_variant: int, confidence: float, alternative: Alternative
) -> float | None:
    """The smallest absolute rise over ``rate_a`` the test detects with
    :data:`TARGET_POWER` at ``users_per_variant`` users each (None without users, or when
    even a rate of 1 would not be detected)."""
    if users_per_variant <= 0:
        return None
    low, high = 0.0, 1.0 - rate_a
    if (
        high <= 0
        or power_two_proportions(rate_a, 1.0, users_per_variant, confidence, alternative)
        < TARGET_POWER
    ):
        return None
    for _ in range(60):  # bisection to well below a millionth
        mid = (low + high) / 2
        if (
            power_two_proportions(rate_a, rate_a + mid, users_per_variant, confidence, alternative)
            >= TARGET_POWER
        ):
            high = mid
        else:
            low = mid
    return high
