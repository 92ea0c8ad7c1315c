"""HTTP routes for fans: ``/api/crm/fans`` (the seed's contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from huntaze.auth.deps import DbSession, Reader, Writer
from huntaze.crm import fans
from huntaze.crm.fan_query import FanFilter
from huntaze.crm.schemas import (
    FanCreate,
    FanOut,
    FanPage,
    FanPatch,
    PurchasePage,
    SubscriptionStatus,
    TopFans,
)
from huntaze.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from huntaze.kit.schema import ErrorResponse

router = APIRouter(prefix="/api/crm/fans", tags=["fans"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)
}
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.ctx.clock.now()
    return now


@router.get("", response_model=FanPage, responses=ERRORS)
def list_fans(
    session: DbSession,
    principal: Reader,
    q: Annotated[str | None, Query(max_length=200, description="search")] = None,
    platform: str | None = None,
    tag: str | None = None,
    subscription_status: Annotated[
        SubscriptionStatus | None, Query(alias="subscriptionStatus")
    ] = None,
    min_ltv: Annotated[int | None, Query(alias="minLifetimeValueCents")] = None,
    max_ltv: Annotated[int | None, Query(alias="maxLifetimeValueCents")] = None,
    last_active_before: Annotated[datetime | None, Query(alias="lastActiveBefore")] = None,
    last_active_after: Annotated[datetime | None, Query(alias="lastActiveAfter")] = None,
    sort: str = "-createdAt",
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> FanPage:
    """List the creator's fans: search (``q``), filters, ``sort`` and cursor pagination.

    ``sort`` is one of createdAt, updatedAt, lifetimeValueCents, lastActiveAt, subscribedAt,
    username, displayName, with ``-`` for descending. Money filters are in cents.
    """
    flt = FanFilter(
        q=q,
        platform=platform,
        tag=tag,
        subscription_status=subscription_status,
        min_lifetime_value_cents=min_ltv,
        max_lifetime_value_cents=max_ltv,
        last_active_before=last_active_before,
        last_active_after=last_active_after,
    )
    return fans.list_fans(session, principal.creator_id, flt, sort=sort, limit=limit, cursor=cursor)


@router.post("", response_model=FanOut, status_code=201, responses=ERRORS)
def create_fan(data: FanCreate, request: Request, session: DbSession, principal: Writer) -> FanOut:
    """Create a fan (409 ``fan_exists`` when platform + platformFanId is taken)."""
    fan = fans.create_fan(session, principal.creator_id, data, _now(request))
    out = fans.fan_out(session, fan)
    session.commit()
    return out


@router.get("/top", response_model=TopFans, responses=ERRORS)
def top_fans(
    session: DbSession, principal: Reader, limit: Annotated[int, Query(ge=1, le=100)] = 10
) -> TopFans:
    """The creator's fans ranked by lifetime value, highest first."""
    return TopFans(items=fans.top_fans(session, principal.creator_id, limit))


@router.get("/{fan_id}", response_model=FanOut, responses=ERRORS)
def get_fan(fan_id: str, session: DbSession, principal: Reader) -> FanOut:
    """One fan (404 ``fan_not_found``)."""
    return fans.fan_out(session, fans.get_fan(session, principal.creator_id, fan_id))


@router.put("/{fan_id}", response_model=FanOut, responses=ERRORS)
def replace_fan(
    fan_id: str, data: FanCreate, request: Request, session: DbSession, principal: Writer
) -> FanOut:
    """Replace a fan's fields."""
    fan = fans.replace_fan(session, principal.creator_id, fan_id, data, _now(request))
    out = fans.fan_out(session, fan)
    session.commit()
    return out


@router.patch("/{fan_id}", response_model=FanOut, responses=ERRORS)
def patch_fan(
    fan_id: str, data: FanPatch, request: Request, session: DbSession, principal: Writer
) -> FanOut:
    """Change the fields sent, and only those."""
    fan = fans.patch_fan(session, principal.creator_id, fan_id, data, _now(request))
    out = fans.fan_out(session, fan)
    session.commit()
    return out


@router.delete("/{fan_id}", status_code=204, response_class=Response, responses=ERRORS)
def delete_fan(fan_id: str, request: Request, session: DbSession, principal: Writer) -> Response:
    """Delete a fan and everything attached to it."""
    fans.delete_fan(session, principal.creator_id, fan_id, _now(request))
    session.commit()
    return Response(status_code=204)


@router.get("/{fan_id}/purchases", response_model=PurchasePage, responses=ERRORS)
def fan_purchases(
    fan_id: str,
    session: DbSession,
    principal: Reader,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> PurchasePage:
    """The fan's payments, newest first; amounts in signed cents."""
    return fans.fan_purchases(session, principal.creator_id, fan_id, limit, cursor)
