"""The address guard (huntaze.kit.netguard, huntaze.kit.netguard_http) at connect time:
connections pinned to the checked address, TLS verified against the host name, and the relay
and email channels refusing what the guard refuses — over real loopback servers, with a
scripted resolver standing in for DNS (no test resolves or reaches anything beyond loopback)."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest

from huntaze.config import Settings
from huntaze.kit.netguard import (
    CheckedTarget,
    TargetPolicy,
    UnsafeTarget,
    check_target,
    connect_checked,
)
from huntaze.kit.netguard_http import GuardedTransport, guarded_client
from huntaze.platforms.base import AccountConfig, OutgoingMessage, PermanentError, RetryableError
from huntaze.platforms.email import EmailChannel
from huntaze.platforms.email.fake import FakeSmtpServer
from huntaze.platforms.onlyfans import OnlyFansRelayChannel
from tests.netfakes import RawReply, Resolver, ScriptedRelay, channel_settings, self_signed

pytestmark = pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")

STRICT = TargetPolicy()
SECRET = "relay-secret-0123456789"


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    return Resolver.install(monkeypatch)


def _http(tls: ssl.SSLContext | None = None) -> ScriptedRelay:
    """A loopback HTTP(S) server answering 200 ``{"externalId": "x1"}`` to every request."""
    answer = (200, {"Content-Type": "application/json"}, b'{"externalId": "x1"}')
    return ScriptedRelay(lambda _request: answer, tls=tls)


def _message() -> OutgoingMessage:
    return OutgoingMessage("msg_1", "idem_1", "acc_1", "onlyfans", "u1", "hi")


def _settings(**overrides: Any) -> Settings:
    """Channel settings with private targets refused, as on a default install."""
    return channel_settings(**{"allow_private_urls": False, **overrides})


# -- pinned connections -------------------------------------------------------------------


def test_connect_checked_connects_to_the_checked_address_without_a_lookup(
    resolver: Resolver,
) -> None:
    with _http() as server:
        resolver.set("pinned.test", ["127.0.0.1"], ["127.0.0.2"])
        target = check_target("pinned.test", server.port, TargetPolicy(allow_private=True))
        sock = connect_checked(target, 5.0)
        with sock:
            assert sock.getpeername()[:2] == ("127.0.0.1", server.port)
        assert resolver.calls["pinned.test"] == 1


def test_connect_checked_tries_each_address_in_turn() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with _http() as server:
        target = CheckedTarget(
            "two.test",
            server.port,
            (
                (socket.AF_INET, ("127.0.0.2", closed)),
                (socket.AF_INET, ("127.0.0.1", server.port)),
            ),
        )
        with connect_checked(target, 5.0) as sock:
            assert sock.getpeername()[:2] == ("127.0.0.1", server.port)


def test_http_connection_is_pinned_to_the_answer_that_was_checked(resolver: Resolver) -> None:
    """DNS rebinding: the first answer (checked) is loopback where the server listens; any
    later lookup would answer 127.0.0.2, where nothing does. The request arrives, with the
    original Host header, after exactly one lookup."""
    with _http() as server:
        resolver.set("rebind.test", ["127.0.0.1"], ["127.0.0.2"])
        policy = TargetPolicy.parse(False, f"rebind.test:{server.port}")
        with guarded_client(policy, timeout=5.0) as client:
            response = client.get(f"http://rebind.test:{server.port}/x")
        assert response.status_code == 200
        assert server.hosts == [f"rebind.test:{server.port}"]
        assert resolver.calls["rebind.test"] == 1


def test_http_rebinding_to_a_private_address_after_the_check_is_refused(
    resolver: Resolver,
) -> None:
    """A host that answered a public address when the account was saved and answers
    loopback when the worker connects is refused at connect time; nothing is reached."""
    with _http() as server:
        resolver.set("flip.test", ["93.184.216.34"], ["127.0.0.1"])
        assert check_target("flip.test", server.port, STRICT).addresses == ("93.184.216.34",)
        with guarded_client(STRICT, timeout=5.0) as client, pytest.raises(UnsafeTarget):
            client.get(f"http://flip.test:{server.port}/x")
        assert server.hosts == []


def test_tls_is_verified_against_the_host_name_while_connecting_to_the_address(
    resolver: Resolver, tmp_path: Path
) -> None:
    server_ctx, client_ctx = self_signed(tmp_path, "relay.pinned.test")
    with _http(tls=server_ctx) as server:
        resolver.set("relay.pinned.test", ["127.0.0.1"])
        policy = TargetPolicy.parse(False, f"relay.pinned.test:{server.port}")
        transport = GuardedTransport(policy, verify=client_ctx)
        with httpx.Client(transport=transport, trust_env=False) as client:
            response = client.post(f"https://relay.pinned.test:{server.port}/m", content=b"{}")
        assert response.json() == {"externalId": "x1"}
        assert server.server_names == ["relay.pinned.test"]  # SNI is the name
        assert server.hosts == [f"relay.pinned.test:{server.port}"]


def test_tls_with_a_certificate_for_another_name_fails(resolver: Resolver, tmp_path: Path) -> None:
    server_ctx, client_ctx = self_signed(tmp_path, "other.pinned.test")
    with _http(tls=server_ctx) as server:
        resolver.set("relay.pinned.test", ["127.0.0.1"])
        policy = TargetPolicy(allow_private=True)
        with (
            httpx.Client(
                transport=GuardedTransport(policy, verify=client_ctx), trust_env=False
            ) as client,
            pytest.raises(httpx.ConnectError, match=r"certificate|hostname"),
        ):
            client.get(f"https://relay.pinned.test:{server.port}/")
        assert server.hosts == []


def test_environment_proxies_are_not_used(
    resolver: Resolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    with _http() as server:
        with guarded_client(TargetPolicy(allow_private=True), timeout=5.0) as client:
            assert client.get(f"http://127.0.0.1:{server.port}/").status_code == 200
        assert len(server.hosts) == 1


# -- the channels -------------------------------------------------------------------------


def test_relay_refused_at_connect_time_is_permanent_and_names_the_rule() -> None:
    with _http() as server:
        url = f"http://bot:pw-SENTINEL@127.0.0.1:{server.port}/relay?token=tok-SENTINEL"
        channel = OnlyFansRelayChannel(
            AccountConfig("acc_1", "onlyfans", {"relayUrl": url}, SECRET), _settings()
        )
        with pytest.raises(PermanentError) as caught:
            channel.send(_message())
        channel.close()
    reason = caught.value.reason
    assert reason == (
        "relay URL host 127.0.0.1 resolves to a loopback address; set "
        f"HUNTAZE_ALLOW_PRIVATE_URLS=true (or add 127.0.0.1:{server.port} to "
        "HUNTAZE_ALLOWED_PRIVATE_TARGETS) to allow it"
    )
    assert "SENTINEL" not in reason
    assert server.hosts == []


def test_relay_to_metadata_is_never_allowed() -> None:
    channel = OnlyFansRelayChannel(
        AccountConfig("acc_1", "onlyfans", {"relayUrl": "http://169.254.169.254/"}, SECRET),
        _settings(allow_private_urls=True),
    )
    with pytest.raises(PermanentError, match="cloud metadata address, which is never allowed"):
        channel.send(_message())
    channel.close()


def test_relay_on_an_allowed_target_is_reached() -> None:
    with _http() as server:
        channel = OnlyFansRelayChannel(
            AccountConfig(
                "acc_1", "onlyfans", {"relayUrl": f"http://127.0.0.1:{server.port}/r"}, SECRET
            ),
            _settings(allowed_private_targets=f"127.0.0.1:{server.port}"),
        )
        assert channel.send(_message()).external_id == "x1"
        channel.close()


def test_relay_host_that_does_not_resolve_is_retried(resolver: Resolver) -> None:
    channel = OnlyFansRelayChannel(
        AccountConfig("acc_1", "onlyfans", {"relayUrl": "https://gone.test/r"}, SECRET),
        _settings(),
    )
    with pytest.raises(RetryableError, match=r"relay host gone\.test does not resolve"):
        channel.send(_message())
    channel.close()


def test_malformed_allowed_targets_fail_sends_with_the_setting_named() -> None:
    channel = OnlyFansRelayChannel(
        AccountConfig("acc_1", "onlyfans", {"relayUrl": "http://127.0.0.1:9/"}, SECRET),
        _settings(allowed_private_targets="127.0.0.1"),
    )
    with pytest.raises(PermanentError, match="HUNTAZE_ALLOWED_PRIVATE_TARGETS"):
        channel.send(_message())
    channel.close()


def test_smtp_refused_at_connect_time_is_permanent() -> None:
    with FakeSmtpServer(username="bot", password="s3cret") as smtp:
        config = AccountConfig(
            "acc_1", "email", {"smtpUrl": smtp.url, "from": "me@example.com"}, None
        )
        channel = EmailChannel(config, _settings(), timeout=5.0)
        with pytest.raises(PermanentError) as caught:
            channel.send(OutgoingMessage("msg_1", "idem_1", "acc_1", "email", "f@example.org", "x"))
        channel.close()
    assert "SMTP URL host 127.0.0.1 resolves to a loopback address" in caught.value.reason
    assert "s3cret" not in caught.value.reason
    assert smtp.sessions == 0


def test_smtp_connection_is_pinned_and_tls_checks_the_name(
    resolver: Resolver, tmp_path: Path
) -> None:
    """smtps:// to a name: one lookup, the socket goes to the checked address, and the
    certificate is verified for the name (it names no address)."""
    server_ctx, client_ctx = self_signed(tmp_path, "mail.pinned.test")
    with FakeSmtpServer(
        username="bot", password="s3cret", tls_context=server_ctx, implicit_tls=True
    ) as smtp:
        resolver.set("mail.pinned.test", ["127.0.0.1"], ["127.0.0.2"])
        url = f"smtps://bot:s3cret@mail.pinned.test:{smtp.port}"
        channel = EmailChannel(
            AccountConfig("acc_1", "email", {"smtpUrl": url, "from": "me@example.com"}),
            _settings(allowed_private_targets=f"mail.pinned.test:{smtp.port}"),
            ssl_context=client_ctx,
            timeout=5.0,
        )
        channel.send(OutgoingMessage("msg_1", "idem_1", "acc_1", "email", "f@example.org", "x"))
        channel.close()
    assert smtp.messages[0].tls is True and smtp.messages[0].login == "bot"
    assert resolver.calls["mail.pinned.test"] == 1


def test_smtp_starttls_checks_the_name_too(resolver: Resolver, tmp_path: Path) -> None:
    server_ctx, client_ctx = self_signed(tmp_path, "other-mail.pinned.test")
    with FakeSmtpServer(tls_context=server_ctx) as smtp:
        resolver.set("mail.pinned.test", ["127.0.0.1"])
        url = f"smtp://mail.pinned.test:{smtp.port}?starttls=true"
        channel = EmailChannel(
            AccountConfig("acc_1", "email", {"smtpUrl": url, "from": "me@example.com"}),
            _settings(allow_private_urls=True),
            ssl_context=client_ctx,
            timeout=5.0,
        )
        with pytest.raises(RetryableError, match=r"certificate|hostname"):
            channel.send(OutgoingMessage("msg_1", "idem_1", "acc_1", "email", "f@example.org", "x"))
        channel.close()
    assert smtp.messages == []


def test_smtp_reply_that_is_not_smtp_is_not_read_back() -> None:
    """An SMTP URL pointed at another kind of service: its banner never becomes a reason."""
    banner = b"HTTP/1.1 400 Bad Request\r\nX-Internal: INTERNAL-DATA\r\n\r\n"
    with RawReply(banner) as service:
        channel = EmailChannel(
            AccountConfig(
                "acc_1",
                "email",
                {"smtpUrl": f"smtp://127.0.0.1:{service.port}", "from": "me@example.com"},
            ),
            _settings(allow_private_urls=True),
            timeout=5.0,
        )
        with pytest.raises((RetryableError, PermanentError)) as caught:
            channel.send(OutgoingMessage("msg_1", "idem_1", "acc_1", "email", "f@example.org", "x"))
        channel.close()
    reason = str(getattr(caught.value, "reason", ""))
    assert reason and "INTERNAL" not in reason and "HTTP" not in reason


def test_relay_pointed_at_a_service_that_is_not_http_reads_nothing_back() -> None:
    with RawReply(b"SSH-2.0-OpenSSH_9.6 INTERNAL-BANNER\r\n", read_first=True) as service:
        channel = OnlyFansRelayChannel(
            AccountConfig(
                "acc_1", "onlyfans", {"relayUrl": f"http://127.0.0.1:{service.port}/"}, SECRET
            ),
            _settings(allow_private_urls=True),
        )
        with pytest.raises(RetryableError) as caught:
            channel.send(_message())
        channel.close()
    # The service answers and hangs up: httpx sees a protocol error or, when the reset comes
    # first, a read error; either way the reason names the failure, never the banner.
    reason = caught.value.reason
    assert reason in (
        "relay unreachable: RemoteProtocolError",
        "relay unreachable: ReadError: [Errno 104] Connection reset by peer",
    )
    assert "INTERNAL" not in reason and "SSH" not in reason
