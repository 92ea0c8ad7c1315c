"""Delivery estimates: promised in order, honest about paused accounts, and account changes
that reach the worker on its next claim."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from huntaze.models.messaging import SendingAccount
from huntaze.outbox.channels import ChannelFactory
from huntaze.outbox.worker import Worker
from huntaze.platforms.onlyfans.fake import FakeRelay
from tests.factories import fan_values


def _fans(sessions: Any, creator_id: str, clock: Any, n: int) -> list[str]:
    from huntaze.models.crm import Fan

    with sessions() as s:
        rows = [Fan(**fan_values(creator_id, str(9000 + i), clock.now())) for i in range(n)]
        s.add_all(rows)
        s.commit()
        return [r.platform_fan_id for r in rows]


def _account(client: Any, tenant: Any, url: str, name: str = "of", **extra: Any) -> dict[str, Any]:
    r = client.post(
        "/api/messaging/accounts",
        json={
            "platform": "onlyfans",
            "name": name,
            "settings": {"relayUrl": url},
            "secret": "relay-secret",
            **extra,
        },
        headers=tenant["headers"],
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _send(client: Any, tenant: Any, recipient: str) -> dict[str, Any]:
    r = client.post(
        "/api/onlyfans/messages/send",
        json={"recipientId": recipient, "content": "hi"},
        headers=tenant["headers"],
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_a_later_send_is_never_promised_earlier_than_the_one_before(
    client, tenant, sessions, clock, settings, engine
) -> None:
    """A claim stamps its attempts before it becomes visible: an estimate made while it was
    still invisible saw the rows as queued and promised later than one made once it was
    visible. Promises made one after another on one account and priority stay in order."""
    from huntaze.outbox.service import outbox_from_settings

    recipients = _fans(sessions, tenant["creator_id"], clock, 12)
    _account(client, tenant, "http://127.0.0.1:9/relay", sendLimits="5/2seconds")
    start = clock.now()
    promised = [_send(client, tenant, r)["estimatedDelivery"] for r in recipients[:5]]
    clock.advance(1)
    promised.append(_send(client, tenant, recipients[5])["estimatedDelivery"])
    # a claim of the first five whose stamp predates the sixth promise, seen only after it
    clock.set(start + timedelta(seconds=0.5))
    outbox = outbox_from_settings(engine, clock, settings)
    assert len(outbox.claim("w", max_messages=5)) == 5
    clock.set(start + timedelta(seconds=1.01))
    promised += [_send(client, tenant, r)["estimatedDelivery"] for r in recipients[6:]]
    assert promised == sorted(promised), promised


def _send_on_an_account_in(
    client: Any, tenant: Any, sessions: Any, clock: Any, **state: Any
) -> Any:
    """Send one message through a new account whose row is first set to ``state``."""
    [recipient] = _fans(sessions, tenant["creator_id"], clock, 1)
    account = _account(client, tenant, "http://127.0.0.1:9/relay")
    with sessions() as s:
        s.execute(update(SendingAccount).where(SendingAccount.id == account["id"]).values(**state))
        s.commit()
    return _send(client, tenant, recipient)


def test_a_paused_account_gets_no_promise_and_says_why(client, tenant, sessions, clock) -> None:
    sent = _send_on_an_account_in(
        client, tenant, sessions, clock, status="reconnect_required", status_reason="HTTP 403"
    )
    assert sent["estimatedDelivery"] is None and sent["delayReason"] == "account_paused"
    status = client.get(f"/api/messages/{sent['messageId']}", headers=tenant["headers"]).json()
    assert status["status"] == "queued" and status["delayReason"] == "account_paused"
    assert "estimatedDelivery" not in status or status["estimatedDelivery"] is None


def test_an_open_breaker_says_so(client, tenant, sessions, clock) -> None:
    sent = _send_on_an_account_in(
        client, tenant, sessions, clock, breaker_state="open", breaker_opened_at=clock.now()
    )
    assert sent["delayReason"] == "circuit_open"
    assert sent["estimatedDelivery"] is not None


def test_a_patched_relay_url_reaches_the_running_worker(
    client, tenant, sessions, clock, settings, engine
) -> None:
    from huntaze.outbox.service import outbox_from_settings

    first, second = _fans(sessions, tenant["creator_id"], clock, 2)
    with FakeRelay("relay-secret") as old, FakeRelay("relay-secret") as new:
        account = _account(client, tenant, old.url)
        worker = Worker(
            outbox_from_settings(engine, clock, settings),
            ChannelFactory(engine, settings, client.app.state.ctx.box),
            worker_id="w",
            poll_seconds=0,
        )
        sent_first = _send(client, tenant, first)
        assert worker.run_once() == 1
        status = client.get(f"/api/messages/{sent_first['messageId']}", headers=tenant["headers"])
        assert status.json()["status"] == "sent", status.json().get("lastError")
        patched = client.patch(
            f"/api/messaging/accounts/{account['id']}",
            json={"settings": {"relayUrl": new.url}},
            headers=tenant["headers"],
        )
        assert patched.status_code == 200, patched.text
        _send(client, tenant, second)
        assert worker.run_once() == 1  # the same worker, its channel cached since the first
        assert [m.payload["recipientId"] for m in old.messages] == [first]
        assert [m.payload["recipientId"] for m in new.messages] == [second]
