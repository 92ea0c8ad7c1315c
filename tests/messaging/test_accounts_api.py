"""Sending accounts through the API: secrets encrypted and kept out of responses, and what
deleting an account does to its queue."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, update

from huntaze.models.messaging import OutboxMessage, SendAttempt, SendingAccount
from tests.factories import create_fan


def test_accounts_keep_secrets_encrypted_and_out_of_responses(client, tenant, engine) -> None:
    h = tenant["headers"]
    r = client.post(
        "/api/messaging/accounts",
        json={
            "platform": "onlyfans",
            "name": "relay",
            "settings": {"relayUrl": "https://relay.example.com/x"},
            "secret": "top-secret-value",
        },
        headers=h,
    )
    assert r.status_code == 201
    acc = r.json()
    assert acc["hasSecret"] is True and acc["channel"] == "onlyfans_relay"
    assert "top-secret-value" not in r.text
    assert "top-secret-value" not in client.get("/api/messaging/accounts", headers=h).text
    with engine.connect() as conn:
        stored = conn.scalar(
            select(SendingAccount.secret_encrypted).where(SendingAccount.id == acc["id"])
        )
    assert stored and "top-secret-value" not in stored
    assert client.app.state.ctx.box.decrypt(stored) == "top-secret-value"
    bad = client.post(
        "/api/messaging/accounts",
        json={"platform": "onlyfans", "name": "b", "sendLimits": "lots"},
        headers=h,
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_send_limits"
    dup = client.post(
        "/api/messaging/accounts", json={"platform": "onlyfans", "name": "relay"}, headers=h
    )
    assert dup.status_code == 409
    with engine.begin() as conn:
        conn.execute(
            update(SendingAccount)
            .where(SendingAccount.id == acc["id"])
            .values(status="reconnect_required", breaker_state="open", breaker_failures=9)
        )
    resumed = client.patch(
        f"/api/messaging/accounts/{acc['id']}",
        json={"status": "active", "secret": "new"},
        headers=h,
    ).json()
    assert (resumed["status"], resumed["breakerState"], resumed["breakerFailures"]) == (
        "active",
        "closed",
        0,
    )


def test_deleting_an_account_removes_its_queue_and_its_send_attempts(
    client, tenant, engine, clock
) -> None:
    """send_attempts has no foreign key (migration 0004): deleting an account deletes them."""
    h = tenant["headers"]

    def account(name: str) -> str:
        r = client.post(
            "/api/messaging/accounts", json={"platform": "onlyfans", "name": name}, headers=h
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    ids = [account("gone")]
    create_fan(client, h, "7")
    sent = client.post(
        "/api/messages/send",
        json={"platform": "onlyfans", "recipientId": "7", "content": "x"},
        headers=h,
    )
    assert sent.status_code == 200, sent.text
    ids.append(account("kept"))
    with engine.begin() as conn:
        for account_id in ids:
            conn.execute(
                insert(SendAttempt).values(
                    account_id=account_id, message_id="msg_x", started_at=clock.now()
                )
            )
    assert client.delete(f"/api/messaging/accounts/{ids[0]}", headers=h).status_code == 204
    with engine.connect() as conn:
        left = conn.scalars(
            select(SendAttempt.account_id).where(SendAttempt.account_id.in_(ids))
        ).all()
        queued = conn.scalars(
            select(OutboxMessage.id).where(OutboxMessage.account_id == ids[0])
        ).all()
    assert left == [ids[1]] and queued == []
    assert client.delete(f"/api/messaging/accounts/{ids[0]}", headers=h).status_code == 404


def test_an_account_deleted_while_a_message_is_queued_takes_the_message(
    client, tenant, engine, sessions, clock
) -> None:
    """On PostgreSQL, queueing holds the account (FOR KEY SHARE) until commit, so a delete
    waits and its trigger then removes the new row: no message is left without an account."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's single writer orders the delete and the insert")
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from huntaze.messaging.send import queue_message
    from huntaze.models.crm import Fan

    h = tenant["headers"]
    account_id = client.post(
        "/api/messaging/accounts", json={"platform": "onlyfans", "name": "main"}, headers=h
    ).json()["id"]
    fan_id = create_fan(client, h, "9")["id"]
    with sessions() as session:
        account = session.get(SendingAccount, account_id)
        fan = session.get(Fan, fan_id)
        message = queue_message(session, account, fan, "hi", clock.now())
        session.flush()
        with engine.connect() as other:
            other.execute(text("SET lock_timeout = '200ms'"))
            with pytest.raises(OperationalError):  # the delete waits for the queueing
                other.execute(text("DELETE FROM sending_accounts WHERE id = :a"), {"a": account_id})
            other.rollback()
        session.commit()
        message_id = message.id
    assert client.delete(f"/api/messaging/accounts/{account_id}", headers=h).status_code == 204
    with engine.connect() as conn:
        assert conn.scalar(select(OutboxMessage.id).where(OutboxMessage.id == message_id)) is None
