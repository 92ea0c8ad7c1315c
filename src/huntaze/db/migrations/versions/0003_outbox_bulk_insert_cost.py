"""outbox: cheaper bulk inserts

Drops the outbox's foreign keys to ``creators`` and ``fans`` (PostgreSQL checks each with one
trigger query per inserted row; the creator is implied by the account, and fan deletion nulls
``fan_id`` itself) and replaces ``ix_outbox_account_status`` (every row, every state) with the
partial ``ix_outbox_processing`` (leased rows only), which inserts of queued rows never touch.
Queued rows are served by the partial ``ix_outbox_queued``.

On SQLite, dropping a foreign key rebuilds the table (Alembic's batch mode); the partial index
``ix_outbox_queued`` is dropped first and created again afterwards, so its ``WHERE`` survives the
rebuild. PostgreSQL alters the table in place and keeps the index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUED = sa.text("status = 'queued'")
PROCESSING = sa.text("status = 'processing'")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _drop_queued_index() -> None:
    if _sqlite():
        op.drop_index("ix_outbox_queued", table_name="outbox")


def _create_queued_index() -> None:
    if not _sqlite():
        return
    op.create_index(
        "ix_outbox_queued",
        "outbox",
        ["account_id", "priority", "created_at", "id"],
        unique=False,
        postgresql_where=QUEUED,
        sqlite_where=QUEUED,
    )


def upgrade() -> None:
    _drop_queued_index()
    op.drop_index("ix_outbox_account_status", table_name="outbox")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outbox_creator_id_creators", type_="foreignkey")
        batch_op.drop_constraint("fk_outbox_fan_id_fans", type_="foreignkey")
    _create_queued_index()
    op.create_index(
        "ix_outbox_processing",
        "outbox",
        ["account_id", "claimed_until"],
        unique=False,
        postgresql_where=PROCESSING,
        sqlite_where=PROCESSING,
    )


def downgrade() -> None:
    # fans deleted since the upgrade left their messages pointing nowhere only if a writer
    # skipped delete_fan; the foreign key would refuse those rows
    op.execute(
        "UPDATE outbox SET fan_id = NULL WHERE fan_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM fans WHERE fans.id = outbox.fan_id)"
    )
    op.drop_index("ix_outbox_processing", table_name="outbox")
    _drop_queued_index()
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_outbox_fan_id_fans", "fans", ["fan_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_foreign_key(
            "fk_outbox_creator_id_creators", "creators", ["creator_id"], ["id"], ondelete="CASCADE"
        )
    _create_queued_index()
    op.create_index(
        "ix_outbox_account_status",
        "outbox",
        ["account_id", "status", "claimed_until"],
        unique=False,
    )
