"""A campaign to one segment read from a purchase measure launches from the measure's fans,
each looked up by primary key: on SQLite (no statistics, as Huntaze runs it) none of the
launch's statements on fans walks the creator's fans (``EXPLAIN QUERY PLAN``), and exactly
the segment's fans get the message (both engines, counted at the relay).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from huntaze.models.crm import Fan, Purchase
from tests.campaigns.conftest import campaign_body
from tests.factories import fan_values, purchase_values
from tests.statements import captured

DAY = timedelta(days=1)
FANS = 600
EVERY = 40  # every 40th fan bought two PPV posts this month: 15 buyers


def test_a_measured_segment_launches_from_its_fans_by_primary_key(  # type: ignore[no-untyped-def]
    client, engine, clock, audience, relay, drain
) -> None:
    h, cid, now = audience["headers"], audience["creator_id"], clock.now()
    fans = [fan_values(cid, f"f{i:04d}", now - 400 * DAY) for i in range(FANS)]
    buyers = fans[::EVERY]
    with engine.begin() as conn:
        conn.execute(insert(Fan), fans)
        conn.execute(
            insert(Purchase),
            [
                purchase_values(cid, f["id"], f"b{i}-{n}", 900, now - (n + 2) * DAY)
                | {"kind": "ppv_post"}
                for i, f in enumerate(buyers)
                for n in range(2)
            ]
            + [  # older tips: the purchases outnumber the fans
                purchase_values(cid, f["id"], f"o{i}-{n}", 500, now - (200 + n) * DAY)
                for i, f in enumerate(fans)
                for n in range(3)
            ],
        )
    criteria = {"field": "purchaseCount", "op": "gte", "value": 2, "kind": "ppv", "withinDays": 30}
    seg = client.post("/api/segments", json={"name": "PPV", "criteria": criteria}, headers=h)
    assert seg.status_code == 201, seg.text
    body = campaign_body(platforms=["onlyfans"], segmentIds=[seg.json()["id"]])
    camp = client.post("/api/campaigns", json=body, headers=h).json()
    started: dict[str, Any] = {}

    def start() -> None:
        r = client.post(f"/api/campaigns/{camp['id']}/start", headers=h)
        assert r.status_code == 200, r.text
        started.update(r.json())

    statements = captured(
        engine,
        start,
        lambda sql: (
            "+purchases.fan_id" in sql or ("FROM fans" in sql and "purchases.fan_id" in sql)
        ),
    )
    # and the audience fixture's whale, who bought two PPV this month too
    expected = sorted([*(f"Hi u{f['platform_fan_id']}" for f in buyers), "Hi uwhale"])
    assert started["launch"]["queued"] == len(expected)
    drain()
    assert sorted(r.payload["content"] for r in relay.requests if r.status == 200) == expected
    assert statements
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL orders the join by its own estimates
    with engine.connect() as conn:
        assert not conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'"
        ).all()  # no statistics: as Huntaze runs SQLite
        for statement, parameters in statements:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            plan = "\n".join(str(r[-1]) for r in rows)
            assert "SEARCH fans USING INDEX sqlite_autoindex_fans_1 (id=?)" in plan, plan
            assert "ix_fans_" not in plan, plan
