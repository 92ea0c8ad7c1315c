"""The fan-list benchmark's data: fans generated in the database by set-based SQL.

Fan ``i`` (0-based) of a creator has, deterministically:

- an id in Huntaze's shape (``fan_`` + 11 hex digits of a fixed instant + ``i`` as 16 hex
  digits), so ids are in creation order like real ones (``kit.ids``);
- platform onlyfans (60%), patreon (25%) or fansly (15%);
- a username (``<first name>_<n>``, none for 10%), a display name (``<First name> <n>``, none
  for 20%), an email for two thirds; first names from :data:`FIRST_NAMES`, picked
  independently of the tags, so ``q=anna`` matches about 4% of the fans (Anna and Joanna),
  and about 0.4% of the ``VIP`` ones;
- a subscription status, subscribed and last-active instants (none for 1/7 and 1/4), a
  lifetime value with many ties, ``customFields`` ``{"tier": ...}``, and created/updated
  instants spread over the last weeks;
- tags: ``VIP`` on 10%, ``Fans`` on a third, ``whale`` on 1% (with their keys).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, text

from huntaze.fans.service import SORTS as API_SORTS
from huntaze.kit.keyset import Keyset
from huntaze.models.crm import Fan

#: the API sort name -> the column it orders by
SORTS = {
    "createdAt": "created_at",
    "lifetimeValueCents": "lifetime_value_cents",
    "lastActiveAt": "last_active_at",
    "subscribedAt": "subscribed_at",
}
assert set(SORTS) == set(API_SORTS)
#: the filtered searches measured (query parameters)
CASES_FILTERED: dict[str, dict[str, str]] = {
    "tag=vip": {"tag": "vip"},  # 10% of the fans
    "tag=whale": {"tag": "whale"},  # 1%
    "q=anna": {"q": "anna"},  # about 4% (Anna, Joanna)
    "q=zoe_9999": {"q": "zoe_9999"},  # a handful: the search reads every fan
    "tag=vip&q=anna": {"tag": "vip", "q": "anna"},  # about 0.4%
}
FIRST_NAMES = (
    *("Anna", "Ben", "Chloe", "Dan", "Emma", "Femi", "Gus", "Hana", "Ines", "Jon", "Kai"),
    *("Lea", "Mo", "Nia", "Oskar", "Pia", "Quinn", "Ravi", "Sofia", "Tom", "Uma", "Vic"),
    *("Wen", "Xavi", "Yuki", "Zoe", "Joanna", "Marek", "Priya", "Liam", "Elif", "Noah"),
    *("Aiko", "Mateus", "Soren", "Fatima", "Kwame", "Ama", "Lucas", "Mila", "Hugo", "Nora"),
    *("Ivan", "Sara", "Theo", "Lina", "Omar", "Rosa", "Felix", "Iris"),
)
#: the instant every generated timestamp is counted from (UTC)
EPOCH = "2026-10-01 00:00:00"


def _names_cte() -> str:
    values = ", ".join(f"({k}, '{name}')" for k, name in enumerate(FIRST_NAMES))
    return f"names(k, name) AS (VALUES {values})"


def _select(pg: bool) -> str:
    """The SELECT producing the fans of ``:creator`` for ``i`` in ``seq(i)``."""
    n = len(FIRST_NAMES)
    if pg:
        hex16 = "lpad(to_hex(i), 16, '0')"

        def ts(seconds: str) -> str:
            return f"(TIMESTAMPTZ '{EPOCH}+00' + ({seconds}) * INTERVAL '1 second')"

        lower = "lower(names.name)"
        gold, empty = """'{"tier": "gold"}'::jsonb""", "'{}'::jsonb"
    else:
        hex16 = "printf('%016x', i)"

        def ts(seconds: str) -> str:
            shifted = f"strftime('%Y-%m-%d %H:%M:%S', '{EPOCH}', ({seconds}) || ' seconds')"
            return f"({shifted} || '.000000')"

        lower = "lower(names.name)"
        gold, empty = """'{"tier": "gold"}'""", "'{}'"
    return f"""
        SELECT
          'fan_' || :head || {hex16},
          :creator,
          CASE WHEN i % 20 < 12 THEN 'onlyfans' WHEN i % 20 < 17 THEN 'patreon' ELSE 'fansly' END,
          CAST(i AS TEXT),
          CASE WHEN i % 10 = 0 THEN NULL
               ELSE {lower} || '_' || CAST((i * 7919) % 1000003 AS TEXT) END,
          CASE WHEN i % 5 = 0 THEN NULL
               ELSE names.name || ' ' || CAST((i * 104729) % 99991 AS TEXT) END,
          CASE WHEN i % 3 = 0 THEN NULL ELSE 'fan' || CAST(i AS TEXT) || '@example.com' END,
          CASE i % 5 WHEN 0 THEN 'active' WHEN 1 THEN 'expired' WHEN 2 THEN 'cancelled'
                     WHEN 3 THEN 'follower' ELSE 'none' END,
          CASE WHEN i % 7 = 0 THEN NULL ELSE {ts("-((i * 13) % 50000000)")} END,
          NULL,
          CASE WHEN i % 4 = 0 THEN NULL ELSE {ts("-((i * 7) % 30000000)")} END,
          ((i * 7919) % 1000) * (i % 7 + 1),
          'USD',
          'unknown',
          CASE WHEN i % 2 = 0 THEN {gold} ELSE {empty} END,
          {empty},
          {ts("i")},
          {ts("(i * 31) % 5000000")}
        FROM seq JOIN names ON names.k = (i / 10 + i * 37) % {n}
    """


COLUMNS = (
    "id, creator_id, platform, platform_fan_id, username, display_name, email, "
    "subscription_status, subscribed_at, expires_at, last_active_at, lifetime_value_cents, "
    "currency, consent, custom_fields, import_fingerprints, created_at, updated_at"
)
TAGS = (("VIP", "vip", 10, 1), ("Fans", "fans", 3, 0), ("whale", "whale", 100, 7))


def _secondary_indexes(engine: Engine) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the secondary indexes of fans and fan_tags."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = "
                    "current_schema() AND tablename IN ('fans', 'fan_tags') AND indexname "
                    "NOT IN (SELECT conname FROM pg_constraint)"
                )
            ).all()
        else:
            rows = conn.execute(
                text(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                    "tbl_name IN ('fans', 'fan_tags') AND sql IS NOT NULL"
                )
            ).all()
    return [(r[0], r[1]) for r in rows]


def load_fans(engine: Engine, creators: dict[str, int]) -> None:
    """Insert ``{creator_id: number of fans}`` fans with their tags, indexes built after."""
    pg = engine.dialect.name == "postgresql"
    indexes = _secondary_indexes(engine)
    with engine.begin() as conn:
        for name, _ in indexes:
            conn.execute(text(f"DROP INDEX {name}"))
        for number, (creator_id, count) in enumerate(creators.items()):
            head = f"{0x19A00000000 + number:011x}"
            if pg:
                seq = f"seq(i) AS (SELECT generate_series(0::bigint, {count - 1}))"
            else:
                seq = f"seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < {count - 1})"
            prefix = "WITH RECURSIVE" if not pg else "WITH"
            conn.execute(
                text(f"INSERT INTO fans ({COLUMNS}) {prefix} {seq}, {_names_cte()} {_select(pg)}"),
                {"head": head, "creator": creator_id},
            )
            for tag, key, every, rest in TAGS:
                number_of = (
                    "CAST(platform_fan_id AS INTEGER)" if not pg else "platform_fan_id::bigint"
                )
                conn.execute(
                    text(
                        "INSERT INTO fan_tags (fan_id, tag, tag_key, creator_id) "
                        "SELECT id, :tag, :key, creator_id FROM fans "
                        f"WHERE creator_id = :creator AND {number_of} % {every} = {rest}"
                    ),
                    {"tag": tag, "key": key, "creator": creator_id},
                )
        for _, create in indexes:
            conn.execute(text(create))


def deep_cursor(engine: Engine, creator_id: str, sort: str, offset: int) -> str:
    """The API cursor after the fan at ``offset`` in ``sort`` order (NULLs last), read by
    ``OFFSET`` (slow, once, at setup)."""
    descending = sort.startswith("-")
    column = SORTS[sort.lstrip("-")]
    direction = "DESC" if descending else "ASC"
    with engine.connect() as conn:
        row = conn.execute(
            text(
                f"SELECT id, {column} FROM fans WHERE creator_id = :c ORDER BY "
                f"CASE WHEN {column} IS NULL THEN 1 ELSE 0 END, {column} {direction}, "
                f"id {direction} LIMIT 1 OFFSET :o"
            ),
            {"c": creator_id, "o": offset},
        ).one()
    value: Any = row[1]
    if isinstance(value, str) and column.endswith("_at"):  # SQLite's text
        value = datetime.fromisoformat(value).replace(tzinfo=UTC)
    key = sort.lstrip("-")
    return Keyset(API_SORTS[key], Fan.id, sort.startswith("-"), name=sort).encode(value, row[0])
