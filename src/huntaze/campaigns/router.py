"""HTTP routes for campaigns: ``/api/campaigns`` (seeds 003 and 004)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from huntaze.auth.deps import Reader, Writer
from huntaze.campaigns import ab_test, actions, analytics, library, reports, send_window
from huntaze.campaigns import service as campaigns
from huntaze.campaigns.attribution import DEFAULT_DAYS
from huntaze.campaigns.report_schemas import (
    CampaignComparison,
    PlatformComparison,
    TopCampaigns,
    TopMetric,
)
from huntaze.campaigns.schemas import (
    AbTestIn,
    AbTestOut,
    ApplyWinnerIn,
    ApplyWinnerOut,
    CampaignAnalytics,
    CampaignIn,
    CampaignOut,
    CampaignPage,
    DuplicateIn,
    FromTemplateIn,
    SaveTemplateIn,
    ScheduleIn,
    SendingRulesIn,
    SendingRulesOut,
    TemplateList,
    TemplateOut,
)
from huntaze.context import DbSession, Now
from huntaze.kit.errors import ApiError
from huntaze.kit.http import ERRORS, Limit
from huntaze.kit.pagination import DEFAULT_LIMIT
from huntaze.kit.validation import Platform, SafeStr
from huntaze.models.campaigns import CampaignStatusValue, CampaignTypeValue

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"])
CampaignId = Annotated[SafeStr, Path(max_length=64)]
Cursor = Annotated[SafeStr | None, Query(max_length=1024)]
#: The most campaigns ``/compare`` takes.
MAX_COMPARE = 20


@router.get("", response_model=CampaignPage, responses=ERRORS)
def list_campaigns(
    session: DbSession,
    principal: Reader,
    status: CampaignStatusValue | None = None,
    type: CampaignTypeValue | None = None,
    platform: Annotated[Platform | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> CampaignPage:
    """The creator's campaigns, newest first, filtered by status, type and platform."""
    return campaigns.list_campaigns(
        session,
        principal.creator_id,
        status=status,
        type_=type,
        platform=platform,
        limit=limit,
        cursor=cursor,
    )


@router.post("", response_model=CampaignOut, status_code=201, responses=ERRORS)
def create_campaign(
    data: CampaignIn, now: Now, session: DbSession, principal: Writer
) -> CampaignOut:
    """Create a campaign (``scheduled`` when it starts in the future, else ``draft``)."""
    campaign = campaigns.create_campaign(session, principal.creator_id, data, now)
    return campaigns.campaign_out(session, campaign)


@router.get("/templates", response_model=TemplateList, responses=ERRORS)
def list_templates(
    session: DbSession,
    principal: Reader,
    niche: Literal["general", "fitness", "gaming", "adult", "fashion"] | None = None,
) -> TemplateList:
    """The built-in templates and the creator's own, with usage and average performance."""
    return library.list_templates(session, principal.creator_id, niche)


AttributionDays = Annotated[int, Query(alias="attributionDays", ge=1, le=90)]
SinceDays = Annotated[int, Query(alias="sinceDays", ge=1, le=3660)]


@router.get("/compare", response_model=CampaignComparison, responses=ERRORS)
def compare_campaigns(
    session: DbSession,
    principal: Reader,
    ids: Annotated[SafeStr, Query(max_length=2000, description="Comma-separated campaign ids")],
    attribution_days: AttributionDays = DEFAULT_DAYS,
) -> CampaignComparison:
    """Campaigns side by side (1 to 20 ids): impressions, clicks, conversions, revenue,
    spend, CTR, conversion rate, ROI and CPA."""
    wanted = list(dict.fromkeys(i.strip() for i in ids.split(",") if i.strip()))
    if not 1 <= len(wanted) <= MAX_COMPARE:
        raise ApiError(
            422,
            "invalid_request",
            "Name 1 to 20 campaigns",
            [{"field": "ids", "message": f"name 1 to {MAX_COMPARE} campaigns"}],
        )
    return reports.compare(session, principal.creator_id, wanted, attribution_days)


@router.get("/top", response_model=TopCampaigns, responses=ERRORS)
def top_campaigns(
    now: Now,
    session: DbSession,
    principal: Reader,
    metric: TopMetric = "revenue",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    attribution_days: AttributionDays = DEFAULT_DAYS,
    since_days: SinceDays = 90,
) -> TopCampaigns:
    """The best campaigns launched in the last ``sinceDays`` days by ``metric``."""
    return reports.top(
        session, principal.creator_id, metric, limit, attribution_days, since_days, now
    )


@router.get("/compare-platforms", response_model=PlatformComparison, responses=ERRORS)
def compare_platforms(
    now: Now,
    session: DbSession,
    principal: Reader,
    attribution_days: AttributionDays = DEFAULT_DAYS,
    since_days: SinceDays = 90,
) -> PlatformComparison:
    """Each platform's results across the campaigns launched in the last ``sinceDays``
    days."""
    return reports.compare_platforms(
        session, principal.creator_id, attribution_days, since_days, now
    )


@router.get("/sending-rules", response_model=SendingRulesOut, responses=ERRORS)
def sending_rules(session: DbSession, principal: Reader) -> SendingRulesOut:
    """The creator's quiet hours and frequency cap, which every campaign launch follows
    (docs/campaigns.md "Send windows"), and the time zone of fans that have none."""
    return send_window.rules_out(session, principal.creator_id)


@router.put("/sending-rules", response_model=SendingRulesOut, responses=ERRORS)
def set_sending_rules(
    data: SendingRulesIn, now: Now, session: DbSession, principal: Writer
) -> SendingRulesOut:
    """Replace the creator's quiet hours and frequency cap; launches from now on follow
    them (messages already queued keep their times)."""
    return send_window.put_rules(session, principal.creator_id, data, now)


@router.post("/from-template", response_model=CampaignOut, status_code=201, responses=ERRORS)
def create_from_template(
    data: FromTemplateIn, now: Now, session: DbSession, principal: Writer
) -> CampaignOut:
    """A new campaign from a template."""
    campaign = library.from_template(session, principal.creator_id, data, now)
    return campaigns.campaign_out(session, campaign)


@router.get("/{campaign_id}", response_model=CampaignOut, responses=ERRORS)
def get_campaign(campaign_id: CampaignId, session: DbSession, principal: Reader) -> CampaignOut:
    """One campaign, with its metrics and what its launch queued and skipped."""
    campaign = campaigns.get_campaign(session, principal.creator_id, campaign_id)
    return campaigns.campaign_out(session, campaign)


@router.put("/{campaign_id}", response_model=CampaignOut, responses=ERRORS)
def replace_campaign(
    campaign_id: CampaignId, data: CampaignIn, now: Now, session: DbSession, principal: Writer
) -> CampaignOut:
    """Replace a draft or scheduled campaign (409 ``campaign_not_editable`` once launched)."""
    campaign = campaigns.replace_campaign(session, principal.creator_id, campaign_id, data, now)
    return campaigns.campaign_out(session, campaign)


@router.delete("/{campaign_id}", status_code=204, response_class=Response, responses=ERRORS)
def delete_campaign(campaign_id: CampaignId, session: DbSession, principal: Writer) -> Response:
    """Delete a campaign that is not sending (409 while active or paused)."""
    campaigns.delete_campaign(session, principal.creator_id, campaign_id)
    return Response(status_code=204)


@router.post("/{campaign_id}/schedule", response_model=CampaignOut, responses=ERRORS)
def schedule_campaign(
    campaign_id: CampaignId, data: ScheduleIn, now: Now, session: DbSession, principal: Writer
) -> CampaignOut:
    """Schedule the campaign to start at ``scheduledFor``."""
    campaign = actions.schedule(session, principal.creator_id, campaign_id, data.scheduled_for, now)
    return campaigns.campaign_out(session, campaign)


def _action(name: str, summary: str) -> None:
    """Register ``POST /{id}/<name>`` running the lifecycle action ``name``."""
    act = getattr(actions, "start" if name == "launch" else name)

    def run(
        campaign_id: CampaignId, now: Now, session: DbSession, principal: Writer
    ) -> CampaignOut:
        campaign = act(session, principal.creator_id, campaign_id, now)
        return campaigns.campaign_out(session, campaign)

    run.__doc__ = summary
    run.__name__ = f"{name}_campaign"
    router.post(f"/{{campaign_id}}/{name}", response_model=CampaignOut, responses=ERRORS)(run)


_action("start", "Launch now: the audience is resolved and its messages queued.")
_action("launch", "The seed's alias of ``start``.")
_action("pause", "Hold the campaign's queued messages.")
_action("resume", "Release the held messages.")
_action("complete", "Mark completed once every message has ended.")
_action("cancel", "Cancel what is still queued or held.")


@router.get("/{campaign_id}/analytics", response_model=CampaignAnalytics, responses=ERRORS)
def campaign_analytics(
    campaign_id: CampaignId,
    session: DbSession,
    principal: Reader,
    attribution_days: AttributionDays = DEFAULT_DAYS,
) -> CampaignAnalytics:
    """What the campaign delivered and earned: overview, by platform, timeline, funnel, CTR,
    conversion rate, ROI and cost per acquisition."""
    return analytics.campaign_analytics(
        session, principal.creator_id, campaign_id, attribution_days
    )


@router.post("/{campaign_id}/ab-test", response_model=AbTestOut, responses=ERRORS)
def set_ab_test(
    campaign_id: CampaignId, data: AbTestIn, now: Now, session: DbSession, principal: Writer
) -> AbTestOut:
    """Create or replace the campaign's A/B test (draft or scheduled campaigns)."""
    experiment = ab_test.set_ab_test(session, principal.creator_id, campaign_id, data, now)
    return ab_test.to_out(session, experiment)


@router.get("/{campaign_id}/ab-test", response_model=AbTestOut, responses=ERRORS)
def get_ab_test(campaign_id: CampaignId, session: DbSession, principal: Reader) -> AbTestOut:
    """The A/B test, its variants' results and the verdict."""
    return ab_test.get_ab_test(session, principal.creator_id, campaign_id)


@router.post("/{campaign_id}/ab-test/apply-winner", response_model=ApplyWinnerOut, responses=ERRORS)
def apply_winner(
    campaign_id: CampaignId,
    now: Now,
    session: DbSession,
    principal: Writer,
    data: ApplyWinnerIn | None = None,
) -> ApplyWinnerOut:
    """Send the winning variant to the rest of the audience."""
    variant = data.variant_id if data else None
    return ab_test.apply_winner(session, principal.creator_id, campaign_id, variant, now)


@router.post(
    "/{campaign_id}/save-as-template", response_model=TemplateOut, status_code=201, responses=ERRORS
)
def save_as_template(
    campaign_id: CampaignId,
    now: Now,
    session: DbSession,
    principal: Writer,
    data: SaveTemplateIn | None = None,
) -> TemplateOut:
    """Save the campaign's content as a template of the creator."""
    body = data or SaveTemplateIn()
    return library.save_as_template(session, principal.creator_id, campaign_id, body, now)


@router.post(
    "/{campaign_id}/duplicate", response_model=CampaignOut, status_code=201, responses=ERRORS
)
def duplicate_campaign(
    campaign_id: CampaignId,
    now: Now,
    session: DbSession,
    principal: Writer,
    data: DuplicateIn | None = None,
) -> CampaignOut:
    """A draft copy of the campaign, to change with ``PUT`` before launching it."""
    name = data.name if data else None
    campaign = campaigns.duplicate(session, principal.creator_id, campaign_id, name, now)
    return campaigns.campaign_out(session, campaign)
