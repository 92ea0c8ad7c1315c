"""Update rules of the import writer, on both databases."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from huntaze.db.base import db_timestamp
from huntaze.db.dialect import is_postgres
from huntaze.imports.formats.registry import get_parser
from huntaze.imports.writing.store import store_for
from huntaze.imports.writing.writer import run_import


def _of_fans(*fans):  # type: ignore[no-untyped-def]
    return io.BytesIO(json.dumps({"list": list(fans), "hasMore": False}).encode())


def _fan(i, last_seen, lists=(), **data):  # type: ignore[no-untyped-def]
    return {
        "id": i,
        "username": f"u{i}",
        "name": f"Fan {i}",
        "lastSeen": last_seen,
        "listsStates": [
            {"id": n, "name": name, "type": "custom", "hasUser": True}
            for n, name in enumerate(lists)
        ],
        "subscribedOnData": data,
    }


def test_tags_activity_and_custom_fields_merge(engine, tenant, client, clock) -> None:
    cid, h = tenant["creator_id"], tenant["headers"]
    parser = get_parser("onlyfans_fans")
    r = run_import(
        engine, cid, parser, _of_fans(_fan(1, "2026-05-01T00:00:00+00:00", ["VIP"])), clock
    )
    assert (r.inserted, r.updated) == (1, 0)
    fan = client.get("/api/crm/fans", headers=h).json()["items"][0]
    assert fan["tags"] == ["VIP"]
    # the creator adds a note field and a tag of their own
    client.patch(
        f"/api/crm/fans/{fan['id']}",
        json={"customFields": {**fan["customFields"], "mine": 1}},
        headers=h,
    )
    client.patch(f"/api/crm/fans/{fan['id']}", json={"tags": ["VIP", "own"]}, headers=h)
    # an older export: activity does not go back, nothing else changed -> unchanged
    r = run_import(
        engine, cid, parser, _of_fans(_fan(1, "2026-01-01T00:00:00+00:00", ["VIP"])), clock
    )
    assert (r.updated, r.unchanged) == (0, 1)
    fan = client.get(f"/api/crm/fans/{fan['id']}", headers=h).json()
    assert fan["lastActiveAt"] == "2026-05-01T00:00:00Z"
    # a newer export with a new list: updated, tag added, the creator's own data kept
    r = run_import(
        engine,
        cid,
        parser,
        _of_fans(_fan(1, "2026-06-01T00:00:00+00:00", ["VIP", "Whales"])),
        clock,
    )
    assert (r.updated, r.unchanged) == (1, 0)
    fan = client.get(f"/api/crm/fans/{fan['id']}", headers=h).json()
    assert fan["tags"] == ["VIP", "Whales", "own"]
    assert fan["customFields"]["mine"] == 1
    assert fan["lastActiveAt"] == "2026-06-01T00:00:00Z"


def test_direct_copy_falls_back_to_upsert_when_a_key_appeared(engine, tenant, clock) -> None:
    """A concurrent writer may add a key between the batch's read and its write."""
    cid = tenant["creator_id"]
    parser = get_parser("onlyfans_fans")
    run_import(engine, cid, parser, _of_fans(_fan(7, None)), clock)
    with engine.begin() as conn:
        pg = is_postgres(conn)
        stamp = db_timestamp(datetime(2026, 1, 1, tzinfo=UTC), pg)
        row = (
            "fan_racer",
            cid,
            "onlyfans",
            "7",
            "renamed",
            "Racer",
            None,
            "active",
            None,
            None,
            None,
            0,
            "USD",
            "unknown",
            "{}",
            "{}",
            stamp,
            stamp,
        )
        store_for(conn).upsert_fans(
            conn, [row], frozenset({"username", "display_name"}), all_new=True
        )
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, username FROM fans WHERE creator_id = ? AND platform_fan_id = '7'"
            if not pg
            else "SELECT id, username FROM fans WHERE creator_id = %s AND platform_fan_id = '7'",
            (cid,),
        ).fetchall()
    assert len(rows) == 1
    assert rows[0][1] == "renamed" and rows[0][0] != "fan_racer"


def test_a_file_with_the_same_key_twice_counts_each_row(engine, tenant, clock) -> None:
    parser = get_parser("onlyfans_fans")
    stream = _of_fans(_fan(1, None), _fan(1, "2026-02-01T00:00:00+00:00"), _fan(2, None))
    r = run_import(engine, tenant["creator_id"], parser, stream, clock, batch_size=100)
    assert (r.inserted, r.updated, r.unchanged) == (2, 1, 0)


def test_each_import_records_one_completed_event_with_its_counts(engine, tenant, clock) -> None:
    from sqlalchemy import select

    from huntaze.models.events import Event

    cid = tenant["creator_id"]
    parser = get_parser("onlyfans_fans")
    first = _of_fans(_fan(1, "2026-05-01T00:00:00+00:00"), _fan(2, "2026-05-02T00:00:00+00:00"))
    run_import(engine, cid, parser, first, clock)
    again = _of_fans(_fan(1, "2026-05-01T00:00:00+00:00"), {"id": None})
    run_import(engine, cid, parser, again, clock)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Event.type, Event.payload, Event.occurred_at)
            .where(Event.creator_id == cid, Event.type == "import.completed")
            .order_by(Event.id)
        ).all()
    payloads = [row.payload for row in rows]
    assert [(p["inserted"], p["unchanged"], p["rejected"]) for p in payloads] == [
        (2, 0, 0),
        (0, 1, 1),
    ]
    assert all("errors" not in p for p in payloads)  # the counts, not the rejected rows
    assert {row.occurred_at.replace(tzinfo=None) for row in rows} == {
        clock.now().replace(tzinfo=None)
    }
