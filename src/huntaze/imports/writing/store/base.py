"""What every engine's import store does, and the SQL the engines share.

The writer and its planners (:mod:`..blocks`, :mod:`..rowplan`, :mod:`..purchases`) never
test the dialect: they call the :class:`ImportStore` of their engine, which
:func:`huntaze.imports.writing.store.store_for` picks once. Each store takes a SQLAlchemy
``Connection`` inside a transaction and plain tuples, and never commits. The shapes follow
the import upsert: read the batch's keys with one indexed query, then write only new and
changed rows.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from huntaze.imports.records import FAN_COLUMNS

#: Columns written on insert, in this order.
FAN_INSERT_COLUMNS = (
    "id",
    "creator_id",
    "platform",
    "platform_fan_id",
    *FAN_COLUMNS,
    "import_fingerprints",
    "created_at",
    "updated_at",
)

#: Columns of an imported purchase, in this order.
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

#: Columns whose stored form is a timestamp (compared as :meth:`ImportStore.stamp` text).
TIMESTAMP_COLUMNS = frozenset({"subscribed_at", "expires_at", "last_active_at"})

#: On a conflict on a purchase's transaction, every imported value replaces the stored one.
PURCHASE_CONFLICT = (
    "ON CONFLICT (creator_id, platform, transaction_id) DO UPDATE SET "
    "fan_id = excluded.fan_id, kind = excluded.kind, gross_cents = excluded.gross_cents, "
    "net_cents = excluded.net_cents, currency = excluded.currency, "
    "purchased_at = excluded.purchased_at"
)


def chunks(items: Sequence[Any], size: int = 5_000) -> Iterable[Sequence[Any]]:
    """Slices of ``items`` of at most ``size`` (under SQLite's bound-variable limit)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def fan_totals_sql() -> tuple[str, str]:
    """The ``SET`` list and the changed-only condition that derive a fan's lifetime value
    (sum of net cents), last activity and currency from its purchases; the caller adds
    ``updated_at`` and the ids."""
    ltv = "(SELECT COALESCE(SUM(p.net_cents), 0) FROM purchases p WHERE p.fan_id = fans.id)"
    last = "(SELECT MAX(p.purchased_at) FROM purchases p WHERE p.fan_id = fans.id)"
    ccy = "(SELECT MAX(p.currency) FROM purchases p WHERE p.fan_id = fans.id)"
    set_clause = (
        f"lifetime_value_cents = {ltv}, "
        f"last_active_at = CASE WHEN fans.last_active_at IS NULL OR fans.last_active_at < {last} "
        f"THEN {last} ELSE fans.last_active_at END, "
        f"currency = COALESCE(fans.currency, {ccy}), "
    )
    changed = (
        f"(fans.lifetime_value_cents <> {ltv} OR fans.last_active_at IS NULL "
        f"OR fans.last_active_at < {last} OR (fans.currency IS NULL AND {ccy} IS NOT NULL))"
    )
    return set_clause, changed


class ImportStore(ABC):
    """One engine's SQL for imports. Subclasses: ``PostgresImportStore`` (``COPY``,
    ``= ANY(array)``, JSONB) and ``SqliteImportStore`` (``executemany``, chunked ``IN``,
    JSON1)."""

    #: Whether the writer applies a batch on a thread of its own while it plans the next
    #: (PostgreSQL works in its own process; SQLite's work would only fight over the GIL).
    writes_in_background: bool = False

    # -- stored forms -----------------------------------------------------------------

    @abstractmethod
    def stamp(self, value: datetime | None) -> str | None:
        """``value`` (aware) as the UTC text this engine stores, or None."""

    @abstractmethod
    def stored_times(self, column: Any) -> Any:
        """A pyarrow string column of :func:`stamp`-less UTC texts in this engine's form."""

    @abstractmethod
    def json_merge(self, stored: str, incoming: str) -> str:
        """SQL that merges the JSON object ``incoming`` into ``stored`` (keys of ``incoming``
        win)."""

    def fan_update_set(self, provides: frozenset[str]) -> str:
        """The ``DO UPDATE SET`` list of a fan upsert that changes only ``provides``.

        ``custom_fields`` and the fingerprints merge; ``consent`` only moves to
        ``opted_out`` (an opt-in comes from the fan, never from a file); activity only
        moves forward; a fan with purchases keeps the lifetime value derived from them.
        """
        parts = []
        for col in sorted(provides):
            if col == "consent":
                parts.append(
                    "consent = CASE WHEN excluded.consent = 'opted_out' THEN 'opted_out' "
                    "ELSE fans.consent END"
                )
            elif col == "custom_fields":
                merged = self.json_merge("fans.custom_fields", "excluded.custom_fields")
                parts.append(f"custom_fields = {merged}")
            elif col == "last_active_at":
                parts.append(
                    "last_active_at = CASE WHEN fans.last_active_at IS NULL "
                    "OR excluded.last_active_at > fans.last_active_at "
                    "THEN excluded.last_active_at ELSE fans.last_active_at END"
                )
            elif col == "lifetime_value_cents":
                parts.append(
                    "lifetime_value_cents = CASE WHEN EXISTS (SELECT 1 FROM purchases p "
                    "WHERE p.fan_id = fans.id) THEN fans.lifetime_value_cents "
                    "ELSE excluded.lifetime_value_cents END"
                )
            else:
                parts.append(f"{col} = excluded.{col}")
        merged = self.json_merge("fans.import_fingerprints", "excluded.import_fingerprints")
        parts.append(f"import_fingerprints = {merged}")
        parts.append("updated_at = excluded.updated_at")
        return ", ".join(parts)

    # -- fans -------------------------------------------------------------------------

    @abstractmethod
    def select_fingerprints(
        self,
        conn: Connection,
        creator_id: str,
        platform: str,
        keys: Sequence[str],
        format_name: str,
    ) -> dict[str, tuple[str, str | None]]:
        """Return ``{platform_fan_id: (fan id, this format's last fingerprint or None)}``
        for the keys that exist, with one indexed query."""

    @abstractmethod
    def select_existing_fans(
        self,
        conn: Connection,
        creator_id: str,
        platform: str,
        keys: Sequence[str],
        columns: Sequence[str],
        with_purchases: bool = False,
    ) -> dict[str, tuple[str, tuple[Any, ...], bool]]:
        """Return ``{platform_fan_id: (fan id, stored values of columns, has purchases)}``
        for the keys that exist. Values come back in ``columns`` order and in the form the
        writer builds rows in: timestamps as :meth:`stamp` text, ``custom_fields`` as JSON
        text. ``has purchases`` is only looked up when ``with_purchases`` (else False)."""

    @abstractmethod
    def set_fingerprints(
        self, conn: Connection, format_name: str, pairs: Sequence[tuple[str, str]]
    ) -> None:
        """Record ``(fan_id, fingerprint)`` for ``format_name``, touching no other column."""

    @abstractmethod
    def upsert_fans(
        self,
        conn: Connection,
        rows: Sequence[tuple[Any, ...]],
        provides: frozenset[str],
        all_new: bool = False,
    ) -> None:
        """Insert or update fans; ``rows`` are database-ready tuples in
        :data:`FAN_INSERT_COLUMNS` order. On a conflict on ``(creator_id, platform,
        platform_fan_id)`` only the ``provides`` columns change (:meth:`fan_update_set`).
        ``all_new`` says no row's key existed when the batch was read."""

    @abstractmethod
    def stage_new_fans(self, plan: Any, arrays: list[Any], size: int) -> None:
        """Add a block's new fans to ``plan`` (a ``Plan``) in the form this engine loads
        fastest: ``arrays`` are pyarrow columns in :data:`FAN_INSERT_COLUMNS` order."""

    @abstractmethod
    def insert_new_fans(
        self, conn: Connection, rows: Sequence[tuple[Any, ...]], data: bytes | None
    ) -> None:
        """Insert fans taken to be new, with no upsert: ``rows`` and, on PostgreSQL, the
        CSV ``data`` that :meth:`stage_new_fans` made. Run it in a savepoint.

        Raises:
            sqlalchemy.exc.IntegrityError: (SQLite) or psycopg.errors.UniqueViolation
                (PostgreSQL) when one of the keys is already stored.
        """

    def write_new_fans(self, conn: Connection, plan: Any, provides: frozenset[str]) -> None:
        """Write ``plan``'s new fans (a ``Plan``: what :meth:`stage_new_fans` staged and the
        row path's ``new_fans``), upserting should another writer have added one of the keys
        meanwhile."""
        self.upsert_fans(conn, plan.new_fans, provides, all_new=True)

    def analyze_fans(self, conn: Connection) -> None:
        """Refresh the planner's statistics on ``fans`` where the engine needs it (no-op by
        default)."""
        return None

    # -- purchases and tags ---------------------------------------------------------

    @abstractmethod
    def select_existing_purchases(
        self, conn: Connection, creator_id: str, platform: str, transaction_ids: Sequence[str]
    ) -> dict[str, tuple[Any, ...]]:
        """Return ``{transaction_id: (fan_id, kind, gross, net, currency, purchased_at)}``,
        ``purchased_at`` as :meth:`stamp` text, to compare with new rows."""

    @abstractmethod
    def upsert_purchases(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert or replace purchases; ``rows`` are database-ready tuples in
        :data:`PURCHASE_COLUMNS` order."""

    @abstractmethod
    def refresh_fan_totals(self, conn: Connection, fan_ids: Sequence[str], now: datetime) -> None:
        """Derive each fan's lifetime value and last activity from its purchases
        (:func:`fan_totals_sql`); only fans whose values change are written, with
        ``updated_at`` = ``now``."""

    @abstractmethod
    def select_tag_keys(self, conn: Connection, fan_ids: Sequence[str]) -> dict[str, set[str]]:
        """Return ``{fan_id: tag keys}`` for the fans of ``fan_ids`` that have tags."""

    @abstractmethod
    def insert_tags(self, conn: Connection, rows: Sequence[tuple[str, str, str, str]]) -> None:
        """Add ``(fan_id, tag, tag_key, creator_id)`` rows; a key the fan already has stays
        as it is (``ON CONFLICT DO NOTHING`` on the primary key ``(fan_id, tag_key)``)."""

    # -- bulk loads -------------------------------------------------------------------

    def index_build(self, conn: Connection) -> AbstractContextManager[None]:
        """Settings for building one index on ``conn`` (none by default)."""
        return nullcontext()

    def drop_creator_fk(self, conn: Connection, name: str) -> None:
        """Drop the foreign key from ``fans`` to ``creators`` during a bulk load, where the
        engine can add it back cheaply (a no-op by default)."""
        return None

    def ensure_creator_fk(self, engine: Engine, name: str) -> None:
        """Put back and validate the key :meth:`drop_creator_fk` dropped (no-op by
        default)."""
        return None
