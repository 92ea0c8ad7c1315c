"""The outbox's lookups by row state are served by its partial indexes on both databases
(migration 0003 replaced the all-states ``ix_outbox_account_status``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, Select, select

from huntaze.outbox.tables import OUTBOX

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _plan(engine: Engine, query: Select[tuple[str]]) -> str:
    compiled = query.compile(dialect=engine.dialect)
    with engine.connect() as conn, conn.begin():
        if engine.dialect.name == "postgresql":
            # The test tables are tiny: ask whether an index can serve, in order, not whether it
            # is cheaper. Without enable_sort = off the planner's choice follows whatever rows
            # other tests left: with few rows it may read another index of the account and
            # sort (seen once in CI, on uq_outbox_account_id_idempotency_key).
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            conn.exec_driver_sql("SET LOCAL enable_sort = off")
            rows = conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
            return "\n".join(r[0] for r in rows)
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
        return "\n".join(r[3] for r in rows)


@pytest.mark.parametrize(
    ("query", "index"),
    [
        pytest.param(
            select(OUTBOX.c.id)
            .where(
                OUTBOX.c.account_id == "acc_x",
                OUTBOX.c.status == "processing",
                OUTBOX.c.claimed_until < NOW,
            )
            .order_by(OUTBOX.c.claimed_until)
            .limit(1),
            "ix_outbox_processing",
            id="expired leases",
        ),
        pytest.param(
            select(OUTBOX.c.id)
            .where(
                OUTBOX.c.account_id == "acc_x",
                OUTBOX.c.status == "queued",
                OUTBOX.c.not_before <= NOW,
            )
            .order_by(OUTBOX.c.priority, OUTBOX.c.created_at, OUTBOX.c.id)
            .limit(50),
            "ix_outbox_queued",
            id="claim order",
        ),
        pytest.param(
            select(OUTBOX.c.id).where(OUTBOX.c.bulk_id == "bulk_x", OUTBOX.c.status == "sent"),
            "ix_outbox_bulk",
            id="a bulk's rows",
        ),
    ],
)
def test_state_lookups_use_an_index(engine: Engine, query: Select[tuple[str]], index: str) -> None:
    plan = _plan(engine, query)
    assert index in plan, plan
