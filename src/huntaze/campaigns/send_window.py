"""Send windows: when each fan receives a campaign's message, and how many it may receive.

- **Local time.** A campaign with ``schedule.localTime`` (``HH:MM``) reaches each fan at
  that time of day in the fan's time zone (``fans.timezone``, an IANA name), else the
  creator's: the first such instant at or after the launch.
- **Optimal time.** With ``schedule.optimalTime``, a fan receives it at the UTC hour it was
  most often active in the last :data:`LEARNING_DAYS` days: its purchases, its tracked events
  and the messages it wrote (seed 000's ``getOptimalSendTime``; ties go to the earliest
  hour). A fan with no activity falls back to the local time, else to the launch.
- **Quiet hours** (the creator's :class:`~huntaze.models.campaigns.SendingRules`): no
  campaign message is due between their start and end in the fan's local time; one that
  would be waits for the end. An optimal hour inside them falls back as above.
- **Frequency cap**: a fan who already has ``maxPerDay`` campaign messages queued in the
  last 24 hours, or ``maxPerWeek`` in the last 7 days (any campaign, whatever their state
  except failed or cancelled), is skipped by a launch and counted as ``frequencyCapped``.

The times are computed in Python, once per time zone present in the audience (with
:mod:`zoneinfo`, so daylight-saving shifts follow the IANA database), and reach SQL as one
``CASE`` over the fan's zone: the fan-out stays one ``INSERT … SELECT``. A wall-clock time a
daylight-saving jump skips or repeats resolves as :mod:`zoneinfo` does (``fold=0``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, case, func, literal, not_, or_, select, union_all
from sqlalchemy.orm import Session

from huntaze.campaigns.schemas import FrequencyCap, QuietHours, SendingRulesIn, SendingRulesOut
from huntaze.db.base import UTCDateTime
from huntaze.db.expressions import sql_for
from huntaze.models.campaigns import Campaign, SendingRules
from huntaze.models.crm import Fan, Message, Purchase
from huntaze.models.messaging import OutboxMessage, OutboxStatus
from huntaze.models.tenancy import Creator
from huntaze.models.tracking import TrackedEvent

#: How far back a fan's activity teaches its optimal hour, in days.
LEARNING_DAYS = 90
#: The most distinct time zones given their own branch; fans of any other zone are sent at
#: the creator's zone's time (IANA has about 600 names).
MAX_ZONES = 1000


def rules_of(session: Session, creator_id: str) -> SendingRules | None:
    """The creator's sending rules, or ``None`` when it set none."""
    return session.get(SendingRules, creator_id)


def rules_out(session: Session, creator_id: str) -> SendingRulesOut:
    """The creator's sending rules as the API answers them, with the creator's time zone
    (the zone of fans that have none)."""
    rules = rules_of(session, creator_id)
    creator = session.get(Creator, creator_id)
    quiet = None
    if rules is not None and rules.quiet_start and rules.quiet_end:
        quiet = QuietHours(start=rules.quiet_start, end=rules.quiet_end)
    return SendingRulesOut(
        quiet_hours=quiet,
        frequency_cap=FrequencyCap(
            per_day=rules.max_per_day if rules else None,
            per_week=rules.max_per_week if rules else None,
        ),
        time_zone=creator.timezone if creator else "UTC",
    )


def put_rules(
    session: Session, creator_id: str, data: SendingRulesIn, now: datetime
) -> SendingRulesOut:
    """Replace the creator's sending rules; they apply to the launches that follow."""
    rules = rules_of(session, creator_id) or SendingRules(creator_id=creator_id)
    rules.quiet_start = data.quiet_hours.start if data.quiet_hours else None
    rules.quiet_end = data.quiet_hours.end if data.quiet_hours else None
    rules.max_per_day = data.frequency_cap.per_day
    rules.max_per_week = data.frequency_cap.per_week
    rules.updated_at = now
    session.add(rules)
    session.flush()
    return rules_out(session, creator_id)


def known_zone(name: str | None) -> tzinfo | None:
    """The IANA zone ``name``, or ``None`` when it is empty or unknown."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _clock(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


def next_local(after: datetime, where: tzinfo, at: str) -> datetime:
    """The first instant at or after ``after`` (aware) when the wall clock in ``where``
    reads ``at`` (``HH:MM``); UTC."""
    local = after.astimezone(where)
    for days in range(3):  # today or tomorrow, a day more across a daylight-saving jump
        day = local.date() + timedelta(days=days)
        candidate = datetime.combine(day, _clock(at), tzinfo=where).astimezone(UTC)
        if candidate >= after:
            return candidate
    raise AssertionError("unreachable: a wall-clock time recurs within three days")


def is_quiet(moment: datetime, where: tzinfo, quiet: QuietHours) -> bool:
    """Whether the wall clock in ``where`` at ``moment`` is within ``quiet``: from its
    start included to its end excluded, across midnight when the end comes first."""
    now = moment.astimezone(where).time().replace(second=0, microsecond=0, tzinfo=None)
    start, end = _clock(quiet.start), _clock(quiet.end)
    if start < end:
        return start <= now < end
    return now >= start or now < end


def leave_quiet(moment: datetime, where: tzinfo, quiet: QuietHours | None) -> datetime:
    """``moment``, or the end of the quiet hours it falls in (UTC)."""
    if quiet is None or not is_quiet(moment, where, quiet):
        return moment
    return next_local(moment, where, quiet.end)


def next_hour(after: datetime, hour: int) -> datetime:
    """The first instant at or after ``after`` that is ``hour``:00 UTC."""
    at = after.astimezone(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return at if at >= after else at + timedelta(days=1)


def _quiet_of(rules: SendingRules | None) -> QuietHours | None:
    if rules is None or not rules.quiet_start or not rules.quiet_end:
        return None
    return QuietHours(start=rules.quiet_start, end=rules.quiet_end)


def capped(rules: SendingRules | None, now: datetime) -> ColumnElement[bool] | None:
    """The condition of fans at the frequency cap at ``now``, or ``None`` with no cap.

    Counted on the outbox's campaign rows of the fan created in the last 24 hours (7 days),
    those that failed or were cancelled aside; the partial index ``ix_outbox_fan_direct``
    (fan, created) holds them, as no bulk queued them."""
    if rules is None:
        return None
    windows = [(rules.max_per_day, 1), (rules.max_per_week, 7)]
    at_cap = []
    for limit, days in windows:
        if limit is None:
            continue
        since = literal(now - timedelta(days=days), UTCDateTime())
        count = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.fan_id == Fan.id,
                OutboxMessage.bulk_id.is_(None),
                OutboxMessage.created_at >= since,
                OutboxMessage.campaign_id.is_not(None),
                OutboxMessage.status.not_in([OutboxStatus.FAILED, OutboxStatus.CANCELLED]),
            )
            .scalar_subquery()
        )
        at_cap.append(count >= limit)
    return or_(*at_cap) if at_cap else None


def learned_hour(session: Session, now: datetime) -> Any:
    """SQL giving each fan's most active UTC hour (0 to 23) over the last
    :data:`LEARNING_DAYS` days, or NULL: one correlated subquery per fan over its
    purchases, tracked events and inbound messages, each read through an index on the fan
    and time."""
    sql = sql_for(session)
    since = literal(now - timedelta(days=LEARNING_DAYS), UTCDateTime())
    activity = union_all(
        select(sql.hour_of(Purchase.purchased_at).label("h"))
        .where(Purchase.fan_id == Fan.id, Purchase.purchased_at >= since)
        .correlate(Fan),
        select(sql.hour_of(TrackedEvent.occurred_at))
        .where(TrackedEvent.fan_id == Fan.id, TrackedEvent.occurred_at >= since)
        .correlate(Fan),
        select(sql.hour_of(Message.sent_at))
        .where(
            Message.fan_id == Fan.id,
            Message.creator_id == Fan.creator_id,
            Message.direction == "inbound",
            Message.sent_at >= since,
        )
        .correlate(Fan),
    ).subquery()
    return (
        select(activity.c.h)
        .group_by(activity.c.h)
        .order_by(func.count().desc(), activity.c.h)
        .limit(1)
        .scalar_subquery()
    )


def send_times(
    session: Session,
    campaign: Campaign,
    rules: SendingRules | None,
    audience: Sequence[ColumnElement[bool]],
    now: datetime,
) -> ColumnElement[Any] | None:
    """SQL giving each fan's ``not_before`` (UTC) for ``campaign`` launched at ``now``, or
    ``None`` when every fan gets it at once (no local or optimal time, no quiet hours)."""
    quiet = _quiet_of(rules)
    if campaign.local_time is None and not campaign.optimal_time and quiet is None:
        return None
    creator = session.get(Creator, campaign.creator_id)
    home = known_zone(creator.timezone if creator else None) or UTC

    def at(where: tzinfo) -> datetime:
        start = now if campaign.local_time is None else next_local(now, where, campaign.local_time)
        return leave_quiet(start, where, quiet)

    names = session.scalars(
        select(Fan.timezone).where(*audience, Fan.timezone.is_not(None)).distinct().limit(MAX_ZONES)
    ).all()
    zones = {n: z for n in names if n is not None and (z := known_zone(n)) is not None}
    when = UTCDateTime()
    by_zone: ColumnElement[Any] = (
        case(
            {n: literal(at(z), when) for n, z in zones.items()},
            value=Fan.timezone,
            else_=literal(at(home), when),
        )
        if zones
        else literal(at(home), when)
    )
    if not campaign.optimal_time:
        return by_zone
    hour = learned_hour(session, now)
    at_hour = case({h: literal(next_hour(now, h), when) for h in range(24)}, value=hour)
    if quiet is None:
        return case((hour.is_(None), by_zone), else_=at_hour)

    def quiet_hours(where: tzinfo) -> list[int]:
        return [h for h in range(24) if is_quiet(next_hour(now, h), where, quiet)]

    in_quiet = [
        and_(Fan.timezone == n, hour.in_(q)) for n, z in zones.items() if (q := quiet_hours(z))
    ]
    home_quiet = quiet_hours(home)
    if home_quiet:
        elsewhere = or_(Fan.timezone.is_(None), not_(Fan.timezone.in_(list(zones))))
        in_quiet.append(and_(elsewhere, hour.in_(home_quiet)))
    return case((hour.is_(None), by_zone), (or_(*in_quiet), by_zone), else_=at_hour)
