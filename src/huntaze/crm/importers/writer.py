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
from operator import itemgetter
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


_SPECIAL = frozenset({"custom_fields", "consent", "last_active_at", "lifetime_value_cents"})


class FanComparer:
    """Tells whether an imported fan row would change the stored fan.

    Mirrors the update rules of :func:`sql.upsert_fans`: plain columns compare equal or not;
    custom fields merge (unchanged when every imported key already holds that value); consent
    only moves to ``opted_out``; last activity only moves forward; a fan with purchases keeps
    its derived lifetime value.

    Args:
        columns: the provided columns, in the order ``sql.select_existing_fans`` returns them.
    """

    def __init__(self, columns: list[str]) -> None:
        plain = [j for j, c in enumerate(columns) if c not in _SPECIAL]
        self._stored_plain = itemgetter(*plain) if plain else _nothing
        self._row_plain = (
            itemgetter(*[_COLUMN_INDEX[columns[j]] for j in plain]) if plain else _nothing
        )
        where = {c: j for j, c in enumerate(columns)}
        self._custom = where.get("custom_fields")
        self._consent = where.get("consent")
        self._last_active = where.get("last_active_at")
        self._ltv = where.get("lifetime_value_cents")

    def changed(
        self,
        row: list[Any],
        custom_text: str,
        custom: dict[str, Any],
        stored: tuple[Any, ...],
        has_purchases: bool,
    ) -> bool:
        """True when writing ``row`` (custom fields as ``custom`` / ``custom_text``) changes
        the fan whose stored values are ``stored``."""
        if self._row_plain(row) != self._stored_plain(stored):
            return True
        if self._custom is not None:
            old = stored[self._custom]
            if old != custom_text:
                old = orjson.loads(old) if old else {}
                if any(old.get(k) != v for k, v in custom.items()):
                    return True
        j = self._consent
        if j is not None and row[_CONSENT] == "opted_out" and stored[j] != "opted_out":
            return True
        j = self._last_active
        new_last = row[_LAST_ACTIVE]
        if j is not None and new_last is not None and (stored[j] is None or new_last > stored[j]):
            return True
        j = self._ltv
        return j is not None and not has_purchases and stored[j] != row[_LTV]


def _nothing(_: Any) -> tuple[()]:
    return ()


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
        self._analyzed_at = 0

    def run(self, stream: BinaryIO, progress: ProgressCallback | None = None) -> ImportReport:
        """Import every record of ``stream`` and return the report.

        ``progress`` is called after each batch with the number of rows done so far.

        Raises:
            huntaze.crm.importers.base.ImportFormatError: when the file is not in the format
                (raised before any row is written).
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
                    batch = self._flush(batch, progress)
                batch.fans[record.platform_fan_id] = record
            else:
                if record.transaction_id in batch.purchases:
                    batch = self._flush(batch, progress)
                batch.purchases[record.transaction_id] = record
            if len(batch) >= self.batch_size:
                batch = self._flush(batch, progress)
        self._flush(batch, progress)
        self._record_event()
        return self.report

    def _flush(self, batch: _Batch, progress: ProgressCallback | None) -> _Batch:
        """Write ``batch`` in one transaction; return a new empty batch."""
        if not len(batch):
            return batch
        with self.engine.begin() as conn:
            if batch.fans:
                self._write_fans(conn, list(batch.fans.values()), count=True)
            if batch.purchases:
                self._write_purchases(conn, list(batch.purchases.values()))
        if self.report.inserted >= max(2 * self._analyzed_at, self.batch_size):
            with self.engine.begin() as conn:
                sql.analyze_fans(conn)
            self._analyzed_at = self.report.inserted
        if progress is not None:
            progress(self.report.rows)
        return _Batch()

    def _write_fans(self, conn: Any, records: list[FanRecord], count: bool) -> dict[str, str]:
        """Upsert ``records``; return ``{platform_fan_id: fan id}`` for all of them.

        Each record is compared with the stored fan (one indexed query per batch): new keys
        are inserted, changed ones updated, and the rest are counted unchanged and not written.
        """
        provides = self.parser.provides
        columns = sorted(provides)
        comparer = FanComparer(columns)
        pg = sql.is_postgres(conn)
        stamp = sql.db_timestamp
        now = stamp(self.clock.now(), pg)
        existing = sql.select_existing_fans(
            conn,
            self.creator_id,
            self.parser.platform,
            [r.platform_fan_id for r in records],
            columns,
            with_purchases="lifetime_value_cents" in provides,
        )
        stored_tags: dict[str, set[str]] = {}
        if existing and any(r.tags for r in records):
            stored_tags = sql.select_tags(conn, [found[0] for found in existing.values()])
        ids: dict[str, str] = {}
        new_rows: list[tuple[Any, ...]] = []
        changed_rows: list[tuple[Any, ...]] = []
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
            custom_text = orjson.dumps(rec.custom_fields, option=orjson.OPT_SORT_KEYS).decode()
            found = existing.get(rec.platform_fan_id)
            if found is None:
                fan_id = new_id("fan")
                if count:
                    self.report.inserted += 1
                new_tags: Any = rec.tags
            else:
                fan_id = found[0]
                new_tags = set(rec.tags) - stored_tags.get(fan_id, set())
                if not new_tags and not comparer.changed(
                    row, custom_text, rec.custom_fields, found[1], found[2]
                ):
                    ids[rec.platform_fan_id] = fan_id
                    if count:
                        self.report.unchanged += 1
                    continue
                if count:
                    self.report.updated += 1
            ids[rec.platform_fan_id] = fan_id
            row[0] = fan_id
            row[_CUSTOM] = custom_text
            (new_rows if found is None else changed_rows).append(tuple(row))
            tag_pairs.extend((fan_id, tag) for tag in new_tags)
        sql.upsert_fans(conn, new_rows, provides, all_new=True)
        sql.upsert_fans(conn, changed_rows, provides)
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
