"""tracked_events by fan and time: attribution reads a fan's tracked conversions after a
campaign's message

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 12:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tracked_events_fan", "tracked_events", ["fan_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_tracked_events_fan", table_name="tracked_events")
