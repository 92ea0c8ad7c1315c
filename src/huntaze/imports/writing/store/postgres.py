"""The import store on PostgreSQL: ``COPY`` for new fans, ``= ANY(array)`` for key reads,
JSONB ``||`` for merges (https://www.postgresql.org/docs/current/sql-copy.html,
https://www.postgresql.org/docs/current/functions-json.html)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Engine, text

from huntaze.db.base import db_timestamp
from huntaze.db.dialect import driver_connection, driver_cursor
from huntaze.imports.writing.store.base import (
    FAN_INSERT_COLUMNS,
    PURCHASE_COLUMNS,
    PURCHASE_CONFLICT,
    TIMESTAMP_COLUMNS,
    ImportStore,
    fan_totals_sql,
)

_CSV = pacsv.WriteOptions(include_header=False)
_COLS = ", ".join(FAN_INSERT_COLUMNS)


class PostgresImportStore(ImportStore):
    """Imports on PostgreSQL.

    Key reads are never server-prepared: psycopg prepares a statement after five runs, and
    the generic plan of ``= ANY($3)`` can choose a sequential scan of ``fans`` for every
    batch, which made re-imports 100x slower in the import benchmark.
    """

    writes_in_background = True

    def stamp(self, value: datetime | None) -> str | None:
        """UTC text with ``+00`` (``COPY``'s text input of ``timestamptz``)."""
        return db_timestamp(value, pg=True)

    def stored_times(self, column: Any) -> Any:
        """Append ``+00`` to each UTC text."""
        return pc.binary_join_element_wise(column, "+00", "")

    def json_merge(self, stored: str, incoming: str) -> str:
        """JSONB concatenation ``stored || incoming``."""
        return f"{stored} || {incoming}"

    def select_fingerprints(
        self,
        conn: Connection,
        creator_id: str,
        platform: str,
        keys: Sequence[str],
        format_name: str,
    ) -> dict[str, tuple[str, str | None]]:
        """One unprepared ``= ANY(%s)`` read of the keys and ``import_fingerprints ->> fmt``."""
        cur = driver_cursor(conn)
        cur.execute(
            "SELECT platform_fan_id, id, import_fingerprints ->> %s FROM fans "
            "WHERE creator_id = %s AND platform = %s AND platform_fan_id = ANY(%s)",
            (format_name, creator_id, platform, list(keys)),
            prepare=False,
        )
        return {key: (fan_id, digest) for key, fan_id, digest in cur.fetchall()}

    def select_existing_fans(
        self,
        conn: Connection,
        creator_id: str,
        platform: str,
        keys: Sequence[str],
        columns: Sequence[str],
        with_purchases: bool = False,
    ) -> dict[str, tuple[str, tuple[Any, ...], bool]]:
        """The stored values rendered on the server in the writer's text forms: parsing
        timestamps and JSON into Python objects only to print them again cost more than the
        query itself."""
        shown = [
            f"to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'"
            if c in TIMESTAMP_COLUMNS
            else f"{c}::text"
            if c == "custom_fields"
            else c
            for c in columns
        ]
        select_cols = ", ".join(["platform_fan_id", "id", *shown])
        if with_purchases:
            select_cols += ", EXISTS (SELECT 1 FROM purchases p WHERE p.fan_id = fans.id)"
        cur = driver_cursor(conn)
        cur.execute(
            f"SELECT {select_cols} FROM fans "
            "WHERE creator_id = %s AND platform = %s AND platform_fan_id = ANY(%s)",
            (creator_id, platform, list(keys)),
            prepare=False,
        )
        end = 2 + len(columns)
        return {
            row[0]: (row[1], tuple(row[2:end]), bool(row[-1]) if with_purchases else False)
            for row in cur.fetchall()
        }

    def set_fingerprints(
        self, conn: Connection, format_name: str, pairs: Sequence[tuple[str, str]]
    ) -> None:
        """``import_fingerprints || jsonb_build_object(fmt, digest)`` per fan."""
        if not pairs:
            return
        driver_cursor(conn).executemany(
            "UPDATE fans SET import_fingerprints = import_fingerprints || "
            "jsonb_build_object(%s::text, %s::text) WHERE id = %s",
            [(format_name, digest, fan_id) for fan_id, digest in pairs],
        )

    def upsert_fans(
        self,
        conn: Connection,
        rows: Sequence[tuple[Any, ...]],
        provides: frozenset[str],
        all_new: bool = False,
    ) -> None:
        """``COPY`` the rows (see :meth:`_copy_fans`)."""
        if not rows:
            return

        def write(copy: Any) -> None:
            for row in rows:
                copy.write_row(row)

        self._copy_fans(conn, write, "", all_new, provides)

    def stage_new_fans(self, plan: Any, arrays: list[Any], size: int) -> None:
        """Write the rows as CSV with pyarrow's C++ writer (``plan.new_csv``), for one
        ``COPY … (FORMAT csv)``; an unquoted empty field is NULL."""
        sink = io.BytesIO()
        pacsv.write_csv(pa.table(arrays, names=list(FAN_INSERT_COLUMNS)), sink, _CSV)
        plan.new_csv = sink.getvalue()

    def insert_new_fans(
        self, conn: Connection, rows: Sequence[tuple[Any, ...]], data: bytes | None
    ) -> None:
        """``COPY`` ``data`` straight into ``fans``, then ``INSERT`` ``rows``."""
        if data is not None:
            cur = driver_cursor(conn)
            with cur.copy(f"COPY fans ({_COLS}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(data)
        if rows:
            marks = ", ".join(["%s"] * len(FAN_INSERT_COLUMNS))
            driver_cursor(conn).executemany(
                f"INSERT INTO fans ({_COLS}) VALUES ({marks})", list(rows)
            )

    def write_new_fans(self, conn: Connection, plan: Any, provides: frozenset[str]) -> None:
        """``COPY`` the staged CSV straight into ``fans`` (falling back to the upsert on a
        unique violation), then the row path's ``new_fans``."""
        if plan.new_csv is not None:
            data = plan.new_csv
            self._copy_fans(conn, lambda copy: copy.write(data), " (FORMAT csv)", True, provides)
        self.upsert_fans(conn, plan.new_fans, provides, all_new=True)

    def _copy_fans(
        self,
        conn: Connection,
        write: Callable[[Any], None],
        options: str,
        all_new: bool,
        provides: frozenset[str],
    ) -> None:
        """``COPY`` fans (``write`` feeds psycopg's ``Copy``; ``options`` follow ``FROM
        STDIN``): straight into ``fans`` when ``all_new``, in a savepoint; on a unique
        violation, or when not ``all_new``, into a staging table and one ``INSERT … SELECT
        … ON CONFLICT`` upsert."""
        raw = driver_connection(conn)
        cur = raw.cursor()
        if all_new:
            try:
                with (
                    raw.transaction(),  # a savepoint
                    cur.copy(f"COPY fans ({_COLS}) FROM STDIN{options}") as copy,
                ):
                    write(copy)
                return
            except psycopg.errors.UniqueViolation:
                pass
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS _import_fans "
            "(LIKE fans INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        with cur.copy(f"COPY _import_fans ({_COLS}) FROM STDIN{options}") as copy:
            write(copy)
        cur.execute(
            f"INSERT INTO fans ({_COLS}) SELECT {_COLS} FROM _import_fans ON CONFLICT "
            "(creator_id, platform, platform_fan_id) DO UPDATE SET " + self.fan_update_set(provides)
        )
        cur.execute("TRUNCATE _import_fans")

    def analyze_fans(self, conn: Connection) -> None:
        """``ANALYZE fans``: a table that grew from empty within one import still looks
        empty to the planner until autovacuum catches up, and each batch's key read then
        scans the creator's whole range; the writer calls this as the table doubles."""
        conn.exec_driver_sql("ANALYZE fans")

    def select_existing_purchases(
        self, conn: Connection, creator_id: str, platform: str, transaction_ids: Sequence[str]
    ) -> dict[str, tuple[Any, ...]]:
        """One unprepared ``= ANY(%s)`` read."""
        cur = driver_cursor(conn)
        cur.execute(
            "SELECT transaction_id, fan_id, kind, gross_cents, net_cents, currency, purchased_at "
            "FROM purchases WHERE creator_id = %s AND platform = %s "
            "AND transaction_id = ANY(%s)",
            (creator_id, platform, list(transaction_ids)),
            prepare=False,
        )
        found: dict[str, tuple[Any, ...]] = {}
        for tx, *rest in cur.fetchall():
            rest[-1] = self.stamp(rest[-1])
            found[tx] = tuple(rest)
        return found

    def upsert_purchases(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        """``executemany`` of ``INSERT … ON CONFLICT DO UPDATE``."""
        if not rows:
            return
        cols = ", ".join(PURCHASE_COLUMNS)
        marks = ", ".join(["%s"] * len(PURCHASE_COLUMNS))
        driver_cursor(conn).executemany(
            f"INSERT INTO purchases ({cols}) VALUES ({marks}) {PURCHASE_CONFLICT}", rows
        )

    def refresh_fan_totals(self, conn: Connection, fan_ids: Sequence[str], now: datetime) -> None:
        """One ``UPDATE … WHERE id = ANY(%s)``."""
        if not fan_ids:
            return
        set_clause, changed = fan_totals_sql()
        driver_cursor(conn).execute(
            f"UPDATE fans SET {set_clause} updated_at = %s WHERE id = ANY(%s) AND {changed}",
            (now, list(fan_ids)),
        )

    def select_tag_keys(self, conn: Connection, fan_ids: Sequence[str]) -> dict[str, set[str]]:
        """One unprepared ``= ANY(%s)`` read."""
        cur = driver_cursor(conn)
        cur.execute(
            "SELECT fan_id, tag_key FROM fan_tags WHERE fan_id = ANY(%s)",
            (list(fan_ids),),
            prepare=False,
        )
        found: dict[str, set[str]] = {}
        for fan_id, key in cur.fetchall():
            found.setdefault(fan_id, set()).add(key)
        return found

    def insert_tags(self, conn: Connection, rows: Sequence[tuple[str, str, str, str]]) -> None:
        """``executemany`` of ``INSERT … ON CONFLICT DO NOTHING``."""
        if not rows:
            return
        driver_cursor(conn).executemany(
            "INSERT INTO fan_tags (fan_id, tag, tag_key, creator_id) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            rows,
        )

    def drop_creator_fk(self, conn: Connection, name: str) -> None:
        """``ALTER TABLE fans DROP CONSTRAINT IF EXISTS``."""
        conn.exec_driver_sql(f'ALTER TABLE fans DROP CONSTRAINT IF EXISTS "{name}"')

    def ensure_creator_fk(self, engine: Engine, name: str) -> None:
        """Add the key back ``NOT VALID`` (instant, enforced on new rows), then ``VALIDATE``
        it in a transaction of its own, which scans ``fans`` without blocking writes
        (https://www.postgresql.org/docs/current/sql-altertable.html).

        Raises:
            sqlalchemy.exc.SQLAlchemyError: when validation finds a fan whose creator is gone
                (the key then stays, enforced on new rows, and the next import tries again).
        """
        with engine.begin() as conn:
            valid = conn.execute(
                text(
                    "SELECT convalidated FROM pg_constraint "
                    "WHERE conname = :name AND conrelid = 'fans'::regclass"
                ),
                {"name": name},
            ).scalar()
            if valid is None:
                conn.exec_driver_sql(
                    f'ALTER TABLE fans ADD CONSTRAINT "{name}" FOREIGN KEY (creator_id) '
                    "REFERENCES creators (id) ON DELETE CASCADE NOT VALID"
                )
        if not valid:
            with engine.begin() as conn:
                conn.exec_driver_sql(f'ALTER TABLE fans VALIDATE CONSTRAINT "{name}"')
