"""covering indexes for segments over purchases and messages in a window: a creator's
purchases by time now also hold the fan, kind and net amount, and its messages by direction
and time hold the fan, so ``purchaseCount``, ``spendCents`` and ``messageCount`` within N
days read one index range and never the table (bench/segments_bench.py); and the
scheduler's due campaigns by status and start
Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 14:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_purchases_creator_purchased", table_name="purchases")
    op.create_index(
        "ix_purchases_creator_purchased",
        "purchases",
        ["creator_id", "purchased_at", "fan_id", "kind", "net_cents"],
    )
    op.create_index(
        "ix_messages_creator_sent", "messages", ["creator_id", "direction", "sent_at", "fan_id"]
    )
    op.create_index("ix_campaigns_due", "campaigns", ["status", "scheduled_for"])


def downgrade() -> None:
    op.drop_index("ix_campaigns_due", table_name="campaigns")
    op.drop_index("ix_messages_creator_sent", table_name="messages")
    op.drop_index("ix_purchases_creator_purchased", table_name="purchases")
    op.create_index("ix_purchases_creator_purchased", "purchases", ["creator_id", "purchased_at"])
