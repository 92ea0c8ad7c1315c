"""Messages sent through sending accounts: a relay URL that turned private is refused at
connect time, what a relay answers is kept only as its contract allows, and sends are routed to
an active account. Checks at create and PATCH time: test_account_guard.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from huntaze.api import create_app
from huntaze.config import Settings
from huntaze.models.crm import Fan
from huntaze.models.messaging import OutboxMessage, SendingAccount
from huntaze.outbox.channels import ChannelFactory
from huntaze.outbox.service import outbox_from_settings
from huntaze.outbox.worker import Worker
from tests.factories import fan_values
from tests.messaging.test_account_guard import ACCOUNTS, _account
from tests.netfakes import Resolver, ScriptedRelay


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    return Resolver.install(monkeypatch)


def _fan(sessions: Any, tenant: dict[str, Any], clock: Any, key: str) -> str:
    with sessions() as s:
        s.add(Fan(**fan_values(tenant["creator_id"], key, clock.now())))
        s.commit()
    return key


def _send(client: TestClient, tenant: dict[str, Any], recipient: str) -> str:
    r = client.post(
        "/api/onlyfans/messages/send",
        json={"recipientId": recipient, "content": "hi"},
        headers=tenant["headers"],
    )
    assert r.status_code == 200, r.text
    return str(r.json()["messageId"])


def _worker(client: TestClient, settings: Settings, engine: Any, clock: Any) -> Worker:
    box = client.app.state.ctx.box  # type: ignore[attr-defined]
    return Worker(
        outbox_from_settings(engine, clock, settings),
        ChannelFactory(engine, settings, box),
        worker_id="guard",
        poll_seconds=0,
    )


# -- connect time -------------------------------------------------------------------------


def test_a_relay_that_turned_private_fails_its_message_with_the_rule(
    settings: Settings,
    tenant: dict[str, Any],
    resolver: Resolver,
    sessions: Any,
    engine: Any,
    clock: Any,
) -> None:
    """The account was saved while its host answered a public address; when the worker
    connects, the host answers loopback (where a relay listens): the message fails with the
    rule as reason and the loopback relay is never reached. Private targets are refused, as
    on a default install."""
    strict_settings = settings.model_copy(update={"allow_private_urls": False})
    app = create_app(strict_settings, engine, clock)
    with TestClient(app, raise_server_exceptions=False) as strict, ScriptedRelay() as relay:
        resolver.set("flip.test", ["93.184.216.34"], ["127.0.0.1"])
        url = f"http://flip.test:{relay.port}/relay"
        created = _account(strict, tenant, settings={"relayUrl": url})
        assert created.status_code == 201, created.text
        message_id = _send(strict, tenant, _fan(sessions, tenant, clock, "5100"))
        worker = _worker(strict, strict_settings, engine, clock)
        assert worker.run_once() == 1
        worker.channels.close()
        assert relay.requests == []
        status = strict.get(f"/api/messages/{message_id}", headers=tenant["headers"]).json()
    assert status["status"] == "failed"
    assert status["lastError"] == (
        "relay URL host flip.test resolves to a loopback address; set "
        f"HUNTAZE_ALLOW_PRIVATE_URLS=true (or add flip.test:{relay.port} to "
        "HUNTAZE_ALLOWED_PRIVATE_TARGETS) to allow it"
    )


INTERNAL = "INTERNAL-ADMIN-PAGE root:x:0:0"


def _arbitrary(request: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """A service that is not a relay, or a relay that talks too much."""
    recipient = request["payload"].get("recipientId")
    if recipient == "5201":
        body: dict[str, Any] = {
            "error": "recipient unknown",
            "message": INTERNAL,
            "debug": INTERNAL,
        }
        return 400, {"Content-Type": "application/json"}, json.dumps(body).encode()
    if recipient == "5202":
        return 404, {"Content-Type": "text/html"}, f"<html>{INTERNAL}</html>".encode()
    if recipient == "5203":
        body = {"error": {"message": INTERNAL}, "message": INTERNAL}
        return 422, {"Content-Type": "application/json"}, json.dumps(body).encode()
    if recipient == "5204":
        body = {"error": "bad\x00 \x1b[31mthing\r\n" + "y" * 1000}
        return 400, {"Content-Type": "application/json"}, json.dumps(body).encode()
    return 403, {"Content-Type": "application/json"}, json.dumps({"message": INTERNAL}).encode()


def test_last_error_keeps_only_the_status_and_the_error_field(
    client: TestClient,
    settings: Settings,
    tenant: dict[str, Any],
    sessions: Any,
    engine: Any,
    clock: Any,
) -> None:
    with ScriptedRelay(_arbitrary) as relay:
        account = _account(client, tenant, settings={"relayUrl": relay.url}).json()
        ids = {}
        for key in ("5201", "5202", "5203", "5204", "5205"):
            ids[key] = _send(client, tenant, _fan(sessions, tenant, clock, key))
            clock.advance(1)
        worker = _worker(client, settings, engine, clock)
        while worker.run_once():
            pass
        worker.channels.close()
    errors = {
        key: client.get(f"/api/messages/{mid}", headers=tenant["headers"]).json()["lastError"]
        for key, mid in ids.items()
    }
    assert errors["5201"] == "relay answered HTTP 400: recipient unknown"
    assert errors["5202"] == "relay answered HTTP 404"
    assert errors["5203"] == "relay answered HTTP 422"
    assert errors["5204"].startswith("relay answered HTTP 400: bad   [31mthing")
    assert len(errors["5204"].removeprefix("relay answered HTTP 400: ")) == 300
    assert "\x00" not in errors["5204"] and "\x1b" not in errors["5204"]
    assert errors["5205"] == "relay answered HTTP 403"
    shown = client.get(f"{ACCOUNTS}/{account['id']}", headers=tenant["headers"]).json()
    assert shown["status"] == "reconnect_required"
    assert shown["statusReason"] == "relay answered HTTP 403"
    assert all("INTERNAL" not in (e or "") for e in errors.values())


# -- routing (D10) ------------------------------------------------------------------------


def test_sends_go_to_the_oldest_active_account(
    client: TestClient, tenant: dict[str, Any], sessions: Any, clock: Any, engine: Any
) -> None:
    h = tenant["headers"]
    old = _account(client, tenant, name="old", channel="noop").json()
    clock.advance(1)
    newer = _account(client, tenant, name="newer", channel="noop").json()
    clock.advance(1)
    newest = _account(client, tenant, name="newest", channel="noop").json()
    with engine.begin() as conn:
        conn.execute(
            update(SendingAccount)
            .where(SendingAccount.id == old["id"])
            .values(status="reconnect_required")
        )
    first = _send(client, tenant, _fan(sessions, tenant, clock, "5301"))
    with engine.connect() as conn:
        routed = conn.scalar(select(OutboxMessage.account_id).where(OutboxMessage.id == first))
    assert routed == newer["id"]
    # Every account paused: the oldest one holds the message, which says why it waits.
    with engine.begin() as conn:
        conn.execute(
            update(SendingAccount)
            .where(SendingAccount.id.in_([newer["id"], newest["id"]]))
            .values(status="reconnect_required")
        )
    second = client.post(
        "/api/onlyfans/messages/send",
        json={"recipientId": _fan(sessions, tenant, clock, "5302"), "content": "hi"},
        headers=h,
    ).json()
    with engine.connect() as conn:
        routed = conn.scalar(
            select(OutboxMessage.account_id).where(OutboxMessage.id == second["messageId"])
        )
    assert routed == old["id"]
    status = client.get(f"/api/messages/{second['messageId']}", headers=h).json()
    assert status["delayReason"] == "account_paused"
