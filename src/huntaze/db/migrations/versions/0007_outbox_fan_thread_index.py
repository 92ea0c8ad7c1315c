"""outbox: ix_outbox_fan_direct, a fan's messages that no bulk queued, for the inbox threads

A conversation's thread shows everything the outbox sent its fan on its platform
(:mod:`huntaze.inbox.threads`, docs/inbox.md). Without an index on ``fan_id``, finding one fan's
messages read every outbox row of the creator: a million after one bulk. The index covers
only the rows with no ``bulk_id`` (single sends and inbox replies, queued one at a time), so
the million-row ``INSERT … SELECT`` of a bulk adds no entry to it and keeps its 15 s budget
(``bench/enqueue_bench.py``); a thread finds a fan's bulk rows through the unique
``(account_id, idempotency_key)`` index instead. Both databases build a partial index and use
it when the query repeats its condition (``bulk_id IS NULL``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_BULK = sa.text("bulk_id IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_outbox_fan_direct",
        "outbox",
        ["fan_id", "created_at"],
        unique=False,
        postgresql_where=NOT_BULK,
        sqlite_where=NOT_BULK,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_fan_direct", table_name="outbox")
