"""The fan list's filters, as one ``WHERE``; later features (bulk sends, segments) reuse it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select

from huntaze.models.crm import Fan, FanTag


@dataclass(frozen=True, slots=True)
class FanFilter:
    """Filters of ``GET /api/crm/fans``. Money in cents, datetimes aware UTC.

    ``q`` searches username, display name and email (case-insensitive substring).
    """

    q: str | None = None
    platform: str | None = None
    tag: str | None = None
    subscription_status: str | None = None
    min_lifetime_value_cents: int | None = None
    max_lifetime_value_cents: int | None = None
    last_active_before: datetime | None = None
    last_active_after: datetime | None = None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def fan_conditions(creator_id: str, flt: FanFilter) -> list[ColumnElement[bool]]:
    """Return the SQL conditions selecting ``creator_id``'s fans that match ``flt``."""
    conds: list[ColumnElement[bool]] = [Fan.creator_id == creator_id]
    if flt.q:
        pattern = f"%{_escape_like(flt.q.strip())}%"
        conds.append(
            or_(
                Fan.username.ilike(pattern, escape="\\"),
                Fan.display_name.ilike(pattern, escape="\\"),
                Fan.email.ilike(pattern, escape="\\"),
            )
        )
    if flt.platform:
        conds.append(Fan.platform == flt.platform)
    if flt.subscription_status:
        conds.append(Fan.subscription_status == flt.subscription_status)
    if flt.min_lifetime_value_cents is not None:
        conds.append(Fan.lifetime_value_cents >= flt.min_lifetime_value_cents)
    if flt.max_lifetime_value_cents is not None:
        conds.append(Fan.lifetime_value_cents <= flt.max_lifetime_value_cents)
    if flt.last_active_before is not None:
        conds.append(Fan.last_active_at < flt.last_active_before)
    if flt.last_active_after is not None:
        conds.append(Fan.last_active_at >= flt.last_active_after)
    if flt.tag:
        conds.append(
            exists().where(
                and_(
                    FanTag.fan_id == Fan.id, FanTag.tag == flt.tag, FanTag.creator_id == creator_id
                )
            )
        )
    return conds


def filtered_fans(creator_id: str, flt: FanFilter) -> Select[Fan]:
    """Return ``SELECT fans WHERE …`` for ``flt``, unordered."""
    return select(Fan).where(*fan_conditions(creator_id, flt))
