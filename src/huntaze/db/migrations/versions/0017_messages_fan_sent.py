"""messages by fan and time: a segment's message count of one fan (``messageCount``) and a
fan's activity hours read it instead of scanning the creator's messages

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 13:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_messages_fan_sent", "messages", ["fan_id", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_fan_sent", table_name="messages")
