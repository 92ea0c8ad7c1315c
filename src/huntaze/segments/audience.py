"""Resolving an audience: criteria, or a segment, to the conditions selecting its fans.

Campaigns resolve their audiences here at launch; segments, their members.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from huntaze.fans.compiler import Compiler, SegmentResolver
from huntaze.fans.criteria import parse
from huntaze.fans.errors import InvalidCriteria
from huntaze.fans.tiers import TierRules
from huntaze.models.crm import Fan
from huntaze.models.segments import FanTierRules, Segment, SegmentKind, SegmentMember


def audience(
    session: Session,
    creator_id: str,
    criteria: Any,
    now: datetime,
    *,
    path: str = "criteria",
    within: frozenset[str] = frozenset(),
    tiers: TierRules | None = None,
) -> list[ColumnElement[bool]]:
    """The conditions selecting ``creator_id``'s fans that ``criteria`` (decoded JSON) name
    at ``now``; campaigns resolve their audiences through it. ``within`` holds the segments
    whose criteria are being compiled, so that a circle of references is refused. ``tiers``
    are the creator's tier thresholds when the caller has read them already.

    Raises:
        InvalidCriteria: 422 naming the offending criterion (also a segment that does not
            exist, or segments that refer to each other in a circle).
    """
    node = parse(criteria, path)
    tiers = tiers or tier_rules(session, creator_id)
    resolver = _resolver(session, creator_id, now, within, tiers)
    return Compiler(creator_id, now, resolver, tiers).where(node)


def tier_rules(session: Session, creator_id: str) -> TierRules:
    """The creator's fan-tier thresholds (the defaults when it set none)."""
    stored = session.get(FanTierRules, creator_id)
    return TierRules() if stored is None else TierRules.model_validate(stored.rules)


def _resolver(
    session: Session, creator_id: str, now: datetime, within: frozenset[str], tiers: TierRules
) -> SegmentResolver:
    def resolve(segment_id: str, path: str) -> ColumnElement[bool]:
        seg = session.scalar(
            select(Segment).where(Segment.id == segment_id, Segment.creator_id == creator_id)
        )
        if seg is None:
            raise InvalidCriteria(f"{path}.value", f"no segment {segment_id[:64]!r}")
        if seg.kind == SegmentKind.STATIC:
            return exists().where(
                SegmentMember.segment_id == seg.id, SegmentMember.fan_id == Fan.id
            )
        if seg.id in within:
            raise InvalidCriteria(f"{path}.value", "segments refer to each other in a circle")
        inner = Compiler(
            creator_id, now, _resolver(session, creator_id, now, within | {seg.id}, tiers), tiers
        )
        return inner.compile(parse(seg.criteria))

    return resolve


def members_of(
    session: Session, seg: Segment, now: datetime, tiers: TierRules | None = None
) -> list[ColumnElement[bool]]:
    """The conditions selecting ``seg``'s members: the stored ones of a static segment, the
    fans its criteria select now for a dynamic one (``tiers`` as :func:`audience`)."""
    if seg.kind == SegmentKind.STATIC:
        stored = exists().where(SegmentMember.segment_id == seg.id, SegmentMember.fan_id == Fan.id)
        return [Fan.creator_id == seg.creator_id, stored]
    return audience(
        session, seg.creator_id, seg.criteria, now, within=frozenset({seg.id}), tiers=tiers
    )
