"""The fan list's filters, as one ``WHERE``, compiled by the criteria compiler.

The fan list (``GET /api/crm/fans``), bulk recipients (``recipients.filter``) and segments
share one compiler (:mod:`huntaze.fans.compiler`): an :class:`AudienceFilter` is turned into
a criteria tree (:mod:`huntaze.fans.criteria`) and compiled like a segment's criteria, so a
filter and the segment written with the same conditions select the same fans with the same
SQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ColumnElement

from huntaze.fans.compiler import Compiler
from huntaze.fans.criteria import FIELDS, Condition, Group, Node
from huntaze.fans.schemas import AudienceFilter
from huntaze.kit.errors import ApiError
from huntaze.kit.validation import INT64_MAX, INT64_MIN, check_text

_NOTHING = Group("any", ())


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _text(field: str, value: str | None) -> str | None:
    """``value`` stripped, None when blank.

    Raises:
        ApiError: 422 ``invalid_request`` naming ``field`` when no column could hold it.
    """
    if value is None or not value.strip():
        return None
    try:
        return check_text(value.strip())
    except ValueError as exc:
        raise ApiError(
            422,
            "invalid_request",
            "The request is not valid",
            [{"field": field, "message": str(exc)}],
        ) from None


def _cond(name: str, op: str, value: object, path: str) -> Condition:
    return Condition(FIELDS[name], op, value, path)


def filter_criteria(flt: AudienceFilter) -> Node:
    """Return the criteria tree that selects what ``flt`` selects (an ``all`` group; empty
    when the filter is).

    ``q`` is ``any`` of username, display name and email containing it; ``tag`` is ``tags
    contains``. Lifetime-value bounds outside 64 bits select what they mean (a minimum above
    the largest ``BIGINT`` selects nothing) without a number the database cannot hold.

    Raises:
        ApiError: 422 ``invalid_request`` for a text filter holding a NUL character or a lone
            surrogate (:func:`huntaze.kit.validation.check_text`).
    """
    parts: list[Node] = []
    q = _text("q", flt.q)
    if q:
        parts.append(
            Group(
                "any",
                tuple(_cond(f, "contains", q, "q") for f in ("username", "displayName", "email")),
            )
        )
    platform = _text("platform", flt.platform)
    if platform:
        parts.append(_cond("platform", "eq", platform, "platform"))
    if flt.subscription_status:
        parts.append(
            _cond("subscriptionStatus", "eq", str(flt.subscription_status), "subscriptionStatus")
        )
    low, high = flt.min_lifetime_value_cents, flt.max_lifetime_value_cents
    if (low is not None and low > INT64_MAX) or (high is not None and high < INT64_MIN):
        parts.append(_NOTHING)
    if low is not None and low > INT64_MIN:
        parts.append(
            _cond("lifetimeValueCents", "gte", min(low, INT64_MAX), "minLifetimeValueCents")
        )
    if high is not None and high < INT64_MAX:
        parts.append(
            _cond("lifetimeValueCents", "lte", max(high, INT64_MIN), "maxLifetimeValueCents")
        )
    if flt.last_active_before is not None:
        parts.append(_cond("lastActiveAt", "lt", _utc(flt.last_active_before), "lastActiveBefore"))
    if flt.last_active_after is not None:
        parts.append(_cond("lastActiveAt", "gte", _utc(flt.last_active_after), "lastActiveAfter"))
    tag = _text("tag", flt.tag)
    if tag:
        parts.append(_cond("tags", "contains", tag, "tag"))
    return Group("all", tuple(parts))


def _no_segments(segment_id: str, path: str) -> ColumnElement[bool]:
    """A filter names no segment; the tree :func:`filter_criteria` builds never asks."""
    raise AssertionError(f"an audience filter names no segment ({path})")


def fan_conditions(creator_id: str, flt: AudienceFilter) -> list[ColumnElement[bool]]:
    """Return the SQL conditions selecting ``creator_id``'s fans that match ``flt``: the
    tenant, then the compiled :func:`filter_criteria` (which holds no relative time, so the
    compiler's instant does not matter).

    Raises:
        ApiError: 422 ``invalid_request``, as :func:`filter_criteria`.
    """
    compiler = Compiler(creator_id, datetime.now(UTC), _no_segments)
    return compiler.where(filter_criteria(flt))
