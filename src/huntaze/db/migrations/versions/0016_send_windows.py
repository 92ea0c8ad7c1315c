"""send windows: a campaign's local delivery time and optimal-time switch, and each
creator's sending rules (quiet hours, frequency cap)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import huntaze.db.base

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("local_time", sa.String(5), nullable=True))
        batch.add_column(
            sa.Column("optimal_time", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("campaigns") as batch:
        batch.alter_column("optimal_time", server_default=None)
    op.create_table(
        "sending_rules",
        sa.Column(
            "creator_id",
            sa.String(32),
            sa.ForeignKey("creators.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("quiet_start", sa.String(5), nullable=True),
        sa.Column("quiet_end", sa.String(5), nullable=True),
        sa.Column("max_per_day", sa.Integer(), nullable=True),
        sa.Column("max_per_week", sa.Integer(), nullable=True),
        sa.Column("updated_at", huntaze.db.base.UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sending_rules")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("optimal_time")
        batch.drop_column("local_time")
