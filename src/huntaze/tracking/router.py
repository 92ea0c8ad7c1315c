"""HTTP routes for tracking: ``POST /api/track/events``."""

from __future__ import annotations

from fastapi import APIRouter

from huntaze.auth.deps import Writer
from huntaze.context import DbSession, Now
from huntaze.kit.http import ERRORS
from huntaze.tracking import service
from huntaze.tracking.schemas import EventsIn, IngestOut

router = APIRouter(prefix="/api/track", tags=["tracking"])


@router.post("/events", response_model=IngestOut, responses=ERRORS)
def ingest_events(data: EventsIn, now: Now, session: DbSession, principal: Writer) -> IngestOut:
    """Store a batch of impressions, opens, clicks, conversions and purchases
    (docs/tracking.md): idempotent on each event's ``externalId``; the valid events are kept
    and the others answered with their index and why."""
    return service.ingest(session, principal.creator_id, data.events, now)
