"""Domain events: the catalogue of their types and the one function that records them.

Every row of ``events`` is written by :func:`record_event`, in the transaction of the change it
describes, so an event exists exactly when its cause does. Automations and analytics read
them; a type's payload is part of its contract.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from huntaze.models.events import Event


class EventType(StrEnum):
    """Every event type, with its subject and payload (JSON, camelCase keys)."""

    #: a fan was created through the API; subject: the fan; ``{"platform"}``
    FAN_CREATED = "fan.created"
    #: a fan's fields were replaced (``{}``) or patched (``{"fields"}``: the fields sent);
    #: subject: the fan
    FAN_UPDATED = "fan.updated"
    #: a fan and what hangs off it were deleted; subject: the fan id; ``{}``
    FAN_DELETED = "fan.deleted"
    #: an import ended; subject: none; ``{"format", "encoding", "inserted", "updated",
    #: "unchanged", "rejected"}``
    IMPORT_COMPLETED = "import.completed"
    #: an inbound message was recorded in a conversation; subject: the message; ``{"fanId"}``
    MESSAGE_RECEIVED = "message.received"
    #: an outbound message was recorded in a conversation; subject: the message; ``{"fanId"}``
    MESSAGE_RECORDED = "message.recorded"
    #: a refresh found a fan newly in a segment; subject: the fan; ``{"segmentId"}``
    SEGMENT_MEMBER_ADDED = "segment.member_added"
    #: a refresh found a fan no longer in a segment; subject: the fan; ``{"segmentId"}``
    SEGMENT_MEMBER_REMOVED = "segment.member_removed"


def record_event(
    session: Session,
    creator_id: str,
    type_: EventType,
    now: datetime,
    subject_id: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Add an event of type ``type_`` at ``now`` (aware, UTC) to ``session``; it is committed
    with the caller's transaction."""
    session.add(
        Event(
            creator_id=creator_id,
            type=str(type_),
            subject_id=subject_id,
            payload=payload or {},
            occurred_at=now,
        )
    )
