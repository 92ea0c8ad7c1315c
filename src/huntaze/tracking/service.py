"""Ingesting tracked events: each checked on its own, references checked against the
creator's fans and campaigns, stored once per ``externalId`` (idempotent), the valid ones
kept when others are refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from huntaze.db.expressions import sql_for
from huntaze.kit.ids import new_id
from huntaze.models.campaigns import Campaign
from huntaze.models.crm import Fan
from huntaze.models.tracking import TrackedEvent
from huntaze.tracking.schemas import EventIn, IngestOut, Rejected


def _checked(raw: list[dict[str, Any]]) -> tuple[list[tuple[int, EventIn]], list[Rejected]]:
    events, rejected = [], []
    for i, item in enumerate(raw):
        try:
            events.append((i, EventIn.model_validate(item)))
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"]) or "event"
            rejected.append(Rejected(index=i, field=f"events[{i}].{where}", message=error["msg"]))
    return events, rejected


def ingest(
    session: Session, creator_id: str, raw: list[dict[str, Any]], now: datetime
) -> IngestOut:
    """Store the batch's valid events for ``creator_id``.

    An event naming a fan or campaign that is not the creator's is refused (``not found``),
    as one that does not validate. Events whose ``externalId`` is already stored, in this
    batch or before, count as duplicates and change nothing.
    """
    events, rejected = _checked(raw)
    fan_ids = {e.fan_id for _, e in events if e.fan_id}
    campaign_ids = {e.campaign_id for _, e in events if e.campaign_id}
    fans = (
        set(
            session.scalars(select(Fan.id).where(Fan.creator_id == creator_id, Fan.id.in_(fan_ids)))
        )
        if fan_ids
        else set()
    )
    campaigns = (
        set(
            session.scalars(
                select(Campaign.id).where(
                    Campaign.creator_id == creator_id, Campaign.id.in_(campaign_ids)
                )
            )
        )
        if campaign_ids
        else set()
    )
    rows: dict[str, dict[str, Any]] = {}
    duplicates = 0
    for i, e in events:
        if e.kind == "purchase" and e.purchase_kind is None:
            rejected.append(
                Rejected(index=i, field=f"events[{i}].purchaseKind", message="a purchase names it")
            )
            continue
        if e.value_cents is not None and e.currency is None:
            rejected.append(
                Rejected(index=i, field=f"events[{i}].currency", message="valueCents needs it")
            )
            continue
        if e.fan_id and e.fan_id not in fans:
            rejected.append(Rejected(index=i, field=f"events[{i}].fanId", message="not found"))
            continue
        if e.campaign_id and e.campaign_id not in campaigns:
            rejected.append(Rejected(index=i, field=f"events[{i}].campaignId", message="not found"))
            continue
        if e.external_id in rows:
            duplicates += 1
            continue
        rows[e.external_id] = {
            "id": new_id("trk"),
            "creator_id": creator_id,
            "kind": e.kind,
            "purchase_kind": e.purchase_kind,
            "fan_id": e.fan_id,
            "campaign_id": e.campaign_id,
            "variant_id": e.variant_id,
            "value_cents": e.value_cents,
            "currency": e.currency,
            "occurred_at": e.occurred_at,
            "external_id": e.external_id,
            "received_at": now,
        }
    stored = (
        set(
            session.scalars(
                select(TrackedEvent.external_id).where(
                    TrackedEvent.creator_id == creator_id, TrackedEvent.external_id.in_(list(rows))
                )
            )
        )
        if rows
        else set()
    )
    new = [row for key, row in rows.items() if key not in stored]
    duplicates += len(rows) - len(new)
    if new:
        # a concurrent batch may store the same external id meanwhile: skipped, not an error
        session.execute(sql_for(session).insert_ignoring_conflicts(TrackedEvent), new)
    rejected.sort(key=lambda r: r.index)
    return IngestOut(accepted=len(new), duplicates=duplicates, rejected=rejected)
