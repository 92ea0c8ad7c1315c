"""PostgreSQL claims for many accounts in two statements (design.md §8 "Outbox claim").

The portable claim (:meth:`huntaze.outbox.service.Outbox.claim`) plans how many rows each
account may take; on PostgreSQL this module then claims for every planned account at once:

1. *Special rows*: for each account, expired leases (oldest first), then queued medium and
   low rows past the low-priority age (oldest first), each branch a ``LATERAL`` index seek
   with ``FOR UPDATE SKIP LOCKED`` that stops after ``take`` rows, so a backlog older than the
   age costs no more than a fresh one. Usually empty; at most ``take`` per account are kept
   (the rest are locked and let go at commit).
2. *The claim*: one statement whose CTEs walk each account's partial index ``ix_outbox_queued``
   (priority, then age) for the rest of its ``take``, update the picked rows to
   ``processing`` under the lease, write one ``send_attempts`` row each (what the send-rate
   limit counts), stamp the accounts served (``last_served_at``, a half-open probe), and
   return the rows.

Row locks are taken with ``FOR UPDATE SKIP LOCKED`` (https://www.postgresql.org/docs/current/
sql-select.html#SQL-FOR-UPDATE-SHARE), so concurrent workers never pick the same row, and the
account rows are already locked by the caller, so two workers never claim for one account at
the same time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from huntaze.outbox.plan import Plan

__all__ = ["claim_rows", "recent_starts_many"]

_STARTS = """
SELECT a.account_id, a.started_at
FROM unnest(%(accounts)s::text[], %(since)s::timestamptz[]) AS w(account_id, since)
JOIN send_attempts a ON a.account_id = w.account_id AND a.started_at > w.since
ORDER BY a.account_id, a.started_at
"""

_SPECIAL = """
SELECT w.account_id, s.id, s.kind
FROM unnest(%(accounts)s::text[], %(takes)s::int[]) WITH ORDINALITY AS w(account_id, take, n)
CROSS JOIN LATERAL (
    SELECT * FROM (
        SELECT o.id, 0 AS kind, o.created_at FROM outbox o
        WHERE o.account_id = w.account_id AND o.status = 'processing'
          AND o.claimed_until < %(now)s AND o.attempts < o.max_attempts
        ORDER BY o.created_at, o.id LIMIT w.take FOR UPDATE SKIP LOCKED
    ) expired
    UNION ALL
    SELECT * FROM (
        SELECT o.id, 1 AS kind, o.created_at FROM outbox o
        WHERE o.account_id = w.account_id AND o.status = 'queued' AND o.priority = 1
          AND o.created_at < %(aged)s AND o.not_before <= %(now)s
        ORDER BY o.created_at, o.id LIMIT w.take FOR UPDATE SKIP LOCKED
    ) aged_medium
    UNION ALL
    SELECT * FROM (
        SELECT o.id, 1 AS kind, o.created_at FROM outbox o
        WHERE o.account_id = w.account_id AND o.status = 'queued' AND o.priority = 2
          AND o.created_at < %(aged)s AND o.not_before <= %(now)s
        ORDER BY o.created_at, o.id LIMIT w.take FOR UPDATE SKIP LOCKED
    ) aged_low
) s
ORDER BY w.n, s.kind, s.created_at, s.id
"""

_CLAIM = """
WITH plan AS (
    SELECT * FROM unnest(%(accounts)s::text[], %(takes)s::int[]) AS p(account_id, take)
),
picked AS (
    SELECT q.id FROM plan CROSS JOIN LATERAL (
        SELECT o.id FROM outbox o
        WHERE o.account_id = plan.account_id AND o.status = 'queued'
          AND o.not_before <= %(now)s AND o.id <> ALL(%(special)s::text[])
        ORDER BY o.priority, o.created_at, o.id
        LIMIT plan.take FOR UPDATE SKIP LOCKED
    ) q
    UNION ALL
    SELECT unnest(%(special)s::text[])
),
claimed AS (
    UPDATE outbox o SET status = 'processing', claimed_until = %(until)s,
        claimed_by = %(worker)s, attempts = o.attempts + 1, updated_at = %(now)s
    WHERE o.id = ANY(ARRAY(SELECT id FROM picked))
    RETURNING o.id, o.account_id, o.idempotency_key, o.platform, o.recipient, o.content,
        o.media, o.price_cents, o.subject, o.fan_id, o.campaign_id, o.attempts, o.max_attempts,
        o.priority, o.created_at
),
logged AS (
    INSERT INTO send_attempts (account_id, message_id, started_at)
    SELECT account_id, id, %(now)s FROM claimed
),
served AS (
    UPDATE sending_accounts a SET last_served_at = %(now)s,
        breaker_state = CASE WHEN a.id = ANY(%(probes)s::text[]) THEN 'half_open'
                             ELSE a.breaker_state END
    WHERE a.id IN (SELECT DISTINCT account_id FROM claimed)
)
SELECT * FROM claimed
"""


def recent_starts_many(conn: Connection, since: dict[str, datetime]) -> dict[str, list[datetime]]:
    """Start times (UTC, ascending) of each account's attempts after its ``since`` instant,
    for every account in ``since``, in one statement."""
    out: dict[str, list[datetime]] = {account_id: [] for account_id in since}
    if not since:
        return out
    ids = list(since)
    rows = conn.exec_driver_sql(_STARTS, {"accounts": ids, "since": [since[i] for i in ids]}).all()
    for account_id, started_at in rows:
        out[account_id].append(started_at)
    return out


def claim_rows(
    conn: Connection,
    plans: Sequence[Plan],
    worker_id: str,
    now: datetime,
    until: datetime,
    aged: datetime,
) -> list[Any]:
    """Claim the planned rows under a lease until ``until``; return them in claim order.

    Claim order is the plans' order (the round robin), and within an account: expired leases
    (oldest first), rows created before ``aged`` that are not high priority (oldest first),
    then priority and age. Each returned row has ``id, account_id, idempotency_key, platform,
    recipient, content, media, price_cents, subject, fan_id, campaign_id, attempts,
    max_attempts``.

    Raises:
        sqlalchemy.exc.DBAPIError: as the driver raises it; the caller's transaction rolls
            back and nothing is claimed.
    """
    if not plans:
        return []
    accounts = [p.account.id for p in plans]
    takes = [p.take for p in plans]
    special: dict[str, list[str]] = {a: [] for a in accounts}
    for account_id, message_id, _kind in conn.exec_driver_sql(
        _SPECIAL, {"accounts": accounts, "takes": takes, "now": now, "aged": aged}
    ):
        ids = special[account_id]
        if len(ids) < takes[accounts.index(account_id)] and message_id not in ids:
            ids.append(message_id)
    rest = [t - len(special[a]) for a, t in zip(accounts, takes, strict=True)]
    special_ids = [m for a in accounts for m in special[a]]
    rows = conn.exec_driver_sql(
        _CLAIM,
        {
            "accounts": accounts,
            "takes": rest,
            "special": special_ids,
            "now": now,
            "until": until,
            "worker": worker_id,
            "probes": [p.account.id for p in plans if p.probe],
        },
    ).all()
    order = {a: n for n, a in enumerate(accounts)}
    first = {m: n for n, m in enumerate(special_ids)}
    # RETURNING follows no order: specials first in their order, then priority and age
    return sorted(
        rows,
        key=lambda r: (
            order[r.account_id],
            first.get(r.id, len(first)),
            r.priority,
            r.created_at,
            r.id,
        ),
    )
