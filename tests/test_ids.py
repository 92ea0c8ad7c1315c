"""Each entity has its own id prefix: outbox messages ``msg_`` (the seed's ``messageId``),
inbox messages ``cmsg_``, conversations ``cnv_``, quick replies ``qr_`` (issue 9, "Threads and
ids"). Inbox rows written with ``msg_`` ids before the split keep working."""

from __future__ import annotations

from sqlalchemy import insert

from huntaze.models.crm import Message
from tests.factories import create_account, create_fan


def _fan_and_account(client, h):  # type: ignore[no-untyped-def]
    fan = create_fan(client, h, "i1")
    create_account(client, h)
    return fan


def test_outbox_and_inbox_messages_have_distinct_prefixes(client, tenant) -> None:
    h = tenant["headers"]
    fan = _fan_and_account(client, h)
    conv = client.post("/api/crm/conversations", json={"fanId": fan["id"]}, headers=h).json()
    reply = client.post(
        "/api/crm/quick-replies", json={"title": "t", "content": "c"}, headers=h
    ).json()
    sent = client.post(
        f"/api/crm/conversations/{conv['id']}/messages", json={"text": "from the inbox"}, headers=h
    ).json()
    received = client.post(
        f"/api/crm/conversations/{conv['id']}/messages",
        json={"direction": "inbound", "text": "hi"},
        headers=h,
    ).json()
    seed = client.post(
        "/api/onlyfans/messages/send", json={"recipientId": "i1", "content": "seed"}, headers=h
    ).json()

    assert conv["id"].startswith("cnv_") and reply["id"].startswith("qr_")
    assert sent["id"].startswith("cmsg_") and received["id"].startswith("cmsg_")
    assert sent["outboxId"].startswith("msg_") and seed["messageId"].startswith("msg_")
    assert received["outboxId"] is None

    # the outbox id of a message sent from the inbox is what the status routes answer
    status = client.get(f"/api/messages/{sent['outboxId']}", headers=h)
    assert status.status_code == 200 and status.json()["messageId"] == sent["outboxId"]
    seed_status = client.get(
        "/api/onlyfans/messages/status", params={"messageId": seed["messageId"]}, headers=h
    )
    assert seed_status.status_code == 200 and seed_status.json()["status"] == "queued"

    # an inbox message's own id is not an outbox message: the 404 says where to look
    own = client.get(f"/api/messages/{sent['id']}", headers=h)
    assert own.status_code == 404 and own.json()["error"]["code"] == "message_not_found"
    assert sent["outboxId"] in own.json()["error"]["message"]
    assert own.json()["error"]["details"] == [
        {"inboxMessageId": sent["id"], "outboxId": sent["outboxId"]}
    ]
    inbound = client.get(f"/api/messages/{received['id']}", headers=h).json()["error"]
    assert inbound["details"] == [{"inboxMessageId": received["id"], "outboxId": None}]
    # and an outbox id is no inbox message to mark read
    r = client.post(f"/api/crm/messages/{seed['messageId']}/read", headers=h)
    # each entity has its own code: an inbox message is not the seed's message
    assert r.status_code == 404 and r.json()["error"]["code"] == "inbox_message_not_found"


def test_inbox_rows_with_the_old_msg_prefix_keep_working(client, tenant, engine, clock) -> None:
    h = tenant["headers"]
    fan = _fan_and_account(client, h)
    conv = client.post("/api/crm/conversations", json={"fanId": fan["id"]}, headers=h).json()
    legacy = "msg_0000000000000000000000legacy"
    with engine.begin() as conn:
        conn.execute(
            insert(Message).values(
                id=legacy,
                creator_id=tenant["creator_id"],
                conversation_id=conv["id"],
                fan_id=fan["id"],
                direction="inbound",
                text="written before cmsg_",
                media=[],
                price_cents=None,
                purchased=False,
                sent_at=clock.now(),
                read_at=None,
                outbox_id=None,
                created_at=clock.now(),
            )
        )
    items = client.get(f"/api/crm/conversations/{conv['id']}/messages", headers=h).json()["items"]
    assert [(m["id"], m["source"]) for m in items] == [(legacy, "inbox")]
    assert client.post(f"/api/crm/messages/{legacy}/read", headers=h).json() == {"marked": 1}
    r = client.get(f"/api/messages/{legacy}", headers=h)
    assert r.status_code == 404 and r.json()["error"]["details"][0]["inboxMessageId"] == legacy
