"""Batched SQL for imports, on SQLite (executemany) and PostgreSQL (COPY + INSERT … SELECT).

The shapes follow design.md §8 ("Import upsert"). Every function takes a SQLAlchemy
``Connection`` inside a transaction and plain tuples, and never commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import psycopg
from sqlalchemy import Connection

from huntaze.db.dialect import driver_connection, driver_cursor, is_postgres
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


def chunks(items: Sequence[Any], size: int = 5_000) -> Iterable[Sequence[Any]]:
    """Slices of ``items`` of at most ``size`` (under SQLite's bound-variable limit)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


#: Columns whose stored form is a timestamp (compared as :func:`db_timestamp` text).
TIMESTAMP_COLUMNS = frozenset({"subscribed_at", "expires_at", "last_active_at"})


def select_existing_fans(
    conn: Connection,
    creator_id: str,
    platform: str,
    keys: Sequence[str],
    columns: Sequence[str],
    with_purchases: bool = False,
) -> dict[str, tuple[str, tuple[Any, ...], bool]]:
    """Return ``{platform_fan_id: (fan id, stored values of columns, has purchases)}``.

    Only keys that exist are returned. Stored values come back in ``columns`` order and in
    the form the writer builds rows in: timestamps as :func:`db_timestamp` text;
    ``custom_fields`` as JSON text. ``has purchases``
    is only looked up when ``with_purchases`` (else False).

    On PostgreSQL the query is never server-prepared: psycopg prepares a statement after five
    runs, and the generic plan of ``= ANY($3)`` can choose a sequential scan of ``fans``
    for every batch, which made re-imports 100x slower in the import benchmark.
    """
    pg = is_postgres(conn)
    if pg:
        # Render on the server in the writer's text forms: parsing timestamps and JSON into
        # Python objects only to print them again cost more than the query itself.
        shown = [
            f"to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'"
            if c in TIMESTAMP_COLUMNS
            else f"{c}::text"
            if c == "custom_fields"
            else c
            for c in columns
        ]
    else:
        shown = list(columns)
    select_cols = ", ".join(["platform_fan_id", "id", *shown])
    if with_purchases:
        select_cols += ", EXISTS (SELECT 1 FROM purchases p WHERE p.fan_id = fans.id)"
    fetched: list[Any] = []
    if pg:
        cur = driver_cursor(conn)
        cur.execute(
            f"SELECT {select_cols} FROM fans "
            "WHERE creator_id = %s AND platform = %s AND platform_fan_id = ANY(%s)",
            (creator_id, platform, list(keys)),
            prepare=False,  # a generic plan may pick a sequential scan; see docstring
        )
        fetched = cur.fetchall()
    else:
        for chunk in chunks(keys):
            marks = ",".join("?" * len(chunk))
            fetched.extend(
                conn.exec_driver_sql(
                    f"SELECT {select_cols} FROM fans "
                    f"WHERE creator_id = ? AND platform = ? AND platform_fan_id IN ({marks})",
                    (creator_id, platform, *chunk),
                ).fetchall()
            )
    end = 2 + len(columns)
    found: dict[str, tuple[str, tuple[Any, ...], bool]] = {}
    for row in fetched:
        found[row[0]] = (row[1], tuple(row[2:end]), bool(row[-1]) if with_purchases else False)
    return found


def analyze_fans(conn: Connection) -> None:
    """Refresh PostgreSQL's statistics on ``fans`` (no-op on SQLite).

    A table that grew from empty within one import still looks empty to the planner until
    autovacuum catches up, and the key lookups of each batch then scan the creator's whole
    range; the writer calls this as the table doubles.
    """
    if is_postgres(conn):
        conn.exec_driver_sql("ANALYZE fans")


def select_fingerprints(
    conn: Connection, creator_id: str, platform: str, keys: Sequence[str], format_name: str
) -> dict[str, tuple[str, str | None]]:
    """Return ``{platform_fan_id: (fan id, this format's last fingerprint or None)}``.

    Only keys that exist are returned; one indexed query (see :func:`select_existing_fans`
    for why PostgreSQL's is not prepared).
    """
    fetched: list[Any] = []
    if is_postgres(conn):
        cur = driver_cursor(conn)
        cur.execute(
            "SELECT platform_fan_id, id, import_fingerprints ->> %s FROM fans "
            "WHERE creator_id = %s AND platform = %s AND platform_fan_id = ANY(%s)",
            (format_name, creator_id, platform, list(keys)),
            prepare=False,
        )
        fetched = cur.fetchall()
    else:
        path = f'$."{format_name}"'
        for chunk in chunks(keys):
            marks = ",".join("?" * len(chunk))
            fetched.extend(
                conn.exec_driver_sql(
                    "SELECT platform_fan_id, id, json_extract(import_fingerprints, ?) FROM fans "
                    f"WHERE creator_id = ? AND platform = ? AND platform_fan_id IN ({marks})",
                    (path, creator_id, platform, *chunk),
                ).fetchall()
            )
    return {key: (fan_id, digest) for key, fan_id, digest in fetched}


def set_fingerprints(conn: Connection, format_name: str, pairs: Sequence[tuple[str, str]]) -> None:
    """Record ``(fan_id, fingerprint)`` for ``format_name`` without touching other columns."""
    if not pairs:
        return
    if is_postgres(conn):
        cur = driver_cursor(conn)
        cur.executemany(
            "UPDATE fans SET import_fingerprints = import_fingerprints || "
            "jsonb_build_object(%s::text, %s::text) WHERE id = %s",
            [(format_name, digest, fan_id) for fan_id, digest in pairs],
        )
        return
    conn.exec_driver_sql(
        "UPDATE fans SET import_fingerprints = json_set(import_fingerprints, ?, ?) WHERE id = ?",
        [(f'$."{format_name}"', digest, fan_id) for fan_id, digest in pairs],
    )


def _fan_update_set(provides: frozenset[str], pg: bool) -> str:
    parts = []
    for col in sorted(provides):
        if col == "consent":
            # An import may opt a fan out (Substack's email_disabled) but never back in: an
            # opt-in comes from the fan, not from a file.
            parts.append(
                "consent = CASE WHEN excluded.consent = 'opted_out' THEN 'opted_out' "
                "ELSE fans.consent END"
            )
        elif col == "custom_fields":
            merge = (
                "fans.custom_fields || excluded.custom_fields"
                if pg
                else "json_patch(fans.custom_fields, excluded.custom_fields)"
            )
            parts.append(f"custom_fields = {merge}")
        elif col == "last_active_at":
            # Activity only moves forward: an older export never hides a later payment.
            parts.append(
                "last_active_at = CASE WHEN fans.last_active_at IS NULL "
                "OR excluded.last_active_at > fans.last_active_at "
                "THEN excluded.last_active_at ELSE fans.last_active_at END"
            )
        elif col == "lifetime_value_cents":
            # A fan whose payments are known keeps the value derived from them.
            parts.append(
                "lifetime_value_cents = CASE WHEN EXISTS (SELECT 1 FROM purchases p "
                "WHERE p.fan_id = fans.id) THEN fans.lifetime_value_cents "
                "ELSE excluded.lifetime_value_cents END"
            )
        else:
            parts.append(f"{col} = excluded.{col}")
    parts.append(
        "import_fingerprints = fans.import_fingerprints || excluded.import_fingerprints"
        if pg
        else "import_fingerprints = json_patch(fans.import_fingerprints, "
        "excluded.import_fingerprints)"
    )
    parts.append("updated_at = excluded.updated_at")
    return ", ".join(parts)


def upsert_fans(
    conn: Connection,
    rows: Sequence[tuple[Any, ...]],
    provides: frozenset[str],
    all_new: bool = False,
) -> None:
    """Insert or update fans; ``rows`` are tuples in :data:`FAN_INSERT_COLUMNS` order.

    On a conflict on ``(creator_id, platform, platform_fan_id)`` only the ``provides`` columns
    change: the caller sends only new and changed rows. ``custom_fields`` are merged;
    ``consent`` only ever moves to ``opted_out``; a fan with purchases keeps the lifetime value
    derived from them.
    Rows are database-ready: timestamps from :func:`db_timestamp`, ``custom_fields`` as JSON
    text.

    ``all_new`` says no row's key existed when the batch was read. On PostgreSQL those rows
    are then copied straight into ``fans``; should another writer have added one of the keys
    meanwhile (a unique violation), the batch goes through the upsert path instead.
    """
    if not rows:
        return
    if is_postgres(conn):

        def write(copy: Any) -> None:
            for row in rows:
                copy.write_row(row)

        _pg_copy_fans(conn, write, "", all_new, provides)
        return
    cols = ", ".join(FAN_INSERT_COLUMNS)
    marks = ",".join("?" * len(FAN_INSERT_COLUMNS))
    conn.exec_driver_sql(
        f"INSERT INTO fans ({cols}) VALUES ({marks}) ON CONFLICT "
        "(creator_id, platform, platform_fan_id) DO UPDATE SET " + _fan_update_set(provides, False),
        list(rows),
    )


def _pg_copy_fans(
    conn: Connection,
    write: Callable[[Any], None],
    options: str,
    all_new: bool,
    provides: frozenset[str],
) -> None:
    """COPY fans (``write`` feeds the ``Copy`` object, ``options`` follow ``FROM STDIN``):
    straight into ``fans`` when ``all_new``, falling back on a unique violation to a staging
    table and one ``INSERT … SELECT … ON CONFLICT`` upsert."""
    cols = ", ".join(FAN_INSERT_COLUMNS)
    raw = driver_connection(conn)
    cur = raw.cursor()
    if all_new:
        try:
            with (
                raw.transaction(),  # a savepoint
                cur.copy(f"COPY fans ({cols}) FROM STDIN{options}") as copy,
            ):
                write(copy)
            return
        except psycopg.errors.UniqueViolation:
            pass
    cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _import_fans "
        "(LIKE fans INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    with cur.copy(f"COPY _import_fans ({cols}) FROM STDIN{options}") as copy:
        write(copy)
    cur.execute(
        f"INSERT INTO fans ({cols}) SELECT {cols} FROM _import_fans ON CONFLICT "
        "(creator_id, platform, platform_fan_id) DO UPDATE SET " + _fan_update_set(provides, True)
    )
    cur.execute("TRUNCATE _import_fans")


def insert_new_fans(conn: Connection, rows: Sequence[tuple[Any, ...]], data: bytes | None) -> None:
    """Insert fans taken to be new, with no upsert: ``rows`` (tuples in
    :data:`FAN_INSERT_COLUMNS` order) with ``executemany``, or ``data`` (CSV, as for
    :func:`copy_new_fans`) with ``COPY``. Run it in a savepoint.

    Raises:
        sqlalchemy.exc.IntegrityError: (SQLite) or psycopg.errors.UniqueViolation
            (PostgreSQL) when one of the keys is already stored.
    """
    cols = ", ".join(FAN_INSERT_COLUMNS)
    if data is not None:
        cur = driver_cursor(conn)
        with cur.copy(f"COPY fans ({cols}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(data)
    if rows:
        marks = ",".join("?" * len(FAN_INSERT_COLUMNS))
        conn.exec_driver_sql(f"INSERT INTO fans ({cols}) VALUES ({marks})", list(rows))


def copy_new_fans(conn: Connection, data: bytes, provides: frozenset[str]) -> None:
    """PostgreSQL: load fans that were new when their batch was read, given as CSV rows
    (RFC 4180, :data:`FAN_INSERT_COLUMNS` order, an unquoted empty field for NULL, as
    pyarrow's CSV writer writes them), with one ``COPY … (FORMAT csv)``.

    Should another writer have added one of the keys meanwhile (a unique violation), the
    rows go through the upsert of :func:`upsert_fans` instead.
    """
    _pg_copy_fans(conn, lambda copy: copy.write(data), " (FORMAT csv)", True, provides)
