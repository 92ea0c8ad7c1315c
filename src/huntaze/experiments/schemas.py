"""The experiment calculator's request and answer (``POST /api/experiments/analyze``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from huntaze.fans.schemas import SafeModel
from huntaze.kit.schema import CamelModel

MAX_COUNT = 10**12


class VariantIn(SafeModel):
    """One variant's counts: ``users`` who saw it (impressions), ``conversions`` among them,
    optionally ``clicks``, revenue (``revenueCents``, and ``revenueSquaresCents2``, the sum of
    each user's revenue squared, for the revenue test) and its planned share ``weight``."""

    name: str = Field(min_length=1, max_length=64)
    users: int = Field(ge=0, le=MAX_COUNT)
    conversions: int = Field(ge=0, le=MAX_COUNT)
    clicks: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    revenue_cents: int | None = Field(default=None, ge=0, le=10**15)
    revenue_squares_cents2: float | None = Field(default=None, ge=0)
    weight: float = Field(default=1.0, gt=0, le=1e6)

    @model_validator(mode="after")
    def _fits(self) -> VariantIn:
        if self.conversions > self.users:
            raise ValueError("conversions cannot exceed users")
        return self


class Minimums(SafeModel):
    """The samples each variant needs before a winner is declared (seed 004's defaults)."""

    impressions: int = Field(default=1000, ge=0, le=MAX_COUNT)
    clicks: int = Field(default=100, ge=0, le=MAX_COUNT)
    conversions: int = Field(default=30, ge=0, le=MAX_COUNT)


class AnalyzeIn(SafeModel):
    """Counts of an A/B test run anywhere; the first variant is the control."""

    variants: list[VariantIn] = Field(min_length=2, max_length=20)
    confidence: float = Field(default=0.95, ge=0.5, le=0.9999)
    correction: Literal["holm", "bh"] = "holm"
    sequential: bool = False
    alternative: Literal["two-sided", "larger"] = "two-sided"
    minimums: Minimums = Field(default_factory=Minimums)

    @model_validator(mode="after")
    def _unique(self) -> AnalyzeIn:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError("variant names must be unique")
        return self


class Srm(CamelModel):
    """The sample ratio mismatch check: its p-value, and whether it flags a mismatch."""

    p_value: float
    mismatch: bool


class VariantOut(CamelModel):
    """One variant's results. ``lift`` is relative to the control's rate (None when the
    control converts nobody); ``ci`` is the Wilson interval of its rate; ``pValue`` compares
    it with the control (always-valid in sequential mode) and ``adjustedPValue`` corrects
    for the other treatments; the control has none of these comparisons."""

    name: str
    users: int
    conversions: int
    rate: float
    lift: float | None
    ci: tuple[float, float]
    p_value: float | None
    adjusted_p_value: float | None
    chance_to_beat_control: float | None
    revenue_per_user: float | None = None
    revenue_p_value: float | None = None


class AnalyzeOut(CamelModel):
    """The test's verdict: ``winner`` (a variant's name, or None) and ``reason``:
    ``significant``, ``not_significant``, ``samples_too_small`` or
    ``sample_ratio_mismatch``. ``power`` is the chance the test had to detect the best
    treatment's observed difference; ``minimumDetectableEffect`` the smallest absolute rise
    of the control's rate detectable with 80% power at the users each variant has."""

    srm: Srm
    variants: list[VariantOut]
    winner: str | None
    reason: Literal["significant", "not_significant", "samples_too_small", "sample_ratio_mismatch"]
    power: float | None
    minimum_detectable_effect: float | None
