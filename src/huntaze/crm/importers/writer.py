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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson
from sqlalchemy import Engine
from sqlalchemy import insert as sa_insert

from huntaze.crm.importers import sql
from huntaze.crm.importers.base import Parser
from huntaze.crm.importers.compare import CUSTOM, FanComparer
from huntaze.crm.importers.records import FanRecord, PurchaseRecord, RowError
from huntaze.crm.importers.report import ImportReport
from huntaze.kit.clock import Clock
from huntaze.kit.ids import new_id, new_ids
from huntaze.models.events import Event

ProgressCallback = Callable[[int], None]


@dataclass(slots=True)
class _Plan:
    """The writes of one batch, decided before any of them is made."""

    new_fans: list[tuple[Any, ...]] = field(default_factory=list)
    changed_fans: list[tuple[Any, ...]] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)
    purchases: list[tuple[Any, ...]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)


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
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: Future[None] | None = None
        self._in_flight_keys: frozenset[str] = frozenset()

    def run(self, stream: BinaryIO, progress: ProgressCallback | None = None) -> ImportReport:
        """Import every record of ``stream`` and return the report.

        Each batch is first planned (one indexed read of the stored keys, then classification
        in memory) and then applied in one transaction. On PostgreSQL the apply runs on a
        writer thread, so the server writes batch N while this thread parses and plans batch
        N+1; a batch sharing a key with the one in flight waits for it, so counts stay exact.
        ``progress`` is called after each batch with the number of rows done so far.

        Raises:
            huntaze.crm.importers.base.ImportFormatError: when the file is not in the format
                (raised before any row is written).
            sqlalchemy.exc.SQLAlchemyError: on a database failure; batches already committed
                stay, and running the import again completes it.
        """
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="huntaze-import") as pool:
            self._pool = pool
            try:
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
            finally:
                self._settle()
        self._record_event()
        return self.report

    def _settle(self) -> None:
        """Wait for the batch in flight; re-raise its error."""
        if self._in_flight is not None:
            future, self._in_flight, self._in_flight_keys = self._in_flight, None, frozenset()
            future.result()

    def _flush(self, batch: _Batch, progress: ProgressCallback | None) -> _Batch:
        """Plan ``batch`` here, then hand its writes to the writer thread; return a new batch."""
        if not len(batch):
            return batch
        keys = frozenset(batch.fans) | {r.fan.platform_fan_id for r in batch.purchases.values()}
        if keys & self._in_flight_keys:
            self._settle()
        plan = _Plan()
        with self.engine.connect() as conn:
            if batch.fans:
                self._plan_fans(conn, plan, list(batch.fans.values()), count=True)
            if batch.purchases:
                self._plan_purchases(conn, plan, list(batch.purchases.values()))
        self._settle()
        if self.engine.dialect.name != "postgresql":
            # SQLite does its work inside the calling process: overlapping it only fights
            # over the GIL (measured slower), so it is applied right here.
            self._apply(plan)
        else:
            if self._pool is None:
                raise RuntimeError("_flush runs only inside run()")
            self._in_flight = self._pool.submit(self._apply, plan)
        self._in_flight_keys = keys
        if progress is not None:
            progress(self.report.rows)
        return _Batch()

    def _apply(self, plan: _Plan) -> None:
        """Write one planned batch in one transaction (runs on the writer thread)."""
        provides = self.parser.provides
        with self.engine.begin() as conn:
            sql.upsert_fans(conn, plan.new_fans, provides, all_new=True)
            sql.upsert_fans(conn, plan.changed_fans, provides)
            sql.insert_tags(conn, self.creator_id, plan.tags)
            sql.upsert_purchases(conn, plan.purchases)
            sql.refresh_fan_totals(conn, sorted(plan.touched), self.clock.now())
        if self.report.inserted >= max(2 * self._analyzed_at, self.batch_size):
            self._analyzed_at = self.report.inserted
            with self.engine.begin() as conn:
                sql.analyze_fans(conn)

    def _plan_fans(
        self, conn: Any, plan: _Plan, records: list[FanRecord], count: bool
    ) -> dict[str, str]:
        """Classify ``records`` against the stored fans into ``plan``; return
        ``{platform_fan_id: fan id}`` for all of them.

        New keys are inserted, changed ones updated, and the rest are counted unchanged and
        not written (one indexed query per batch).
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
        fresh = iter(new_ids("fan", len(records) - len(existing)))
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
                fan_id = next(fresh)
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
            row[CUSTOM] = custom_text
            (plan.new_fans if found is None else plan.changed_fans).append(tuple(row))
            plan.tags.extend((fan_id, tag) for tag in new_tags)
        return ids

    def _plan_purchases(self, conn: Any, plan: _Plan, records: list[PurchaseRecord]) -> None:
        fans: dict[str, FanRecord] = {}
        for rec in records:
            fans[rec.fan.platform_fan_id] = rec.fan
        fan_ids = self._plan_fans(conn, plan, list(fans.values()), count=False)
        pg = sql.is_postgres(conn)
        now = sql.db_timestamp(self.clock.now(), pg)
        existing = sql.select_existing_purchases(
            conn, self.creator_id, self.parser.platform, [r.transaction_id for r in records]
        )
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
                plan.touched.add(found[0])
                purchase_id = "unused"
            plan.touched.add(fan_id)
            plan.purchases.append(
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
