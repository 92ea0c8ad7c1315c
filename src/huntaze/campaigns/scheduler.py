"""The campaigns' clock work, run by every worker process between batches
(:attr:`huntaze.outbox.worker.Worker.jobs`): launch the scheduled campaigns that are due,
and end the campaigns whose end date has passed.

A due campaign is launched exactly once however many workers run: a tick moves a batch of
due campaigns from ``scheduled`` to ``active`` with one conditional ``UPDATE … WHERE status =
'scheduled'``, in the transaction that then fans them out. On PostgreSQL a ``SELECT …
FOR UPDATE SKIP LOCKED`` picks the batch first, so a worker skips the campaigns another
worker is launching rather than waiting for them; on SQLite the
transaction holds the one write lock from ``BEGIN IMMEDIATE``. A launch that fails (a
platform without content, a segment deleted since) changes nothing but its campaign, which
goes back to ``draft`` with the reason in ``statusReason``. An active campaign that costs
something per message has its spend brought up to date, and pauses itself at its budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import ColumnElement, Engine, func, or_, select, update
from sqlalchemy.orm import Session

from huntaze.campaigns.launch import Lookups, arms_of, launch
from huntaze.campaigns.schemas import LaunchReport
from huntaze.db.dialect import writer_bind
from huntaze.db.session import rows_changed
from huntaze.kit.clock import Clock
from huntaze.kit.errors import ApiError
from huntaze.models.campaigns import Campaign, CampaignExperiment, CampaignStatus
from huntaze.models.messaging import OutboxMessage, OutboxStatus

log = structlog.get_logger("huntaze.campaigns")

#: The most campaigns one tick launches or ends (the rest wait for the next tick, which a
#: full batch brings forward: :attr:`Tick.more`). Small, so that a tick's transaction is
#: short: its messages can be sent once it commits, and on SQLite the other workers' sends
#: wait for its write lock (with 100, the scheduling benchmark's send p99 on SQLite was
#: 1.05 s; with 25, 0.33 s to 0.52 s in the runs of bench/notes.md).
BATCH = 25

#: How often, at most, one campaign's spend is brought up to date (:func:`_spend`).
SPEND_EVERY = timedelta(seconds=1)


@dataclass
class Tick:
    """What a tick did: the campaigns it launched, ended, failed to launch, and paused at
    their budget, and whether a batch was full (:attr:`more`)."""

    launched: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    over_budget: list[str] = field(default_factory=list)
    #: a batch was full: more may be due now, so the worker ticks again without waiting
    more: bool = False


def tick(engine: Engine, clock: Clock) -> Tick:
    """Launch the due scheduled campaigns, end the expired ones, and bring the spend of the
    active ones that cost something up to date (pausing those at their budget), each in a
    transaction of its own, as of ``clock.now()``."""
    now = clock.now()
    done = Tick()
    _launch_due(engine, now, done)
    with Session(engine) as session:
        expired = session.scalars(
            select(Campaign.id)
            .where(
                Campaign.status.in_([CampaignStatus.ACTIVE, CampaignStatus.PAUSED]),
                Campaign.ends_at <= now,
            )
            .order_by(Campaign.ends_at, Campaign.id)
            .limit(BATCH)
        ).all()
        # those checked longest ago (never checked first), each at most once a second: a
        # tick reaches every costed campaign in turn, however many there are
        budgeted = session.scalars(
            select(Campaign.id)
            .where(
                Campaign.status == CampaignStatus.ACTIVE,
                Campaign.cost_per_message_cents > 0,
                or_(
                    Campaign.spend_checked_at.is_(None),
                    Campaign.spend_checked_at <= now - SPEND_EVERY,
                ),
            )
            .order_by(
                Campaign.spend_checked_at.is_not(None), Campaign.spend_checked_at, Campaign.id
            )
            .limit(BATCH)
        ).all()
    for campaign_id in expired:
        _end(engine, campaign_id, now, done)
    for campaign_id in budgeted:
        _spend(engine, campaign_id, now, done)
    return done


def _launch_due(engine: Engine, now: datetime, done: Tick) -> None:
    """Launch up to :data:`BATCH` due campaigns in one transaction: a ``SELECT … FOR UPDATE
    SKIP LOCKED`` picks them on PostgreSQL (so workers ticking together take different
    campaigns), one conditional ``UPDATE`` claims them (``scheduled`` to ``active``), then
    each is fanned out, the creators' accounts, rules and the campaigns' segments read once
    (:class:`~huntaze.campaigns.launch.Lookups`).

    The batch is first launched without a savepoint per campaign (a savepoint flushes the
    session and costs two statements, as much as a small launch itself). If any launch of it
    fails, that transaction is rolled back, claims included, and the batch is launched again
    with one savepoint per campaign: a launch that fails with a named error
    (:class:`~huntaze.kit.errors.ApiError`) is rolled back to its savepoint and its campaign
    goes back to ``draft``, with ``launch_failed:<code>`` in ``statusReason``; one that
    fails with any other error is rolled back to ``scheduled``, logged, and tried again on
    the next tick. Either way the others still launch. An error outside the launches (the
    claim, the commit) rolls the whole batch back, claims included."""
    is_due = (Campaign.status == CampaignStatus.SCHEDULED, Campaign.scheduled_for <= now)
    with Session(engine) as session:
        # a read first: a tick with nothing due takes no write lock (SQLite has one)
        if session.scalar(select(Campaign.id).where(*is_due).limit(1)) is None:
            return
    try:
        batch = _launch_batch(engine, now, is_due, careful=False)
    except _Redo as redo:
        cause = redo.__cause__
        log.warning(
            "campaign_batch_redone",
            campaign_id=redo.campaign_id,
            error=type(cause).__name__ if cause else None,
        )
        batch = _launch_batch(engine, now, is_due, careful=True)
    for campaign_id, error in batch.retried:
        log.error("campaign_launch_error", campaign_id=campaign_id, error=error)
    for campaign_id, queued in batch.launched:
        done.launched.append(campaign_id)
        log.info("campaign_launched", campaign_id=campaign_id, queued=queued)
    for campaign_id, code in batch.failed:
        done.failed.append(campaign_id)
        log.warning("campaign_launch_failed", campaign_id=campaign_id, code=code)
    # campaigns left scheduled after an unnamed error do not count: ticking again at once
    # for them would spin
    done.more = done.more or len(batch.launched) + len(batch.failed) >= BATCH


class _Redo(Exception):
    """A launch of the batch failed on the path without savepoints: launch it again with
    them."""

    def __init__(self, campaign_id: str | None) -> None:
        super().__init__(campaign_id)
        self.campaign_id = campaign_id


@dataclass
class _Batch:
    launched: list[tuple[str, int]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    retried: list[tuple[str, str]] = field(default_factory=list)


def _launch_batch(
    engine: Engine, now: datetime, is_due: tuple[ColumnElement[bool], ...], *, careful: bool
) -> _Batch:
    """Claim and launch one batch in one transaction (see :func:`_launch_due`).

    Raises:
        _Redo: without ``careful``, when a launch failed (the transaction is rolled back).
    """
    batch = _Batch()
    with Session(writer_bind(engine)) as session, session.begin():
        # the batch is picked (and locked, on PostgreSQL) by a statement of its own: as a
        # subquery of the UPDATE, PostgreSQL may scan it again for each row, and a rescan
        # skips the rows that UPDATE has just changed, so it took every due campaign
        due = session.scalars(
            select(Campaign.id)
            .where(*is_due)
            .order_by(Campaign.scheduled_for, Campaign.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        if not due:
            return batch
        claimed = set(
            session.scalars(
                update(Campaign)
                .where(Campaign.id.in_(due), Campaign.status == CampaignStatus.SCHEDULED)
                .values(status=CampaignStatus.ACTIVE, started_at=now, updated_at=now)
                .returning(Campaign.id)
                .execution_options(synchronize_session=False)
            )
        )
        if not claimed:
            return batch
        campaigns = session.scalars(
            select(Campaign)
            .where(Campaign.id.in_(claimed))
            .order_by(Campaign.scheduled_for, Campaign.id)
        ).all()
        tests = {
            e.campaign_id: e
            for e in session.scalars(
                select(CampaignExperiment).where(
                    CampaignExperiment.campaign_id.in_(claimed),
                    CampaignExperiment.status == "running",
                )
            )
        }
        lookups = Lookups(session)
        lookups.load_segments(campaigns)
        if not careful:
            # the reports are written together at the commit (one executemany), not
            # flushed one by one before each launch's statements
            with session.no_autoflush:
                for campaign in campaigns:
                    try:
                        report = _launch_one(session, campaign, tests, now, lookups)
                    except Exception as exc:
                        raise _Redo(campaign.id) from exc
                    batch.launched.append((campaign.id, report.queued))
            try:
                session.flush()
            except Exception as exc:
                raise _Redo(None) from exc
            return batch
        for campaign in campaigns:
            try:
                with session.begin_nested():
                    report = _launch_one(session, campaign, tests, now, lookups)
                batch.launched.append((campaign.id, report.queued))
            except ApiError as exc:
                campaign.status, campaign.started_at = CampaignStatus.DRAFT, None
                campaign.status_reason = f"launch_failed:{exc.code}"[:64]
                batch.failed.append((campaign.id, exc.code))
            except Exception as exc:
                # not the campaign's fault as far as we know (a lock timeout, a bug): it
                # stays scheduled, to be tried again next tick, and the batch goes on
                campaign.status, campaign.started_at = CampaignStatus.SCHEDULED, None
                batch.retried.append((campaign.id, type(exc).__name__))
    return batch


def _launch_one(
    session: Session,
    campaign: Campaign,
    tests: dict[str, CampaignExperiment],
    now: datetime,
    lookups: Lookups,
) -> LaunchReport:
    arms, waiting = arms_of(campaign, tests.get(campaign.id), session)
    report = launch(session, campaign, now, arms, waiting, lookups, exclusive=True)
    campaign.launch = report.model_dump(by_alias=True)
    campaign.status_reason = None
    return report


def _end(engine: Engine, campaign_id: str, now: datetime, done: Tick) -> None:
    """Complete a campaign whose end date has passed: what is still queued or held is
    cancelled (a message being sent finishes)."""
    with Session(writer_bind(engine)) as session, session.begin():
        ended = rows_changed(
            session,
            update(Campaign)
            .where(
                Campaign.id == campaign_id,
                Campaign.status.in_([CampaignStatus.ACTIVE, CampaignStatus.PAUSED]),
            )
            .values(
                status=CampaignStatus.COMPLETED,
                status_reason="ended",
                completed_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False),
        )
        if not ended:
            return
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.campaign_id == campaign_id,
                OutboxMessage.status.in_([OutboxStatus.QUEUED, OutboxStatus.HELD]),
            )
            .values(status=OutboxStatus.CANCELLED, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    done.ended.append(campaign_id)


def _spend(engine: Engine, campaign_id: str, now: datetime, done: Tick) -> None:
    """Spent = delivered messages x ``cost_per_message_cents``; at the budget the campaign
    pauses (its queued messages held) with ``statusReason`` ``budget_reached``. A campaign's
    spend is checked at most every :data:`SPEND_EVERY` (those checked longest ago first), so
    the messages delivered in between may take it past the budget."""
    with Session(writer_bind(engine)) as session, session.begin():
        campaign = session.get(Campaign, campaign_id)
        if campaign is None or campaign.status != CampaignStatus.ACTIVE:
            return
        campaign.spend_checked_at = now
        delivered = session.scalar(
            select(func.count()).where(
                OutboxMessage.campaign_id == campaign_id,
                OutboxMessage.status == OutboxStatus.SENT,
            )
        )
        spent = int(delivered or 0) * campaign.cost_per_message_cents
        if spent != campaign.spent_cents:
            campaign.spent_cents, campaign.updated_at = spent, now
        if campaign.budget_cents is None or spent < campaign.budget_cents:
            return
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.campaign_id == campaign_id,
                OutboxMessage.status == OutboxStatus.QUEUED,
            )
            .values(status=OutboxStatus.HELD, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        campaign.status, campaign.status_reason = CampaignStatus.PAUSED, "budget_reached"
    done.over_budget.append(campaign_id)
    log.info("campaign_budget_reached", campaign_id=campaign_id, spent_cents=spent)
