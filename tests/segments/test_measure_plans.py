"""An audience every member of which must meet a purchase or message measure is read from
the measure's fans, each looked up by primary key, and the measure reads the window's rows
from the index holding them in time order: on SQLite the statement the API runs neither
walks all the creator's fans nor reads the purchases in fan order (``EXPLAIN QUERY PLAN``,
with statistics), and it still selects exactly the creator's members (both engines).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, text
from sqlalchemy.pool import NullPool

from huntaze.db.engine import make_engine
from huntaze.models.crm import Fan, Purchase
from tests.factories import fan_values, purchase_values
from tests.statements import captured

DAY = timedelta(days=1)
FANS = 3_000
BUYERS = 40  # every 75th fan bought two PPV posts in the last 30 days
OLD = 5  # tips per fan, 200 days ago and more
LARGE = {
    "ix_purchases_fan_purchased": "8000000 12 1",
    "ix_purchases_creator_purchased": "8000000 8000000 2 1 1 1",
    "sqlite_autoindex_purchases_1": "8000000 1",
    "ix_fans_sort_subscribed": "1000000 1000000 1 1",
    "ix_fans_sort_created": "1000000 1000000 1000000 1",
    "ix_fans_sort_last_active": "1000000 1000000 2 1",
    "ix_fans_sort_ltv": "1000000 1000000 29 1",
    "sqlite_autoindex_fans_1": "1000000 1",
}


def _forget_statistics(engine: Engine) -> None:
    """Remove SQLite's statistics of fans and purchases (this worker's database is shared;
    another test may have analysed them), and close the pooled connections, which keep the
    statistics they read when they opened."""
    with engine.begin() as conn:
        if conn.exec_driver_sql("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'").all():
            conn.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl IN ('fans', 'purchases')")
    engine.dispose()


@pytest.fixture(params=[False, True], ids=["no-statistics", "large-statistics"])
def buyers(request: Any, engine: Engine, make_tenant: Any, clock: Any) -> Iterator[dict[str, Any]]:
    """A creator with FANS fans, BUYERS of whom bought twice, and another creator with a few
    fans who bought alike; without statistics (Huntaze runs no ANALYZE on SQLite) and with
    statistics. On SQLite those are the ones ANALYZE found on the segments benchmark, where
    one creator holds all 1,000,000 fans (a creator hosting Huntaze alone): the case where
    SQLite preferred walking them all."""
    now = clock.now()
    ours, theirs = make_tenant(), make_tenant()
    with engine.begin() as conn:
        for tenant, count in ((ours, FANS), (theirs, FANS // 20)):
            cid = tenant["creator_id"]
            fans = [fan_values(cid, f"f{i:05d}", now - 400 * DAY) for i in range(count)]
            conn.execute(insert(Fan), fans)
            purchases = [
                purchase_values(
                    cid, fans[i]["id"], f"p{i}-{n}", 900, now - (n + 3) * DAY, kind="ppv_post"
                )
                for i in range(0, count, FANS // BUYERS)
                for n in range(2)
            ]
            old = [  # outside the window; they make the purchases outnumber the fans
                purchase_values(cid, fan["id"], f"o{i}-{n}", 500, now - (200 + n) * DAY)
                for i, fan in enumerate(fans)
                for n in range(OLD)
            ]
            conn.execute(insert(Purchase), purchases + old)
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        _forget_statistics(engine)
    if request.param:
        with engine.begin() as conn:
            for table in ("fans", "purchases"):  # this schema's tables only
                conn.execute(text(f"ANALYZE {table}"))
            if sqlite:
                # https://www.sqlite.org/fileformat2.html#stat1tab: they may be written
                for index, stat in LARGE.items():
                    conn.execute(
                        text("UPDATE sqlite_stat1 SET stat = :stat WHERE idx = :idx"),
                        {"stat": stat, "idx": index},
                    )
        engine.dispose()  # every connection reads them anew
    yield ours
    if sqlite:
        _forget_statistics(engine)


def _c(field: str, op: str, value: Any, **params: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value, **params}


def _captured(engine: Engine, run: Any) -> list[tuple[str, Any]]:
    """The statements on fans that test a purchase measure, with their parameters."""
    measured = re.compile(r"IN \(SELECT \+?purchases\.fan_id")
    return captured(engine, run, lambda sql: "FROM fans" in sql and bool(measured.search(sql)))


@pytest.mark.parametrize(
    "criteria",
    [
        _c("purchaseCount", "gte", 2, kind="ppv", withinDays=30),
        {
            "all": [
                _c("platform", "eq", "onlyfans"),
                {"all": [_c("spendCents", "gte", 1800, withinDays=30)]},
            ]
        },
    ],
)
def test_a_measured_audience_is_read_from_the_measure_by_primary_key(
    client, engine, buyers, criteria
) -> None:  # type: ignore[no-untyped-def]
    result: dict[str, Any] = {}

    def run() -> None:
        response = client.post(
            "/api/segments/preview",
            json={"criteria": criteria, "sampleSize": 100},
            headers=buyers["headers"],
        )
        assert response.status_code == 200, response.text
        result.update(response.json())

    statements = _captured(engine, run)
    assert result["memberCount"] == BUYERS
    assert len(result["sample"]) == BUYERS  # the other creator's buyers are not among them
    assert {f["platformFanId"] for f in result["sample"]} == {
        f"f{i:05d}" for i in range(0, FANS, FANS // BUYERS)
    }
    assert statements
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL orders the join by its own estimates
    # a new connection reads the statistics as they are now (a pooled one keeps what it read)
    fresh = make_engine(str(engine.url), poolclass=NullPool)
    for statement, parameters in statements:
        with fresh.connect() as conn:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        fresh.dispose()
        plan = "\n".join(str(r[-1]) for r in rows)
        assert "SEARCH fans USING INDEX sqlite_autoindex_fans_1 (id=?)" in plan, plan
        assert "ix_fans_" not in plan, plan
        # the window's rows, from the index that holds them in time order
        assert "SEARCH purchases USING COVERING INDEX ix_purchases_creator_purchased" in plan
        assert "SCAN purchases" not in plan, plan  # not every purchase in fan order
