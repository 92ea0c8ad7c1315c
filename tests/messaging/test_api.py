"""The messaging API: the seed's routes, bulks, idempotency, queue, redrive, manual sends,
conversation sends and metrics (accounts: test_accounts_api.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from huntaze.idempotency import service as idempotency
from huntaze.messaging.schemas import OnlyFansSend
from huntaze.models.messaging import OutboxMessage
from tests.factories import create_fan


def test_onlyfans_send_and_status(client, tenant, clock) -> None:
    h = tenant["headers"]
    create_fan(client, h, "42", displayName="Zoë Ødegaard")
    r = client.post(
        "/api/onlyfans/messages/send",
        json={
            "recipientId": "42",
            "content": "Hi!",
            "priority": "high",
            "priceCents": 999,
            "mediaUrls": ["m1"],
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (
        body["success"] is True
        and body["status"] == "queued"
        and body["messageId"].startswith("msg_")
    )
    assert body["estimatedDelivery"] == clock.now().isoformat().replace("+00:00", "Z")
    status = client.get(
        "/api/onlyfans/messages/status", params={"messageId": body["messageId"]}, headers=h
    ).json()
    assert {
        k: status[k] for k in ("messageId", "status", "sentAt", "attempts", "platform", "priority")
    } == {
        "messageId": body["messageId"],
        "status": "queued",
        "sentAt": None,
        "attempts": 0,
        "platform": "onlyfans",
        "priority": "high",
    }
    assert status["lastError"] is None and status["estimatedDelivery"]


def test_unknown_and_opted_out_fans(client, tenant) -> None:
    h = tenant["headers"]
    r = client.post(
        "/api/onlyfans/messages/send", json={"recipientId": "nobody", "content": "x"}, headers=h
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "fan_not_found"
    create_fan(client, h, "7", consent="opted_out")
    r = client.post(
        "/api/onlyfans/messages/send", json={"recipientId": "7", "content": "x"}, headers=h
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "fan_opted_out"
    fan = create_fan(client, h, "8")  # no email
    client.post(
        "/api/messaging/accounts",
        json={"platform": "email", "name": "mail", "channel": "noop"},
        headers=h,
    )
    r = client.post(
        "/api/messages/send",
        json={"platform": "email", "fanId": fan["id"], "content": "x"},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "no_channel"
    r = client.post(
        "/api/onlyfans/messages/send", json={"recipientId": "8", "content": ""}, headers=h
    )
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "content"


def test_idempotency_key(client, tenant, engine, clock) -> None:
    h = tenant["headers"]
    create_fan(client, h, "1")
    send = {"recipientId": "1", "content": "once"}
    first = client.post(
        "/api/onlyfans/messages/send", json=send, headers={**h, "Idempotency-Key": "k1"}
    )
    again = client.post(
        "/api/onlyfans/messages/send", json=send, headers={**h, "Idempotency-Key": "k1"}
    )
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    with engine.connect() as conn:
        rows = conn.scalars(
            select(OutboxMessage.id).where(OutboxMessage.creator_id == tenant["creator_id"])
        ).all()
    assert rows == [first.json()["messageId"]]
    other = client.post(
        "/api/onlyfans/messages/send",
        json={**send, "content": "twice"},
        headers={**h, "Idempotency-Key": "k1"},
    )
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    # a request still running holds its key
    payload = OnlyFansSend.model_validate(send).model_dump(mode="json")
    digest = idempotency.request_hash("POST", "/api/onlyfans/messages/send", payload)
    idempotency.begin(engine, tenant["creator_id"], "k2", digest, clock.now())
    busy = client.post(
        "/api/onlyfans/messages/send", json=send, headers={**h, "Idempotency-Key": "k2"}
    )
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "idempotency_key_in_flight"
    # errors are answered again too, and keys are per creator
    missing = {"recipientId": "nobody", "content": "x"}
    e1 = client.post(
        "/api/onlyfans/messages/send", json=missing, headers={**h, "Idempotency-Key": "k3"}
    )
    e2 = client.post(
        "/api/onlyfans/messages/send", json=missing, headers={**h, "Idempotency-Key": "k3"}
    )
    assert e1.status_code == e2.status_code == 404 and e1.json() == e2.json()
    # after 24 hours a key can be used afresh
    clock.advance(timedelta(hours=24, seconds=1).total_seconds())
    fresh = client.post(
        "/api/onlyfans/messages/send", json=send, headers={**h, "Idempotency-Key": "k1"}
    )
    assert fresh.json()["messageId"] != first.json()["messageId"]


def test_bulk_personalises_skips_and_cancels(client, tenant, engine) -> None:
    h = tenant["headers"]
    a = create_fan(
        client, h, "1", displayName="Zoë Ødegaard", customFields={"city": "Oslo"}, tags=["vip"]
    )
    b = create_fan(client, h, "2", displayName=None, tags=["vip"])
    c = create_fan(client, h, "3", consent="opted_out", tags=["vip"])
    d = create_fan(client, h, "4")  # not vip
    r = client.post(
        "/api/messages/bulk",
        json={
            "recipients": {"filter": {"tag": "vip"}},
            "template": "Hi {firstName} from {city}!",
            "default": "friend",
            "platform": "onlyfans",
            "priority": "low",
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    bulk = r.json()
    assert bulk["queued"] == 2 and bulk["skippedCount"] == 1
    assert bulk["skipped"] == [{"fanId": c["id"], "reason": "opted_out"}]
    with engine.connect() as conn:
        contents = {
            fan_id: content
            for fan_id, content in conn.execute(
                select(OutboxMessage.fan_id, OutboxMessage.content).where(
                    OutboxMessage.bulk_id == bulk["bulkId"]
                )
            )
        }
    assert contents == {a["id"]: "Hi Zoë from Oslo!", b["id"]: "Hi user2 from friend!"}
    by_ids = client.post(
        "/api/messages/bulk",
        json={
            "recipients": {"fanIds": [d["id"], "fan_missing"]},
            "template": "yo",
            "platform": "onlyfans",
        },
        headers=h,
    ).json()
    assert by_ids["queued"] == 1 and by_ids["skipped"] == [
        {"fanId": "fan_missing", "reason": "not_found"}
    ]
    got = client.get(f"/api/messages/bulk/{bulk['bulkId']}", headers=h).json()
    assert got["counts"]["queued"] == 2
    assert client.post(f"/api/messages/bulk/{bulk['bulkId']}/cancel", headers=h).json() == {
        "cancelled": 2
    }
    got = client.get(f"/api/messages/bulk/{bulk['bulkId']}", headers=h).json()
    assert got["status"] == "cancelled" and got["counts"]["cancelled"] == 2
    queue = client.get("/api/messages/queue", headers=h).json()["items"]
    assert [(q["priority"], q["depth"]) for q in queue] == [("low", 1)]


def test_retry_redrives_failed_messages(client, tenant, engine) -> None:
    h = tenant["headers"]
    create_fan(client, h, "5")
    mid = client.post(
        "/api/onlyfans/messages/send", json={"recipientId": "5", "content": "x"}, headers=h
    ).json()["messageId"]
    r = client.post(f"/api/messages/{mid}/retry", headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_failed"
    with engine.begin() as conn:
        conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == mid)
            .values(status="failed", attempts=3, last_error="boom")
        )
    assert client.get(f"/api/messages/{mid}", headers=h).json()["lastError"] == "boom"
    r = client.post(f"/api/messages/{mid}/retry", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "queued"
    status = client.get(f"/api/messages/{mid}", headers=h).json()
    assert (status["status"], status["attempts"]) == ("queued", 0)


def test_manual_sends_count_against_the_limit(client, tenant) -> None:
    h = tenant["headers"]
    acc = client.post(
        "/api/messaging/accounts",
        json={
            "platform": "onlyfans",
            "name": "chatters",
            "channel": "manual",
            "sendLimits": "2/minute",
        },
        headers=h,
    ).json()
    assert acc["effectiveSendLimits"] == "2/60seconds"
    for i in range(3):
        create_fan(client, h, f"m{i}")
        client.post(
            "/api/onlyfans/messages/send",
            json={"recipientId": f"m{i}", "content": f"hey {i}"},
            headers=h,
        )
    items = client.get(
        "/api/messages/manual/next", params={"accountId": acc["id"]}, headers=h
    ).json()["items"]
    assert [i["content"] for i in items] == ["hey 0", "hey 1"]  # the limit holds for hand sends
    assert (
        client.get("/api/messages/manual/next", params={"accountId": acc["id"]}, headers=h).json()[
            "items"
        ]
        == []
    )
    r = client.post(
        f"/api/messages/{items[0]['messageId']}/report",
        json={"status": "sent", "externalId": "of-1"},
        headers=h,
    )
    assert (
        r.status_code == 200 and r.json()["status"] == "sent" and r.json()["externalId"] == "of-1"
    )
    r = client.post(
        f"/api/messages/{items[1]['messageId']}/report",
        json={"status": "failed", "reason": "fan blocked me"},
        headers=h,
    )
    assert r.json()["status"] == "failed" and r.json()["lastError"] == "fan blocked me"
    r = client.post(
        f"/api/messages/{items[1]['messageId']}/report", json={"status": "sent"}, headers=h
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_held"


def test_conversation_outbound_goes_through_the_outbox(client, tenant, engine) -> None:
    h = tenant["headers"]
    fan = create_fan(client, h, "c1")
    conv = client.post("/api/crm/conversations", json={"fanId": fan["id"]}, headers=h).json()
    sent = client.post(
        f"/api/crm/conversations/{conv['id']}/messages",
        json={"text": "PPV for you", "priceCents": 1500},
        headers=h,
    ).json()
    assert sent["outboxId"]
    status = client.get(f"/api/messages/{sent['outboxId']}", headers=h).json()
    assert status["status"] == "queued" and status["priority"] == "high"
    with engine.connect() as conn:
        row = conn.execute(
            select(
                OutboxMessage.content, OutboxMessage.price_cents, OutboxMessage.conversation_id
            ).where(OutboxMessage.id == sent["outboxId"])
        ).one()
    assert tuple(row) == ("PPV for you", 1500, conv["id"])
    recorded = client.post(
        f"/api/crm/conversations/{conv['id']}/messages",
        json={"text": "sent on my phone", "send": False},
        headers=h,
    ).json()
    assert recorded["outboxId"] is None


def test_metrics(client, tenant, settings) -> None:
    h = tenant["headers"]
    create_fan(client, h, "p1")
    client.post(
        "/api/onlyfans/messages/send", json={"recipientId": "p1", "content": "x"}, headers=h
    )
    text = client.get("/metrics").text
    assert 'huntaze_messages_queued_total{platform="onlyfans"}' in text
    assert 'huntaze_queue_depth{platform="onlyfans",priority="medium"}' in text
    assert "huntaze_circuit_breaker_state" in text
    settings.metrics_token = type(settings.metrics_token)("scrape-me")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).status_code == 200
