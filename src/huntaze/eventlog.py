"""The one place domain events are recorded (design.md §7)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from huntaze.models.events import Event


def record_event(
    session: Session,
    creator_id: str,
    type_: str,
    now: datetime,
    subject_id: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Add an event (``fan.created``, ``message.received``…) to ``session``; the caller commits."""
    session.add(
        Event(
            creator_id=creator_id,
            type=type_,
            subject_id=subject_id,
            payload=payload or {},
            occurred_at=now,
        )
    )
