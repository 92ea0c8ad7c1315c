"""A thread finds its fan's outbox rows through indexes on both databases, in a creator's
outbox full of bulk rows: single sends through the partial ``ix_outbox_fan_direct`` (which a
bulk's rows never enter, migration 0007), bulk rows by one probe of the unique
``(account_id, idempotency_key)`` per bulk, the conversation's own messages through
``ix_messages_conversation_sent``. None of them reads the creator's whole outbox.

The database is one of its own (a file on SQLite, a schema on PostgreSQL), filled and
analysed, so each planner chooses by real statistics rather than by the few rows the other
tests leave behind.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, inspect, text

from huntaze.auth.tokens import get_or_create_creator
from huntaze.db.engine import make_sessionmaker
from huntaze.db.migrate import upgrade
from huntaze.fans.schemas import AudienceFilter
from huntaze.inbox.service import open_conversation
from huntaze.inbox.threads import thread_query
from huntaze.kit.crypto import SecretBox
from huntaze.kit.pagination import encode_cursor
from huntaze.messaging.accounts import create_account
from huntaze.messaging.send import queue_bulk, queue_message
from huntaze.models.crm import Conversation, Fan, Message
from tests.db.test_outbox_migration import scratch
from tests.factories import fan_values

__all__ = ["scratch"]  # the fixture, used by name

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
FANS = 2_000
BULKS = 2
TALKERS = 100  # fans with single sends and a conversation
MESSAGES = 10  # per conversation


def _plan(engine: Engine, query: Any) -> str:
    compiled = query.compile(dialect=engine.dialect)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
            return "\n".join(r[0] for r in rows)
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
        return "\n".join(r[3] for r in rows)


def _unique_key_index(engine: Engine) -> str:
    if engine.dialect.name == "postgresql":
        return "uq_outbox_account_id_idempotency_key"
    # SQLite names the index behind a UNIQUE constraint itself (sqlite_autoindex_outbox_N)
    with engine.connect() as conn:
        for row in conn.exec_driver_sql("PRAGMA index_list(outbox)").all():
            columns = [c[2] for c in conn.exec_driver_sql(f"PRAGMA index_info('{row[1]}')")]
            if columns == ["account_id", "idempotency_key"]:
                return str(row[1])
    raise AssertionError("no unique index on (account_id, idempotency_key)")


def _fill(engine: Engine) -> Conversation:
    """One creator: FANS fans, BULKS bulks to all of them, and TALKERS fans with three single
    sends and a conversation of MESSAGES messages each; returns one of the conversations."""
    from cryptography.fernet import Fernet

    box = SecretBox([Fernet.generate_key().decode()])
    sessions = make_sessionmaker(engine)
    with sessions() as s:
        creator_id = get_or_create_creator(s, "plan", NOW).id
        account = create_account(
            s, creator_id, box, NOW, platform="onlyfans", name="of", channel="noop"
        )
        s.commit()
    with engine.begin() as conn:
        conn.execute(
            insert(Fan),
            [fan_values(creator_id, str(i), NOW, id=f"fan_{i:08d}") for i in range(FANS)],
        )
    with sessions() as s:
        account = s.merge(account)
        for b in range(BULKS):
            queue_bulk(s, account, NOW + timedelta(minutes=b), template="hi", flt=AudienceFilter())
        convs = []
        for i in range(TALKERS):
            fan = s.get(Fan, f"fan_{i:08d}")
            assert fan is not None
            for k in range(3):
                queue_message(s, account, fan, f"single {k}", NOW + timedelta(minutes=10 + k))
            convs.append(open_conversation(s, creator_id, fan.id, None, NOW)[0])
        s.commit()
        s.execute(
            insert(Message),
            [
                {
                    "id": f"cmsg_{n:08d}_{k:03d}",
                    "creator_id": creator_id,
                    "conversation_id": c.id,
                    "fan_id": c.fan_id,
                    "direction": "inbound",
                    "text": "hi",
                    "media": [],
                    "purchased": False,
                    "sent_at": NOW + timedelta(minutes=k),
                    "created_at": NOW,
                }
                for n, c in enumerate(convs)
                for k in range(MESSAGES)
            ],
        )
        s.commit()
        conv = convs[TALKERS // 2]
        s.expunge(conv)
    with engine.connect() as conn:
        # these tables only: a database-wide ANALYZE locks every schema's tables, and another
        # worker dropping its test schema ends the connections holding its locks
        auto = conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("fans", "conversations", "messages", "outbox", "bulk_sends"):
            auto.execute(text(f"ANALYZE {table}"))
    return conv


def test_every_part_of_a_thread_page_uses_an_index(scratch: Engine) -> None:
    upgrade(scratch)
    indexes = {i["name"]: i for i in inspect(scratch).get_indexes("outbox")}
    assert indexes["ix_outbox_fan_direct"]["column_names"] == ["fan_id", "created_at"]
    conv = _fill(scratch)
    for cursor in (None, encode_cursor([(NOW + timedelta(minutes=5)).isoformat(), "cmsg_x"])):
        plan = _plan(scratch, thread_query(conv, 50, cursor))
        assert "ix_outbox_fan_direct" in plan, plan
        assert _unique_key_index(scratch) in plan, plan
        assert "ix_messages_conversation_sent" in plan, plan
        assert "ix_outbox_creator_created" not in plan, plan
        assert "SCAN outbox" not in plan and "Seq Scan on outbox" not in plan, plan
