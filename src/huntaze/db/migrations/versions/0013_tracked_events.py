"""tracked_events: impressions, opens, clicks, conversions and purchases sent in by the
creator's tools, idempotent on the sender's id

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import huntaze.db.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = huntaze.db.base.UTCDateTime(timezone=True)
    op.create_table(
        "tracked_events",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("creator_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("purchase_kind", sa.String(length=16), nullable=True),
        sa.Column("fan_id", sa.String(length=32), nullable=True),
        sa.Column("campaign_id", sa.String(length=32), nullable=True),
        sa.Column("variant_id", sa.String(length=32), nullable=True),
        sa.Column("value_cents", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("occurred_at", when, nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("received_at", when, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_tracked_events_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_tracked_events_creator_id_creators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["fan_id"],
            ["fans.id"],
            name=op.f("fk_tracked_events_fan_id_fans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracked_events")),
        sa.UniqueConstraint(
            "creator_id", "external_id", name=op.f("uq_tracked_events_creator_id_external_id")
        ),
    )
    op.create_index(
        "ix_tracked_events_campaign", "tracked_events", ["campaign_id", "kind"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_tracked_events_campaign", table_name="tracked_events")
    op.drop_table("tracked_events")
