"""Launching a campaign: its audience resolved at that moment and fanned out into outbox
rows, one set-based ``INSERT … SELECT`` per platform
(:func:`huntaze.messaging.fanout.insert_personalised`).

Skipped fans are counted, never queued: those who opted out, those the campaign has already
messaged (a fan gets one message per campaign and platform, also across relaunches), those
at the creator's frequency cap, and those with no channel: on a platform that has no active
sending account yet (Instagram, TikTok and Reddit until their connectors exist), or on none
of the campaign's platforms. Each queued row is due at the fan's send time
(:mod:`huntaze.campaigns.send_window`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from huntaze.campaigns import adapt, send_window
from huntaze.campaigns.errors import MissingContent
from huntaze.campaigns.schemas import LaunchReport
from huntaze.db.expressions import sql_for
from huntaze.fans.compiler import NotIndexed
from huntaze.fans.errors import InvalidCriteria
from huntaze.fans.tiers import TierRules
from huntaze.messaging.fanout import insert_personalised, reachable_on
from huntaze.models.campaigns import Campaign, CampaignExperiment, SendingRules
from huntaze.models.crm import Fan
from huntaze.models.messaging import AccountStatus, OutboxMessage, SendingAccount
from huntaze.models.segments import Segment
from huntaze.segments.audience import members_of, tier_rules

#: Buckets of an A/B test's assignment (:meth:`huntaze.db.expressions.SqlExpressions.bucket`).
BUCKETS = 2**32


def check_segments(session: Session, creator_id: str, segment_ids: Sequence[str]) -> None:
    """Check that every id names one of the creator's segments.

    Raises:
        InvalidCriteria: 422 naming ``segmentIds[i]`` for the first that does not.
    """
    if not segment_ids:
        return
    # whole rows, so the launch that checks them finds them in the session's identity map
    found = {
        seg.id
        for seg in session.scalars(
            select(Segment).where(Segment.creator_id == creator_id, Segment.id.in_(segment_ids))
        )
    }
    for i, seg_id in enumerate(segment_ids):
        if seg_id not in found:
            raise InvalidCriteria(f"segmentIds[{i}]", f"no segment {seg_id[:64]!r}")


class Lookups:
    """The per-creator rows a launch reads (its sending accounts, sending rules and tier
    thresholds, its segments), read once per creator however many campaigns one transaction
    launches (:func:`huntaze.campaigns.scheduler.tick` launches a batch of due campaigns in
    one). Only for the transaction it was made in."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._accounts: dict[tuple[str, str], SendingAccount | None] = {}
        self._rules: dict[str, SendingRules | None] = {}
        self._tiers: dict[str, TierRules] = {}
        self._segments: dict[str, Segment] = {}

    def load_segments(self, campaigns: Sequence[Campaign]) -> None:
        """Read the segments ``campaigns`` name, all in one query (the launches then find
        them here instead of reading each)."""
        wanted = {seg_id for c in campaigns for seg_id in c.segment_ids}
        wanted -= self._segments.keys()
        if wanted:
            for seg in self.session.scalars(select(Segment).where(Segment.id.in_(wanted))):
                self._segments[seg.id] = seg

    def segments(self, creator_id: str, segment_ids: Sequence[str]) -> list[Segment]:
        """The creator's segments with these ids, in order.

        Raises:
            InvalidCriteria: 422 naming ``segmentIds[i]`` for the first id that is not one
                of the creator's segments.
        """
        if any(seg_id not in self._segments for seg_id in segment_ids):
            check_segments(self.session, creator_id, segment_ids)
            for seg_id in segment_ids:
                seg = self.session.get(Segment, seg_id)
                assert seg is not None  # checked above, in this transaction
                self._segments[seg_id] = seg
        found = [self._segments[seg_id] for seg_id in segment_ids]
        for i, seg in enumerate(found):
            if seg.creator_id != creator_id:
                raise InvalidCriteria(f"segmentIds[{i}]", f"no segment {seg.id[:64]!r}")
        return found

    def account(self, creator_id: str, platform: str) -> SendingAccount | None:
        """:func:`active_account`, once per creator and platform."""
        key = (creator_id, platform)
        if key not in self._accounts:
            self._accounts[key] = active_account(self.session, creator_id, platform)
        return self._accounts[key]

    def rules(self, creator_id: str) -> SendingRules | None:
        """:func:`huntaze.campaigns.send_window.rules_of`, once per creator."""
        if creator_id not in self._rules:
            self._rules[creator_id] = send_window.rules_of(self.session, creator_id)
        return self._rules[creator_id]

    def tiers(self, creator_id: str) -> TierRules:
        """:func:`huntaze.segments.audience.tier_rules`, once per creator."""
        if creator_id not in self._tiers:
            self._tiers[creator_id] = tier_rules(self.session, creator_id)
        return self._tiers[creator_id]


def audience(
    session: Session, campaign: Campaign, now: datetime, lookups: Lookups | None = None
) -> list[ColumnElement[bool]]:
    """The conditions selecting the campaign's audience at ``now``: the union of its
    segments' members, or every fan of the creator when it names none.

    A single segment's conditions already hold the creator's term, written for the plan its
    criteria need (``fans.compiler.Compiler.where``); the campaign's own term then stays off
    SQLite's indexes (:class:`~huntaze.fans.compiler.NotIndexed`), so that SQLite does not
    walk every fan of the creator when the segment is read from a measure's set.

    Raises:
        InvalidCriteria: 422 when one of its segments is gone.
    """
    tenant = Fan.creator_id == campaign.creator_id
    if not campaign.segment_ids:
        return [tenant]
    lookups = lookups or Lookups(session)
    segments = lookups.segments(campaign.creator_id, campaign.segment_ids)
    tiers = lookups.tiers(campaign.creator_id)
    members = [members_of(session, seg, now, tiers) for seg in segments]
    if len(members) == 1:
        return [NotIndexed(Fan.creator_id) == campaign.creator_id, *members[0]]
    return [tenant, or_(*(and_(*conds) for conds in members))]


def active_account(session: Session, creator_id: str, platform: str) -> SendingAccount | None:
    """The creator's first active sending account on ``platform`` (by creation), if any."""
    return session.scalar(
        select(SendingAccount)
        .where(
            SendingAccount.creator_id == creator_id,
            SendingAccount.platform == platform,
            SendingAccount.status == AccountStatus.ACTIVE,
        )
        .order_by(SendingAccount.created_at, SendingAccount.id)
        .limit(1)
    )


@dataclass(frozen=True, slots=True)
class Arm:
    """Who receives what: the fans ``conditions`` add to the audience get ``content`` (per
    platform, or ``default``), their rows marked ``variant_id``."""

    variant_id: str | None
    content: dict[str, Any]
    conditions: tuple[ColumnElement[bool], ...] = ()


def arms_of(
    campaign: Campaign, experiment: CampaignExperiment | None, session: Session
) -> tuple[list[Arm], ColumnElement[bool] | None]:
    """The launch's arms: the campaign's content for everyone, or one arm per variant of a
    running A/B test, each taking its share of the buckets below ``testShare``. Returns the
    arms and, for a test, the condition of the fans that wait for the winner."""
    if experiment is None:
        return [Arm(None, campaign.content)], None
    bucket = sql_for(session).bucket(literal(experiment.id + ":", String) + Fan.id)
    scale = float(BUCKETS) * experiment.test_share
    total = sum(float(v["weight"]) for v in experiment.variants)
    arms, low, running = [], 0, 0.0
    for variant in experiment.variants:
        running += float(variant["weight"])
        high = round(scale * running / total)
        content = variant.get("content") or campaign.content
        arms.append(Arm(variant["id"], content, (bucket >= low, bucket < high)))
        low = high
    return arms, bucket >= low


def launch(
    session: Session,
    campaign: Campaign,
    now: datetime,
    arms: Sequence[Arm] | None = None,
    waiting: ColumnElement[bool] | None = None,
    lookups: Lookups | None = None,
    *,
    exclusive: bool = False,
) -> LaunchReport:
    """Queue the campaign's messages as of ``now`` and return what was queued and skipped.

    ``arms`` split the audience (:func:`arms_of`; the campaign's content for everyone by
    default); fans matching ``waiting`` are an A/B test's rest, counted as
    ``awaitingWinner`` and not messaged yet. ``lookups`` share the creator's rows between
    the launches of one transaction.

    ``exclusive`` says the caller claimed the launch (moved the campaign to ``active`` with a
    conditional ``UPDATE`` in this transaction), so no other launch of it runs meanwhile:
    then, on an account where none of the audience was messaged by the campaign yet (the
    first launch), the rows are inserted without ``ON CONFLICT DO NOTHING``, which costs
    PostgreSQL a speculative insertion per row.

    Raises:
        MissingContent: 422 when a platform with a sending account has no content in an arm
            (checked before anything is queued).
        InvalidCriteria: 422 when one of its segments is gone.
    """
    arms = list(arms or [Arm(None, campaign.content)])
    creator_id = campaign.creator_id
    lookups = lookups or Lookups(session)
    accounts = {p: lookups.account(creator_id, p) for p in campaign.platforms}
    for platform, account in accounts.items():
        for arm in arms:
            if account is not None and _content(arm.content, platform) is None:
                raise MissingContent(details=[{"field": f"content.{platform}"}])
    conds = audience(session, campaign, now, lookups)
    opted_out = Fan.consent == "opted_out"
    rules = lookups.rules(creator_id)
    at_cap = send_window.capped(rules, now)
    due = send_window.send_times(session, campaign, rules, conds, now)
    reasons = ("optedOut", "noChannel", "alreadyMessaged", "frequencyCapped") + (
        ("awaitingWinner",) if waiting is not None else ()
    )
    report = LaunchReport(skipped=dict.fromkeys(reasons, 0))
    on_none = not_(or_(*(reachable_on(p) for p in campaign.platforms)))
    for i, (platform, account) in enumerate(accounts.items()):
        reach = reachable_on(platform)
        counts = {"queued": 0, **dict.fromkeys(reasons, 0)}
        # what each skip counts, among the audience; all in one pass over it, taken before
        # this platform's rows are queued (an earlier platform's rows count for the cap)
        skips: dict[str, list[ColumnElement[bool]]] = {}
        if i == 0:
            skips["_onNone"] = [on_none]
        ready: list[ColumnElement[bool]] = [reach, not_(opted_out)]
        if account is None:
            skips["noChannel"] = [reach]
        else:
            messaged = exists().where(
                OutboxMessage.campaign_id == campaign.id,
                OutboxMessage.account_id == account.id,
                OutboxMessage.fan_id == Fan.id,
            )
            skips["optedOut"] = [reach, opted_out]
            skips["alreadyMessaged"] = [*ready, messaged]
            if at_cap is not None:
                # each message counts: a fan two of the platforms reach may reach the cap
                # with the first platform's message
                skips["frequencyCapped"] = [*ready, not_(messaged), at_cap]
                ready.append(not_(at_cap))
            if waiting is not None:
                skips["awaitingWinner"] = [*ready, not_(messaged), waiting]
        counted = _counts(session, conds, skips)
        report.skipped["noChannel"] += counted.pop("_onNone", 0)
        counts.update(counted)
        if account is not None:
            limits = adapt.rules_for(platform)
            for arm in arms:
                content = _content(arm.content, platform) or {}
                counts["queued"] += insert_personalised(
                    session,
                    account,
                    now,
                    [*conds, *ready, *arm.conditions],
                    template=content["text"],
                    key_prefix=campaign.id,
                    campaign_id=campaign.id,
                    variant_id=arm.variant_id,
                    media_urls=content.get("mediaUrls") or [],
                    price_cents=content.get("priceCents"),
                    # fans already messaged: one per campaign and account
                    skip_existing=not exclusive or counts["alreadyMessaged"] > 0,
                    not_before=due,
                    max_chars=None if limits.in_bytes else limits.max_text,
                )
        report.by_platform[platform] = counts
        report.queued += counts["queued"]
        for reason in reasons:
            report.skipped[reason] += counts[reason]
    if not accounts:
        report.skipped["noChannel"] += _counts(session, conds, {"n": [on_none]})["n"]
    return report


def _content(content: dict[str, Any], platform: str) -> dict[str, Any] | None:
    return adapt.for_platform(content, platform)


def _counts(
    session: Session,
    where: Sequence[ColumnElement[bool]],
    named: dict[str, list[ColumnElement[bool]]],
) -> dict[str, int]:
    """How many fans ``where`` selects meet each of ``named``'s conditions: one
    ``SELECT sum(CASE WHEN … THEN 1 ELSE 0 END), …`` over them, one pass however many."""
    columns = [
        func.coalesce(func.sum(case((and_(true(), *c), 1), else_=0)), 0).label(f"c{i}")
        for i, c in enumerate(named.values())
    ]
    row = session.execute(select(*columns).select_from(Fan).where(*where)).one()
    return {name: int(value) for name, value in zip(named, row, strict=True)}
