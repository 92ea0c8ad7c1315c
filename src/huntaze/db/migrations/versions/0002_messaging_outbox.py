"""messaging outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:05:25.923509
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import huntaze.db.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "idempotency_keys",
        sa.Column("creator_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", huntaze.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", huntaze.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_idempotency_keys_creator_id_creators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("creator_id", "key", name=op.f("pk_idempotency_keys")),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_keys_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "sending_accounts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("creator_id", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("secret_encrypted", sa.Text(), nullable=True),
        sa.Column("send_limits", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("breaker_state", sa.String(length=16), nullable=False),
        sa.Column("breaker_failures", sa.Integer(), nullable=False),
        sa.Column("breaker_opened_at", huntaze.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_served_at", huntaze.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", huntaze.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", huntaze.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_sending_accounts_creator_id_creators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sending_accounts")),
        sa.UniqueConstraint(
            "creator_id",
            "platform",
            "name",
            name=op.f("uq_sending_accounts_creator_id_platform_name"),
        ),
    )
    with op.batch_alter_table("sending_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sending_accounts_creator_id"), ["creator_id"], unique=False
        )

    op.create_table(
        "bulk_sends",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("creator_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column(
            "skipped",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", huntaze.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", huntaze.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["sending_accounts.id"],
            name=op.f("fk_bulk_sends_account_id_sending_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_bulk_sends_creator_id_creators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_sends")),
    )
    with op.batch_alter_table("bulk_sends", schema=None) as batch_op:
        batch_op.create_index("ix_bulk_sends_creator", ["creator_id", "created_at"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("creator_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("fan_id", sa.String(length=32), nullable=True),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column(
            "media",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("price_cents", sa.BigInteger(), nullable=True),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", huntaze.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", huntaze.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("sent_at", huntaze.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=True),
        sa.Column("bulk_id", sa.String(length=32), nullable=True),
        sa.Column("campaign_id", sa.String(length=32), nullable=True),
        sa.Column("variant_id", sa.String(length=32), nullable=True),
        sa.Column("automation_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", huntaze.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", huntaze.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["sending_accounts.id"],
            name=op.f("fk_outbox_account_id_sending_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_outbox_creator_id_creators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["fan_id"], ["fans.id"], name=op.f("fk_outbox_fan_id_fans"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint(
            "account_id", "idempotency_key", name=op.f("uq_outbox_account_id_idempotency_key")
        ),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_account_status", ["account_id", "status", "claimed_until"], unique=False
        )
        batch_op.create_index("ix_outbox_bulk", ["bulk_id"], unique=False)
        batch_op.create_index(
            "ix_outbox_creator_created", ["creator_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_outbox_queued",
            ["account_id", "priority", "created_at", "id"],
            unique=False,
            postgresql_where=sa.text("status = 'queued'"),
            sqlite_where=sa.text("status = 'queued'"),
        )

    op.create_table(
        "send_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("started_at", huntaze.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["sending_accounts.id"],
            name=op.f("fk_send_attempts_account_id_sending_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_send_attempts")),
    )
    with op.batch_alter_table("send_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_send_attempts_account_started", ["account_id", "started_at"], unique=False
        )

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outbox_id", sa.String(length=32), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("outbox_id")

    with op.batch_alter_table("send_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_send_attempts_account_started")

    op.drop_table("send_attempts")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_queued",
            postgresql_where=sa.text("status = 'queued'"),
            sqlite_where=sa.text("status = 'queued'"),
        )
        batch_op.drop_index("ix_outbox_creator_created")
        batch_op.drop_index("ix_outbox_bulk")
        batch_op.drop_index("ix_outbox_account_status")

    op.drop_table("outbox")
    with op.batch_alter_table("bulk_sends", schema=None) as batch_op:
        batch_op.drop_index("ix_bulk_sends_creator")

    op.drop_table("bulk_sends")
    with op.batch_alter_table("sending_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sending_accounts_creator_id"))

    op.drop_table("sending_accounts")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_expires_at"))

    op.drop_table("idempotency_keys")
