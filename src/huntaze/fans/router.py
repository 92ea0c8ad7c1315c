"""HTTP routes for fans: ``/api/crm/fans`` (the seed's contract)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BeforeValidator, Field

from huntaze.auth.deps import Reader, Writer
from huntaze.context import DbSession, Now
from huntaze.fans import service as fans
from huntaze.fans.schemas import (
    AudienceFilter,
    FanCreate,
    FanOut,
    FanPage,
    FanPatch,
    PurchasePage,
    SubscriptionStatus,
    TopFans,
)
from huntaze.kit.http import ERRORS, Limit
from huntaze.kit.pagination import DEFAULT_LIMIT
from huntaze.kit.validation import MAX_TAG, Int64, Platform, SafeStr, UtcDateTime

router = APIRouter(prefix="/api/crm/fans", tags=["fans"])


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


#: ``q``: at most 200 characters, no NUL, no lone surrogate
#: (:func:`huntaze.kit.validation.check_text`); blank means "not given" (an empty form field).
SearchText = Annotated[
    Annotated[SafeStr, Field(max_length=200)] | None, BeforeValidator(_blank_is_none)
]
#: ``tag``: a tag (at most :data:`~huntaze.kit.validation.MAX_TAG` characters), blank meaning
#: "not given".
TagText = Annotated[
    Annotated[SafeStr, Field(max_length=MAX_TAG)] | None, BeforeValidator(_blank_is_none)
]
#: A platform name (:func:`huntaze.kit.validation.check_platform`), blank meaning "not given".
OptionalPlatform = Annotated[Platform | None, BeforeValidator(_blank_is_none)]
INSTANT_DOC = "a date-time (UTC when it has no zone) or a date (midnight UTC)"
SORT_DOC = "createdAt, lifetimeValueCents, lastActiveAt or subscribedAt; prefix - for descending"


@router.get("", response_model=FanPage, responses=ERRORS)
def list_fans(
    session: DbSession,
    principal: Reader,
    q: Annotated[
        SearchText, Query(description="search: part of the username, display name or email")
    ] = None,
    platform: Annotated[OptionalPlatform, Query(description="a platform, e.g. onlyfans")] = None,
    tag: Annotated[TagText, Query(description="a tag, whatever its case")] = None,
    subscription_status: Annotated[
        SubscriptionStatus | None, Query(alias="subscriptionStatus")
    ] = None,
    min_ltv: Annotated[
        Int64 | None, Query(alias="minLifetimeValueCents", description="cents, 64-bit")
    ] = None,
    max_ltv: Annotated[
        Int64 | None, Query(alias="maxLifetimeValueCents", description="cents, 64-bit")
    ] = None,
    last_active_before: Annotated[
        UtcDateTime | None, Query(alias="lastActiveBefore", description=INSTANT_DOC)
    ] = None,
    last_active_after: Annotated[
        UtcDateTime | None, Query(alias="lastActiveAfter", description=INSTANT_DOC)
    ] = None,
    sort: Annotated[str, Query(max_length=40, description=SORT_DOC)] = "-createdAt",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Annotated[
        SafeStr | None, Query(max_length=2048, description="the previous page's nextCursor")
    ] = None,
) -> Response:
    """List the creator's fans: search (``q``), filters, ``sort`` and cursor pagination.

    ``sort`` is one of createdAt, lifetimeValueCents, lastActiveAt, subscribedAt, with ``-``
    for descending; fans with no value for it come last either way. ``nextCursor``
    continues the same sort and filters. Money filters are in cents (64-bit);
    ``lastActiveBefore``/``lastActiveAfter`` take a date (midnight UTC) or a datetime (UTC
    when it has no zone). ``tag`` matches whatever its case; a blank ``q``,
    ``platform`` or ``tag`` filters nothing.
    """
    flt = AudienceFilter.model_construct(  # the query parameters are validated already
        q=q,
        platform=platform,
        tag=tag,
        subscription_status=subscription_status,
        min_lifetime_value_cents=min_ltv,
        max_lifetime_value_cents=max_ltv,
        last_active_before=last_active_before,
        last_active_after=last_active_after,
    )
    page = fans.list_fans(session, principal.creator_id, flt, sort=sort, limit=limit, cursor=cursor)
    # the page is already a validated FanPage: serialised here, once, as FastAPI would
    # (by alias), rather than validated and serialised again on another thread
    return Response(page.model_dump_json(by_alias=True), media_type="application/json")


@router.post("", response_model=FanOut, status_code=201, responses=ERRORS)
def create_fan(data: FanCreate, now: Now, session: DbSession, principal: Writer) -> FanOut:
    """Create a fan (409 ``fan_exists`` when platform + platformFanId is taken)."""
    fan = fans.create_fan(session, principal.creator_id, data, now)
    return fans.fan_out(session, fan)


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
    fan_id: str, data: FanCreate, now: Now, session: DbSession, principal: Writer
) -> FanOut:
    """Replace a fan's fields."""
    fan = fans.replace_fan(session, principal.creator_id, fan_id, data, now)
    return fans.fan_out(session, fan)


@router.patch("/{fan_id}", response_model=FanOut, responses=ERRORS)
def patch_fan(
    fan_id: str, data: FanPatch, now: Now, session: DbSession, principal: Writer
) -> FanOut:
    """Change the fields sent, and only those."""
    fan = fans.patch_fan(session, principal.creator_id, fan_id, data, now)
    return fans.fan_out(session, fan)


@router.delete("/{fan_id}", status_code=204, response_class=Response, responses=ERRORS)
def delete_fan(fan_id: str, now: Now, session: DbSession, principal: Writer) -> Response:
    """Delete a fan and everything attached to it."""
    fans.delete_fan(session, principal.creator_id, fan_id, now)
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
