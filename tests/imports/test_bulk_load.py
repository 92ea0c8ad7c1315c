"""A large first import defers the fan list's sort indexes, and always leaves them in place."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from huntaze.db.engine import make_engine
from huntaze.fans.service import SORTS as FAN_SORTS
from huntaze.imports.formats.patreon import PatreonMembersParser
from huntaze.imports.reading import arrowcsv
from huntaze.imports.writing import bulkload
from huntaze.imports.writing.writer import run_import
from tests.cli.cli_support import run_cli
from tests.imports.test_block_path import HEADER, RowOnly, member
from tests.imports.test_block_path import _stored as stored

SORTS = {index.name for index in bulkload.sort_indexes()}


def _indexes(engine: Engine) -> set[str]:
    return {str(ix["name"]) for ix in inspect(engine).get_indexes("fans")} & SORTS


def _file(count: int, start: int = 0) -> bytes:
    rows = [member(str(start + i), email=f"b{start + i}@x.test") for i in range(count)]
    return "\n".join([HEADER, *rows]).encode()


@pytest.fixture
def small_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulkload, "BULK_MIN_BYTES", 1000)
    monkeypatch.setattr(bulkload, "BYTES_PER_STORED_ROW", 0)


def test_every_sort_of_the_fan_list_has_one_deferred_index() -> None:
    # the bulk load drops and rebuilds exactly the indexes that serve the API's sorts
    served = {str(spec.column.key) for spec in FAN_SORTS.values()}
    indexed = {str(index.expressions[1].key) for index in bulkload.sort_indexes()}  # type: ignore[union-attr]
    assert indexed == served and len(SORTS) == len(FAN_SORTS) == 4


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


def test_a_key_repeated_across_blocks_is_counted_as_the_row_path_counts_it(  # type: ignore[no-untyped-def]
    engine, make_tenant, clock, small_bulk, monkeypatch
) -> None:
    monkeypatch.setattr(arrowcsv, "BLOCK_BYTES", 700)
    rows = [member(str(i % 9), tier=f"T{i}", email=f"d{i}@x.test") for i in range(12)]
    rows += [member(str(i), email=f"e{i}@x.test") for i in range(100, 130)]
    rows.append(member("3", tier="T3", email="d3@x.test"))  # the same as row 3: unchanged
    data = "\n".join([HEADER, *rows]).encode()
    results = []
    for parser in (PatreonMembersParser(), RowOnly()):
        creator_id = make_tenant()["creator_id"]
        report = run_import(engine, creator_id, parser, io.BytesIO(data), clock, size_hint=1000)
        results.append((report.as_dict(), stored(engine, creator_id)))
    assert results[0] == results[1]
    assert results[0][0]["inserted"] == 39 and results[0][0]["updated"] == 3
    assert _indexes(engine) == SORTS


def test_postgresql_checks_the_creator_key_again_after_the_load(  # type: ignore[no-untyped-def]
    engine, make_tenant, clock, small_bulk
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps its foreign key: its check is cheap")
    creator_id = make_tenant()["creator_id"]
    run_import(
        engine, creator_id, PatreonMembersParser(), io.BytesIO(_file(30)), clock, size_hint=1000
    )
    with engine.connect() as conn:
        valid = conn.execute(
            text(
                "SELECT convalidated FROM pg_constraint WHERE conrelid = 'fans'::regclass "
                "AND contype = 'f' AND confrelid = 'creators'::regclass"
            )
        ).scalar_one()
    assert valid is True
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO fans (id, creator_id, platform, platform_fan_id, "
                "subscription_status, lifetime_value_cents, consent, custom_fields, "
                "import_fingerprints, created_at, updated_at) VALUES ('fan_x', 'nobody', "
                "'patreon', 'x', 'none', 0, 'unknown', '{}', '{}', now(), now())"
            )
        )


def test_db_upgrade_puts_back_what_a_killed_bulk_load_left_out(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    assert run_cli(["db", "upgrade"], url, tmp_path).exit_code == 0
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for index in bulkload.sort_indexes()[:2]:
                index.drop(conn)
        assert _indexes(engine) == SORTS - {i.name for i in bulkload.sort_indexes()[:2]}
        assert run_cli(["db", "upgrade"], url, tmp_path).exit_code == 0
        assert _indexes(engine) == SORTS
    finally:
        engine.dispose()
