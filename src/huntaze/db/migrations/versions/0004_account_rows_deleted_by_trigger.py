"""outbox and send_attempts: no foreign key to sending_accounts; a trigger deletes their rows

PostgreSQL checks a foreign key with one trigger query per inserted row. Each claim writes one
``send_attempts`` row per message (4.3 ms of a 500-message claim's 32 ms), and a bulk writes a
million outbox rows in one ``INSERT … SELECT`` (3 to 6 s of the 15 s budget went to the check
of ``outbox.account_id``). Both foreign keys are dropped, and what their ``ON DELETE CASCADE``
did is done by an ``AFTER DELETE`` trigger on ``sending_accounts``: deleting an account (by
:func:`huntaze.messaging.accounts.delete_account`, or by the cascade from its creator) deletes
its outbox rows and its send attempts. The cost moves from every insert to the rare delete.

On SQLite, dropping the outbox's foreign key rebuilds the table (Alembic's batch mode); the
partial indexes are dropped first and created again afterwards, so their ``WHERE`` survives
the rebuild. Both databases run the trigger for accounts deleted by their creator's
``ON DELETE CASCADE`` too (tests/db/test_outbox_migration.py checks it on each). The PostgreSQL
function keeps the search path it was created with, so a session with another search path
deletes from the right tables.

A later migration that rebuilds ``outbox`` or ``send_attempts`` on SQLite (batch mode) must
drop this trigger first and create it again after: SQLite checks triggers when the rebuilt
table is renamed into place, and the trigger names a table that is missing at that moment.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIAL = {
    "ix_outbox_queued": (["account_id", "priority", "created_at", "id"], "status = 'queued'"),
    "ix_outbox_processing": (["account_id", "claimed_until"], "status = 'processing'"),
}
SQLITE_TRIGGER = """
CREATE TRIGGER sending_accounts_delete_rows AFTER DELETE ON sending_accounts
BEGIN
    DELETE FROM outbox WHERE account_id = OLD.id;
    DELETE FROM send_attempts WHERE account_id = OLD.id;
END
"""
PG_FUNCTION = """
CREATE FUNCTION sending_accounts_delete_rows() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM outbox WHERE account_id = OLD.id;
    DELETE FROM send_attempts WHERE account_id = OLD.id;
    RETURN OLD;
END
$$
"""
PG_TRIGGER = (
    "CREATE TRIGGER sending_accounts_delete_rows AFTER DELETE ON sending_accounts "
    "FOR EACH ROW EXECUTE FUNCTION sending_accounts_delete_rows()"
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _outbox_foreign_key(create: bool) -> None:
    """Drop or create the outbox's foreign key; on SQLite around a table rebuild that would
    otherwise lose the partial indexes' WHERE."""
    if _sqlite():
        for name in PARTIAL:
            op.drop_index(name, table_name="outbox")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        if create:
            batch_op.create_foreign_key(
                "fk_outbox_account_id_sending_accounts",
                "sending_accounts",
                ["account_id"],
                ["id"],
                ondelete="CASCADE",
            )
        else:
            batch_op.drop_constraint("fk_outbox_account_id_sending_accounts", type_="foreignkey")
    if _sqlite():
        for name, (columns, where) in PARTIAL.items():
            op.create_index(name, "outbox", columns, unique=False, sqlite_where=sa.text(where))


def upgrade() -> None:
    with op.batch_alter_table("send_attempts", schema=None) as batch_op:
        batch_op.drop_constraint("fk_send_attempts_account_id_sending_accounts", type_="foreignkey")
    _outbox_foreign_key(create=False)
    if _sqlite():
        op.execute(SQLITE_TRIGGER)
    else:
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)


def downgrade() -> None:
    if _sqlite():
        op.execute("DROP TRIGGER sending_accounts_delete_rows")
    else:
        op.execute("DROP TRIGGER sending_accounts_delete_rows ON sending_accounts")
        op.execute("DROP FUNCTION sending_accounts_delete_rows()")
    # rows whose account went away while no key guarded them would be refused
    op.execute(
        "DELETE FROM outbox WHERE NOT EXISTS "
        "(SELECT 1 FROM sending_accounts a WHERE a.id = outbox.account_id)"
    )
    op.execute(
        "DELETE FROM send_attempts WHERE NOT EXISTS "
        "(SELECT 1 FROM sending_accounts a WHERE a.id = send_attempts.account_id)"
    )
    _outbox_foreign_key(create=True)
    with op.batch_alter_table("send_attempts", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_send_attempts_account_id_sending_accounts",
            "sending_accounts",
            ["account_id"],
            ["id"],
            ondelete="CASCADE",
        )
