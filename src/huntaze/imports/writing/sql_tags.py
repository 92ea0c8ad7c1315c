"""Batched SQL for the tags an import adds, on SQLite and PostgreSQL.

Tags are compared by :func:`huntaze.fans.tags.tag_key`, stored in ``fan_tags.tag_key``, the
second half of the table's primary key: a file's ``VIP`` does not add a second tag beside a
stored ``vip`` (the stored spelling stays). Every function takes a SQLAlchemy ``Connection``
inside a transaction and never commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from huntaze.db.dialect import driver_cursor, is_postgres
from huntaze.fans.tags import tag_key
from huntaze.imports.writing.sql import chunks


def select_tag_keys(conn: Connection, fan_ids: Sequence[str]) -> dict[str, set[str]]:
    """Return ``{fan_id: tag keys}`` for the fans of ``fan_ids`` that have tags."""
    found: dict[str, set[str]] = {}
    for chunk in chunks(fan_ids):
        if is_postgres(conn):
            cur = driver_cursor(conn)
            cur.execute(
                "SELECT fan_id, tag_key FROM fan_tags WHERE fan_id = ANY(%s)",
                (list(chunk),),
                prepare=False,
            )
            rows = cur.fetchall()
        else:
            marks = ",".join("?" * len(chunk))
            rows = conn.exec_driver_sql(
                f"SELECT fan_id, tag_key FROM fan_tags WHERE fan_id IN ({marks})", tuple(chunk)
            ).fetchall()
        for fan_id, key in rows:
            found.setdefault(fan_id, set()).add(key)
    return found


def insert_tags(conn: Connection, creator_id: str, pairs: Sequence[tuple[str, str]]) -> None:
    """Add ``(fan_id, tag)`` pairs with their keys.

    A key the fan already has is left as it is, spelling included; of two spellings of one
    key in ``pairs`` for one fan, the first is written (``ON CONFLICT DO NOTHING`` on the
    primary key ``(fan_id, tag_key)``).
    """
    if not pairs:
        return
    rows = [(fan_id, tag, tag_key(tag), creator_id) for fan_id, tag in pairs]
    if is_postgres(conn):
        cur = driver_cursor(conn)
        cur.executemany(
            "INSERT INTO fan_tags (fan_id, tag, tag_key, creator_id) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            rows,
        )
        return
    conn.exec_driver_sql(
        "INSERT INTO fan_tags (fan_id, tag, tag_key, creator_id) VALUES (?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        rows,
    )
