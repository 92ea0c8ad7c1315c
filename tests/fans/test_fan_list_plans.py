"""Every sort of the fan list is served by an index, with no sort step, on its first page and
deep in the list (SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN``).

The statements are the ones the API runs: they are captured from the engine while pages are
read through the API, then explained with the same parameters.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, text

from huntaze.models.crm import Fan
from tests.factories import fan_values
from tests.statements import captured

SORTS = {
    "createdAt": "ix_fans_sort_created",
    "lifetimeValueCents": "ix_fans_sort_ltv",
    "lastActiveAt": "ix_fans_sort_last_active",
    "subscribedAt": "ix_fans_sort_subscribed",
}
FANS = 4_000


def _rows(creator_id: str, now: datetime) -> Iterator[dict[str, Any]]:
    for i in range(FANS):
        yield fan_values(
            creator_id,
            f"{i:05d}",
            now,
            id=f"fan_{creator_id[-8:]}{i:08d}",
            username=None if i % 5 == 0 else f"user{(i * 7919) % FANS}",
            display_name=None if i % 3 == 0 else f"Name {(i * 104729) % FANS}",
            lifetime_value_cents=(i % 10) * 100,
            last_active_at=None if i % 2 else now - timedelta(minutes=i * 37 % 9000),
            subscribed_at=None if i % 4 == 1 else now - timedelta(hours=i % 500),
            created_at=now + timedelta(seconds=i // 3),  # ties in threes
        )


@pytest.fixture
def many_fans(engine: Engine, make_tenant: Any) -> dict[str, Any]:
    """Two creators with FANS fans each (set-based insert), statistics up to date."""
    now = datetime(2026, 6, 1, tzinfo=UTC)
    ours, theirs = make_tenant(), make_tenant()
    with engine.begin() as conn:
        for tenant in (ours, theirs):
            conn.execute(insert(Fan), list(_rows(tenant["creator_id"], now)))
    with engine.connect() as conn:
        # this schema's table only: a database-wide ANALYZE locks every schema's tables, and
        # another worker dropping its test schema ends the connections holding its locks
        conn.execute(text("ANALYZE fans"))
        conn.commit()
    return ours


def _captured(engine: Engine, run: Any) -> list[tuple[str, Any]]:
    """The fan-list SELECTs the engine runs during ``run()``, with their parameters."""
    return captured(
        engine,
        run,
        lambda sql: sql.lstrip().startswith("SELECT fans.id") and "ORDER BY" in sql,
    )


def _plan(engine: Engine, statement: str, parameters: Any) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            return "\n".join(str(r[-1]) for r in rows)
        # Ask whether a sort-free index path exists, not which path a table of a few hundred
        # rows happens to prefer: on tiny tables PostgreSQL's choice follows the statistics
        # other tests' rows leave, and it once took a bitmap scan plus a sort. With sorts and
        # bitmap scans priced out, a missing index still shows as a Sort or a Seq Scan.
        conn.exec_driver_sql("SET LOCAL enable_sort = off")
        conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
        (plan,) = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).one()
        return json.dumps(plan if not isinstance(plan, str) else json.loads(plan))


def _assert_indexed(engine: Engine, plan: str, index: str | None) -> None:
    if engine.dialect.name == "sqlite":
        assert "TEMP B-TREE" not in plan, plan  # no sort step
        assert "SCAN fans" not in plan, plan  # no full scan of the table
        assert "SEARCH fans USING" in plan, plan
        if index:
            assert f"INDEX {index} " in plan, plan
        return
    nodes = _nodes(json.loads(plan))
    types = {n["Node Type"] for n in nodes}
    assert not types & {"Sort", "Incremental Sort", "Seq Scan", "Bitmap Heap Scan"}, plan
    scans = [n for n in nodes if n.get("Relation Name") == "fans"]
    assert scans and all(n["Node Type"] in ("Index Scan", "Index Only Scan") for n in scans)
    if index:
        assert {n["Index Name"] for n in scans} == {index}, plan


def _nodes(plan: Any) -> list[dict[str, Any]]:
    found, stack = [], [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.get("Plans", []))
    return found


@pytest.mark.parametrize("direction", ["", "-"])
@pytest.mark.parametrize("sort", list(SORTS))
def test_first_and_deep_pages_use_the_sort_index_and_no_sort(
    client, engine, many_fans, sort, direction
) -> None:
    h = many_fans["headers"]
    name = f"{direction}{sort}"
    pages: list[dict[str, Any]] = []

    def read() -> None:
        params: dict[str, Any] = {"sort": name, "limit": 50}
        for _ in range(30):  # 1,500 fans deep
            page = client.get("/api/crm/fans", params=params, headers=h).json()
            pages.append(page)
            params["cursor"] = page["nextCursor"]

    statements = _captured(engine, read)
    assert len(pages) == 30 and all(len(p["items"]) == 50 for p in pages)
    first, deep = statements[0], statements[-1]
    for statement, parameters in (first, deep):
        index = SORTS[sort]
        plan = _plan(engine, statement, parameters)
        # the NULL part of a nullable sort may also be read along (creator_id, id)
        null_part = "IS NULL" in statement
        _assert_indexed(engine, plan, None if null_part else index)


@pytest.mark.parametrize("sort", ["subscribedAt", "-lastActiveAt"])
def test_pages_among_the_nulls_use_an_index_and_no_sort(client, engine, many_fans, sort) -> None:
    h = many_fans["headers"]

    def read() -> None:
        params: dict[str, Any] = {"sort": sort, "limit": 500}
        while True:
            page = client.get("/api/crm/fans", params=params, headers=h).json()
            if not page["nextCursor"]:
                return
            params["cursor"] = page["nextCursor"]

    statements = _captured(engine, read)
    null_parts = [s for s in statements if "IS NULL" in s[0]]
    assert len(null_parts) >= 2  # the NULL region spans several pages
    for statement, parameters in null_parts:
        _assert_indexed(engine, _plan(engine, statement, parameters), None)
