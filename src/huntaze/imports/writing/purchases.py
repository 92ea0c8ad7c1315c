"""Planning a batch of purchases (Ko-fi payments, OnlyFans earnings) for the import writer."""

from __future__ import annotations

from typing import Any

from huntaze.imports.records import FanRecord, PurchaseRecord
from huntaze.imports.writing.plan import Plan, Planner
from huntaze.imports.writing.rowplan import plan_fans
from huntaze.kit.ids import new_id


def plan_purchases(writer: Planner, conn: Any, plan: Plan, records: list[PurchaseRecord]) -> None:
    """Plan a batch of purchases: their payers first (as fans, uncounted), then each purchase
    new (inserted), the same as stored (unchanged) or different (updated); every fan whose
    purchases change is ``touched``, so its lifetime value is derived again."""
    fans: dict[str, FanRecord] = {}
    for rec in records:
        fans[rec.fan.platform_fan_id] = rec.fan
    fan_ids = plan_fans(writer, conn, plan, list(fans.values()), count=False)
    stamp = writer.store.stamp
    now = stamp(writer.clock.now())
    existing = writer.store.select_existing_purchases(
        conn, writer.creator_id, writer.parser.platform, [r.transaction_id for r in records]
    )
    for rec in records:
        fan_id = fan_ids[rec.fan.platform_fan_id]
        purchased_at = stamp(rec.purchased_at)
        values = (
            fan_id,
            rec.kind,
            rec.gross_cents,
            rec.net_cents,
            rec.currency,
            purchased_at,
        )
        found = existing.get(rec.transaction_id)
        if found is None:
            writer.report.inserted += 1
            purchase_id = new_id("pur")
        elif found == values:
            writer.report.unchanged += 1
            continue
        else:
            writer.report.updated += 1
            plan.touched.add(found[0])
            purchase_id = "unused"
        plan.touched.add(fan_id)
        plan.purchases.append(
            (
                purchase_id,
                writer.creator_id,
                fan_id,
                writer.parser.platform,
                rec.kind,
                rec.gross_cents,
                rec.net_cents,
                rec.currency,
                purchased_at,
                rec.transaction_id,
                now,
            )
        )
