"""Batched SQL for imported purchases (Ko-fi and OnlyFans transactions), on SQLite and
PostgreSQL; a fan's lifetime value is derived from these rows. Functions never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from huntaze.db.base import db_timestamp
from huntaze.db.dialect import driver_cursor, is_postgres
from huntaze.imports.writing.sql import chunks

PURCHASE_COLUMNS = (
    "id",
    "creator_id",
    "fan_id",
    "platform",
    "kind",
    "gross_cents",
    "net_cents",
    "currency",
    "purchased_at",
    "transaction_id",
    "created_at",
)


def select_existing_purchases(
    conn: Connection, creator_id: str, platform: str, transaction_ids: Sequence[str]
) -> dict[str, tuple[Any, ...]]:
    """Return ``{transaction_id: (fan_id, kind, gross, net, currency, purchased_at)}``.

    ``purchased_at`` comes back as :func:`db_timestamp` text, to compare with new rows.
    """
    found: dict[str, tuple[Any, ...]] = {}
    if is_postgres(conn):
        cur = driver_cursor(conn)
        cur.execute(
            "SELECT transaction_id, fan_id, kind, gross_cents, net_cents, currency, purchased_at "
            "FROM purchases WHERE creator_id = %s AND platform = %s "
            "AND transaction_id = ANY(%s)",
            (creator_id, platform, list(transaction_ids)),
            prepare=False,
        )
        for tx, *rest in cur.fetchall():
            rest[-1] = db_timestamp(rest[-1], pg=True)
            found[tx] = tuple(rest)
        return found
    for chunk in chunks(transaction_ids):
        marks = ",".join("?" * len(chunk))
        rows = conn.exec_driver_sql(
            "SELECT transaction_id, fan_id, kind, gross_cents, net_cents, currency, purchased_at "
            f"FROM purchases WHERE creator_id = ? AND platform = ? AND transaction_id IN ({marks})",
            (creator_id, platform, *chunk),
        ).fetchall()
        for tx, *rest in rows:
            found[tx] = tuple(rest)
    return found


def upsert_purchases(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert or replace purchases; ``rows`` are database-ready tuples in
    :data:`PURCHASE_COLUMNS` order (timestamps from :func:`db_timestamp`)."""
    if not rows:
        return
    cols = ", ".join(PURCHASE_COLUMNS)
    conflict = (
        "ON CONFLICT (creator_id, platform, transaction_id) DO UPDATE SET "
        "fan_id = excluded.fan_id, kind = excluded.kind, gross_cents = excluded.gross_cents, "
        "net_cents = excluded.net_cents, currency = excluded.currency, "
        "purchased_at = excluded.purchased_at"
    )
    if is_postgres(conn):
        cur = driver_cursor(conn)
        marks = ", ".join(["%s"] * len(PURCHASE_COLUMNS))
        cur.executemany(f"INSERT INTO purchases ({cols}) VALUES ({marks}) {conflict}", rows)
        return
    marks = ",".join("?" * len(PURCHASE_COLUMNS))
    conn.exec_driver_sql(
        f"INSERT INTO purchases ({cols}) VALUES ({marks}) {conflict}",
        list(rows),
    )


def refresh_fan_totals(conn: Connection, fan_ids: Sequence[str], now: datetime) -> None:
    """Derive each fan's lifetime value (sum of net cents) and last activity from purchases.

    Only fans whose values change are written (``updated_at`` = ``now``).
    """
    if not fan_ids:
        return
    ltv = "(SELECT COALESCE(SUM(p.net_cents), 0) FROM purchases p WHERE p.fan_id = fans.id)"
    last = "(SELECT MAX(p.purchased_at) FROM purchases p WHERE p.fan_id = fans.id)"
    cur_ccy = "(SELECT MAX(p.currency) FROM purchases p WHERE p.fan_id = fans.id)"
    set_clause = (
        f"lifetime_value_cents = {ltv}, "
        f"last_active_at = CASE WHEN fans.last_active_at IS NULL OR fans.last_active_at < {last} "
        f"THEN {last} ELSE fans.last_active_at END, "
        f"currency = COALESCE(fans.currency, {cur_ccy}), "
    )
    changed = (
        f"(fans.lifetime_value_cents <> {ltv} OR fans.last_active_at IS NULL "
        f"OR fans.last_active_at < {last} OR (fans.currency IS NULL AND {cur_ccy} IS NOT NULL))"
    )
    if is_postgres(conn):
        cur = driver_cursor(conn)
        cur.execute(
            f"UPDATE fans SET {set_clause} updated_at = %s WHERE id = ANY(%s) AND {changed}",
            (now, list(fan_ids)),
        )
        return
    for chunk in chunks(fan_ids):
        marks = ",".join("?" * len(chunk))
        conn.exec_driver_sql(
            f"UPDATE fans SET {set_clause} updated_at = ? WHERE id IN ({marks}) AND {changed}",
            (db_timestamp(now, pg=False), *chunk),
        )
