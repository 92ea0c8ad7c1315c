"""Migration 0003 (cheaper bulk inserts into the outbox) upgrades and downgrades with the data,
on a database of its own (a file on SQLite, a schema on PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, inspect, text

from huntaze.auth.tokens import get_or_create_creator
from huntaze.db.engine import make_engine, make_sessionmaker, normalise_url
from huntaze.db.migrate import downgrade, upgrade
from huntaze.kit.crypto import SecretBox
from huntaze.messaging.accounts import create_account
from huntaze.messaging.send import queue_message
from huntaze.models.crm import Fan

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


def test_0003_upgrades_and_downgrades_with_the_rows(scratch: Engine) -> None:
    upgrade(scratch, "0002")
    with make_sessionmaker(scratch)() as s:
        creator = get_or_create_creator(s, "migrating", NOW)
        account = create_account(
            s,
            creator.id,
            SecretBox([Fernet.generate_key().decode()]),
            NOW,
            platform="onlyfans",
            name="main",
            channel="noop",
        )
        fans = [
            Fan(
                id=f"fan_m{i}",
                creator_id=creator.id,
                platform="onlyfans",
                platform_fan_id=str(i),
                username=f"u{i}",
                subscription_status="active",
                lifetime_value_cents=0,
                consent="unknown",
                custom_fields={},
                import_fingerprints={},
                created_at=NOW,
                updated_at=NOW,
            )
            for i in range(3)
        ]
        s.add_all(fans)
        s.flush()
        for fan in fans:
            queue_message(s, account, fan, "hi", NOW)
        s.commit()
    assert _outbox(scratch)[0] == {"creators", "fans", "sending_accounts"}

    upgrade(scratch)
    targets, indexes = _outbox(scratch)
    assert targets == {"sending_accounts"}
    assert "ix_outbox_account_status" not in indexes
    assert "status" in indexes["ix_outbox_processing"]
    assert "processing" in indexes["ix_outbox_processing"]
    assert "queued" in indexes["ix_outbox_queued"]  # kept its WHERE through the rebuild
    assert _count(scratch) == 3

    # a fan removed without delete_fan leaves a dangling fan_id: the downgrade clears it
    with scratch.begin() as conn:
        conn.execute(text("DELETE FROM fans WHERE id = 'fan_m0'"))
    downgrade(scratch, "0002")
    targets, indexes = _outbox(scratch)
    assert targets == {"creators", "fans", "sending_accounts"}
    assert "ix_outbox_processing" not in indexes and "ix_outbox_account_status" in indexes
    assert "queued" in indexes["ix_outbox_queued"]
    assert _count(scratch) == 3 and _count(scratch, "fan_id IS NULL") == 1

    upgrade(scratch)
    assert _outbox(scratch)[0] == {"sending_accounts"} and _count(scratch) == 3
