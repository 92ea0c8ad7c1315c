"""campaign_experiments: a campaign's A/B test

One row per campaign that is tested: its variants, the share of the audience taking part,
the statistics' settings and, once applied, the winner. Outbox rows already carry
``variant_id`` (migration 0002).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import huntaze.db.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = huntaze.db.base.UTCDateTime(timezone=True)
    op.create_table(
        "campaign_experiments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("creator_id", sa.String(length=32), nullable=False),
        sa.Column("variants", huntaze.db.base.JSONType, nullable=False),
        sa.Column("test_share", sa.Float(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("attribution_days", sa.Integer(), nullable=False),
        sa.Column("minimums", huntaze.db.base.JSONType, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("winner_variant_id", sa.String(length=32), nullable=True),
        sa.Column("applied_at", when, nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_experiments_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_campaign_experiments_creator_id_creators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_experiments")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_campaign_experiments_campaign_id")),
    )


def downgrade() -> None:
    op.drop_table("campaign_experiments")
