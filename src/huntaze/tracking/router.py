"""HTTP routes for tracking: ``POST /api/track/events`` and ``GET /t/{token}``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from huntaze.auth.deps import Writer
from huntaze.context import Ctx, DbSession, Now
from huntaze.kit.http import ERRORS
from huntaze.tracking import clicks, service
from huntaze.tracking.links import PURPOSE, LinkSigner
from huntaze.tracking.schemas import EventsIn, IngestOut

router = APIRouter(prefix="/api/track", tags=["tracking"])


@router.post("/events", response_model=IngestOut, responses=ERRORS)
def ingest_events(data: EventsIn, now: Now, session: DbSession, principal: Writer) -> IngestOut:
    """Store a batch of impressions, opens, clicks, conversions and purchases
    (docs/tracking.md): idempotent on each event's ``externalId``; the valid events are kept
    and the others answered with their index and why."""
    return service.ingest(session, principal.creator_id, data.events, now)


#: ``GET /t/{token}``: public, without the ``/api`` prefix, as fans follow it from a message.
links_router = APIRouter(tags=["tracking"])


@links_router.get(
    "/t/{token}",
    status_code=302,
    response_class=RedirectResponse,
    responses={**ERRORS, 302: {"description": "Redirect to the link's target"}},
)
def follow_link(token: str, now: Now, session: DbSession, ctx: Ctx) -> RedirectResponse:
    """Record a fan's click on a campaign link and redirect (302) to its target
    (docs/tracking.md). Unauthenticated: the signed token is the credential, and the target
    is always one the campaign names, so this is no open redirect; 404 ``link_not_found``
    otherwise."""
    signer = LinkSigner(ctx.box.subkeys(PURPOSE))
    target = clicks.follow(session, signer, token, now)
    return RedirectResponse(
        target,
        status_code=302,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
