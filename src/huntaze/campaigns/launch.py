"""Launching a campaign: its audience resolved at that moment and fanned out into outbox
rows, one set-based ``INSERT … SELECT`` per platform
(:func:`huntaze.messaging.fanout.insert_personalised`).

Skipped fans are counted, never queued: those who opted out, those the campaign has already
messaged (a fan gets one message per campaign and platform, also across relaunches), and
those with no channel: on a platform that has no active sending account yet (Instagram,
TikTok and Reddit until their connectors exist), or on none of the campaign's platforms.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select
from sqlalchemy.orm import Session

from huntaze.campaigns.errors import MissingContent
from huntaze.campaigns.schemas import LaunchReport
from huntaze.messaging.fanout import insert_personalised, reachable_on
from huntaze.models.campaigns import Campaign
from huntaze.models.crm import Fan
from huntaze.models.messaging import AccountStatus, OutboxMessage, SendingAccount
from huntaze.models.segments import Segment
from huntaze.segments.audience import members_of
from huntaze.segments.errors import InvalidCriteria


def check_segments(session: Session, creator_id: str, segment_ids: Sequence[str]) -> None:
    """Check that every id names one of the creator's segments.

    Raises:
        InvalidCriteria: 422 naming ``segmentIds[i]`` for the first that does not.
    """
    if not segment_ids:
        return
    found = set(
        session.scalars(
            select(Segment.id).where(Segment.creator_id == creator_id, Segment.id.in_(segment_ids))
        )
    )
    for i, seg_id in enumerate(segment_ids):
        if seg_id not in found:
            raise InvalidCriteria(f"segmentIds[{i}]", f"no segment {seg_id[:64]!r}")


def audience(session: Session, campaign: Campaign, now: datetime) -> list[ColumnElement[bool]]:
    """The conditions selecting the campaign's audience at ``now``: the union of its
    segments' members, or every fan of the creator when it names none.

    Raises:
        InvalidCriteria: 422 when one of its segments is gone.
    """
    tenant = Fan.creator_id == campaign.creator_id
    if not campaign.segment_ids:
        return [tenant]
    check_segments(session, campaign.creator_id, campaign.segment_ids)
    parts = []
    for seg_id in campaign.segment_ids:
        seg = session.get(Segment, seg_id)
        assert seg is not None  # checked above, in this transaction
        parts.append(and_(*members_of(session, seg, now)))
    return [tenant, or_(*parts)]


def content_for(campaign: Campaign, platform: str) -> dict[str, Any] | None:
    """What ``platform`` receives: its own content, else ``default``, else None."""
    found = campaign.content.get(platform) or campaign.content.get("default")
    return dict(found) if found else None


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


def launch(session: Session, campaign: Campaign, now: datetime) -> LaunchReport:
    """Queue the campaign's messages as of ``now`` and return what was queued and skipped.

    Raises:
        MissingContent: 422 when a platform with a sending account has no content (checked
            before anything is queued).
        InvalidCriteria: 422 when one of its segments is gone.
    """
    creator_id = campaign.creator_id
    accounts = {p: active_account(session, creator_id, p) for p in campaign.platforms}
    for platform, account in accounts.items():
        if account is not None and content_for(campaign, platform) is None:
            raise MissingContent(details=[{"field": f"content.{platform}"}])
    conds = audience(session, campaign, now)
    messaged = exists().where(
        OutboxMessage.campaign_id == campaign.id, OutboxMessage.fan_id == Fan.id
    )
    opted_out = Fan.consent == "opted_out"
    report = LaunchReport(skipped={"optedOut": 0, "noChannel": 0, "alreadyMessaged": 0})
    for platform, account in accounts.items():
        base = [*conds, reachable_on(platform)]
        counts = {"queued": 0, "optedOut": 0, "noChannel": 0, "alreadyMessaged": 0}
        if account is None:
            counts["noChannel"] = _count(session, base)
        else:
            counts["optedOut"] = _count(session, [*base, opted_out])
            counts["alreadyMessaged"] = _count(session, [*base, not_(opted_out), messaged])
            content = content_for(campaign, platform) or {}
            counts["queued"] = insert_personalised(
                session,
                account,
                now,
                [*base, not_(opted_out), not_(messaged)],
                template=content["text"],
                key_prefix=campaign.id,
                campaign_id=campaign.id,
                media_urls=content.get("mediaUrls") or [],
                price_cents=content.get("priceCents"),
            )
        report.by_platform[platform] = counts
        report.queued += counts["queued"]
        for reason in ("optedOut", "noChannel", "alreadyMessaged"):
            report.skipped[reason] += counts[reason]
    on_none = not_(or_(*(reachable_on(p) for p in campaign.platforms)))
    report.skipped["noChannel"] += _count(session, [*conds, on_none])
    return report


def _count(session: Session, conds: Sequence[ColumnElement[bool]]) -> int:
    return int(session.scalar(select(func.count()).select_from(Fan).where(*conds)) or 0)
