"""Bulk queueing: ids, counts and skips of the one ``INSERT … SELECT``; what happens to outbox
rows when their fan, account or creator is deleted (the outbox keeps no foreign key to fans or
creators, migration 0003)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select

from huntaze.fans.schemas import AudienceFilter
from huntaze.fans.service import delete_fan
from huntaze.kit.ids import SEQUENCE_DIGITS
from huntaze.messaging.send import MAX_LISTED_SKIPS, queue_bulk, queue_message
from huntaze.models.crm import Fan
from huntaze.models.messaging import OutboxMessage, SendingAccount
from huntaze.models.tenancy import Creator
from tests.factories import fan_values


def _fan(creator_id: str, key: str, now: Any, **values: Any) -> Fan:
    return Fan(**fan_values(creator_id, key, now, **values))


def _rows(sessions: Any, **where: Any) -> list[OutboxMessage]:
    with sessions() as s:
        q = select(OutboxMessage).filter_by(**where).order_by(OutboxMessage.id)
        return list(s.scalars(q))


def test_bulk_ids_are_one_run_numbered_in_insert_order(sessions, clock, make_tenant, seed) -> None:
    world = seed(make_tenant(), fans=0)
    creator_id = world["account"].creator_id
    with sessions() as s:
        s.add_all(_fan(creator_id, f"{i:03d}", clock.now()) for i in range(40))
        s.commit()
        account = s.get(SendingAccount, world["account"].id)
        result = queue_bulk(s, account, clock.now(), template="hi {username}", flt=AudienceFilter())
        s.commit()
        bulk_id = result.bulk.id
        assert result.bulk.queued == 40  # the INSERT's own row count
    rows = _rows(sessions, bulk_id=bulk_id)
    ids = [r.id for r in rows]
    assert len(set(ids)) == 40
    assert all(i.startswith("msg_") and len(i) == 31 for i in ids)
    assert len({i[:-SEQUENCE_DIGITS] for i in ids}) == 1  # one head per bulk
    assert sorted(int(i[-SEQUENCE_DIGITS:], 16) for i in ids) == list(range(1, 41))
    assert {r.content for r in rows} == {f"hi u{i:03d}" for i in range(40)}
    assert {r.idempotency_key for r in rows} == {f"{bulk_id}:{r.fan_id}" for r in rows}
    # a second bulk in the same millisecond still gets ids of its own
    with sessions() as s:
        account = s.get(SendingAccount, world["account"].id)
        again = queue_bulk(s, account, clock.now(), template="again", flt=AudienceFilter())
        s.commit()
        assert again.bulk.queued == 40
    assert not {r.id for r in _rows(sessions, bulk_id=again.bulk.id)} & set(ids)


def test_bulk_counts_and_lists_skips_opted_out_first(sessions, clock, make_tenant, seed) -> None:
    world = seed(make_tenant(), fans=0)
    creator_id = world["account"].creator_id
    now = clock.now()
    with sessions() as s:
        s.add_all(
            [
                _fan(creator_id, "ok", now),
                _fan(creator_id, "out2", now, consent="opted_out"),
                _fan(creator_id, "out1", now, consent="opted_out"),
                _fan(creator_id, "tt", now, platform="tiktok"),  # not reachable on onlyfans
                # opted out and unreachable: counted once, as opted out
                _fan(creator_id, "both", now, platform="tiktok", consent="opted_out"),
            ]
        )
        s.commit()
        account = s.get(SendingAccount, world["account"].id)
        result = queue_bulk(s, account, now, template="x", flt=AudienceFilter())
        s.commit()
    assert result.bulk.queued == 1 and result.skipped_count == 4
    prefix = f"fan_{creator_id[-8:]}_"
    assert result.skipped == [
        {"fanId": prefix + "both", "reason": "opted_out"},
        {"fanId": prefix + "out1", "reason": "opted_out"},
        {"fanId": prefix + "out2", "reason": "opted_out"},
        {"fanId": prefix + "tt", "reason": "no_channel"},
    ]
    with sessions() as s:
        account = s.get(SendingAccount, world["account"].id)
        by_ids = queue_bulk(
            s, account, now, template="x", fan_ids=[prefix + "tt", prefix + "ok", "fan_gone"]
        )
        s.rollback()
    assert by_ids.bulk.queued == 1 and by_ids.skipped_count == 2
    assert by_ids.skipped == [
        {"fanId": prefix + "tt", "reason": "no_channel"},
        {"fanId": "fan_gone", "reason": "not_found"},
    ]


def test_bulk_lists_at_most_the_cap_of_skips_but_counts_them_all(
    sessions, clock, make_tenant, seed
) -> None:
    world = seed(make_tenant(), fans=0)
    creator_id = world["account"].creator_id
    now = clock.now()
    with sessions() as s:
        s.add_all(
            _fan(creator_id, f"t{i:05d}", now, platform="tiktok")
            for i in range(MAX_LISTED_SKIPS + 5)
        )
        s.commit()
        account = s.get(SendingAccount, world["account"].id)
        result = queue_bulk(s, account, now, template="x", flt=AudienceFilter())
        s.rollback()
    assert result.bulk.queued == 0 and result.skipped_count == MAX_LISTED_SKIPS + 5
    assert len(result.skipped) == MAX_LISTED_SKIPS
    assert result.skipped[0]["fanId"].endswith("t00000")


def test_deleting_a_fan_keeps_its_messages_without_the_fan(sessions, clock, make_tenant, seed):
    world = seed(make_tenant(), fans=2)
    gone, kept = world["fans"]
    with sessions() as s:
        account = s.get(SendingAccount, world["account"].id)
        for fan in (gone, kept):
            queue_message(s, account, s.merge(fan), "hello", clock.now())
        s.commit()
        delete_fan(s, gone.creator_id, gone.id, clock.now())
        s.commit()
    rows = _rows(sessions, account_id=world["account"].id)
    assert sorted((r.fan_id or "", r.recipient) for r in rows) == sorted(
        [("", gone.platform_fan_id), (kept.id, kept.platform_fan_id)]
    )


def test_deleting_an_account_or_a_creator_deletes_their_messages(
    sessions, clock, make_tenant, seed
) -> None:
    first, second = seed(make_tenant(), fans=1), seed(make_tenant(), fans=1)
    for world in (first, second):
        with sessions() as s:
            account = s.get(SendingAccount, world["account"].id)
            queue_message(s, account, s.merge(world["fans"][0]), "hello", clock.now())
            s.commit()
    with sessions() as s:
        s.execute(delete(SendingAccount).where(SendingAccount.id == first["account"].id))
        # the creator's accounts go with it, and their messages with them
        s.execute(delete(Creator).where(Creator.id == second["account"].creator_id))
        s.commit()
        left = s.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.account_id.in_([first["account"].id, second["account"].id]))
        )
    assert left == 0
