"""The address guard (huntaze.kit.netguard): which addresses are refused and the policy that
lifts the rules, with a scripted resolver standing in for DNS (no test resolves anything
beyond loopback). Connections pinned to the checked address: test_netguard_connections.py."""

from __future__ import annotations

import ipaddress

import pytest

from huntaze.kit.netguard import (
    NEVER_ALLOWED,
    TargetPolicy,
    UnresolvableTarget,
    UnsafeTarget,
    address_rule,
    check_target,
    literal_address,
)
from tests.netfakes import Resolver

STRICT = TargetPolicy()


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    return Resolver.install(monkeypatch)


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
