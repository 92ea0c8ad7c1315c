"""campaigns.cost_per_message_cents: what one delivered message costs, so that spend is
tracked against the budget

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(
            sa.Column("cost_per_message_cents", sa.BigInteger(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("campaigns") as batch:
        batch.alter_column("cost_per_message_cents", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("cost_per_message_cents")
