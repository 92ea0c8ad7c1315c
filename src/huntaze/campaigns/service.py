"""Campaign use cases (seed 004's CampaignService): create, read, replace, delete, list with
filters; schedule, start, pause, resume, complete, cancel; duplicate.

Every function takes the caller's ``creator_id``; another creator's campaign is not found.
Functions flush but never commit: the request boundary commits. A campaign sends through the
outbox only: its launch queues outbox rows (:mod:`.launch`), pausing holds them, resuming
releases them, cancelling cancels them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from huntaze.campaigns import adapt, lifecycle
from huntaze.campaigns.errors import (
    CampaignNotEditable,
    CampaignNotFound,
    InvalidTransition,
)
from huntaze.campaigns.launch import check_segments
from huntaze.campaigns.schemas import (
    CampaignIn,
    CampaignOut,
    CampaignPage,
    LaunchReport,
    Metrics,
    Schedule,
    Targeting,
)
from huntaze.db.expressions import sql_for
from huntaze.db.session import get_owned
from huntaze.kit.errors import ApiError
from huntaze.kit.ids import new_id
from huntaze.kit.keyset import Keyset, SortColumn
from huntaze.models.campaigns import Campaign, CampaignStatus
from huntaze.models.messaging import OutboxMessage, OutboxStatus
from huntaze.models.tracking import TrackedEvent, TrackedKind

#: Campaigns page newest first.
PAGES = Keyset(SortColumn(Campaign.created_at, "datetime"), Campaign.id, descending=True)
#: The metric a tracked event counts in (seed 003's ``opened``, ``clicked``, ``converted``).
TRACKED_METRIC = case(
    (TrackedEvent.kind == TrackedKind.OPEN, "opened"),
    (TrackedEvent.kind == TrackedKind.CLICK, "clicked"),
    (TrackedEvent.kind.in_([TrackedKind.CONVERSION, TrackedKind.PURCHASE]), "converted"),
)
#: Who a tracked event is about: its fan, else the event itself (counted once).
WHO = func.coalesce(TrackedEvent.fan_id, TrackedEvent.id)
#: Outbox statuses of messages that have not ended.
UNFINISHED = (OutboxStatus.QUEUED, OutboxStatus.PROCESSING, OutboxStatus.HELD)


def get_campaign(session: Session, creator_id: str, campaign_id: str) -> Campaign:
    """The creator's campaign ``campaign_id``.

    Raises:
        CampaignNotFound: 404 (also for another creator's campaign).
    """
    return get_owned(session, Campaign, creator_id, campaign_id, CampaignNotFound)


def metrics_of(session: Session, campaign_ids: Sequence[str]) -> dict[str, Metrics]:
    """Each campaign's messages counted by outbox status, and its fans who opened, clicked
    and converted as tracked events report them (``conversion`` and ``purchase``), each fan
    once (two grouped reads)."""
    found: dict[str, dict[str, int]] = defaultdict(dict)
    if campaign_ids:
        rows = session.execute(
            select(OutboxMessage.campaign_id, OutboxMessage.status, func.count())
            .where(OutboxMessage.campaign_id.in_(campaign_ids))
            .group_by(OutboxMessage.campaign_id, OutboxMessage.status)
        )
        for campaign_id, status, count in rows:
            found[str(campaign_id)][str(status)] = int(count)
        for campaign_id, name, count in session.execute(
            select(TrackedEvent.campaign_id, TRACKED_METRIC, func.count(func.distinct(WHO)))
            .where(TrackedEvent.campaign_id.in_(campaign_ids), TRACKED_METRIC.is_not(None))
            .group_by(TrackedEvent.campaign_id, TRACKED_METRIC)
        ):
            found[str(campaign_id)][str(name)] = int(count)
    return {i: Metrics(**found.get(i, {})) for i in campaign_ids}


def to_out(campaign: Campaign, metrics: Metrics) -> CampaignOut:
    """The API shape of ``campaign`` with its ``metrics``."""
    budget = campaign.budget_cents
    return CampaignOut(
        id=campaign.id,
        name=campaign.name,
        description=campaign.description,
        type=campaign.type,
        status=campaign.status,
        status_reason=campaign.status_reason,
        platforms=campaign.platforms,
        segment_ids=campaign.segment_ids,
        targeting=Targeting(segment_ids=campaign.segment_ids),
        content=campaign.content,
        schedule=Schedule(
            start_date=campaign.scheduled_for,
            end_date=campaign.ends_at,
            local_time=campaign.local_time,
            optimal_time=campaign.optimal_time,
        ),
        scheduled_for=campaign.scheduled_for,
        budget=None if budget is None else budget / 100,
        budget_cents=budget,
        spent=campaign.spent_cents / 100,
        spent_cents=campaign.spent_cents,
        cost_per_message_cents=campaign.cost_per_message_cents,
        goals=campaign.goals,
        template_id=campaign.template_id,
        metrics=metrics,
        launch=LaunchReport.model_validate(campaign.launch) if campaign.launch else None,
        started_at=campaign.started_at,
        completed_at=campaign.completed_at,
        created_at=campaign.created_at,
        updated_at=campaign.updated_at,
    )


def campaign_out(session: Session, campaign: Campaign) -> CampaignOut:
    """The API shape of one campaign, with its metrics read now."""
    return to_out(campaign, metrics_of(session, [campaign.id])[campaign.id])


def list_campaigns(
    session: Session,
    creator_id: str,
    *,
    status: str | None,
    type_: str | None,
    platform: str | None,
    limit: int,
    cursor: str | None,
) -> CampaignPage:
    """A page of the creator's campaigns, newest first, filtered by status, type and
    platform.

    Raises:
        InvalidCursor: 400 ``invalid_cursor``.
    """
    stmt = select(Campaign).where(Campaign.creator_id == creator_id)
    if status:
        stmt = stmt.where(Campaign.status == status)
    if type_:
        stmt = stmt.where(Campaign.type == type_)
    if platform:
        stmt = stmt.where(sql_for(session).json_list_has(Campaign.platforms, platform))
    rows = list(session.scalars(PAGES.seek(stmt, PAGES.decode(cursor), limit)))
    page = rows[:limit]
    metrics = metrics_of(session, [c.id for c in page])
    return CampaignPage(
        items=[to_out(c, metrics[c.id]) for c in page], next_cursor=PAGES.next_cursor(rows, limit)
    )


def _fields(data: CampaignIn) -> dict[str, Any]:
    return {
        "name": data.name,
        "description": data.description,
        "type": data.type,
        "platforms": data.platforms,
        "segment_ids": data.segments(),
        "content": {k: v.model_dump(by_alias=True) for k, v in data.content.items()},
        "scheduled_for": data.start(),
        "ends_at": data.schedule.end_date if data.schedule else None,
        "local_time": data.schedule.local_time if data.schedule else None,
        "optimal_time": data.schedule.optimal_time if data.schedule else False,
        "budget_cents": data.budget_cents,
        "cost_per_message_cents": data.cost_per_message_cents,
        "goals": data.goals,
        "template_id": data.template_id,
    }


def _check_dates(data: CampaignIn, now: datetime) -> None:
    start, end = data.start(), data.schedule.end_date if data.schedule else None
    if start is not None and end is not None and end <= start:
        raise ApiError(
            422,
            "invalid_request",
            "The campaign must end after it starts",
            [{"field": "schedule.endDate", "message": "must be after the start"}],
        )


def create_campaign(session: Session, creator_id: str, data: CampaignIn, now: datetime) -> Campaign:
    """Create a campaign: ``scheduled`` when it names a start in the future, else ``draft``.

    Raises:
        InvalidCriteria: 422 naming a segment id that is not the creator's.
        ApiError: 422 ``invalid_request`` when it ends before it starts, and
            ``unsuitable_content`` for content a platform cannot take
            (:func:`huntaze.campaigns.adapt.check`).
    """
    check_segments(session, creator_id, data.segments())
    _check_dates(data, now)
    adapt.check(data.platforms, _fields(data)["content"])
    start = data.start()
    campaign = Campaign(
        id=new_id("camp"),
        creator_id=creator_id,
        status=CampaignStatus.SCHEDULED
        if start is not None and start > now
        else CampaignStatus.DRAFT,
        spent_cents=0,
        launch={},
        created_at=now,
        updated_at=now,
        **_fields(data),
    )
    session.add(campaign)
    session.flush()
    return campaign


def replace_campaign(
    session: Session, creator_id: str, campaign_id: str, data: CampaignIn, now: datetime
) -> Campaign:
    """Replace a draft or scheduled campaign's fields (a start in the future schedules it,
    none makes it a draft again).

    Raises:
        CampaignNotFound: 404. CampaignNotEditable: 409 once launched. InvalidCriteria: 422.
    """
    campaign = get_campaign(session, creator_id, campaign_id)
    if campaign.status not in lifecycle.EDITABLE:
        raise CampaignNotEditable(details=[{"field": "status", "value": campaign.status}])
    check_segments(session, creator_id, data.segments())
    _check_dates(data, now)
    adapt.check(data.platforms, _fields(data)["content"])
    for key, value in _fields(data).items():
        setattr(campaign, key, value)
    start = data.start()
    future = start is not None and start > now
    campaign.status = CampaignStatus.SCHEDULED if future else CampaignStatus.DRAFT
    campaign.updated_at = now
    session.flush()
    return campaign


def delete_campaign(session: Session, creator_id: str, campaign_id: str) -> None:
    """Delete a campaign that is not sending (its sent messages stay in the outbox).

    Raises:
        CampaignNotFound: 404. InvalidTransition: 409 while it is active or paused
            (cancel it first).
    """
    campaign = get_campaign(session, creator_id, campaign_id)
    if campaign.status in (CampaignStatus.ACTIVE, CampaignStatus.PAUSED):
        raise InvalidTransition(
            "Cancel the campaign before deleting it",
            [{"field": "status", "from": campaign.status, "action": "delete"}],
        )
    session.delete(campaign)
    session.flush()


def duplicate(
    session: Session, creator_id: str, campaign_id: str, name: str | None, now: datetime
) -> Campaign:
    """A draft copy of a campaign (any status), named ``name`` or the original's name with
    `` (copy)``; change it with ``PUT`` before launching it.

    Raises:
        CampaignNotFound: 404.
    """
    original = get_campaign(session, creator_id, campaign_id)
    copy = Campaign(
        id=new_id("camp"),
        creator_id=creator_id,
        name=name or f"{original.name[:248]} (copy)",
        description=original.description,
        type=original.type,
        status=CampaignStatus.DRAFT,
        platforms=list(original.platforms),
        segment_ids=list(original.segment_ids),
        content=dict(original.content),
        scheduled_for=None,
        ends_at=None,
        local_time=original.local_time,
        optimal_time=original.optimal_time,
        budget_cents=original.budget_cents,
        cost_per_message_cents=original.cost_per_message_cents,
        spent_cents=0,
        goals=dict(original.goals),
        template_id=original.template_id,
        launch={},
        created_at=now,
        updated_at=now,
    )
    session.add(copy)
    session.flush()
    return copy
