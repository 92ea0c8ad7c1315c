"""Fan use cases: list, search, create, replace, patch, delete, top fans, purchases.

Every function takes the caller's ``creator_id`` and filters by it, so another creator's id
is simply not found. Functions flush but never commit: the request boundary commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from huntaze.db.session import flush_or_raise, get_owned
from huntaze.eventlog import EventType, record_event
from huntaze.fans.errors import FanExists, FanNotFound
from huntaze.fans.queries import fan_conditions
from huntaze.fans.schemas import (
    AudienceFilter,
    FanCreate,
    FanOut,
    FanPage,
    FanPatch,
    PurchaseOut,
    PurchasePage,
)
from huntaze.fans.tags import unique_by_key
from huntaze.kit.errors import ApiError
from huntaze.kit.ids import new_id
from huntaze.kit.keyset import Keyset, SortColumn
from huntaze.models.crm import Fan, FanTag, Purchase
from huntaze.outbox.service import detach_fan

#: ``sort`` values of ``GET /api/crm/fans`` (prefix ``-`` for descending) -> column. Each is
#: served by an index ``(creator_id, <column>, id)`` (``models.crm.Fan``), one range per page
#: (``kit.keyset.Keyset.page``); NULLs come last in both directions. ``createdAt`` has an index
#: of its own rather than ordering by the (time-ordered) id: PostgreSQL would read that order
#: along the primary key, filtering the creator, and pass over every fan of the creators whose
#: ids sort after (measured: 21 ms a page behind a creator of 100,000 fans).
#: ``updatedAt`` is no longer offered: every write of a fan moves its key, so its index costs
#: every import and every update, for the least useful order (bench/notes.md, "Fan list").
#: Nor are ``username`` and ``displayName`` (migration 0008): text keys made theirs the
#: costliest indexes to build after a large import (about 2 s each per 1,000,000 fans on
#: PostgreSQL against 1.2-1.7 s for a timestamp), and a name is found with ``q``, not by
#: paging through the alphabet (bench/notes.md, "Import").
SORTS: dict[str, SortColumn] = {
    "createdAt": SortColumn(Fan.created_at, "datetime"),
    "lifetimeValueCents": SortColumn(Fan.lifetime_value_cents, "int"),
    "lastActiveAt": SortColumn(Fan.last_active_at, "datetime", nullable=True),
    "subscribedAt": SortColumn(Fan.subscribed_at, "datetime", nullable=True),
}

#: A fan's purchases page newest first.
PURCHASE_PAGES = Keyset(SortColumn(Purchase.purchased_at, "datetime"), Purchase.id, descending=True)


def tags_of(session: Session, fan_ids: list[str]) -> dict[str, list[str]]:
    """Return ``{fan_id: tags}`` for ``fan_ids`` (one query over the primary key), each
    fan's tags sorted as the database sorts text (code-point order on SQLite: ``VIP``
    before ``own``)."""
    found: dict[str, list[str]] = defaultdict(list)
    if fan_ids:
        rows = session.execute(
            select(FanTag.fan_id, FanTag.tag)
            .where(FanTag.fan_id.in_(fan_ids))
            .order_by(FanTag.fan_id, FanTag.tag)
        )
        for fan_id, tag in rows:
            found[fan_id].append(tag)
    return found


def to_out(fan: Fan, tags: list[str]) -> FanOut:
    """Return the API shape of ``fan`` with its ``tags``."""
    return FanOut.model_validate({**_columns(fan), "tags": tags})


def _columns(fan: Fan) -> dict[str, Any]:
    return {c: getattr(fan, c) for c in FanOut.model_fields if c != "tags"}


#: The columns of a fan the API shows (:class:`FanOut` but its tags), read without the ORM
#: for lists (a page of ORM objects costs about twice as much Python).
OUT_COLUMNS = [getattr(Fan, name) for name in FanOut.model_fields if name != "tags"]
OUT_NAMES = [column.key for column in OUT_COLUMNS]


def get_fan(session: Session, creator_id: str, fan_id: str) -> Fan:
    """Return the creator's fan ``fan_id``.

    Raises:
        ApiError: 404 ``fan_not_found`` (also for another creator's fan).
    """
    return get_owned(session, Fan, creator_id, fan_id, FanNotFound)


def get_fan_on_platform(
    session: Session, creator_id: str, platform: str, platform_fan_id: str
) -> Fan:
    """Return the creator's fan known on ``platform`` as ``platform_fan_id`` (the seed's
    ``recipientId``).

    Raises:
        ApiError: 404 ``fan_not_found`` naming ``recipientId``.
    """
    fan = session.scalar(
        select(Fan).where(
            Fan.creator_id == creator_id,
            Fan.platform == platform,
            Fan.platform_fan_id == platform_fan_id,
        )
    )
    if fan is None:
        raise FanNotFound(
            f"No {platform} fan with id {platform_fan_id!r}", [{"field": "recipientId"}]
        )
    return fan


def fan_out(session: Session, fan: Fan) -> FanOut:
    """Return the API shape of one fan, loading its tags."""
    return to_out(fan, tags_of(session, [fan.id]).get(fan.id, []))


def list_fans(
    session: Session,
    creator_id: str,
    flt: AudienceFilter,
    *,
    sort: str = "-createdAt",
    limit: int = 50,
    cursor: str | None = None,
) -> FanPage:
    """Return one page of the creator's fans matching ``flt``, in ``sort`` order.

    ``sort`` is a key of :data:`SORTS`, prefixed ``-`` for descending; ``cursor`` is the
    previous page's ``nextCursor``, valid for the same sort only. Fans with no value for the
    sort column come last in both directions.

    Raises:
        ApiError: 400 ``invalid_sort`` for an unknown sort; 400 ``invalid_cursor``; 422 for a
            filter no column could hold (:func:`huntaze.fans.queries.fan_conditions`).
    """
    descending = sort.startswith("-")
    key = sort[1:] if sort[:1] in "-+" and sort else sort
    if key not in SORTS:
        raise ApiError(
            400,
            "invalid_sort",
            f"sort must be one of {', '.join(sorted(SORTS))}, optionally prefixed with '-'",
            [{"field": "sort", "value": sort}],
        )
    keyset = Keyset(SORTS[key], Fan.id, descending, name=f"-{key}" if descending else key)
    return fan_page(session, fan_conditions(creator_id, flt), keyset, limit, cursor)


def fan_page(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    keyset: Keyset,
    limit: int,
    cursor: str | None,
) -> FanPage:
    """One page of the fans ``conditions`` select (they must hold the tenant's filter), in
    ``keyset``'s order, with their tags; segments list their members through it.

    Raises:
        InvalidCursor: 400 ``invalid_cursor``.
    """
    stmt = select(*OUT_COLUMNS).where(*conditions)
    rows = keyset.page(session, stmt, keyset.decode(cursor), limit)
    cursor_out = keyset.next_cursor(rows, limit)
    items = [dict(zip(OUT_NAMES, row, strict=True)) for row in rows[:limit]]
    tags = tags_of(session, [item["id"] for item in items])
    for item in items:
        item["tags"] = tags.get(item["id"], [])
    # one validation of the whole page (pydantic-core loops over the items)
    return FanPage.model_validate({"items": items, "next_cursor": cursor_out})


def top_fans(session: Session, creator_id: str, limit: int) -> list[FanOut]:
    """Return the creator's ``limit`` fans with the highest lifetime value."""
    fans = list(
        session.scalars(
            select(Fan)
            .where(Fan.creator_id == creator_id)
            .order_by(Fan.lifetime_value_cents.desc(), Fan.id)
            .limit(limit)
        )
    )
    tags = tags_of(session, [f.id for f in fans])
    return [to_out(f, tags.get(f.id, [])) for f in fans]


def _set_tags(session: Session, fan: Fan, tags: list[str]) -> None:
    """Replace the fan's tags with ``tags``: one per key, the first spelling given."""
    session.execute(delete(FanTag).where(FanTag.fan_id == fan.id))
    session.add_all(
        FanTag(fan_id=fan.id, tag=tag, tag_key=key, creator_id=fan.creator_id)
        for tag, key in unique_by_key(tags)
    )


def create_fan(session: Session, creator_id: str, data: FanCreate, now: datetime) -> Fan:
    """Create a fan.

    Raises:
        ApiError: 409 ``fan_exists`` when (platform, platformFanId) is taken for this creator.
    """
    values = data.model_dump(exclude={"tags"})
    fan = Fan(id=new_id("fan"), creator_id=creator_id, created_at=now, updated_at=now, **values)
    session.add(fan)
    flush_or_raise(
        session, FanExists(details=[{"field": "platformFanId", "value": data.platform_fan_id}])
    )
    _set_tags(session, fan, data.tags)
    record_event(
        session, creator_id, EventType.FAN_CREATED, now, fan.id, {"platform": fan.platform}
    )
    return fan


def replace_fan(
    session: Session, creator_id: str, fan_id: str, data: FanCreate, now: datetime
) -> Fan:
    """Replace every editable field of a fan (``PUT``).

    Raises:
        ApiError: 404 ``fan_not_found``; 409 ``fan_exists`` if the new key is taken.
    """
    fan = get_fan(session, creator_id, fan_id)
    for key, value in data.model_dump(exclude={"tags"}).items():
        setattr(fan, key, value)
    fan.updated_at = now
    flush_or_raise(session, FanExists("Another fan has this platform and platformFanId"))
    _set_tags(session, fan, data.tags)
    record_event(session, creator_id, EventType.FAN_UPDATED, now, fan.id)
    return fan


def patch_fan(session: Session, creator_id: str, fan_id: str, data: FanPatch, now: datetime) -> Fan:
    """Change only the fields present in ``data`` (``PATCH``).

    Raises:
        ApiError: 404 ``fan_not_found``; 422 ``invalid_value`` for null on a required field.
    """
    fan = get_fan(session, creator_id, fan_id)
    sent = data.model_dump(include=data.model_fields_set)
    for key in ("subscription_status", "lifetime_value_cents", "consent", "custom_fields"):
        if key in sent and sent[key] is None:
            raise ApiError(422, "invalid_value", f"{key} cannot be null", [{"field": key}])
    tags = sent.pop("tags", None)
    for key, value in sent.items():
        setattr(fan, key, value)
    if tags is not None:
        _set_tags(session, fan, tags)
    fan.updated_at = now
    session.flush()
    record_event(session, creator_id, EventType.FAN_UPDATED, now, fan.id, {"fields": sorted(sent)})
    return fan


def delete_fan(session: Session, creator_id: str, fan_id: str, now: datetime) -> None:
    """Delete a fan with its tags, purchases, conversations and messages.

    Outbox rows to the fan stay, with their recipient, through the outbox's own service
    (:func:`huntaze.outbox.service.detach_fan`).

    Raises:
        ApiError: 404 ``fan_not_found``.
    """
    fan = get_fan(session, creator_id, fan_id)
    detach_fan(session, creator_id, fan.id)
    session.delete(fan)
    session.flush()
    record_event(session, creator_id, EventType.FAN_DELETED, now, fan_id)


def fan_purchases(
    session: Session, creator_id: str, fan_id: str, limit: int, cursor: str | None
) -> PurchasePage:
    """Return a page of the fan's purchases, newest first.

    Raises:
        ApiError: 404 ``fan_not_found``; 400 ``invalid_cursor``.
    """
    get_fan(session, creator_id, fan_id)
    stmt = PURCHASE_PAGES.seek(
        select(Purchase).where(Purchase.creator_id == creator_id, Purchase.fan_id == fan_id),
        PURCHASE_PAGES.decode(cursor),
        limit,
    )
    rows = list(session.scalars(stmt))
    cursor_out = PURCHASE_PAGES.next_cursor(rows, limit)
    return PurchasePage(
        items=[PurchaseOut.model_validate(p) for p in rows[:limit]], next_cursor=cursor_out
    )
