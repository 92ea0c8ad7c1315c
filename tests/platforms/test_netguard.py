"""The address guard (huntaze.kit.netguard): which addresses are refused, the policy, and
connections pinned to the checked address — over real loopback servers, with a scripted
resolver standing in for DNS (no test resolves or reaches anything beyond loopback)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from huntaze.config import Settings
from huntaze.kit.netguard import (
    NEVER_ALLOWED,
    CheckedTarget,
    GuardedTransport,
    TargetPolicy,
    UnresolvableTarget,
    UnsafeTarget,
    address_rule,
    check_target,
    connect_checked,
    guarded_client,
    literal_address,
)
from huntaze.platforms.base import AccountConfig, OutgoingMessage, PermanentError, RetryableError
from huntaze.platforms.email import EmailChannel
from huntaze.platforms.email.fake import FakeSmtpServer
from huntaze.platforms.onlyfans import OnlyFansRelayChannel
from tests.netfakes import Resolver

pytestmark = pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")

STRICT = TargetPolicy()
SECRET = "relay-secret-0123456789"


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    fake = Resolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


# -- loopback servers ---------------------------------------------------------------------


class Http:
    """A loopback HTTP(S) server that answers 200 ``{"externalId": "x1"}`` and records each
    request's Host header and the TLS server name the client sent."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        outer = self
        self.hosts: list[str] = []
        self.server_names: list[str | None] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                outer.hosts.append(self.headers.get("Host", ""))
                body = b'{"externalId": "x1"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:

            def remember(sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
                outer.server_names.append(name)

            tls.sni_callback = remember  # type: ignore[assignment]
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def __enter__(self) -> Http:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _certificate(folder: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a self-signed cert of DNS ``name``."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / f"{name}.pem", folder / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    return server, ssl.create_default_context(cafile=str(cert_file))


def _message() -> OutgoingMessage:
    return OutgoingMessage("msg_1", "idem_1", "acc_1", "onlyfans", "u1", "hi")


def _settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "smtp_url": SecretStr(""),
        "email_from": "",
        "onlyfans_relay_url": "",
        "onlyfans_relay_secret": SecretStr(""),
        "allow_private_urls": False,
    }
    values.update(overrides)
    return Settings(**values)


# -- address rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "rule"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("fec0::1", "private"),  # deprecated site-local
        ("64:ff9b:1::a", "private"),  # RFC 8215 local-use NAT64
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%1", "link-local"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("100.127.255.254", "shared (CGNAT)"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.170.2", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("168.63.129.16", "cloud metadata"),
        ("192.0.0.192", "cloud metadata"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "cloud metadata"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 well-known prefix + 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "cloud metadata"),
        ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a00:1::1", "private"),  # 6to4 of 10.0.0.1
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("::7f00:1", "reserved"),  # deprecated IPv4-compatible
    ],
)
def test_special_purpose_addresses_are_named(address: str, rule: str) -> None:
    assert address_rule(ipaddress.ip_address(address)) == rule


@pytest.mark.parametrize("address", ["192.0.2.1", "198.18.0.1", "2001:db8::1", "2001::1"])
def test_documentation_benchmark_and_teredo_ranges_are_refused(address: str) -> None:
    assert address_rule(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "64:ff9b::808:808"]
)
def test_global_addresses_pass(address: str) -> None:
    assert address_rule(ipaddress.ip_address(address)) is None


# -- the policy ---------------------------------------------------------------------------


def test_strict_policy_refuses_loopback_and_names_the_rule_not_the_address(
    resolver: Resolver,
) -> None:
    resolver.set("internal.test", ["10.9.8.7"])
    with pytest.raises(UnsafeTarget) as caught:
        check_target("internal.test", 443, STRICT)
    assert caught.value.rule == "private" and caught.value.overridable
    assert caught.value.address == "10.9.8.7"
    assert str(caught.value) == "internal.test resolves to a private address"
    with pytest.raises(UnsafeTarget, match="loopback"):
        check_target("127.0.0.1", 80, STRICT)
    with pytest.raises(UnsafeTarget, match="loopback"):
        check_target("[::1]", 80, STRICT)


def test_one_bad_answer_among_good_ones_is_enough(resolver: Resolver) -> None:
    resolver.set("mixed.test", ["93.184.216.34", "127.0.0.1"])
    with pytest.raises(UnsafeTarget, match="loopback"):
        check_target("mixed.test", 443, STRICT)


def test_a_public_name_is_checked_and_its_addresses_kept(resolver: Resolver) -> None:
    resolver.set("public.test", ["93.184.216.34", "2606:4700:4700::1111"])
    target = check_target("Public.Test.", 443, STRICT)
    assert target.host == "public.test" and target.port == 443
    assert target.addresses == ("93.184.216.34", "2606:4700:4700::1111")
    assert resolver.calls["public.test"] == 1


def test_allow_private_lifts_private_rules_but_never_metadata(resolver: Resolver) -> None:
    lax = TargetPolicy(allow_private=True)
    assert check_target("127.0.0.1", 80, lax).addresses == ("127.0.0.1",)
    resolver.set("lan.test", ["192.168.0.10"])
    assert check_target("lan.test", 8080, lax).addresses == ("192.168.0.10",)
    for never in ("169.254.169.254", "0.0.0.0", "224.0.0.1"):
        with pytest.raises(UnsafeTarget) as caught:
            check_target(never, 80, lax)
        assert caught.value.rule in NEVER_ALLOWED and not caught.value.overridable
    resolver.set("imds.test", ["169.254.169.254"])
    with pytest.raises(UnsafeTarget, match="cloud metadata"):
        check_target("imds.test", 80, lax)


def test_allowed_targets_match_host_and_port_exactly(resolver: Resolver) -> None:
    policy = TargetPolicy.parse(False, " 127.0.0.1:8025 , [::1]:2525,Relay.LAN.test:8080 ,")
    assert policy.allowed_targets == {
        ("127.0.0.1", 8025),
        ("::1", 2525),
        ("relay.lan.test", 8080),
    }
    assert check_target("127.0.0.1", 8025, policy).addresses == ("127.0.0.1",)
    assert check_target("::1", 2525, policy).addresses == ("::1",)
    resolver.set("relay.lan.test", ["10.0.0.5"])
    assert check_target("relay.lan.test", 8080, policy).addresses == ("10.0.0.5",)
    with pytest.raises(UnsafeTarget):
        check_target("127.0.0.1", 8026, policy)  # another port
    with pytest.raises(UnsafeTarget):
        check_target("localhost", 8025, policy)  # another spelling of the host
    metadata = TargetPolicy.parse(False, "169.254.169.254:80")
    with pytest.raises(UnsafeTarget, match="cloud metadata"):
        check_target("169.254.169.254", 80, metadata)  # never, even listed


@pytest.mark.parametrize("bad", ["localhost", "host:0", "host:99999", "host:http", "::1:80", ":80"])
def test_malformed_allowed_targets_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="allowed private target"):
        TargetPolicy.parse(False, bad)


def test_legacy_ipv4_spellings_are_read_as_their_address() -> None:
    assert literal_address("127.1") == ipaddress.ip_address("127.0.0.1")
    assert literal_address("2130706433") == ipaddress.ip_address("127.0.0.1")
    assert literal_address("[::ffff:a9fe:a9fe]") == ipaddress.ip_address("::ffff:a9fe:a9fe")
    assert literal_address("relay.example.test") is None  # a name: no lookup here
    with pytest.raises(UnsafeTarget, match="loopback"):
        check_target("127.1", 80, STRICT)


def test_a_name_that_does_not_resolve(resolver: Resolver) -> None:
    with pytest.raises(UnresolvableTarget, match=r"nowhere\.test does not resolve"):
        check_target("nowhere.test", 80, STRICT)


# -- pinned connections -------------------------------------------------------------------


def test_connect_checked_connects_to_the_checked_address_without_a_lookup(
    resolver: Resolver,
) -> None:
    with Http() as server:
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
    with Http() as server:
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
    with Http() as server:
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
    with Http() as server:
        resolver.set("flip.test", ["93.184.216.34"], ["127.0.0.1"])
        assert check_target("flip.test", server.port, STRICT).addresses == ("93.184.216.34",)
        with guarded_client(STRICT, timeout=5.0) as client, pytest.raises(UnsafeTarget):
            client.get(f"http://flip.test:{server.port}/x")
        assert server.hosts == []


def test_tls_is_verified_against_the_host_name_while_connecting_to_the_address(
    resolver: Resolver, tmp_path: Path
) -> None:
    server_ctx, client_ctx = _certificate(tmp_path, "relay.pinned.test")
    with Http(tls=server_ctx) as server:
        resolver.set("relay.pinned.test", ["127.0.0.1"])
        policy = TargetPolicy.parse(False, f"relay.pinned.test:{server.port}")
        transport = GuardedTransport(policy, verify=client_ctx)
        with httpx.Client(transport=transport, trust_env=False) as client:
            response = client.post(f"https://relay.pinned.test:{server.port}/m", content=b"{}")
        assert response.json() == {"externalId": "x1"}
        assert server.server_names == ["relay.pinned.test"]  # SNI is the name
        assert server.hosts == [f"relay.pinned.test:{server.port}"]


def test_tls_with_a_certificate_for_another_name_fails(resolver: Resolver, tmp_path: Path) -> None:
    server_ctx, client_ctx = _certificate(tmp_path, "other.pinned.test")
    with Http(tls=server_ctx) as server:
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
    with Http() as server:
        with guarded_client(TargetPolicy(allow_private=True), timeout=5.0) as client:
            assert client.get(f"http://127.0.0.1:{server.port}/").status_code == 200
        assert len(server.hosts) == 1


# -- the channels -------------------------------------------------------------------------


def test_relay_refused_at_connect_time_is_permanent_and_names_the_rule() -> None:
    with Http() as server:
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
    with Http() as server:
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
    server_ctx, client_ctx = _certificate(tmp_path, "mail.pinned.test")
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
    server_ctx, client_ctx = _certificate(tmp_path, "other-mail.pinned.test")
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
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nX-Internal: INTERNAL-DATA\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    channel = EmailChannel(
        AccountConfig(
            "acc_1", "email", {"smtpUrl": f"smtp://127.0.0.1:{port}", "from": "me@example.com"}
        ),
        _settings(allow_private_urls=True),
        timeout=5.0,
    )
    with pytest.raises((RetryableError, PermanentError)) as caught:
        channel.send(OutgoingMessage("msg_1", "idem_1", "acc_1", "email", "f@example.org", "x"))
    channel.close()
    thread.join(5)
    listener.close()
    assert "INTERNAL" not in caught.value.reason and "HTTP" not in caught.value.reason


def test_relay_pointed_at_a_service_that_is_not_http_reads_nothing_back() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"SSH-2.0-OpenSSH_9.6 INTERNAL-BANNER\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    channel = OnlyFansRelayChannel(
        AccountConfig("acc_1", "onlyfans", {"relayUrl": f"http://127.0.0.1:{port}/"}, SECRET),
        _settings(allow_private_urls=True),
    )
    with pytest.raises(RetryableError) as caught:
        channel.send(_message())
    channel.close()
    thread.join(5)
    listener.close()
    assert caught.value.reason == "relay unreachable: RemoteProtocolError"
