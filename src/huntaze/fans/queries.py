"""The fan list's filters, as one ``WHERE``; later features (bulk sends, segments) reuse it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select

from huntaze.fans.schemas import AudienceFilter
from huntaze.fans.tags import tag_key
from huntaze.kit.errors import ApiError
from huntaze.kit.validation import INT64_MAX, INT64_MIN, check_text
from huntaze.models.crm import Fan, FanTag


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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


def fan_conditions(creator_id: str, flt: AudienceFilter) -> list[ColumnElement[bool]]:
    """Return the SQL conditions selecting ``creator_id``'s fans that match ``flt``.

    Lifetime-value bounds outside 64 bits select what they mean (a minimum above the largest
    ``BIGINT`` selects nothing), without sending the database a number it cannot hold.

    Raises:
        ApiError: 422 ``invalid_request`` for a text filter holding a NUL character or a lone
            surrogate (:func:`huntaze.kit.validation.check_text`).
    """
    conds: list[ColumnElement[bool]] = [Fan.creator_id == creator_id]
    q = _text("q", flt.q)
    if q:
        pattern = f"%{_escape_like(q)}%"
        conds.append(
            or_(
                Fan.username.ilike(pattern, escape="\\"),
                Fan.display_name.ilike(pattern, escape="\\"),
                Fan.email.ilike(pattern, escape="\\"),
            )
        )
    platform = _text("platform", flt.platform)
    if platform:
        conds.append(Fan.platform == platform)
    if flt.subscription_status:
        conds.append(Fan.subscription_status == flt.subscription_status)
    low, high = flt.min_lifetime_value_cents, flt.max_lifetime_value_cents
    if (low is not None and low > INT64_MAX) or (high is not None and high < INT64_MIN):
        conds.append(false())
    if low is not None and low > INT64_MIN:
        conds.append(Fan.lifetime_value_cents >= min(low, INT64_MAX))
    if high is not None and high < INT64_MAX:
        conds.append(Fan.lifetime_value_cents <= max(high, INT64_MIN))
    if flt.last_active_before is not None:
        conds.append(Fan.last_active_at < _utc(flt.last_active_before))
    if flt.last_active_after is not None:
        conds.append(Fan.last_active_at >= _utc(flt.last_active_after))
    tag = _text("tag", flt.tag)
    if tag:
        conds.append(
            exists().where(
                and_(
                    FanTag.fan_id == Fan.id,
                    FanTag.tag_key == tag_key(tag),
                    FanTag.creator_id == creator_id,
                )
            )
        )
    return conds


def filtered_fans(creator_id: str, flt: AudienceFilter) -> Select[Fan]:
    """Return ``SELECT fans WHERE …`` for ``flt``, unordered."""
    return select(Fan).where(*fan_conditions(creator_id, flt))
