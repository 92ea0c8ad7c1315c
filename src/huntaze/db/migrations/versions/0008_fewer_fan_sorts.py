"""fans: withdraw the ``username`` and ``displayName`` sorts and their indexes

The fan list offered six sorts, each with an index ``(creator_id, <column>, id)``
(migration 0006). A large first import rebuilds those indexes after the load
(:mod:`huntaze.imports.writing.bulkload`), and the two on text columns were the costliest to
build: about 2 s each per 1,000,000 fans on PostgreSQL, against 1.2 to 1.7 s for a
timestamp or an amount. Issue 9 sets the import at 50,000 rows/s and allows fewer sorts when
an index costs too much at import; names are found with the list's ``q`` search. The sorts
kept are ``createdAt``, ``lifetimeValueCents``, ``lastActiveAt`` and ``subscribedAt``.

Downgrade builds the two indexes again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: name -> columns of the withdrawn sort indexes
WITHDRAWN = {
    "ix_fans_sort_username": ["creator_id", "username", "id"],
    "ix_fans_sort_display_name": ["creator_id", "display_name", "id"],
}


def upgrade() -> None:
    for name in WITHDRAWN:
        op.drop_index(name, table_name="fans", if_exists=True)


def downgrade() -> None:
    for name, columns in WITHDRAWN.items():
        op.create_index(name, "fans", columns, unique=False)
