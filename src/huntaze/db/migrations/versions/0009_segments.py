"""segments: audiences described by criteria, and their stored members

``segments`` holds a creator's audiences (seed 004's Segment: name, description, type,
criteria, member count, last refresh); ``segment_members`` the fans a static segment froze,
or a dynamic segment's last refresh found (membership-change events compare with it);
``fan_tier_rules`` a creator's fan-tier thresholds.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import huntaze.db.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("creator_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "criteria",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("revenue_cents", sa.BigInteger(), nullable=False),
        sa.Column("messages_30d", sa.BigInteger(), nullable=False),
        sa.Column("last_refreshed_at", huntaze.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", huntaze.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", huntaze.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_segments_creator_id_creators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("creator_id", "name", name=op.f("uq_segments_creator_id_name")),
    )
    op.create_table(
        "segment_members",
        sa.Column("segment_id", sa.String(length=32), nullable=False),
        sa.Column("fan_id", sa.String(length=32), nullable=False),
        sa.Column("added_at", huntaze.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_members_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["fan_id"],
            ["fans.id"],
            name=op.f("fk_segment_members_fan_id_fans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("segment_id", "fan_id", name=op.f("pk_segment_members")),
    )
    op.create_index("ix_segment_members_fan", "segment_members", ["fan_id"], unique=False)
    op.create_table(
        "fan_tier_rules",
        sa.Column("creator_id", sa.String(length=32), nullable=False),
        sa.Column(
            "rules",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", huntaze.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_fan_tier_rules_creator_id_creators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("creator_id", name=op.f("pk_fan_tier_rules")),
    )


def downgrade() -> None:
    op.drop_table("fan_tier_rules")
    op.drop_index("ix_segment_members_fan", table_name="segment_members")
    op.drop_table("segment_members")
    op.drop_table("segments")
