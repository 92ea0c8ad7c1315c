"""campaign_templates: templates creators save from their campaigns

The built-in templates (seeds 003, 004 and 000) live in the code; this table holds the
ones a creator saves with ``POST /api/campaigns/{id}/save-as-template``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import huntaze.db.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = huntaze.db.base.UTCDateTime(timezone=True)
    op.create_table(
        "campaign_templates",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("creator_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("niche", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("platforms", huntaze.db.base.JSONType, nullable=False),
        sa.Column("content", huntaze.db.base.JSONType, nullable=False),
        sa.Column("goals", huntaze.db.base.JSONType, nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_campaign_templates_creator_id_creators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_templates")),
    )
    op.create_index(
        "ix_campaign_templates_creator", "campaign_templates", ["creator_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_campaign_templates_creator", table_name="campaign_templates")
    op.drop_table("campaign_templates")
