"""The demo's sending accounts, in process: where deliveries go, which loopback targets
the demo may reach, and how its accounts are created and refreshed on each start."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from huntaze.config import Settings, box_from_settings
from huntaze.demo.sending import (
    ACCOUNT_NAME,
    DELIVERIES_FILE,
    DeliveryLog,
    DemoSenders,
    deliveries_path,
    demo_recipients,
    ensure_demo_accounts,
    merge_targets,
)
from huntaze.models.messaging import SendingAccount
from huntaze.outbox.channels import account_config
from huntaze.platforms.base import OutgoingMessage, PermanentError
from huntaze.platforms.email.channel import EmailChannel
from huntaze.platforms.onlyfans.relay import OnlyFansRelayChannel
from tests.demo.test_demo_sends import _deliveries
from tests.factories import fan_values


def test_deliveries_file_sits_next_to_the_sqlite_database(tmp_path: Path, monkeypatch) -> None:
    assert deliveries_path(f"sqlite:///{tmp_path / 'x' / 'h.db'}") == (
        tmp_path / "x" / DELIVERIES_FILE
    )
    monkeypatch.chdir(tmp_path)
    assert deliveries_path("sqlite:///./huntaze.db") == tmp_path / DELIVERIES_FILE
    assert deliveries_path("sqlite://") == tmp_path / DELIVERIES_FILE
    assert deliveries_path("postgresql+psycopg://u@h/db") == tmp_path / DELIVERIES_FILE


def test_merge_targets_keeps_what_is_configured_once() -> None:
    assert merge_targets("", "127.0.0.1:5,127.0.0.1:6") == "127.0.0.1:5,127.0.0.1:6"
    assert merge_targets("10.0.0.2:25, 127.0.0.1:5", "127.0.0.1:5,127.0.0.1:6") == (
        "10.0.0.2:25,127.0.0.1:5,127.0.0.1:6"
    )


def _outgoing(account_id: str, platform: str, recipient: str, n: int) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=f"msg_demo{n}",
        idempotency_key=f"msg_demo{n}",
        account_id=account_id,
        platform=platform,
        recipient=recipient,
        content=f"Zoë, message {n} ✨",
        subject="Hello" if platform == "email" else None,
    )


def _refused_without_the_allowance(
    onlyfans: SendingAccount, email: SendingAccount, box: Any, settings: Settings
) -> None:
    """With the server's own settings (no private targets allowed), the same accounts reach
    nothing: the allowance ``serve --demo`` adds is what lets them through."""
    pytest.importorskip("huntaze.kit.netguard")  # the SSRF guard (issue 8)
    relay = OnlyFansRelayChannel(account_config(onlyfans, box), settings)
    smtp = EmailChannel(account_config(email, box), settings)
    try:
        with pytest.raises(PermanentError, match="loopback"):
            relay.send(_outgoing(onlyfans.id, "onlyfans", "520001", 9))
        with pytest.raises(PermanentError, match="loopback"):
            smtp.send(_outgoing(email.id, "email", "zoe@example.com", 9))
    finally:
        relay.close()
        smtp.close()


def test_demo_accounts_deliver_through_the_channels_and_refresh_on_restart(
    sessions, tenant, tmp_path: Path
) -> None:
    """The accounts made for one pair of fakes send through the real channels to them; a
    second pair (a later start) takes over the same accounts, with a new version, active and
    with a closed breaker, and the only private targets allowed are the fakes'."""
    creator_id = tenant["creator_id"]
    settings = Settings(secret_key_file=str(tmp_path / "key"))
    box = box_from_settings(settings)
    echoed: list[str] = []
    log = DeliveryLog(tmp_path / DELIVERIES_FILE, echo=echoed.append)
    versions: list[int] = []
    for run in (1, 2):
        with DemoSenders(log) as senders:
            now = datetime.now(UTC)
            allowed = settings.model_copy(
                update={"allowed_private_targets": senders.allowed_targets}
            )
            with sessions() as session:
                onlyfans, email = ensure_demo_accounts(
                    session, creator_id, box, now, senders, allowed
                )
                session.commit()
                ports = {
                    f"127.0.0.1:{urlsplit(senders.relay_url).port}",
                    f"127.0.0.1:{urlsplit(senders.smtp_url).port}",
                }
                assert set(senders.allowed_targets.split(",")) == ports
                assert onlyfans.settings == {"relayUrl": senders.relay_url}
                assert email.settings["smtpUrl"] == senders.smtp_url
                versions.append(onlyfans.config_version)
                relay = OnlyFansRelayChannel(account_config(onlyfans, box), allowed)
                smtp = EmailChannel(account_config(email, box), allowed)
                onlyfans_id, email_id = onlyfans.id, email.id
                if run == 1:  # what a dead relay leaves behind, repaired by the next start
                    onlyfans.status = "reconnect_required"
                    onlyfans.breaker_state = "open"
                    session.commit()
            try:
                relay.send(_outgoing(onlyfans_id, "onlyfans", "520001", run))
                smtp.send(_outgoing(email_id, "email", "zoe@example.com", run))
            finally:
                relay.close()
                smtp.close()
            if run == 1:
                _refused_without_the_allowance(onlyfans, email, box, settings)
    with sessions() as session:
        rows = session.scalars(
            select(SendingAccount).where(SendingAccount.creator_id == creator_id)
        ).all()
        assert sorted((a.platform, a.name, a.status, a.breaker_state) for a in rows) == [
            ("email", ACCOUNT_NAME, "active", "closed"),
            ("onlyfans", ACCOUNT_NAME, "active", "closed"),
        ]
    assert versions[1] == versions[0] + 1
    records = _deliveries(tmp_path / DELIVERIES_FILE)
    assert [(r["platform"], r["messageId"], r["to"], r["content"]) for r in records] == [
        ("onlyfans", "msg_demo1", "520001", "Zoë, message 1 ✨"),
        ("email", "msg_demo1", "zoe@example.com", "Zoë, message 1 ✨"),
        ("onlyfans", "msg_demo2", "520001", "Zoë, message 2 ✨"),
        ("email", "msg_demo2", "zoe@example.com", "Zoë, message 2 ✨"),
    ]
    assert records[1]["subject"] == "Hello" and records[0]["externalId"] == "of_1"
    assert len(echoed) == 4 and echoed[0].startswith("delivered onlyfans msg_demo1 to 520001")


def test_demo_recipients_skip_opted_out_fans(engine, sessions, tenant) -> None:
    from sqlalchemy import insert

    from huntaze.models.crm import Fan

    creator_id = tenant["creator_id"]
    now = datetime.now(UTC)
    rows = [
        fan_values(creator_id, "1", now, platform="onlyfans", lifetime_value_cents=900),
        fan_values(creator_id, "2", now, platform="onlyfans", lifetime_value_cents=500),
        fan_values(creator_id, "3", now, platform="patreon", email="a@example.com"),
    ]
    rows[0]["consent"] = "opted_out"
    with engine.begin() as conn:
        conn.execute(insert(Fan), rows)
    with sessions() as session:
        found = demo_recipients(session, creator_id)
        email_fan = session.scalar(
            select(Fan.id).where(Fan.creator_id == creator_id, Fan.platform_fan_id == "3")
        )
    assert found.onlyfans_recipient_id == "2"
    assert found.email_fan_id == email_fan
