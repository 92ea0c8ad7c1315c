"""Migration 0007 adds and drops ``ix_outbox_fan_direct``, the partial index threads use to
find a fan's single sends, with the rows in place, on a database of its own."""

from __future__ import annotations

from sqlalchemy import Engine

from huntaze.db.migrate import downgrade, upgrade
from tests.db.test_outbox_migration import _count, _outbox, _seed, scratch

__all__ = ["scratch"]  # the fixture, used by name


def test_0007_adds_and_drops_the_partial_fan_index(scratch: Engine) -> None:
    upgrade(scratch, "0006")
    _seed(scratch, "threads")
    assert "ix_outbox_fan_direct" not in _outbox(scratch)[1]
    upgrade(scratch, "0007")
    indexes = _outbox(scratch)[1]
    assert indexes["ix_outbox_fan_direct"].lower().split() == ["bulk_id", "is", "null"]
    assert _count(scratch) == 3
    downgrade(scratch, "0006")
    assert "ix_outbox_fan_direct" not in _outbox(scratch)[1]
    assert _count(scratch) == 3
    upgrade(scratch)
    assert "ix_outbox_fan_direct" in _outbox(scratch)[1]
