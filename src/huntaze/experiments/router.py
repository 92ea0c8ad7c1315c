"""HTTP routes for experiments: ``/api/experiments``."""

from __future__ import annotations

from fastapi import APIRouter

from huntaze.auth.deps import Reader
from huntaze.experiments import service
from huntaze.experiments.schemas import AnalyzeIn, AnalyzeOut
from huntaze.kit.http import ERRORS

router = APIRouter(prefix="/api/experiments", tags=["experiments"])


@router.post("/analyze", response_model=AnalyzeOut, responses=ERRORS)
def analyze(data: AnalyzeIn, principal: Reader) -> AnalyzeOut:
    """Analyse any A/B test's counts: significance, correction for several treatments,
    sample ratio mismatch, chance to beat control, power and minimum detectable effect, and
    a winner only when the result holds (docs/experiments.md)."""
    return service.analyze(data)
