"""The OnlyFans relay channel against the loopback fake relay (design.md §1.4)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from email.utils import formatdate

import httpx
import pytest
from pydantic import SecretStr

from huntaze.platforms.base import (
    AccountConfig,
    OutgoingMessage,
    PermanentError,
    ReconnectRequired,
    RetryableError,
)
from huntaze.platforms.onlyfans import (
    OnlyFansRelayChannel,
    parse_retry_after,
    sign,
    verify_signature,
)
from huntaze.platforms.onlyfans.fake import FakeRelay
from tests.netfakes import channel_settings

SECRET = "whsec_test_0123456789"
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def message(n: int = 1, **overrides: object) -> OutgoingMessage:
    values: dict[str, object] = {
        "message_id": f"msg_{n}",
        "idempotency_key": f"idem_{n}",
        "account_id": "acc_1",
        "platform": "onlyfans",
        "recipient": f"u{1000 + n}",
        "content": f"Hey 👋 number {n}",
    }
    values.update(overrides)
    return OutgoingMessage(**values)  # type: ignore[arg-type]


@pytest.fixture
def relay() -> Iterator[FakeRelay]:
    with FakeRelay(secret=SECRET) as fake:
        yield fake


def channel_for(relay: FakeRelay, **kwargs: object) -> OnlyFansRelayChannel:
    config = AccountConfig("acc_1", "onlyfans", {"relayUrl": relay.url}, secret=SECRET)
    return OnlyFansRelayChannel(config, channel_settings(), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def channel(relay: FakeRelay) -> Iterator[OnlyFansRelayChannel]:
    ch = channel_for(relay)
    yield ch
    ch.close()


# -- success ----------------------------------------------------------------------------


def test_send_posts_signed_json_and_returns_external_id(
    relay: FakeRelay, channel: OnlyFansRelayChannel
) -> None:
    result = channel.send(
        message(media_urls=("https://cdn.example/a.jpg",), price_cents=1299, fan_id="fan_9")
    )

    assert result.external_id == "of_1"
    assert len(relay.messages) == 1
    got = relay.messages[0]
    assert got.payload == {
        "messageId": "msg_1",
        "idempotencyKey": "idem_1",
        "accountId": "acc_1",
        "recipientId": "u1001",
        "fanId": "fan_9",
        "content": "Hey 👋 number 1",
        "mediaUrls": ["https://cdn.example/a.jpg"],
        "priceCents": 1299,
    }
    assert got.idempotency_key == "idem_1"
    headers = {k.lower(): v for k, v in got.headers.items()}
    assert headers["content-type"] == "application/json"
    # Compact UTF-8 JSON, signed exactly as sent.
    assert b", " not in got.body and "👋".encode() in got.body
    signature = headers["x-huntaze-signature"]
    assert verify_signature(SECRET, signature, got.body, now=got.received_at)
    assert got.received_monotonic > 0


def test_signature_uses_injected_clock() -> None:
    with FakeRelay(secret=SECRET, now=lambda: T0 + 30) as relay:
        ch = channel_for(relay, now=lambda: T0)
        ch.send(message())
        ch.close()
    header = relay.messages[0].headers["X-Huntaze-Signature"]
    assert header.startswith(f"t={int(T0)},sig=")
    assert header == sign(SECRET, relay.messages[0].body, int(T0))


def test_free_message_sends_null_price(relay: FakeRelay, channel: OnlyFansRelayChannel) -> None:
    channel.send(message())
    assert relay.messages[0].payload["priceCents"] is None
    assert relay.messages[0].payload["mediaUrls"] == []


def test_duplicate_idempotency_key_answers_same_id(
    relay: FakeRelay, channel: OnlyFansRelayChannel
) -> None:
    first = channel.send(message(1))
    again = channel.send(message(1))
    channel.send(message(2))
    assert first.external_id == again.external_id == "of_1"
    assert len(relay.messages) == 2
    assert [d.idempotency_key for d in relay.duplicates] == ["idem_1"]
    assert relay.duplicates[0].duplicate is True


def test_settings_defaults_apply_when_account_has_none(relay: FakeRelay) -> None:
    ch = OnlyFansRelayChannel(
        AccountConfig("acc_1", "onlyfans"),
        channel_settings(onlyfans_relay_url=relay.url, onlyfans_relay_secret=SecretStr(SECRET)),
    )
    assert ch.send(message()).external_id == "of_1"
    ch.close()


def test_injected_client_is_used_and_left_open(relay: FakeRelay) -> None:
    with httpx.Client(timeout=5.0) as client:
        ch = channel_for(relay, client=client)
        ch.send(message())
        ch.close()
        assert not client.is_closed
    assert len(relay.messages) == 1


# -- signatures -------------------------------------------------------------------------


def test_verify_signature_rejects_tampering_and_staleness() -> None:
    body = b'{"content":"hi"}'
    header = sign(SECRET, body, int(T0))
    assert verify_signature(SECRET, header, body, now=T0)
    assert verify_signature(SECRET, header, body, now=T0 + 299)
    assert not verify_signature(SECRET, header, b'{"content":"hI"}', now=T0)
    assert not verify_signature("other-secret", header, body, now=T0)
    assert not verify_signature(SECRET, header, body, now=T0 + 301)
    assert not verify_signature(SECRET, header, body, now=T0 - 301)
    assert verify_signature(SECRET, header, body, now=T0 + 1000, tolerance=2000)
    # The timestamp is signed too: moving it breaks the signature.
    moved = header.replace(f"t={int(T0)}", f"t={int(T0) + 1}")
    assert not verify_signature(SECRET, moved, body, now=T0)
    # Several signatures (secret rotation): any may match.
    rotated = f"{header},sig=" + "0" * 64
    assert verify_signature(SECRET, rotated, body, now=T0)
    for bad in ("", "garbage", "t=abc,sig=00", f"t={int(T0)}", "sig=00", "t=²,sig=00"):
        assert not verify_signature(SECRET, bad, body, now=T0)


def test_wrong_secret_is_refused_by_relay_and_requires_reconnect(relay: FakeRelay) -> None:
    config = AccountConfig("acc_1", "onlyfans", {"relayUrl": relay.url}, secret="not-it")
    ch = OnlyFansRelayChannel(config, channel_settings())
    with pytest.raises(ReconnectRequired, match=r"401.*invalid signature"):
        ch.send(message())
    ch.close()
    assert relay.messages == []
    assert relay.requests[0].status == 401


def test_tampered_body_is_refused_by_relay(relay: FakeRelay) -> None:
    body = OnlyFansRelayChannel.payload(message())
    header = sign(SECRET, body, int(T0))
    tampered = body.replace(b"u1001", b"u6666")
    assert not verify_signature(SECRET, header, tampered, now=T0)
    response = httpx.post(
        relay.url,
        content=tampered,
        headers={"Idempotency-Key": "idem_1", "X-Huntaze-Signature": sign(SECRET, body, 0)},
    )
    assert response.status_code == 401
    assert relay.messages == []


# -- failures ---------------------------------------------------------------------------


def test_429_with_retry_after_seconds(relay: FakeRelay, channel: OnlyFansRelayChannel) -> None:
    relay.rate_limit_next(1, retry_after="7")
    with pytest.raises(RetryableError) as caught:
        channel.send(message())
    assert caught.value.retry_after == 7.0
    assert "429" in caught.value.reason
    assert channel.send(message()).external_id == "of_1"


def test_429_with_retry_after_http_date() -> None:
    with FakeRelay(secret=SECRET, now=lambda: T0) as relay:
        ch = channel_for(relay, now=lambda: T0)
        relay.rate_limit_next(1, retry_after=formatdate(T0 + 120, usegmt=True))
        with pytest.raises(RetryableError) as caught:
            ch.send(message())
        ch.close()
    assert caught.value.retry_after == 120.0


def test_429_without_retry_after(relay: FakeRelay, channel: OnlyFansRelayChannel) -> None:
    relay.rate_limit_next(1, retry_after=None)
    with pytest.raises(RetryableError) as caught:
        channel.send(message())
    assert caught.value.retry_after is None


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retryable(
    relay: FakeRelay, channel: OnlyFansRelayChannel, status: int
) -> None:
    relay.fail_next(1, status=status)
    with pytest.raises(RetryableError, match=str(status)):
        channel.send(message())
    assert relay.messages == []
    assert channel.send(message()).external_id == "of_1"


def test_unknown_recipient_is_permanent_with_reason(
    relay: FakeRelay, channel: OnlyFansRelayChannel
) -> None:
    relay.reject_recipients("u1001")
    with pytest.raises(PermanentError) as caught:
        channel.send(message())
    assert caught.value.reason == "relay answered HTTP 400: recipient not found"


def test_forbidden_requires_reconnect(relay: FakeRelay, channel: OnlyFansRelayChannel) -> None:
    relay.forbid()
    with pytest.raises(ReconnectRequired, match="403"):
        channel.send(message())
    relay.forbid(False)
    assert channel.send(message()).external_id == "of_1"


def test_timeout_is_retryable(relay: FakeRelay) -> None:
    ch = channel_for(relay, timeout=0.2)
    relay.delay_next(1.0)
    with pytest.raises(RetryableError, match="timed out"):
        ch.send(message())
    ch.close()


def test_unreachable_relay_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = AccountConfig("acc_1", "onlyfans", {"relayUrl": f"http://127.0.0.1:{port}/"}, SECRET)
    ch = OnlyFansRelayChannel(config, channel_settings(), timeout=2.0)
    with pytest.raises(RetryableError, match="unreachable"):
        ch.send(message())
    ch.close()


def test_other_4xx_is_permanent_and_long_reason_truncated(
    relay: FakeRelay, channel: OnlyFansRelayChannel
) -> None:
    relay.reject_recipients("u1001", status=422, error="x" * 2000)
    with pytest.raises(PermanentError) as caught:
        channel.send(message())
    text = caught.value.reason.removeprefix("relay answered HTTP 422: ")
    assert len(text) == 300
    assert text.endswith("…")


@pytest.mark.parametrize(
    ("url", "secret", "missing"),
    [
        ("", SECRET, "no relay URL"),
        ("http://127.0.0.1:9/", None, "no relay secret"),
        ("", None, "no relay URL .* and no relay secret"),
    ],
)
def test_missing_configuration_is_permanent(url: str, secret: str | None, missing: str) -> None:
    config = AccountConfig("acc_1", "onlyfans", {"relayUrl": url} if url else {}, secret)
    ch = OnlyFansRelayChannel(config, channel_settings())
    with pytest.raises(PermanentError, match=missing):
        ch.send(message())
    ch.close()


def test_non_http_relay_url_is_permanent() -> None:
    config = AccountConfig("acc_1", "onlyfans", {"relayUrl": "ftp://relay.test/"}, SECRET)
    with pytest.raises(PermanentError, match="http"):
        OnlyFansRelayChannel(config, channel_settings()).send(message())


def test_parse_retry_after() -> None:
    assert parse_retry_after("120", T0) == 120.0
    assert parse_retry_after(" 0 ", T0) == 0.0
    assert parse_retry_after(formatdate(T0 - 60, usegmt=True), T0) == 0.0
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", T0) == 30.0
    assert parse_retry_after("soon", T0) is None
    assert parse_retry_after("-5", T0) is None
    assert parse_retry_after(None, T0) is None


def test_fake_rejects_mismatched_idempotency_key(relay: FakeRelay) -> None:
    body = json.dumps({"idempotencyKey": "a", "recipientId": "u1"}).encode()
    now = int(time.time())
    response = httpx.post(
        relay.url,
        content=body,
        headers={"Idempotency-Key": "b", "X-Huntaze-Signature": sign(SECRET, body, now)},
    )
    assert response.status_code == 400
