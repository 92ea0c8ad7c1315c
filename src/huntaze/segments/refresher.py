"""Dynamic segments refreshed on a period, by every worker process between batches
(:attr:`huntaze.outbox.worker.Worker.jobs`), so membership events
(``segment.member_added`` / ``segment.member_removed``) follow the fans without anyone
asking.

A segment is due when it was never refreshed or not for ``every_seconds``. Each refresh
runs in a transaction of its own that first claims the segment with a conditional ``UPDATE
… WHERE last_refreshed_at`` is still the value read: however many workers tick at once, a
due segment is refreshed once (PostgreSQL's row lock makes a second worker wait and then
match nothing; SQLite's ``BEGIN IMMEDIATE`` serialises them).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import Engine, or_, select, update
from sqlalchemy.orm import Session

from huntaze.db.dialect import writer_bind
from huntaze.db.session import rows_changed
from huntaze.kit.clock import Clock
from huntaze.kit.errors import ApiError
from huntaze.models.segments import Segment, SegmentKind
from huntaze.segments.service import refresh_segment

log = structlog.get_logger("huntaze.segments")

#: The most segments one tick refreshes (the rest wait for the next tick), so a worker
#: returns to sending soon.
BATCH = 5


def refresh_due(engine: Engine, clock: Clock, every_seconds: float) -> list[str]:
    """Refresh the dynamic segments not refreshed for ``every_seconds`` (oldest first, at
    most :data:`BATCH`) as of ``clock.now()``; return the ids this call refreshed.

    A segment whose refresh fails (a segment it names was deleted since) is logged and
    stamped, so it is tried again a period later rather than on every tick."""
    now = clock.now()
    stale = now - timedelta(seconds=every_seconds)
    with Session(engine) as session:
        due = session.execute(
            select(Segment.id, Segment.creator_id, Segment.last_refreshed_at)
            .where(
                Segment.kind == SegmentKind.DYNAMIC,
                or_(Segment.last_refreshed_at.is_(None), Segment.last_refreshed_at <= stale),
            )
            .order_by(Segment.last_refreshed_at.is_not(None), Segment.last_refreshed_at)
            .limit(BATCH)
        ).all()
    done = []
    for segment_id, creator_id, seen in due:
        if _refresh_one(engine, segment_id, creator_id, seen, now):
            done.append(segment_id)
    return done


def _refresh_one(
    engine: Engine, segment_id: str, creator_id: str, seen: datetime | None, now: datetime
) -> bool:
    unchanged = (
        Segment.last_refreshed_at.is_(None) if seen is None else Segment.last_refreshed_at == seen
    )
    claim = (
        update(Segment)
        .where(Segment.id == segment_id, unchanged)
        .values(last_refreshed_at=now)
        .execution_options(synchronize_session=False)
    )
    try:
        with Session(writer_bind(engine)) as session, session.begin():
            if not rows_changed(session, claim):
                return False  # another worker refreshed it
            out = refresh_segment(session, creator_id, segment_id, now)
        log.info("segment_refreshed", segment_id=segment_id, added=out.added, removed=out.removed)
        return True
    except ApiError as exc:
        log.warning("segment_refresh_failed", segment_id=segment_id, code=exc.code)
        with Session(writer_bind(engine)) as session, session.begin():
            session.execute(claim)
        return False
