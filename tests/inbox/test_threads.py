"""A fan's thread shows everything sent to the fan on the conversation's platform: the seed's
single send, bulks and inbox replies, each once, in order, with the outbox's delivery status,
which follows the worker's sends (issue 9, "Threads and ids")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from huntaze.models.messaging import OutboxMessage
from huntaze.outbox.worker import Worker
from huntaze.platforms.base import OutgoingMessage, PermanentError, SendResult
from tests.sending import ScriptedFactory


class FailingOn:
    """A channel that accepts every message except those whose text contains ``marker``,
    which it refuses for good with ``reason``."""

    deduplicates = False

    def __init__(self, marker: str, reason: str) -> None:
        self.marker = marker
        self.reason = reason
        self.sent: list[str] = []

    def send(self, message: OutgoingMessage) -> SendResult:
        if self.marker in message.content:
            raise PermanentError(self.reason)
        self.sent.append(message.message_id)
        return SendResult(external_id=f"ext-{len(self.sent)}")

    def close(self) -> None:
        pass


def _world(client: Any, h: dict[str, str], key: str = "t1") -> dict[str, Any]:
    fan = client.post(
        "/api/crm/fans",
        json={
            "platform": "onlyfans",
            "platformFanId": key,
            "username": f"user{key}",
            "email": f"{key}@example.com",
        },
        headers=h,
    )
    assert fan.status_code == 201, fan.text
    account = client.post(
        "/api/messaging/accounts",
        json={"platform": "onlyfans", "name": "of", "channel": "noop"},
        headers=h,
    )
    assert account.status_code == 201, account.text
    return fan.json()


def _thread(client: Any, h: dict[str, str], conv_id: str, **params: Any) -> list[dict[str, Any]]:
    r = client.get(f"/api/crm/conversations/{conv_id}/messages", params=params, headers=h)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def _drain(client: Any, engine: Any, clock: Any, channel: FailingOn, creator_id: str) -> None:
    """Send every queued message of the creator through ``channel`` with a real worker."""
    with engine.begin() as conn:  # workers serve every creator: park other tests' rows
        conn.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status.in_(("queued", "processing")),
                OutboxMessage.creator_id != creator_id,
            )
            .values(status="cancelled")
        )
    worker = Worker(
        client.app.state.ctx.outbox, ScriptedFactory(channel), worker_id="threads", poll_seconds=0
    )
    for _ in range(20):
        if not worker.run_once():
            break
        clock.advance(60)
    else:
        raise AssertionError("the outbox did not drain")


def test_seed_send_bulk_and_inbox_reply_show_once_in_the_thread_with_their_status(
    client, tenant, engine, clock
) -> None:
    h = tenant["headers"]
    fan = _world(client, h)
    seed = client.post(
        "/api/onlyfans/messages/send",
        json={"recipientId": "t1", "content": "seed hello"},
        headers=h,
    ).json()
    clock.advance(60)
    bulk = client.post(
        "/api/messages/bulk",
        json={
            "recipients": {"fanIds": [fan["id"]]},
            "template": "bulk for {username}",
            "platform": "onlyfans",
            "priceCents": 999,
        },
        headers=h,
    ).json()
    assert bulk["queued"] == 1
    clock.advance(60)
    # the fan had no conversation yet: opening it finds everything sent before
    opened = client.post("/api/crm/conversations", json={"fanId": fan["id"]}, headers=h)
    assert opened.status_code == 201
    conv = opened.json()
    before = _thread(client, h, conv["id"])
    assert [(m["text"], m["source"], m["status"]) for m in before] == [
        ("bulk for usert1", "bulk", "queued"),
        ("seed hello", "send", "queued"),
    ]
    clock.advance(60)
    reply = client.post(
        f"/api/crm/conversations/{conv['id']}/messages", json={"text": "inbox reply"}, headers=h
    )
    assert reply.status_code == 201, reply.text
    sent = reply.json()
    assert sent["status"] == "queued" and sent["source"] == "inbox"
    clock.advance(60)
    client.post(
        f"/api/crm/conversations/{conv['id']}/messages",
        json={"direction": "inbound", "text": "thanks!"},
        headers=h,
    )

    items = _thread(client, h, conv["id"])
    assert [(m["text"], m["source"], m["direction"], m["status"]) for m in items] == [
        ("thanks!", "inbox", "inbound", None),
        ("inbox reply", "inbox", "outbound", "queued"),
        ("bulk for usert1", "bulk", "outbound", "queued"),
        ("seed hello", "send", "outbound", "queued"),
    ]
    assert len({m["id"] for m in items}) == 4
    by_text = {m["text"]: m for m in items}
    # an outbox message is listed under its own id, the one the status routes answer
    assert by_text["seed hello"]["id"] == by_text["seed hello"]["outboxId"] == seed["messageId"]
    assert by_text["bulk for usert1"]["bulkId"] == bulk["bulkId"]
    assert by_text["bulk for usert1"]["priceCents"] == 999
    assert by_text["inbox reply"]["id"] == sent["id"]
    assert by_text["inbox reply"]["outboxId"] == sent["outboxId"] != sent["id"]
    assert all(m["conversationId"] == conv["id"] and m["fanId"] == fan["id"] for m in items)

    # the conversation list keeps ordering by inbox activity
    listed = client.get("/api/crm/conversations", headers=h).json()["items"]
    assert [c["id"] for c in listed] == [conv["id"]]

    channel = FailingOn("bulk for", "the fan blocked this account")
    _drain(client, engine, clock, channel, tenant["creator_id"])
    after = {m["text"]: m for m in _thread(client, h, conv["id"])}
    assert len(after) == 4
    assert after["seed hello"]["status"] == "sent" and after["seed hello"]["deliveredAt"]
    assert after["inbox reply"]["status"] == "sent" and after["inbox reply"]["deliveredAt"]
    failed = after["bulk for usert1"]
    assert failed["status"] == "failed" and failed["deliveredAt"] is None
    assert failed["lastError"] == "the fan blocked this account"
    assert after["thanks!"]["status"] is None
    for item in after.values():
        if item["outboxId"]:
            status = client.get(f"/api/messages/{item['outboxId']}", headers=h).json()
            assert status["status"] == item["status"]


def test_thread_pages_walk_every_source_once_in_order(client, tenant, clock) -> None:
    h = tenant["headers"]
    fan = _world(client, h)
    conv = client.post("/api/crm/conversations", json={"fanId": fan["id"]}, headers=h).json()
    expected = []
    for i in range(3):
        clock.advance(10)
        # a single send and a bulk at the same instant: the id breaks the tie
        client.post(
            "/api/onlyfans/messages/send", json={"recipientId": "t1", "content": f"s{i}"}, headers=h
        )
        client.post(
            "/api/messages/bulk",
            json={
                "recipients": {"fanIds": [fan["id"]]},
                "template": f"b{i}",
                "platform": "onlyfans",
            },
            headers=h,
        )
        clock.advance(10)
        client.post(
            f"/api/crm/conversations/{conv['id']}/messages", json={"text": f"r{i}"}, headers=h
        )
        expected += [f"s{i}", f"b{i}", f"r{i}"]
    whole = _thread(client, h, conv["id"])
    assert sorted(m["text"] for m in whole) == sorted(expected)
    order = [(m["sentAt"], m["id"]) for m in whole]
    assert order == sorted(order, reverse=True)

    walked: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        r = client.get(f"/api/crm/conversations/{conv['id']}/messages", params=params, headers=h)
        body = r.json()
        walked += [m["id"] for m in body["items"]]
        cursor = body["nextCursor"]
        pages += 1
        if not cursor:
            break
    assert walked == [m["id"] for m in whole] and pages == 5


def test_each_platform_has_its_own_thread_and_another_fans_messages_stay_out(
    client, tenant
) -> None:
    h = tenant["headers"]
    fan = _world(client, h)
    other = client.post(
        "/api/crm/fans", json={"platform": "onlyfans", "platformFanId": "t2"}, headers=h
    ).json()
    client.post(
        "/api/messaging/accounts",
        json={"platform": "email", "name": "mail", "channel": "noop"},
        headers=h,
    )
    client.post(
        "/api/onlyfans/messages/send", json={"recipientId": "t1", "content": "on OF"}, headers=h
    )
    client.post(
        "/api/onlyfans/messages/send", json={"recipientId": "t2", "content": "not yours"}, headers=h
    )
    client.post(
        "/api/messages/send",
        json={"platform": "email", "fanId": fan["id"], "content": "by mail", "subject": "Hi"},
        headers=h,
    )
    client.post(
        "/api/messages/bulk",
        json={
            "recipients": {"fanIds": [fan["id"], other["id"]]},
            "template": "mail bulk",
            "platform": "email",
            "subject": "News",
        },
        headers=h,
    )
    of = client.post("/api/crm/conversations", json={"fanId": fan["id"]}, headers=h).json()
    mail = client.post(
        "/api/crm/conversations", json={"fanId": fan["id"], "platform": "email"}, headers=h
    ).json()
    assert of["id"] != mail["id"] and mail["platform"] == "email"
    assert [m["text"] for m in _thread(client, h, of["id"])] == ["on OF"]
    by_mail = _thread(client, h, mail["id"])
    assert sorted((m["text"], m["subject"], m["source"]) for m in by_mail) == [
        ("by mail", "Hi", "send"),
        ("mail bulk", "News", "bulk"),
    ]
