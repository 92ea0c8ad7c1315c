"""No credential leaves the server: a random sentinel is planted in every place a secret can
go (an account's secret, a relay URL's password and ``?token=``, an SMTP URL's password and
the SMTP password secret, the API bearer token), then every surface is exercised against
loopback fakes that fail and echo what they receive. The sentinel must appear in no response,
no log line (structlog's and the standard library's, at DEBUG) and no metrics output."""

from __future__ import annotations

import base64
import json
import logging
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient

from huntaze.api import create_app
from huntaze.config import Settings
from huntaze.kit.logging import configure_logging
from huntaze.models.crm import Fan
from huntaze.outbox.channels import ChannelFactory
from huntaze.outbox.service import outbox_from_settings
from huntaze.outbox.worker import Worker
from tests.factories import fan_values
from tests.netfakes import RefusingSmtp, ScriptedRelay

ACCOUNTS = "/api/messaging/accounts"


def _echoing(request: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """A relay that echoes everything it received (request line, headers, decoded Basic
    credentials, body) in every field it answers, by recipient: 400, a redirect, then 401."""
    auth = request["headers"].get("Authorization", "")
    decoded = ""
    if auth.startswith("Basic "):
        decoded = base64.b64decode(auth[6:]).decode()
    echo = (
        f"{request['line']} | {json.dumps(request['headers'])} | login {decoded} | "
        f"{request['body'].decode()}"
    )
    recipient = request["payload"].get("recipientId")
    body = json.dumps({"error": echo, "message": echo, "request": echo}).encode()
    if recipient == "6002":
        location = f"http://{decoded}@10.0.0.1/{request['line'].split()[1]}"
        return 302, {"Location": location, "X-Echo": echo[:200]}, body
    if recipient == "6003":
        return 401, {"Content-Type": "application/json"}, body
    return 400, {"Content-Type": "application/json"}, body


@pytest.fixture
def logs_at_debug(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Configure Huntaze's logging at DEBUG, with httpx and httpcore brought back to DEBUG
    too (configure_logging keeps them at WARNING) so their request lines go through the
    redaction; restore the levels afterwards."""
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "")}
    before = structlog.get_config()
    configure_logging("DEBUG")
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    yield
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)
    structlog.configure(**before)


def test_the_sentinel_appears_in_no_response_log_or_metric(
    settings: Settings,
    engine: Any,
    clock: Any,
    sessions: Any,
    make_tenant: Any,
    logs_at_debug: None,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    sentinel = "snt" + secrets.token_hex(12)
    seen: list[str] = []

    def keep(response: Any) -> Any:
        seen.append(f"{response.status_code} {dict(response.headers)} {response.text}")
        return response

    with ScriptedRelay(_echoing) as relay, RefusingSmtp() as smtp:
        # Loopback fakes are allowed by exact host:port, private targets otherwise refused.
        app_settings = settings.model_copy(
            update={
                "allow_private_urls": False,
                "allowed_private_targets": f"127.0.0.1:{relay.port},127.0.0.1:{smtp.port}",
            }
        )
        owner = make_tenant("owner")
        analyst = make_tenant("analyst", handle=owner["handle"])
        h, ha = owner["headers"], analyst["headers"]
        with TestClient(create_app(app_settings, engine, clock)) as client:
            relay_url = (
                f"http://bot:{sentinel}@127.0.0.1:{relay.port}/relay?token={sentinel}&team=a"
            )
            smtp_url = f"smtp://mailer:{sentinel}@127.0.0.1:{smtp.port}?starttls=false"

            # accounts: create, list, read, PATCH, as owner and as analyst
            of = keep(
                client.post(
                    ACCOUNTS,
                    json={
                        "platform": "onlyfans",
                        "name": "relay",
                        "settings": {"relayUrl": relay_url, "apiToken": sentinel},
                        "secret": sentinel,
                    },
                    headers=h,
                )
            )
            assert of.status_code == 201, of.text
            mail = keep(
                client.post(
                    ACCOUNTS,
                    json={
                        "platform": "email",
                        "name": "smtp",
                        "settings": {"smtpUrl": smtp_url, "from": "me@example.com"},
                        "secret": sentinel,
                    },
                    headers=h,
                )
            )
            assert mail.status_code == 201, mail.text
            for headers in (h, ha):
                keep(client.get(ACCOUNTS, headers=headers))
                keep(client.get(f"{ACCOUNTS}/{of.json()['id']}", headers=headers))
            patched = keep(
                client.patch(
                    f"{ACCOUNTS}/{of.json()['id']}",
                    json={"settings": {"relayUrl": relay_url + "&x=1"}, "secret": sentinel},
                    headers=h,
                )
            )
            assert patched.status_code == 200, patched.text
            denied = keep(
                client.patch(
                    f"{ACCOUNTS}/{of.json()['id']}",
                    json={"settings": {"relayUrl": relay_url}, "secret": sentinel},
                    headers=ha,
                )
            )
            assert denied.status_code == 403

            # requests the API refuses, carrying the sentinel
            invalid = [
                {"platform": "onlyfans", "name": "big", "secret": sentinel * 200},
                {"platform": "onlyfans", "name": sentinel * 10, "secret": sentinel},
                {"platform": "onlyfans", "name": "c", "channel": sentinel},
                {
                    "platform": "onlyfans",
                    "name": "d",
                    "settings": {"relayUrl": f"ftp://u:{sentinel}@x"},
                },
                {
                    "platform": "onlyfans",
                    "name": "e",
                    "settings": {
                        "relayUrl": f"http://u:{sentinel}@169.254.169.254/?token={sentinel}"
                    },
                },
                {
                    "platform": "email",
                    "name": "f",
                    "settings": {"smtpUrl": f"smtp://u:{sentinel}/@x"},
                },
            ]
            for body in invalid:
                r = keep(client.post(ACCOUNTS, json=body, headers=h))
                assert r.status_code == 422, (body, r.text)
            keep(client.post(ACCOUNTS, content=b'{"secret": "' + sentinel.encode(), headers=h))
            for bearer in (sentinel, f"hz_{sentinel}", f"{sentinel} {sentinel}"):
                r = keep(client.get(ACCOUNTS, headers={"Authorization": f"Bearer {bearer}"}))
                assert r.status_code == 401

            # sends that fail, recorded by a worker
            with sessions() as s:
                for key in ("6001", "6002", "6003"):
                    s.add(Fan(**fan_values(owner["creator_id"], key, clock.now())))
                s.add(
                    Fan(
                        **fan_values(
                            owner["creator_id"],
                            "f@example.org",
                            clock.now(),
                            id=f"fan_{owner['handle']}_mail",
                            platform="email",
                            email="f@example.org",
                        )
                    )
                )
                s.commit()
            ids = []
            for key in ("6001", "6002", "6003"):
                r = keep(
                    client.post(
                        "/api/onlyfans/messages/send",
                        json={"recipientId": key, "content": f"hi {key}"},
                        headers=h,
                    )
                )
                assert r.status_code == 200, r.text
                ids.append(r.json()["messageId"])
                clock.advance(1)
            r = keep(
                client.post(
                    "/api/messages/send",
                    json={
                        "platform": "email",
                        "recipientId": "f@example.org",
                        "content": "hello",
                        "subject": "s",
                    },
                    headers=h,
                )
            )
            assert r.status_code == 200, r.text
            ids.append(r.json()["messageId"])
            box = client.app.state.ctx.box  # type: ignore[attr-defined]
            worker = Worker(
                outbox_from_settings(engine, clock, app_settings),
                ChannelFactory(engine, app_settings, box),
                worker_id="leaks",
                poll_seconds=0,
            )
            for _ in range(4):
                worker.run_once()
            worker.channels.close()
            assert len(relay.requests) == 3  # the relay was reached, and answered each

            # everything a reader can see afterwards
            for headers in (h, ha):
                for message_id in ids:
                    keep(client.get(f"/api/messages/{message_id}", headers=headers))
                    keep(
                        client.get(
                            "/api/onlyfans/messages/status",
                            params={"messageId": message_id},
                            headers=headers,
                        )
                    )
                keep(client.get(ACCOUNTS, headers=headers))
                keep(client.get("/api/messages/queue", headers=headers))
            keep(client.get("/metrics"))
            keep(client.get("/api/health"))
            statuses = [client.get(f"/api/messages/{i}", headers=h).json() for i in ids]

    out, err = capsys.readouterr()
    logged = out + err + caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request: POST" in logged  # httpx's request line went through, redacted
    assert "request" in out  # structlog's request lines were captured
    for where, text in (("responses", "\n".join(seen)), ("logs", logged)):
        assert sentinel not in text, f"the sentinel leaked into {where}"
        assert sentinel[:12] not in text, f"part of the sentinel leaked into {where}"
    # The failures were recorded (each kept only the contract's error field, masked).
    assert [s["status"] for s in statuses] == ["failed", "failed", "queued", "queued"]
    assert statuses[0]["lastError"].startswith("relay answered HTTP 400: POST /relay?token=***")
    assert statuses[1]["lastError"].startswith("relay redirected (HTTP 302) to 'http://bot:***@")
    assert statuses[2]["lastError"].startswith("relay answered HTTP 401: POST /relay?token=***")
    assert statuses[3]["lastError"] == "SMTP login refused: 535 5.7.8 no such login:  mailer ***"
