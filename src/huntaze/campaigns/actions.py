"""A campaign's lifecycle actions: schedule, start (launch), pause, resume, cancel, complete.

Each checks the move against :mod:`.lifecycle` (409 ``invalid_transition`` otherwise) and
acts on the campaign's outbox rows: starting queues them (:mod:`.launch`), pausing holds
them, resuming releases them, cancelling cancels them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from huntaze.campaigns import lifecycle
from huntaze.campaigns.errors import CampaignNotFinished, InvalidTransition
from huntaze.campaigns.launch import arms_of, launch
from huntaze.campaigns.service import get_campaign, metrics_of
from huntaze.db.session import rows_changed
from huntaze.kit.errors import ApiError
from huntaze.models.campaigns import Campaign, CampaignExperiment
from huntaze.models.messaging import OutboxMessage, OutboxStatus


def schedule(
    session: Session, creator_id: str, campaign_id: str, when: datetime, now: datetime
) -> Campaign:
    """Schedule a draft (or move a scheduled campaign) to start at ``when``.

    Raises:
        CampaignNotFound: 404. InvalidTransition: 409. ApiError: 422 for a time not in the
            future.
    """
    campaign = get_campaign(session, creator_id, campaign_id)
    to = lifecycle.target("schedule", campaign.status)
    if when <= now:
        raise ApiError(
            422,
            "invalid_request",
            "A campaign is scheduled in the future",
            [{"field": "scheduledFor", "message": "must be in the future"}],
        )
    campaign.status, campaign.scheduled_for, campaign.updated_at = to, when, now
    session.flush()
    return campaign


def start(session: Session, creator_id: str, campaign_id: str, now: datetime) -> Campaign:
    """Launch a draft or scheduled campaign now: its audience is resolved and its messages
    queued (:func:`.launch.launch`); it becomes ``active``.

    Raises:
        CampaignNotFound: 404. InvalidTransition: 409. MissingContent, InvalidCriteria: 422.
    """
    campaign = get_campaign(session, creator_id, campaign_id)
    to = lifecycle.target("start", campaign.status)
    # claim the launch: of two requests starting the campaign at once, the second finds it
    # active (PostgreSQL: after waiting for the first one's row lock) and answers 409, so
    # one launch at a time fans out and it may insert without conflict checks
    if not rows_changed(
        session,
        update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.status == campaign.status)
        .values(status=to, updated_at=now)
        .execution_options(synchronize_session=False),
    ):
        session.refresh(campaign)
        lifecycle.target("start", campaign.status)  # 409 naming the status it moved to
        raise InvalidTransition(
            "The campaign changed while it was starting",
            [{"field": "status", "from": campaign.status, "to": str(to), "action": "start"}],
        )
    experiment = running_experiment(session, campaign.id)
    arms, waiting = arms_of(campaign, experiment, session)
    report = launch(session, campaign, now, arms, waiting, exclusive=True)
    campaign.launch = report.model_dump(by_alias=True)
    campaign.status, campaign.status_reason = to, None
    campaign.started_at = campaign.updated_at = now
    session.flush()
    return campaign


def running_experiment(session: Session, campaign_id: str) -> CampaignExperiment | None:
    """The campaign's A/B test while it runs (None without one, or once applied)."""
    return session.scalar(
        select(CampaignExperiment).where(
            CampaignExperiment.campaign_id == campaign_id, CampaignExperiment.status == "running"
        )
    )


def _move_rows(
    session: Session, campaign: Campaign, old: Sequence[str], new: str, now: datetime
) -> int:
    """Set the campaign's rows in ``old`` statuses to ``new``; return how many moved."""
    return rows_changed(
        session,
        update(OutboxMessage)
        .where(OutboxMessage.campaign_id == campaign.id, OutboxMessage.status.in_(old))
        .values(status=new, updated_at=now)
        .execution_options(synchronize_session=False),
    )


def pause(
    session: Session, creator_id: str, campaign_id: str, now: datetime, reason: str | None = None
) -> Campaign:
    """Pause an active campaign: its queued messages are held (no worker claims them);
    a message already being sent finishes.

    Raises:
        CampaignNotFound: 404. InvalidTransition: 409.
    """
    campaign = get_campaign(session, creator_id, campaign_id)
    to = lifecycle.target("pause", campaign.status)
    _move_rows(session, campaign, [OutboxStatus.QUEUED], OutboxStatus.HELD, now)
    campaign.status, campaign.status_reason, campaign.updated_at = to, reason, now
    session.flush()
    return campaign


def resume(session: Session, creator_id: str, campaign_id: str, now: datetime) -> Campaign:
    """Resume a paused campaign: its held messages are queued again.

    Raises:
        CampaignNotFound: 404. InvalidTransition: 409.
    """
    campaign = get_campaign(session, creator_id, campaign_id)
    to = lifecycle.target("resume", campaign.status)
    _move_rows(session, campaign, [OutboxStatus.HELD], OutboxStatus.QUEUED, now)
    campaign.status, campaign.status_reason, campaign.updated_at = to, None, now
    session.flush()
    return campaign


def cancel(session: Session, creator_id: str, campaign_id: str, now: datetime) -> Campaign:
    """Cancel a campaign: what is still queued or held is cancelled (a message already being
    sent finishes).

    Raises:
        CampaignNotFound: 404. InvalidTransition: 409 once completed or cancelled.
    """
    campaign = get_campaign(session, creator_id, campaign_id)
    to = lifecycle.target("cancel", campaign.status)
    moved = [OutboxStatus.QUEUED, OutboxStatus.HELD]
    _move_rows(session, campaign, moved, OutboxStatus.CANCELLED, now)
    campaign.status, campaign.completed_at, campaign.updated_at = to, now, now
    session.flush()
    return campaign


def complete(session: Session, creator_id: str, campaign_id: str, now: datetime) -> Campaign:
    """Mark a campaign completed once every one of its messages has ended (sent, failed or
    cancelled).

    Raises:
        CampaignNotFound: 404. InvalidTransition: 409. CampaignNotFinished: 409 with the
            counts of messages still queued, held or being sent.
    """
    campaign = get_campaign(session, creator_id, campaign_id)
    to = lifecycle.target("complete", campaign.status)
    metrics = metrics_of(session, [campaign.id])[campaign.id]
    waiting = {"queued": metrics.queued, "held": metrics.held, "processing": metrics.processing}
    if any(waiting.values()):
        raise CampaignNotFinished(details=[{"field": "status", **waiting}])
    campaign.status, campaign.completed_at, campaign.updated_at = to, now, now
    session.flush()
    return campaign
