"""The drain benchmark's ceiling: a raw claim loop on a plain table holding the same N rows,
no Huntaze code (see bench/drain_bench.py). Run as a child: ``python -m bench.drain_ceiling
pg|sqlite TARGET``."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from typing import Any

from sqlalchemy import Engine, text

from bench.drain_setup import BATCH, RUN_TIMEOUT, children

RAW_PG = (
    "UPDATE outbox_raw SET status = 'sent' WHERE id IN (SELECT id FROM outbox_raw "
    "WHERE status = 'queued' ORDER BY id LIMIT {batch} FOR UPDATE SKIP LOCKED) RETURNING id"
)
RAW_SQLITE = (
    "UPDATE outbox_raw SET status = 'sent' WHERE id IN (SELECT id FROM outbox_raw "
    "WHERE status = 'queued' ORDER BY id LIMIT {batch}) RETURNING id"
)


def _raw_table(engine: Engine) -> None:
    """``outbox_raw``: the same N rows (id, account, recipient, content, status), keyed by an
    integer id, with an index on (status, id)."""
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS outbox_raw"))
        conn.execute(
            text(
                "CREATE TABLE outbox_raw (id bigint PRIMARY KEY, account_id text NOT NULL, "
                "recipient text NOT NULL, content text NOT NULL, status text NOT NULL)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO outbox_raw (id, account_id, recipient, content, status) "
                "SELECT row_number() OVER (ORDER BY id), account_id, recipient, content, "
                "'queued' FROM outbox"
            )
        )
        conn.execute(text("CREATE INDEX ix_outbox_raw_status_id ON outbox_raw (status, id)"))
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("VACUUM ANALYZE outbox_raw" if _pg(engine) else "ANALYZE outbox_raw"))


def _pg(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def raw_child(kind: str, target: str, batch: int) -> dict[str, Any]:
    """One raw claim loop, ``batch`` rows a claim, until the table has no queued row;
    first/last claim times."""
    claimed = 0
    first = last = 0.0
    if kind == "pg":
        import psycopg

        with psycopg.connect(target) as conn:
            while True:
                t = time.time()
                with conn.cursor() as cur:
                    cur.execute(RAW_PG.format(batch=batch))  # type: ignore[arg-type]
                    rows = cur.fetchall()
                conn.commit()
                if not rows:
                    break
                first = first or t
                last = time.time()
                claimed += len(rows)
    else:
        conn = sqlite3.connect(target, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        while True:
            t = time.time()
            conn.execute("BEGIN IMMEDIATE")
            rows = conn.execute(RAW_SQLITE.format(batch=batch)).fetchall()
            conn.execute("COMMIT")
            if not rows:
                break
            first = first or t
            last = time.time()
            claimed += len(rows)
        conn.close()
    return {"claimed": claimed, "first": first, "last": last}


def raw_loop(
    engine: Engine, kind: str, target: str, n: int, procs: int, batch: int = BATCH
) -> dict[str, Any]:
    """``procs`` raw claim loops of ``batch`` rows on a fresh copy of the queued rows."""
    _raw_table(engine)
    results = children(
        "bench.drain_ceiling", [[kind, target, str(batch)]] * procs, RUN_TIMEOUT + 60
    )
    claimed = sum(r["claimed"] for r in results)
    assert claimed == n, (claimed, n)
    first = min(r["first"] for r in results if r["first"])
    last = max(r["last"] for r in results)
    seconds = max(last - first, 1e-9)
    result = {
        "processes": procs,
        "batch": batch,
        "claimed": claimed,
        "seconds": round(seconds, 3),
        "msg_per_s": round(claimed / seconds),
    }
    print(json.dumps({"raw": result}), flush=True)
    return result


if __name__ == "__main__":
    sys.stdout.write(json.dumps(raw_child(sys.argv[1], sys.argv[2], int(sys.argv[3]))) + "\n")
