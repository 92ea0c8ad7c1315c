"""Tracked events in and the ingestion's answer (``POST /api/track/events``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from huntaze.fans.schemas import SafeModel
from huntaze.kit.schema import CamelModel
from huntaze.kit.validation import Cents, UtcDateTime
from huntaze.models.tracking import TrackedKindValue, TrackedPurchaseValue

MAX_BATCH = 1000


class EventIn(SafeModel):
    """One event. ``externalId`` is the sender's id for it: sending it again stores nothing
    new. A ``purchase`` names its ``purchaseKind``; money is in cents with a currency."""

    kind: TrackedKindValue
    external_id: str = Field(min_length=1, max_length=128)
    occurred_at: UtcDateTime
    fan_id: str | None = Field(default=None, min_length=1, max_length=64)
    campaign_id: str | None = Field(default=None, min_length=1, max_length=64)
    variant_id: str | None = Field(default=None, min_length=1, max_length=32)
    value_cents: Cents | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    purchase_kind: TrackedPurchaseValue | None = None


class EventsIn(CamelModel):
    """A batch of 1 to 1,000 events, each checked on its own: the valid ones are stored,
    the others answered with their index and why."""

    events: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BATCH)


class Rejected(CamelModel):
    """An event that was not stored: its index in the batch, the field and why."""

    index: int
    field: str
    message: str


class IngestOut(CamelModel):
    """How many events were stored, how many had been stored before (same ``externalId``),
    and the rejected ones."""

    accepted: int
    duplicates: int
    rejected: list[Rejected]
