"""sending_accounts.config_version and outbox.estimated_delivery

``config_version`` counts the changes to what a sending account's channel is built from
(settings, secret, channel, limits, status). Workers cache one channel per account and key it
by this version, so a ``PATCH`` of a relay URL or an SMTP password takes effect on the next
claim in every worker, without a restart.

``estimated_delivery`` keeps the delivery time promised when a single message was queued, so
the next message of the same account and priority is never promised an earlier time
(docs/messaging.md, "Honest delivery estimates"). Bulk rows leave it empty.

Both are nullable or defaulted column additions: SQLite adds them in place (no table rebuild,
so the 0004 trigger is untouched) and drops them in place on downgrade (SQLite 3.35+).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from huntaze.db.base import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "sending_accounts",
        sa.Column("config_version", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column("outbox", sa.Column("estimated_delivery", UTCDateTime(), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE … DROP COLUMN on both: no batch rebuild of the outbox on SQLite
    op.execute("ALTER TABLE outbox DROP COLUMN estimated_delivery")
    op.execute("ALTER TABLE sending_accounts DROP COLUMN config_version")
