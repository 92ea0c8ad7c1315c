"""fan_tags.tag_key (tags match whatever their case) and one index per fan-list sort

``fan_tags`` gains ``tag_key``, :func:`huntaze.fans.tags.tag_key` of the tag (NFKC,
case-folded, spaces collapsed), filled here for the stored rows. The primary key becomes
``(fan_id, tag_key)``, so ``VIP`` and ``vip`` cannot both sit on one fan: where a fan already
has both, the first spelling in code-point order is kept (``VIP``) and the other row is
deleted. ``ix_fan_tags_creator_tag`` becomes ``ix_fan_tags_creator_key`` on
``(creator_id, tag_key, fan_id)``.

``fans`` gets one index per sort of ``GET /api/crm/fans``: ``(creator_id, <column>, id)``
for created_at, lifetime_value_cents, last_active_at, subscribed_at, username and
display_name. They replace
``ix_fans_creator_ltv`` and ``ix_fans_creator_last_active``, which lacked the id. The
``updatedAt`` sort is withdrawn rather than indexed (bench/notes.md, "Fan list").

Downgrade restores the ``(fan_id, tag)`` key and the two old indexes; no row is lost (one
row per key is also one row per spelling).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from huntaze.fans.tags import tag_key

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: name -> columns of the fan-list sort indexes
SORT_INDEXES = {
    "ix_fans_sort_created": ["creator_id", "created_at", "id"],
    "ix_fans_sort_ltv": ["creator_id", "lifetime_value_cents", "id"],
    "ix_fans_sort_last_active": ["creator_id", "last_active_at", "id"],
    "ix_fans_sort_subscribed": ["creator_id", "subscribed_at", "id"],
    "ix_fans_sort_username": ["creator_id", "username", "id"],
    "ix_fans_sort_display_name": ["creator_id", "display_name", "id"],
}
OLD_INDEXES = {
    "ix_fans_creator_last_active": ["creator_id", "last_active_at"],
    "ix_fans_creator_ltv": ["creator_id", "lifetime_value_cents"],
}
#: fans whose tags are keyed per round trip
FANS_PER_CHUNK = 2_000


def _fill_tag_keys() -> None:
    """Set ``tag_key`` on every stored tag; delete the later spellings of a key on one fan."""
    conn = op.get_bind()
    last = ""
    while True:
        fan_ids = list(
            conn.execute(
                sa.text(
                    "SELECT DISTINCT fan_id FROM fan_tags WHERE fan_id > :last "
                    "ORDER BY fan_id LIMIT :n"
                ),
                {"last": last, "n": FANS_PER_CHUNK},
            ).scalars()
        )
        if not fan_ids:
            return
        last = fan_ids[-1]
        rows = sorted(  # code-point order: the first spelling of a key wins
            (fan_id, tag)
            for fan_id, tag in conn.execute(
                sa.text("SELECT fan_id, tag FROM fan_tags WHERE fan_id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": fan_ids},
            )
        )
        keep: dict[tuple[str, str], str] = {}
        for fan_id, tag in rows:
            keep.setdefault((fan_id, tag_key(tag)), tag)
        kept = {(fan_id, tag) for (fan_id, _), tag in keep.items()}
        gone = [{"f": fan_id, "t": tag} for fan_id, tag in rows if (fan_id, tag) not in kept]
        if gone:
            conn.execute(sa.text("DELETE FROM fan_tags WHERE fan_id = :f AND tag = :t"), gone)
        conn.execute(
            sa.text("UPDATE fan_tags SET tag_key = :k WHERE fan_id = :f AND tag = :t"),
            [{"k": key, "f": fan_id, "t": tag} for (fan_id, key), tag in keep.items()],
        )


def upgrade() -> None:
    op.add_column("fan_tags", sa.Column("tag_key", sa.String(length=200), nullable=True))
    _fill_tag_keys()
    with op.batch_alter_table("fan_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_fan_tags_creator_tag")
        batch_op.alter_column("tag_key", existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_constraint("pk_fan_tags", type_="primary")
        batch_op.create_primary_key("pk_fan_tags", ["fan_id", "tag_key"])
        batch_op.create_index(
            "ix_fan_tags_creator_key", ["creator_id", "tag_key", "fan_id"], unique=False
        )
    for name in OLD_INDEXES:
        op.drop_index(name, table_name="fans")
    for name, columns in SORT_INDEXES.items():
        op.create_index(name, "fans", columns, unique=False)


def downgrade() -> None:
    for name in SORT_INDEXES:
        op.drop_index(name, table_name="fans")
    for name, columns in OLD_INDEXES.items():
        op.create_index(name, "fans", columns, unique=False)
    with op.batch_alter_table("fan_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_fan_tags_creator_key")
        batch_op.drop_constraint("pk_fan_tags", type_="primary")
        batch_op.create_primary_key("pk_fan_tags", ["fan_id", "tag"])
        batch_op.drop_column("tag_key")
        batch_op.create_index("ix_fan_tags_creator_tag", ["creator_id", "tag"], unique=False)
