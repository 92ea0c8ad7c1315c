"""HTTP routes for segments: ``/api/segments`` (seed 004's SegmentationService)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from huntaze.auth.deps import Reader, Writer
from huntaze.context import DbSession, Now
from huntaze.fans.errors import InvalidCriteria
from huntaze.fans.schemas import FanPage
from huntaze.fans.tiers import TierRules
from huntaze.kit.http import ERRORS, Limit
from huntaze.kit.pagination import DEFAULT_LIMIT
from huntaze.kit.validation import SafeStr
from huntaze.segments import service
from huntaze.segments.schemas import (
    PreviewIn,
    PreviewOut,
    RefreshOut,
    SegmentComparison,
    SegmentIn,
    SegmentOut,
    SegmentPage,
    SegmentPerformance,
    SmartAudiences,
    TierCounts,
)

router = APIRouter(prefix="/api/segments", tags=["segments"])
SegmentId = Annotated[SafeStr, Path(max_length=64)]
Cursor = Annotated[SafeStr | None, Query(max_length=1024)]


@router.get("", response_model=SegmentPage, responses=ERRORS)
def list_segments(
    session: DbSession, principal: Reader, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> SegmentPage:
    """The creator's segments, by name."""
    return service.list_segments(session, principal.creator_id, limit, cursor)


@router.post("", response_model=SegmentOut, status_code=201, responses=ERRORS)
def create_segment(data: SegmentIn, now: Now, session: DbSession, principal: Writer) -> SegmentOut:
    """Create a segment; its members are stored at once (``memberCount``)."""
    return service.to_out(service.create_segment(session, principal.creator_id, data, now))


@router.post("/preview", response_model=PreviewOut, responses=ERRORS)
def preview_segment(data: PreviewIn, now: Now, session: DbSession, principal: Reader) -> PreviewOut:
    """The size and worth of an audience and a sample of it, without saving anything."""
    return service.preview(session, principal.creator_id, data.criteria, data.sample_size, now)


@router.get("/smart", response_model=SmartAudiences, responses=ERRORS)
def smart_audiences(now: Now, session: DbSession, principal: Reader) -> SmartAudiences:
    """The built-in smart audiences, each with its size now."""
    return service.smart_audiences(session, principal.creator_id, now)


@router.get("/tiers", response_model=TierCounts, responses=ERRORS)
def fan_tiers(now: Now, session: DbSession, principal: Reader) -> TierCounts:
    """The fan-tier thresholds (RFM, docs/segments.md) and the fans in each tier now."""
    return service.tiers(session, principal.creator_id, now)


@router.put("/tiers", response_model=TierCounts, responses=ERRORS)
def set_fan_tiers(rules: TierRules, now: Now, session: DbSession, principal: Writer) -> TierCounts:
    """Replace the fan-tier thresholds; answers the counts they give."""
    return service.set_tiers(session, principal.creator_id, rules, now)


@router.get("/compare", response_model=SegmentComparison, responses=ERRORS)
def compare_segments(
    now: Now,
    session: DbSession,
    principal: Reader,
    ids: Annotated[SafeStr, Query(max_length=1000, description="Comma-separated segment ids")],
) -> SegmentComparison:
    """Several segments side by side (2 to 10 ids), with the members each pair shares."""
    wanted = list(dict.fromkeys(i.strip() for i in ids.split(",") if i.strip()))
    if not 1 <= len(wanted) <= service.MAX_COMPARE:
        raise InvalidCriteria("ids", f"name 1 to {service.MAX_COMPARE} segments")
    return service.compare(session, principal.creator_id, wanted, now)


@router.get("/{segment_id}", response_model=SegmentOut, responses=ERRORS)
def get_segment(segment_id: SegmentId, session: DbSession, principal: Reader) -> SegmentOut:
    """One segment, with what its last refresh measured."""
    return service.to_out(service.get_segment(session, principal.creator_id, segment_id))


@router.put("/{segment_id}", response_model=SegmentOut, responses=ERRORS)
def replace_segment(
    segment_id: SegmentId, data: SegmentIn, now: Now, session: DbSession, principal: Writer
) -> SegmentOut:
    """Replace a segment; its members are refreshed."""
    seg = service.replace_segment(session, principal.creator_id, segment_id, data, now)
    return service.to_out(seg)


@router.delete("/{segment_id}", status_code=204, response_class=Response, responses=ERRORS)
def delete_segment(segment_id: SegmentId, session: DbSession, principal: Writer) -> Response:
    """Delete a segment (409 ``segment_in_use`` while another segment's criteria name it)."""
    service.delete_segment(session, principal.creator_id, segment_id)
    return Response(status_code=204)


@router.get("/{segment_id}/members", response_model=FanPage, responses=ERRORS)
def segment_members(
    segment_id: SegmentId,
    now: Now,
    session: DbSession,
    principal: Reader,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> FanPage:
    """The segment's members, newest first: a static segment's stored members, a dynamic
    segment's as its criteria select them now."""
    return service.members(session, principal.creator_id, segment_id, limit, cursor, now)


@router.post("/{segment_id}/refresh", response_model=RefreshOut, responses=ERRORS)
def refresh_segment(
    segment_id: SegmentId, now: Now, session: DbSession, principal: Writer
) -> RefreshOut:
    """Evaluate the criteria again and store the members; says how many entered and left."""
    return service.refresh_segment(session, principal.creator_id, segment_id, now)


@router.get("/{segment_id}/performance", response_model=SegmentPerformance, responses=ERRORS)
def segment_performance(
    segment_id: SegmentId, now: Now, session: DbSession, principal: Reader
) -> SegmentPerformance:
    """The members' revenue and engagement, measured now."""
    return service.performance(session, principal.creator_id, segment_id, now)
