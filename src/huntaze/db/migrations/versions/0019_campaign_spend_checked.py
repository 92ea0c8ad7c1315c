"""campaigns.spend_checked_at: when the scheduler last brought the campaign's spend up to
date, so that each tick checks the campaigns checked longest ago (before, every tick took the
first ones by id, and a campaign past them was never paused at its budget)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 19:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from huntaze.db.base import UTCDateTime

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("spend_checked_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("spend_checked_at")
