"""Runs an import: streams a parser's records into the database in batches.

Shape (design.md §4 and §8): records are collected into batches of ``batch_size``; for each
batch the existing keys and their import fingerprints are read with one indexed query, rows
are classified as inserted, updated or unchanged, and only the new and changed rows are
written. Each batch commits on its own, so a file of a million rows never holds one long
transaction, and an interrupted import is finished by running it again (imports are
idempotent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson
from sqlalchemy import Engine
from sqlalchemy import insert as sa_insert

from huntaze.crm.importers import sql
from huntaze.crm.importers.base import Parser
from huntaze.crm.importers.records import FanRecord, PurchaseRecord, RowError
from huntaze.crm.importers.report import ImportReport
from huntaze.kit.clock import Clock
from huntaze.kit.ids import new_id
from huntaze.models.events import Event

ProgressCallback = Callable[[int], None]


#: Positions in a fan row (``sql.FAN_INSERT_COLUMNS``) of each column a format may provide.
_COLUMN_INDEX = {name: i for i, name in enumerate(sql.FAN_INSERT_COLUMNS)}
_CONSENT = _COLUMN_INDEX["consent"]
_CUSTOM = _COLUMN_INDEX["custom_fields"]
_LTV = _COLUMN_INDEX["lifetime_value_cents"]
_LAST_ACTIVE = _COLUMN_INDEX["last_active_at"]


def fan_changed(
    row: list[Any],
    custom_fields: dict[str, Any],
    stored: dict[str, Any],
    has_purchases: bool,
    compared: list[tuple[str, int]],
) -> bool:
    """True when writing ``row`` would change a stored fan's provided columns.

    Mirrors the update rules of :func:`sql.upsert_fans`: custom fields merge (unchanged when
    every imported key already holds that value), consent only moves to ``opted_out``, last
    activity only moves forward, and a fan with purchases keeps its derived lifetime value.
    """
    for col, i in compared:
        if i == _CUSTOM:
            old = stored[col] or {}
            if any(old.get(k) != v for k, v in custom_fields.items()):
                return True
        elif i == _CONSENT:
            if row[i] == "opted_out" and stored[col] != "opted_out":
                return True
        elif i == _LAST_ACTIVE:
            if row[i] is not None and (stored[col] is None or row[i] > stored[col]):
                return True
        elif i == _LTV:
            if not has_purchases and stored[col] != row[i]:
                return True
        elif stored[col] != row[i]:
            return True
    return False


@dataclass(slots=True)
class _Batch:
    fans: dict[str, FanRecord] = field(default_factory=dict)
    purchases: dict[str, PurchaseRecord] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.fans) + len(self.purchases)


class ImportWriter:
    """Writes one file's records for one creator.

    Args:
        engine: the database.
        creator_id: the tenant the fans belong to.
        parser: the format's parser (gives ``format``, ``platform`` and ``provides``).
        clock: the time source for ``created_at`` / ``updated_at``.
        batch_size: records per batch (and per transaction).
        default_currency: the creator's currency, for rows that name none.
    """

    def __init__(
        self,
        engine: Engine,
        creator_id: str,
        parser: Parser,
        clock: Clock,
        batch_size: int = 10_000,
        default_currency: str | None = None,
    ) -> None:
        self.engine = engine
        self.creator_id = creator_id
        self.parser = parser
        self.clock = clock
        self.batch_size = batch_size
        self.default_currency = default_currency
        self.report = ImportReport(format=parser.format)

    def run(self, stream: BinaryIO, progress: ProgressCallback | None = None) -> ImportReport:
        """Import every record of ``stream`` and return the report.

        ``progress`` is called after each batch with the number of rows done so far.

        Raises:
            huntaze.crm.importers.base.ImportFormatError: when the file is not in the format.
            sqlalchemy.exc.SQLAlchemyError: on a database failure; batches already committed
                stay, and running the import again completes it.
        """
        batch = _Batch()
        for record in self.parser.parse(stream):
            if isinstance(record, RowError):
                self.report.reject(record)
                continue
            if isinstance(record, FanRecord):
                if record.platform_fan_id in batch.fans:
                    self._flush(batch, progress)
                    batch = _Batch()
                batch.fans[record.platform_fan_id] = record
            else:
                if record.transaction_id in batch.purchases:
                    self._flush(batch, progress)
                    batch = _Batch()
                batch.purchases[record.transaction_id] = record
            if len(batch) >= self.batch_size:
                self._flush(batch, progress)
                batch = _Batch()
        self._flush(batch, progress)
        self._record_event()
        return self.report

    def _flush(self, batch: _Batch, progress: ProgressCallback | None) -> None:
        if not len(batch):
            return
        with self.engine.begin() as conn:
            if batch.fans:
                self._write_fans(conn, list(batch.fans.values()), count=True)
            if batch.purchases:
                self._write_purchases(conn, list(batch.purchases.values()))
        if progress is not None:
            progress(self.report.rows)

    def _write_fans(self, conn: Any, records: list[FanRecord], count: bool) -> dict[str, str]:
        """Upsert ``records``; return ``{platform_fan_id: fan id}`` for all of them.

        Each record is compared with the stored fan (one indexed query per batch): new keys
        are inserted, changed ones updated, and the rest are counted unchanged and not written.
        """
        provides = self.parser.provides
        compared = sorted((c, _COLUMN_INDEX[c]) for c in provides)
        pg = sql.is_postgres(conn)
        stamp = sql.db_timestamp
        now = stamp(self.clock.now(), pg)
        existing = sql.select_existing_fans(
            conn,
            self.creator_id,
            self.parser.platform,
            [r.platform_fan_id for r in records],
            [c for c, _ in compared],
            with_purchases="lifetime_value_cents" in provides,
        )
        stored_tags: dict[str, set[str]] = {}
        if existing and any(r.tags for r in records):
            stored_tags = sql.select_tags(conn, [found[0] for found in existing.values()])
        ids: dict[str, str] = {}
        rows: list[tuple[Any, ...]] = []
        tag_pairs: list[tuple[str, str]] = []
        for rec in records:
            row: list[Any] = [
                None,
                self.creator_id,
                self.parser.platform,
                rec.platform_fan_id,
                rec.username,
                rec.display_name,
                rec.email,
                rec.subscription_status,
                stamp(rec.subscribed_at, pg),
                stamp(rec.expires_at, pg),
                stamp(rec.last_active_at, pg),
                rec.lifetime_value_cents or 0,
                rec.currency or self.default_currency,
                rec.consent or "unknown",
                None,
                now,
                now,
            ]
            found = existing.get(rec.platform_fan_id)
            if found is None:
                fan_id = new_id("fan")
                if count:
                    self.report.inserted += 1
                new_tags: Any = rec.tags
            else:
                fan_id = found[0]
                new_tags = set(rec.tags) - stored_tags.get(fan_id, set())
                if not new_tags and not fan_changed(
                    row, rec.custom_fields, found[1], found[2], compared
                ):
                    ids[rec.platform_fan_id] = fan_id
                    if count:
                        self.report.unchanged += 1
                    continue
                if count:
                    self.report.updated += 1
            ids[rec.platform_fan_id] = fan_id
            row[0] = fan_id
            row[_CUSTOM] = orjson.dumps(rec.custom_fields, option=orjson.OPT_SORT_KEYS).decode()
            rows.append(tuple(row))
            tag_pairs.extend((fan_id, tag) for tag in new_tags)
        sql.upsert_fans(conn, rows, provides)
        sql.insert_tags(conn, self.creator_id, tag_pairs)
        return ids

    def _write_purchases(self, conn: Any, records: list[PurchaseRecord]) -> None:
        fans: dict[str, FanRecord] = {}
        for rec in records:
            fans[rec.fan.platform_fan_id] = rec.fan
        fan_ids = self._write_fans(conn, list(fans.values()), count=False)
        pg = sql.is_postgres(conn)
        now = sql.db_timestamp(self.clock.now(), pg)
        existing = sql.select_existing_purchases(
            conn, self.creator_id, self.parser.platform, [r.transaction_id for r in records]
        )
        rows: list[tuple[Any, ...]] = []
        touched: set[str] = set()
        for rec in records:
            fan_id = fan_ids[rec.fan.platform_fan_id]
            purchased_at = sql.db_timestamp(rec.purchased_at, pg)
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
                self.report.inserted += 1
                purchase_id = new_id("pur")
            elif found == values:
                self.report.unchanged += 1
                continue
            else:
                self.report.updated += 1
                touched.add(found[0])
                purchase_id = "unused"
            touched.add(fan_id)
            rows.append(
                (
                    purchase_id,
                    self.creator_id,
                    fan_id,
                    self.parser.platform,
                    rec.kind,
                    rec.gross_cents,
                    rec.net_cents,
                    rec.currency,
                    purchased_at,
                    rec.transaction_id,
                    now,
                )
            )
        sql.upsert_purchases(conn, rows)
        sql.refresh_fan_totals(conn, sorted(touched), self.clock.now())

    def _record_event(self) -> None:
        report = self.report.as_dict()
        report.pop("errors")
        with self.engine.begin() as conn:
            conn.execute(
                sa_insert(Event).values(
                    creator_id=self.creator_id,
                    type="import.completed",
                    subject_id=None,
                    payload=report,
                    occurred_at=self.clock.now(),
                )
            )


def run_import(
    engine: Engine,
    creator_id: str,
    parser: Parser,
    stream: BinaryIO,
    clock: Clock,
    *,
    batch_size: int = 10_000,
    default_currency: str | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import ``stream`` with ``parser`` for ``creator_id``; see :class:`ImportWriter`."""
    writer = ImportWriter(engine, creator_id, parser, clock, batch_size, default_currency)
    return writer.run(stream, progress)
