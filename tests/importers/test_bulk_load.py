"""A large first import defers the fan list's sort indexes, and always leaves them in place."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import Engine, inspect

from huntaze.crm.importers import bulkload
from huntaze.crm.importers.patreon import PatreonMembersParser
from huntaze.crm.importers.writer import run_import
from tests.importers.test_block_path import HEADER, member

SORTS = {index.name for index in bulkload.sort_indexes()}


def _indexes(engine: Engine) -> set[str]:
    return {ix["name"] for ix in inspect(engine).get_indexes("fans")} & SORTS


def _file(count: int, start: int = 0) -> bytes:
    rows = [member(str(start + i), email=f"b{start + i}@x.test") for i in range(count)]
    return "\n".join([HEADER, *rows]).encode()


@pytest.fixture
def small_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulkload, "BULK_MIN_BYTES", 1000)
    monkeypatch.setattr(bulkload, "BYTES_PER_STORED_ROW", 0)


def test_the_six_sort_indexes_are_named() -> None:
    assert len(SORTS) == 6


def test_a_large_first_import_runs_without_the_indexes_and_rebuilds_them(  # type: ignore[no-untyped-def]
    engine, make_tenant, clock, small_bulk, monkeypatch
) -> None:
    seen: list[bool] = []
    real = bulkload.should_defer

    def watch(*args):  # type: ignore[no-untyped-def]
        seen.append(real(*args))
        return seen[-1]

    monkeypatch.setattr(bulkload, "should_defer", watch)
    creator_id = make_tenant()["creator_id"]
    data = _file(50)
    during: list[set[str]] = []
    parser = PatreonMembersParser()
    blocks = parser.parse_blocks

    def parse_blocks(stream):  # type: ignore[no-untyped-def]
        for item in blocks(stream):
            during.append(_indexes(engine))
            yield item

    monkeypatch.setattr(parser, "parse_blocks", parse_blocks)
    report = run_import(engine, creator_id, parser, io.BytesIO(data), clock, size_hint=len(data))
    assert report.inserted == 50
    assert seen == [True]
    assert during and all(not names for names in during)  # loaded without them
    assert _indexes(engine) == SORTS
    # a second import of the same creator is not a first import: indexes stay
    during.clear()
    again = run_import(
        engine, creator_id, parser, io.BytesIO(_file(50, 50)), clock, size_hint=len(data)
    )
    assert again.inserted == 50
    assert during and all(names == SORTS for names in during)


def test_a_failed_import_still_rebuilds_them(
    engine, make_tenant, clock, small_bulk, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    creator_id = make_tenant()["creator_id"]
    parser = PatreonMembersParser()
    blocks = parser.parse_blocks

    def failing(stream):  # type: ignore[no-untyped-def]
        for item in blocks(stream):
            yield item
            raise OSError("the upload was cut")

    monkeypatch.setattr(parser, "parse_blocks", failing)
    data = _file(40)
    with pytest.raises(OSError):
        run_import(engine, creator_id, parser, io.BytesIO(data), clock, size_hint=len(data))
    assert _indexes(engine) == SORTS


def test_a_missing_index_is_rebuilt_by_the_next_import(engine, make_tenant, clock) -> None:  # type: ignore[no-untyped-def]
    creator_id = make_tenant()["creator_id"]
    with engine.begin() as conn:
        bulkload.sort_indexes()[0].drop(conn)
    assert _indexes(engine) == SORTS - {bulkload.sort_indexes()[0].name}
    run_import(engine, creator_id, PatreonMembersParser(), io.BytesIO(_file(3)), clock)
    assert _indexes(engine) == SORTS


def test_small_files_and_busy_tables_keep_the_indexes(engine, make_tenant) -> None:  # type: ignore[no-untyped-def]
    creator_id = make_tenant()["creator_id"]
    assert not bulkload.should_defer(engine, creator_id, None)
    assert not bulkload.should_defer(engine, creator_id, bulkload.BULK_MIN_BYTES - 1)
