"""Domain events, recorded in one place for automations and analytics to read later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from huntaze.db.base import Base


class Event(Base):
    """Something that happened to a creator's data: ``fan.created``, ``import.completed``…

    ``subject_id`` is the id of the row the event is about (a fan, a message…), ``payload``
    a small JSON object, ``occurred_at`` UTC.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_creator_occurred", "creator_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    creator_id: Mapped[str] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime]
