"""The segments benchmark's data (issue 11): 1,000,000 fans and 10,000,000 purchase and
engagement events with a creator economy's skew, generated with numpy from a fixed seed, as
Arrow tables (for DuckDB and Polars) and loaded into Huntaze's own tables (for SQLite and
PostgreSQL) with the same values.

- Fans: 85% OnlyFans, 15% Fansly; subscription active 70%, expired 25%, cancelled 5%;
  subscribed 0 to 900 days ago (5% never); last active a few days to a year ago
  (exponential, mean 25 days; 3% never); lifetime value from each fan's weight.
- Each fan has a weight drawn from a Pareto law (shape 1.2): a few whales, many small fans.
  Purchases (8,000,000) and inbound messages (2,000,000) pick their fan in proportion to it.
- Purchases: subscription 30%, renewal 20%, tip 20%, PPV message 20%, PPV post 8%, custom
  2%, in the last year; messages in the last 60 days.

Times are whole seconds in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine

import huntaze.models.crm  # noqa: F401 (registers the tables the load reads)
from huntaze.db.base import Base

SEED = 11
KINDS = np.array(["subscription", "renewal", "tip", "ppv_message", "ppv_post", "custom"])
KIND_P = [0.30, 0.20, 0.20, 0.20, 0.08, 0.02]
STATUSES = np.array(["active", "expired", "cancelled"])
DAY = 86_400


def _ids(prefix: str, index: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(index), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _at(now_s: int, seconds_ago: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    values = (now_s - seconds_ago.astype(np.int64)).astype("datetime64[s]")
    arr = pa.array(values, type=pa.timestamp("s"), mask=missing)
    return arr.cast(pa.timestamp("s", tz="UTC"))


def generate(
    fans: int, purchases: int, messages: int, now: datetime, seed: int = SEED
) -> dict[str, pa.Table]:
    """The three tables (``fans``, ``purchases``, ``messages``) as of ``now``."""
    rng = np.random.default_rng(seed)
    now_s = int(now.timestamp())
    weight = rng.pareto(1.2, fans) + 0.05
    idx = np.arange(fans)
    fan_ids = _ids("fan_", idx, 7)
    subscribed_ago = rng.uniform(0, 900 * DAY, fans)
    active_ago = np.minimum(rng.exponential(25 * DAY, fans), 365 * DAY)
    ltv = np.minimum(np.floor(weight * 800), 5_000_000).astype(np.int64)
    fans_table = pa.table(
        {
            "id": fan_ids,
            "platform": pa.array(np.where(rng.random(fans) < 0.85, "onlyfans", "fansly")),
            "subscription_status": pa.array(STATUSES[rng.choice(3, fans, p=[0.7, 0.25, 0.05])]),
            "subscribed_at": _at(now_s, subscribed_ago, rng.random(fans) < 0.05),
            "last_active_at": _at(now_s, active_ago, rng.random(fans) < 0.03),
            "created_at": _at(now_s, np.full(fans, 900 * DAY + DAY)),
            "lifetime_value_cents": pa.array(ltv),
        }
    )
    p = weight / weight.sum()
    buyer = rng.choice(fans, purchases, p=p)
    kind = rng.choice(len(KINDS), purchases, p=KIND_P)
    cents = np.where(kind < 2, 999, np.floor(rng.lognormal(7.0, 0.9, purchases))).astype(np.int64)
    purchases_table = pa.table(
        {
            "id": _ids("pur_", np.arange(purchases), 8),
            "fan_id": fan_ids.take(pa.array(buyer)),
            "kind": pa.array(KINDS[kind]),
            "net_cents": pa.array(cents),
            "purchased_at": _at(now_s, rng.uniform(0, 365 * DAY, purchases)),
        }
    )
    writer = rng.choice(fans, messages, p=p)
    messages_table = pa.table(
        {
            "id": _ids("msg_", np.arange(messages), 8),
            "fan_id": fan_ids.take(pa.array(writer)),
            "direction": pa.array(np.full(messages, "inbound")),
            "sent_at": _at(now_s, rng.uniform(0, 60 * DAY, messages)),
        }
    )
    return {"fans": fans_table, "purchases": purchases_table, "messages": messages_table}


def _stamps(arr: pa.ChunkedArray, pg: bool) -> list[str | None]:
    """Timestamps as the database stores them: SQLAlchemy's text on SQLite, ISO 8601 with
    the zone for PostgreSQL's ``COPY``."""
    fmt = "%Y-%m-%d %H:%M:%S+00:00" if pg else "%Y-%m-%d %H:%M:%S.000000"
    out: list[str | None] = pc.strftime(arr, format=fmt).to_pylist()
    return out


def _rows(table: pa.Table, creator_id: str, pg: bool, kind: str) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of rows in :data:`COLUMNS` order for ``kind``."""
    for batch in table.to_batches(max_chunksize=200_000):
        cols = {name: batch.column(name) for name in batch.schema.names}
        n = batch.num_rows
        if kind == "fans":
            ids = cols["id"].to_pylist()
            created = _stamps(cols["created_at"], pg)
            yield list(
                zip(
                    ids,
                    [creator_id] * n,
                    cols["platform"].to_pylist(),
                    ids,
                    cols["subscription_status"].to_pylist(),
                    _stamps(cols["subscribed_at"], pg),
                    _stamps(cols["last_active_at"], pg),
                    cols["lifetime_value_cents"].to_pylist(),
                    ["unknown"] * n,
                    ["{}"] * n,
                    ["{}"] * n,
                    created,
                    created,
                    strict=True,
                )
            )
        elif kind == "purchases":
            ids = cols["id"].to_pylist()
            cents = cols["net_cents"].to_pylist()
            at = _stamps(cols["purchased_at"], pg)
            yield list(
                zip(
                    ids,
                    [creator_id] * n,
                    cols["fan_id"].to_pylist(),
                    ["onlyfans"] * n,
                    cols["kind"].to_pylist(),
                    cents,
                    cents,
                    ["USD"] * n,
                    at,
                    ids,
                    at,
                    strict=True,
                )
            )
        else:
            ids = cols["id"].to_pylist()
            fan = cols["fan_id"].to_pylist()
            at = _stamps(cols["sent_at"], pg)
            yield list(
                zip(
                    ids,
                    [creator_id] * n,
                    [f"conv_{f[4:]}" for f in fan],
                    fan,
                    ["inbound"] * n,
                    ["hi"] * n,
                    ["[]"] * n,
                    [False] * n,
                    at,
                    at,
                    strict=True,
                )
            )


COLUMNS = {
    "fans": (
        "id, creator_id, platform, platform_fan_id, subscription_status, subscribed_at, "
        "last_active_at, lifetime_value_cents, consent, custom_fields, import_fingerprints, "
        "created_at, updated_at"
    ),
    "purchases": (
        "id, creator_id, fan_id, platform, kind, gross_cents, net_cents, currency, "
        "purchased_at, transaction_id, created_at"
    ),
    "messages": (
        "id, creator_id, conversation_id, fan_id, direction, text, media, purchased, sent_at, "
        "created_at"
    ),
}


def load(engine: Engine, creator_id: str, tables: dict[str, pa.Table]) -> None:
    """Insert the tables into Huntaze's (migrated, empty) database for ``creator_id``: the
    fans, one conversation per fan that wrote, the purchases and the messages. ``COPY`` on
    PostgreSQL, ``executemany`` on SQLite. The tables' secondary indexes are dropped for the
    load and built again after it, as a bulk load does: rows arrive in primary-key order,
    and each index is then built in one sort instead of 10,000,000 random insertions."""
    pg = engine.dialect.name == "postgresql"
    writers = pc.unique(tables["messages"].column("fan_id")).to_pylist()
    stamp = datetime.now(UTC)
    conv_at = stamp.isoformat() if pg else stamp.strftime("%Y-%m-%d %H:%M:%S.%f")
    conversations = [
        (f"conv_{f[4:]}", creator_id, f, "onlyfans", 0, conv_at, conv_at) for f in writers
    ]
    conv_cols = "id, creator_id, fan_id, platform, unread_count, created_at, updated_at"
    indexes = [
        index
        for name in ("fans", "purchases", "conversations", "messages")
        for index in Base.metadata.tables[name].indexes
    ]
    with engine.begin() as conn:
        for index in indexes:
            index.drop(conn)
    for name in ("fans", "purchases", "conversations", "messages"):
        batches = (
            iter([conversations])
            if name == "conversations"
            else _rows(tables[name], creator_id, pg, name)
        )
        cols = conv_cols if name == "conversations" else COLUMNS[name]
        with engine.begin() as conn:
            cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            if not pg:
                cur.execute("PRAGMA cache_size=-1000000")  # 1 GB: the load's pages stay
            _write(cur, pg, name, cols, batches)
    with engine.begin() as conn:
        for index in indexes:
            index.create(conn)


def _write(
    cur: Any, pg: bool, table: str, cols: str, batches: Iterator[list[tuple[Any, ...]]]
) -> None:
    if pg:
        with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for batch in batches:
                for row in batch:
                    copy.write_row(row)
        return
    marks = ", ".join("?" * len(cols.split(",")))
    for batch in batches:
        cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", batch)
