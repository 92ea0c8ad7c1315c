"""Segment use cases (seed 004's SegmentationService): create, read, replace, delete, list,
preview, members, refresh, performance, compare, and the built-in smart audiences.

Every function takes the caller's ``creator_id``; another creator's segment is not found.
Functions flush but never commit: the request boundary commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    delete,
    exists,
    func,
    literal,
    not_,
    select,
)
from sqlalchemy.orm import Session

from huntaze.db.expressions import sql_for
from huntaze.db.session import flush_or_raise, get_owned, rows_changed
from huntaze.eventlog import EventType, record_event
from huntaze.fans.criteria import parse, segment_ids
from huntaze.fans.errors import InvalidCriteria
from huntaze.fans.schemas import FanPage
from huntaze.fans.service import fan_page
from huntaze.fans.tiers import TIERS, TierRules, tier_expression
from huntaze.kit.ids import new_id
from huntaze.kit.keyset import Keyset, SortColumn
from huntaze.models.crm import Fan
from huntaze.models.segments import FanTierRules, Segment, SegmentMember
from huntaze.segments.audience import audience, members_of, tier_rules
from huntaze.segments.errors import SegmentExists, SegmentInUse, SegmentNotFound
from huntaze.segments.schemas import (
    PreviewOut,
    RefreshOut,
    SegmentComparison,
    SegmentIn,
    SegmentOut,
    SegmentPage,
    SegmentPerformance,
    SmartAudience,
    SmartAudiences,
    TierCounts,
)
from huntaze.segments.smart import SMART_AUDIENCES
from huntaze.segments.stats import measure, per_member

#: Segments page by name; members newest first.
PAGES = Keyset(SortColumn(Segment.name), Segment.id)
MEMBER_PAGES = Keyset(SortColumn(Fan.created_at, "datetime"), Fan.id, descending=True)
#: The most segments one comparison takes.
MAX_COMPARE = 10


def to_out(seg: Segment) -> SegmentOut:
    """The API shape of ``seg``."""
    avg = per_member(seg.revenue_cents, seg.member_count)
    return SegmentOut(
        id=seg.id,
        name=seg.name,
        description=seg.description,
        type=seg.kind,
        criteria=seg.criteria,
        member_count=seg.member_count,
        revenue_cents=seg.revenue_cents,
        avg_revenue_cents=avg,
        avg_revenue=avg / 100,
        avg_engagement=round(seg.messages_30d / seg.member_count, 4) if seg.member_count else 0.0,
        last_refreshed_at=seg.last_refreshed_at,
        created_at=seg.created_at,
        updated_at=seg.updated_at,
    )


def get_segment(session: Session, creator_id: str, segment_id: str) -> Segment:
    """The creator's segment ``segment_id``.

    Raises:
        SegmentNotFound: 404 (also for another creator's segment).
    """
    return get_owned(session, Segment, creator_id, segment_id, SegmentNotFound)


def list_segments(session: Session, creator_id: str, limit: int, cursor: str | None) -> SegmentPage:
    """A page of the creator's segments, by name.

    Raises:
        InvalidCursor: 400 ``invalid_cursor``.
    """
    stmt = select(Segment).where(Segment.creator_id == creator_id)
    rows = list(session.scalars(PAGES.seek(stmt, PAGES.decode(cursor), limit)))
    return SegmentPage(
        items=[to_out(s) for s in rows[:limit]], next_cursor=PAGES.next_cursor(rows, limit)
    )


def create_segment(session: Session, creator_id: str, data: SegmentIn, now: datetime) -> Segment:
    """Create a segment and store its members as of ``now``.

    Raises:
        InvalidCriteria: 422. SegmentExists: 409 for a name the creator already uses.
    """
    seg_id = new_id("seg")
    conditions = audience(session, creator_id, data.criteria, now, within=frozenset({seg_id}))
    seg = Segment(
        id=seg_id,
        creator_id=creator_id,
        name=data.name,
        description=data.description,
        kind=data.type,
        criteria=data.criteria,
        created_at=now,
        updated_at=now,
    )
    session.add(seg)
    flush_or_raise(session, SegmentExists())
    _store_members(session, seg, conditions, now, announce=False)
    return seg


def replace_segment(
    session: Session, creator_id: str, segment_id: str, data: SegmentIn, now: datetime
) -> Segment:
    """Replace a segment's name, description, type and criteria, and refresh its members
    (changes are announced as membership events).

    Raises:
        SegmentNotFound: 404. InvalidCriteria: 422. SegmentExists: 409.
    """
    seg = get_segment(session, creator_id, segment_id)
    conditions = audience(session, creator_id, data.criteria, now, within=frozenset({seg.id}))
    seg.name, seg.description = data.name, data.description
    seg.kind, seg.criteria, seg.updated_at = data.type, data.criteria, now
    flush_or_raise(session, SegmentExists())
    _store_members(session, seg, conditions, now, announce=True)
    return seg


def delete_segment(session: Session, creator_id: str, segment_id: str) -> None:
    """Delete a segment and its stored members.

    Raises:
        SegmentNotFound: 404. SegmentInUse: 409 when another segment's criteria name it.
    """
    seg = get_segment(session, creator_id, segment_id)
    others = session.scalars(
        select(Segment).where(Segment.creator_id == creator_id, Segment.id != seg.id)
    )
    users = [o.name for o in others if seg.id in segment_ids(parse(o.criteria))]
    if users:
        raise SegmentInUse(details=[{"field": "id", "usedBy": sorted(users)}])
    session.delete(seg)
    session.flush()


def refresh_segment(
    session: Session, creator_id: str, segment_id: str, now: datetime
) -> RefreshOut:
    """Evaluate the segment's criteria again and store its members as of ``now`` (a static
    segment is frozen anew). Each fan that entered or left is announced as a
    ``segment.member_added`` / ``segment.member_removed`` event.

    Raises:
        SegmentNotFound: 404. InvalidCriteria: 422 when a segment it refers to is gone.
    """
    seg = get_segment(session, creator_id, segment_id)
    conditions = audience(session, creator_id, seg.criteria, now, within=frozenset({seg.id}))
    added, removed = _store_members(session, seg, conditions, now, announce=True)
    return RefreshOut(segment=to_out(seg), added=added, removed=removed)


def _store_members(
    session: Session,
    seg: Segment,
    conditions: Sequence[ColumnElement[bool]],
    now: datetime,
    *,
    announce: bool,
) -> tuple[int, int]:
    """Make the stored members those ``conditions`` select, set-based; record the refresh's
    measures and, when ``announce``, one event per fan that entered or left. Returns
    ``(added, removed)``."""
    current = select(Fan.id).where(*conditions)
    stored = exists().where(SegmentMember.segment_id == seg.id, SegmentMember.fan_id == Fan.id)
    entering: list[str] = []
    leaving: list[str] = []
    if announce:
        entering = list(session.scalars(current.where(not_(stored))))
        leaving = list(
            session.scalars(
                select(SegmentMember.fan_id).where(
                    SegmentMember.segment_id == seg.id, SegmentMember.fan_id.not_in(current)
                )
            )
        )
    removed = rows_changed(
        session,
        delete(SegmentMember).where(
            SegmentMember.segment_id == seg.id, SegmentMember.fan_id.not_in(current)
        ),
    )
    # fans already stored are skipped by the primary key, not by a NOT EXISTS on the table
    # being written: PostgreSQL, planning with the statistics of an empty table, would scan
    # the rows this very statement inserts once per fan (quadratic: minutes for 1,000,000)
    added = rows_changed(
        session,
        sql_for(session)
        .insert_ignoring_conflicts(SegmentMember)
        .from_select(
            ["segment_id", "fan_id", "added_at"],
            select(literal(seg.id), Fan.id, literal(now, SegmentMember.added_at.type)).where(
                *conditions
            ),
        ),
    )
    for fan_id in entering:
        record_event(
            session,
            seg.creator_id,
            EventType.SEGMENT_MEMBER_ADDED,
            now,
            fan_id,
            {"segmentId": seg.id},
        )
    for fan_id in leaving:
        record_event(
            session,
            seg.creator_id,
            EventType.SEGMENT_MEMBER_REMOVED,
            now,
            fan_id,
            {"segmentId": seg.id},
        )
    stats = measure(session, seg.creator_id, conditions, now)
    seg.member_count = stats.member_count
    seg.revenue_cents = stats.revenue_cents
    seg.messages_30d = round(stats.avg_engagement * stats.member_count)
    seg.last_refreshed_at = now
    session.flush()
    return added, removed


def preview(
    session: Session, creator_id: str, criteria: Any, sample_size: int, now: datetime
) -> PreviewOut:
    """The size and worth of the audience ``criteria`` name, with up to ``sample_size``
    members (newest first), without saving anything.

    Raises:
        InvalidCriteria: 422.
    """
    conditions = audience(session, creator_id, criteria, now)
    stats = measure(session, creator_id, conditions, now)
    sample = (
        fan_page(session, conditions, MEMBER_PAGES, sample_size, None).items if sample_size else []
    )
    return PreviewOut(**stats.model_dump(), sample=sample)


def members(
    session: Session,
    creator_id: str,
    segment_id: str,
    limit: int,
    cursor: str | None,
    now: datetime,
) -> FanPage:
    """A page of the segment's members, newest first (a dynamic segment's as of ``now``).

    Raises:
        SegmentNotFound: 404. InvalidCursor: 400.
    """
    seg = get_segment(session, creator_id, segment_id)
    return fan_page(session, members_of(session, seg, now), MEMBER_PAGES, limit, cursor)


def performance(
    session: Session, creator_id: str, segment_id: str, now: datetime
) -> SegmentPerformance:
    """The segment's members' revenue and engagement, measured at ``now``.

    Raises:
        SegmentNotFound: 404.
    """
    seg = get_segment(session, creator_id, segment_id)
    stats = measure(session, creator_id, members_of(session, seg, now), now)
    return SegmentPerformance(segment_id=seg.id, name=seg.name, **stats.model_dump())


def compare(
    session: Session, creator_id: str, ids: Sequence[str], now: datetime
) -> SegmentComparison:
    """Several segments' performance side by side, and the members each pair shares.

    Raises:
        SegmentNotFound: 404 naming the first id that is not the creator's.
    """
    segs = [get_segment(session, creator_id, i) for i in ids]
    conds = [members_of(session, s, now) for s in segs]
    perf = [
        SegmentPerformance(
            segment_id=s.id, name=s.name, **measure(session, creator_id, c, now).model_dump()
        )
        for s, c in zip(segs, conds, strict=True)
    ]
    overlap = [[0] * len(segs) for _ in segs]
    for i, a in enumerate(conds):
        overlap[i][i] = perf[i].member_count
        for j in range(i + 1, len(segs)):
            shared = select(func.count()).where(*a, Fan.id.in_(select(Fan.id).where(*conds[j])))
            overlap[i][j] = overlap[j][i] = int(session.scalar(shared) or 0)
    return SegmentComparison(segments=perf, overlap=overlap)


def smart_audiences(session: Session, creator_id: str, now: datetime) -> SmartAudiences:
    """The built-in audiences (:mod:`.smart`), each with its size at ``now``."""
    items = []
    for smart in SMART_AUDIENCES:
        conds = audience(session, creator_id, smart.criteria, now)
        size = session.scalar(select(func.count()).where(*conds))
        items.append(
            SmartAudience(
                key=smart.key,
                name=smart.name,
                description=smart.description,
                priority=smart.priority,
                criteria=smart.criteria,
                member_count=int(size or 0),
            )
        )
    return SmartAudiences(items=items)


def tiers(session: Session, creator_id: str, now: datetime) -> TierCounts:
    """The creator's tier thresholds and its fans counted per tier at ``now`` (one grouped
    statement)."""
    rules = tier_rules(session, creator_id)
    tier = tier_expression(rules, now).label("tier")
    rows = session.execute(
        select(tier, func.count()).where(Fan.creator_id == creator_id).group_by(tier)
    ).all()
    counts = dict.fromkeys(TIERS, 0) | {str(name): int(n) for name, n in rows}
    return TierCounts(rules=rules, counts=counts)


def set_tiers(session: Session, creator_id: str, rules: TierRules, now: datetime) -> TierCounts:
    """Replace the creator's tier thresholds; return them with the counts they give.

    Raises:
        InvalidCriteria: 422 when ``bigSpenderMinCents`` is above ``vipWhaleMinCents`` (no fan
            could then be a big spender).
    """
    if rules.big_spender_min_cents > rules.vip_whale_min_cents:
        raise InvalidCriteria("bigSpenderMinCents", "must not be above vipWhaleMinCents")
    stored = session.get(FanTierRules, creator_id)
    values = rules.model_dump(by_alias=True)
    if stored is None:
        session.add(FanTierRules(creator_id=creator_id, rules=values, updated_at=now))
    else:
        stored.rules, stored.updated_at = values, now
    session.flush()
    return tiers(session, creator_id, now)
