"""A campaign's A/B test (seed 004's A/B testing): variants with a traffic split, assigned
deterministically, measured from the campaign's delivered messages and the purchases that
followed them, analysed by :mod:`huntaze.experiments`, and the winner sent to the rest.

Assignment is a hash of the test and the fan (:meth:`huntaze.db.expressions.SqlExpressions.bucket`):
the same fan lands in the same variant at every launch, on either engine. A message's
``variantId`` records it.

A delivered message converts when its fan buys within ``attributionDays`` after it was sent
(the first purchase counts the conversion; every purchase in the window counts as revenue).
Clicks are the fans whose tracked ``click`` events name the variant; while no click is
tracked, the clicks minimum does not apply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huntaze.campaigns import adapt, lifecycle
from huntaze.campaigns.attribution import Attributed, attributed
from huntaze.campaigns.errors import (
    AbTestNotFound,
    CampaignNotEditable,
    InvalidTransition,
    NoWinner,
)
from huntaze.campaigns.launch import Arm, launch
from huntaze.campaigns.schemas import (
    AbTestIn,
    AbTestOut,
    ApplyWinnerOut,
    VariantDefinition,
)
from huntaze.campaigns.service import WHO, get_campaign
from huntaze.experiments.schemas import AnalyzeIn, Minimums, VariantIn
from huntaze.experiments.service import analyze
from huntaze.kit.ids import new_id
from huntaze.models.campaigns import CampaignExperiment, CampaignStatus
from huntaze.models.tracking import TrackedEvent, TrackedKind

RUNNING, APPLIED = "running", "applied"


def experiment_of(session: Session, campaign_id: str) -> CampaignExperiment | None:
    """The campaign's A/B test, if it has one."""
    return session.scalar(
        select(CampaignExperiment).where(CampaignExperiment.campaign_id == campaign_id)
    )


def set_ab_test(
    session: Session, creator_id: str, campaign_id: str, data: AbTestIn, now: datetime
) -> CampaignExperiment:
    """Create or replace a draft or scheduled campaign's A/B test.

    Raises:
        CampaignNotFound: 404. CampaignNotEditable: 409 once the campaign is launched.
        ApiError: 422 ``unsuitable_content`` for a variant's content a platform cannot take
            (:func:`huntaze.campaigns.adapt.check`).
    """
    campaign = get_campaign(session, creator_id, campaign_id)
    if campaign.status not in lifecycle.EDITABLE:
        raise CampaignNotEditable(details=[{"field": "status", "value": campaign.status}])
    variants: list[dict[str, Any]] = [
        {
            "id": new_id("var"),
            "name": v.name,
            "weight": v.weight,
            "content": {k: c.model_dump(by_alias=True) for k, c in v.content.items()},
        }
        for v in data.variants
    ]
    for i, variant in enumerate(variants):
        if variant["content"]:
            adapt.check(campaign.platforms, variant["content"], f"variants[{i}].content")
    experiment = experiment_of(session, campaign.id)
    if experiment is None:
        experiment = CampaignExperiment(
            id=new_id("exp"), campaign_id=campaign.id, creator_id=creator_id, created_at=now
        )
        session.add(experiment)
    experiment.variants = variants
    experiment.test_share = data.test_share
    experiment.confidence = data.confidence
    experiment.attribution_days = data.attribution_days
    experiment.minimums = data.minimums.model_dump()
    experiment.status, experiment.winner_variant_id, experiment.applied_at = RUNNING, None, None
    experiment.updated_at = now
    session.flush()
    return experiment


def to_out(session: Session, experiment: CampaignExperiment) -> AbTestOut:
    """The test with its results analysed now."""
    measures = attributed(session, experiment.campaign_id, experiment.attribution_days, "variant")
    clicked = session.execute(
        select(TrackedEvent.variant_id, func.count(func.distinct(WHO)))
        .where(
            TrackedEvent.campaign_id == experiment.campaign_id,
            TrackedEvent.kind == TrackedKind.CLICK,
            TrackedEvent.variant_id.is_not(None),
        )
        .group_by(TrackedEvent.variant_id)
    )
    clicks = {str(variant): int(n) for variant, n in clicked}
    counts = []
    for v in experiment.variants:
        m = measures.get(v["id"], Attributed())
        counts.append(
            VariantIn(
                name=v["name"],
                users=m.delivered,
                conversions=m.converted,
                revenue_cents=m.revenue_cents,
                revenue_squares_cents2=m.revenue_squares,
                clicks=clicks.get(v["id"], 0) if clicks else None,
                weight=v["weight"],
            )
        )
    results = analyze(
        AnalyzeIn(
            variants=counts,
            confidence=experiment.confidence,
            minimums=Minimums.model_validate(experiment.minimums),
        )
    )
    return AbTestOut(
        id=experiment.id,
        campaign_id=experiment.campaign_id,
        status=experiment.status,
        test_share=experiment.test_share,
        confidence=experiment.confidence,
        attribution_days=experiment.attribution_days,
        minimums=Minimums.model_validate(experiment.minimums),
        variants=[VariantDefinition.model_validate(v) for v in experiment.variants],
        results=results,
        revenue_cents={
            v["name"]: measures.get(v["id"], Attributed()).revenue_cents
            for v in experiment.variants
        },
        winner_variant_id=experiment.winner_variant_id,
        applied_at=experiment.applied_at,
    )


def get_ab_test(session: Session, creator_id: str, campaign_id: str) -> AbTestOut:
    """The campaign's A/B test and its results.

    Raises:
        CampaignNotFound: 404. AbTestNotFound: 404 when it has none.
    """
    campaign = get_campaign(session, creator_id, campaign_id)
    experiment = experiment_of(session, campaign.id)
    if experiment is None:
        raise AbTestNotFound()
    return to_out(session, experiment)


def apply_winner(
    session: Session, creator_id: str, campaign_id: str, variant_id: str | None, now: datetime
) -> ApplyWinnerOut:
    """Send the winning variant to the rest of the audience: the fans outside the test, and
    any fan the campaign has not messaged yet. The winner is ``variant_id`` when given,
    else the analysis' winner.

    Raises:
        CampaignNotFound, AbTestNotFound: 404. InvalidTransition: 409 unless the campaign is
            active. NoWinner: 409 when there is no winner, or it was already applied.
    """
    campaign = get_campaign(session, creator_id, campaign_id)
    experiment = experiment_of(session, campaign.id)
    if experiment is None:
        raise AbTestNotFound()
    if campaign.status != CampaignStatus.ACTIVE:
        raise InvalidTransition(
            f"A {campaign.status} campaign sends nothing: only an active one applies a winner",
            [{"field": "status", "from": campaign.status, "action": "apply-winner"}],
        )
    if experiment.status == APPLIED:
        raise NoWinner("The winner was already applied", [{"field": "status", "reason": "applied"}])
    by_id = {v["id"]: v for v in experiment.variants}
    if variant_id is None:
        out = to_out(session, experiment)
        if out.results.winner is None:
            raise NoWinner(details=[{"field": "variantId", "reason": out.results.reason}])
        variant_id = next(v["id"] for v in experiment.variants if v["name"] == out.results.winner)
    if variant_id not in by_id:
        raise NoWinner(
            f"No variant {variant_id[:64]!r}", [{"field": "variantId", "reason": "unknown"}]
        )
    winner = by_id[variant_id]
    report = launch(
        session, campaign, now, [Arm(variant_id, winner.get("content") or campaign.content)]
    )
    experiment.status, experiment.winner_variant_id = APPLIED, variant_id
    experiment.applied_at = experiment.updated_at = now
    session.flush()
    return ApplyWinnerOut(winner_variant_id=variant_id, launch=report)
