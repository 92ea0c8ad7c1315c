"""campaigns: messages to audiences, with a lifecycle (seed 004's Campaign)

Outbox rows already carry ``campaign_id`` (migration 0002); a paused campaign's rows wait as
``held``, a status the claims never pick (no schema change: ``status`` is free text).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import huntaze.db.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = huntaze.db.base.UTCDateTime(timezone=True)
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("creator_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.String(length=64), nullable=True),
        sa.Column("platforms", huntaze.db.base.JSONType, nullable=False),
        sa.Column("segment_ids", huntaze.db.base.JSONType, nullable=False),
        sa.Column("content", huntaze.db.base.JSONType, nullable=False),
        sa.Column("scheduled_for", when, nullable=True),
        sa.Column("ends_at", when, nullable=True),
        sa.Column("budget_cents", sa.BigInteger(), nullable=True),
        sa.Column("spent_cents", sa.BigInteger(), nullable=False),
        sa.Column("goals", huntaze.db.base.JSONType, nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=True),
        sa.Column("launch", huntaze.db.base.JSONType, nullable=False),
        sa.Column("started_at", when, nullable=True),
        sa.Column("completed_at", when, nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_campaigns_creator_id_creators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index(
        "ix_campaigns_creator_created", "campaigns", ["creator_id", "created_at"], unique=False
    )
    # a campaign's rows by status: metrics, pause, resume, cancel, completion
    op.create_index(
        "ix_outbox_campaign",
        "outbox",
        ["campaign_id", "status"],
        unique=False,
        postgresql_where=sa.text("campaign_id IS NOT NULL"),
        sqlite_where=sa.text("campaign_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_campaign", table_name="outbox")
    op.drop_index("ix_campaigns_creator_created", table_name="campaigns")
    op.drop_table("campaigns")
