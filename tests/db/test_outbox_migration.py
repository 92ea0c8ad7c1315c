"""Migrations 0003 (cheaper bulk inserts into the outbox), 0004 (account rows deleted by
trigger) and 0005 (account version, promised delivery) upgrade and downgrade with the data, on
a database of its own (a file on SQLite, a schema on PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, Table, insert, inspect, text

from huntaze.auth.tokens import get_or_create_creator
from huntaze.db.engine import make_engine, make_sessionmaker, normalise_url
from huntaze.db.migrate import downgrade, upgrade
from tests.factories import fan_values

PG_URL = os.environ.get("HUNTAZE_TEST_DATABASE_URL")
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Engine]:
    if not PG_URL:
        engine = make_engine(f"sqlite:///{tmp_path / 'migration.db'}")
        yield engine
        engine.dispose()
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    schema = f"{os.environ.get('HUNTAZE_TEST_SCHEMA', 'hz_test')}_mig_{worker}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = normalise_url(PG_URL)
    engine = make_engine(f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}")
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _outbox(engine: Engine) -> tuple[set[str], dict[str, str]]:
    """The outbox's foreign-key targets, and its indexes with their WHERE (or "")."""
    found = inspect(engine)
    targets = {fk["referred_table"] for fk in found.get_foreign_keys("outbox")}
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            sql = conn.execute(
                text(
                    "SELECT name, sql FROM sqlite_master "
                    "WHERE type = 'index' AND tbl_name = 'outbox'"
                )
            )
        else:
            sql = conn.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes "
                    "WHERE tablename = 'outbox' AND schemaname = current_schema()"
                )
            )
        indexes = {
            name: (ddl or "").partition(" WHERE ")[2].replace("(", "").replace(")", "")
            for name, ddl in sql
        }
    return targets, indexes


def _count(engine: Engine, where: str = "1 = 1") -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM outbox WHERE {where}")).scalar_one())


def _insert(engine: Engine, table: str, row: dict[str, Any]) -> None:
    """Insert ``row``'s values for the columns ``table`` has at this revision (reflected), so
    the seed does not depend on today's models."""
    reflected = Table(table, MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(insert(reflected).values({k: v for k, v in row.items() if k in reflected.c}))


def _seed(engine: Engine, handle: str) -> str:
    """A creator with one account and three queued messages; returns the account id."""
    with make_sessionmaker(engine)() as s:
        creator_id = get_or_create_creator(s, handle, NOW).id
        s.commit()
    account_id = f"acc_{handle}"
    _insert(
        engine,
        "sending_accounts",
        {
            "id": account_id,
            "creator_id": creator_id,
            "platform": "onlyfans",
            "name": "main",
            "channel": "noop",
            "settings": {},
            "status": "active",
            "breaker_state": "closed",
            "breaker_failures": 0,
            "created_at": NOW,
            "updated_at": NOW,
        },
    )
    for i in range(3):
        fan_id = f"fan_{handle}{i}"
        _insert(engine, "fans", fan_values(creator_id, str(i), NOW, id=fan_id))
        message_id = f"msg_{handle}{i}"
        _insert(
            engine,
            "outbox",
            {
                "id": message_id,
                "creator_id": creator_id,
                "account_id": account_id,
                "platform": "onlyfans",
                "fan_id": fan_id,
                "recipient": str(i),
                "content": "hi",
                "media": [],
                "priority": 1,
                "status": "queued",
                "attempts": 0,
                "max_attempts": 3,
                "not_before": NOW,
                "idempotency_key": message_id,
                "created_at": NOW,
                "updated_at": NOW,
            },
        )
    return account_id


def test_0003_upgrades_and_downgrades_with_the_rows(scratch: Engine) -> None:
    upgrade(scratch, "0002")
    _seed(scratch, "migrating")
    assert _outbox(scratch)[0] == {"creators", "fans", "sending_accounts"}

    upgrade(scratch, "0003")
    targets, indexes = _outbox(scratch)
    assert targets == {"sending_accounts"}
    assert "ix_outbox_account_status" not in indexes
    assert "status" in indexes["ix_outbox_processing"]
    assert "processing" in indexes["ix_outbox_processing"]
    assert "queued" in indexes["ix_outbox_queued"]  # kept its WHERE through the rebuild
    assert _count(scratch) == 3

    # a fan removed without delete_fan leaves a dangling fan_id: the downgrade clears it
    with scratch.begin() as conn:
        conn.execute(text("DELETE FROM fans WHERE id = 'fan_migrating0'"))
    downgrade(scratch, "0002")
    targets, indexes = _outbox(scratch)
    assert targets == {"creators", "fans", "sending_accounts"}
    assert "ix_outbox_processing" not in indexes and "ix_outbox_account_status" in indexes
    assert "queued" in indexes["ix_outbox_queued"]
    assert _count(scratch) == 3 and _count(scratch, "fan_id IS NULL") == 1

    upgrade(scratch, "0003")
    assert _outbox(scratch)[0] == {"sending_accounts"} and _count(scratch) == 3


def _attempt(engine: Engine, account_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO send_attempts (account_id, message_id, started_at) "
                "VALUES (:a, 'msg_x', :t)"
            ),
            {"a": account_id, "t": NOW},
        )


def _rows(engine: Engine, table: str, account_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(f"SELECT count(*) FROM {table} WHERE account_id = :a"), {"a": account_id}
            ).scalar_one()
        )


def test_0004_moves_the_account_cascade_to_a_trigger(scratch: Engine) -> None:
    upgrade(scratch, "0003")
    kept, gone = _seed(scratch, "kept"), _seed(scratch, "gone")
    for account_id in (kept, gone):
        _attempt(scratch, account_id)

    upgrade(scratch, "0004")
    targets, indexes = _outbox(scratch)
    assert targets == set()
    assert not inspect(scratch).get_foreign_keys("send_attempts")
    assert "queued" in indexes["ix_outbox_queued"]  # kept their WHERE through the rebuild
    assert "processing" in indexes["ix_outbox_processing"]
    assert _count(scratch) == 6
    # the creator's cascade deletes the account; the trigger deletes its rows
    with scratch.begin() as conn:
        conn.execute(text("DELETE FROM creators WHERE handle = 'gone'"))
    assert (_rows(scratch, "outbox", gone), _rows(scratch, "send_attempts", gone)) == (0, 0)
    assert (_rows(scratch, "outbox", kept), _rows(scratch, "send_attempts", kept)) == (3, 1)

    # rows left without an account (written while no key guarded them) go on the way down
    _attempt(scratch, "acc_nowhere")
    downgrade(scratch, "0003")
    assert _outbox(scratch)[0] == {"sending_accounts"}
    assert {fk["referred_table"] for fk in inspect(scratch).get_foreign_keys("send_attempts")} == {
        "sending_accounts"
    }
    assert _rows(scratch, "send_attempts", "acc_nowhere") == 0
    assert _count(scratch) == 3

    upgrade(scratch)
    _attempt(scratch, kept)
    if PG_URL:  # the trigger's function keeps its search path: delete from another session's
        with scratch.connect() as conn:
            schema = conn.scalar(text("SELECT current_schema()"))
        other = make_engine(PG_URL)
        with other.begin() as conn:
            conn.execute(
                text(f'DELETE FROM "{schema}".sending_accounts WHERE id = :a'), {"a": kept}
            )
        other.dispose()
    else:
        with scratch.begin() as conn:
            conn.execute(text("DELETE FROM sending_accounts WHERE id = :a"), {"a": kept})
    assert (_rows(scratch, "outbox", kept), _rows(scratch, "send_attempts", kept)) == (0, 0)


def _columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_0005_adds_and_drops_the_account_version_and_the_promise(scratch: Engine) -> None:
    upgrade(scratch, "0004")
    account_id = _seed(scratch, "versioned")
    upgrade(scratch, "0005")
    assert "config_version" in _columns(scratch, "sending_accounts")
    assert "estimated_delivery" in _columns(scratch, "outbox")
    with scratch.connect() as conn:  # existing accounts start at version 0
        assert (
            conn.execute(
                text("SELECT config_version FROM sending_accounts WHERE id = :a"), {"a": account_id}
            ).scalar_one()
            == 0
        )
    downgrade(scratch, "0004")
    assert "config_version" not in _columns(scratch, "sending_accounts")
    assert "estimated_delivery" not in _columns(scratch, "outbox")
    assert _rows(scratch, "outbox", account_id) == 3  # no row lost on the way down
    _, indexes = _outbox(scratch)
    assert "queued" in indexes["ix_outbox_queued"]  # partial indexes untouched
    upgrade(scratch)
    with scratch.begin() as conn:  # the 0004 trigger still deletes an account's rows
        conn.execute(text("DELETE FROM sending_accounts WHERE id = :a"), {"a": account_id})
    assert _rows(scratch, "outbox", account_id) == 0
