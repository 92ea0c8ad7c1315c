"""Migrations 0006 (tag keys, fan-list sort indexes) and 0008 (the text sorts withdrawn)
upgrade and downgrade with the data, on a database of its own (a file on SQLite, a schema on
PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

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
    schema = f"{os.environ.get('HUNTAZE_TEST_SCHEMA', 'hz_test')}_m6_{worker}"
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


def _tags(engine: Engine, with_key: bool) -> set[tuple[str, ...]]:
    columns = "fan_id, tag, tag_key" if with_key else "fan_id, tag"
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(text(f"SELECT {columns} FROM fan_tags"))}


def _indexes(engine: Engine, table: str) -> dict[str, list[str | None]]:
    return {str(i["name"]): i["column_names"] for i in inspect(engine).get_indexes(table)}


def test_0006_keys_stored_tags_and_keeps_one_spelling_per_fan(scratch: Engine) -> None:
    upgrade(scratch, "0005")
    with make_sessionmaker(scratch)() as session:
        creator_id = get_or_create_creator(session, "m6", NOW).id
        session.commit()
    meta = MetaData()
    fans = Table("fans", meta, autoload_with=scratch)
    fan_tags = Table("fan_tags", meta, autoload_with=scratch)
    a, b = (fan_values(creator_id, k, NOW) for k in ("a", "b"))
    with scratch.begin() as conn:
        conn.execute(insert(fans), [a, b])
        conn.execute(
            insert(fan_tags),
            [
                {"fan_id": a["id"], "tag": tag, "creator_id": creator_id}
                for tag in ("vip", "VIP", " Vip", "Straße", "STRASSE", "whale")
            ]
            + [{"fan_id": b["id"], "tag": "vip", "creator_id": creator_id}],
        )
    upgrade(scratch, "0006")
    assert _tags(scratch, with_key=True) == {
        (a["id"], " Vip", "vip"),  # of " Vip", "VIP" and "vip", first in code-point order
        (a["id"], "STRASSE", "strasse"),
        (a["id"], "whale", "whale"),
        (b["id"], "vip", "vip"),
    }
    fan_index = _indexes(scratch, "fans")
    assert fan_index["ix_fans_sort_username"] == ["creator_id", "username", "id"]
    assert "ix_fans_creator_ltv" not in fan_index
    assert _indexes(scratch, "fan_tags")["ix_fan_tags_creator_key"] == [
        "creator_id",
        "tag_key",
        "fan_id",
    ]
    assert inspect(scratch).get_pk_constraint("fan_tags")["constrained_columns"] == [
        "fan_id",
        "tag_key",
    ]
    with scratch.begin() as conn, pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        conn.execute(
            text(
                "INSERT INTO fan_tags (fan_id, tag, tag_key, creator_id) "
                "VALUES (:f, 'Whale', 'whale', :c)"
            ),
            {"f": a["id"], "c": creator_id},
        )

    downgrade(scratch, "0005")
    assert _tags(scratch, with_key=False) == {
        (a["id"], " Vip"),
        (a["id"], "STRASSE"),
        (a["id"], "whale"),
        (b["id"], "vip"),
    }
    assert inspect(scratch).get_pk_constraint("fan_tags")["constrained_columns"] == [
        "fan_id",
        "tag",
    ]
    fan_index = _indexes(scratch, "fans")
    assert fan_index["ix_fans_creator_ltv"] == ["creator_id", "lifetime_value_cents"]
    assert not any(name.startswith("ix_fans_sort_") for name in fan_index)
    upgrade(scratch)


def test_0008_withdraws_the_text_sorts_and_downgrade_builds_them_again(scratch: Engine) -> None:
    upgrade(scratch, "0007")
    with make_sessionmaker(scratch)() as session:
        creator_id = get_or_create_creator(session, "m8", NOW).id
        session.commit()
    fans = Table("fans", MetaData(), autoload_with=scratch)
    with scratch.begin() as conn:
        conn.execute(insert(fans), [fan_values(creator_id, k, NOW) for k in ("a", "b")])
    upgrade(scratch, "0008")
    kept = {name for name in _indexes(scratch, "fans") if name.startswith("ix_fans_sort_")}
    assert kept == {
        "ix_fans_sort_created",
        "ix_fans_sort_ltv",
        "ix_fans_sort_last_active",
        "ix_fans_sort_subscribed",
    }
    downgrade(scratch, "0007")
    fan_index = _indexes(scratch, "fans")
    assert fan_index["ix_fans_sort_username"] == ["creator_id", "username", "id"]
    assert fan_index["ix_fans_sort_display_name"] == ["creator_id", "display_name", "id"]
    with scratch.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM fans")).scalar_one() == 2
