"""Reaching user-given hosts without server-side request forgery (SSRF).

A sending account names a host Huntaze connects to (a relay URL, an SMTP server). Left
unchecked, a user could point it at the server's own loopback, the private network behind it
or a cloud metadata endpoint, and read the answer back through error messages. Every such
connection therefore goes through one path:

1. resolve the host **once** (:func:`socket.getaddrinfo`);
2. refuse the target if **any** resolved address is special-purpose (:func:`address_rule`):
   loopback, private, link-local, shared (CGNAT), multicast, reserved, unspecified, a cloud
   metadata address or anything else not globally routable — unless the :class:`TargetPolicy`
   allows private targets, or names this exact ``host:port``;
3. connect to the checked addresses only (:func:`connect_checked`; for httpx,
   :mod:`huntaze.kit.netguard_http`): no second lookup, so a DNS answer that changes between the
   check and the connection (DNS rebinding) cannot redirect it. TLS still verifies the original
   host name.

The address rules follow the IANA special-purpose address registries (RFC 6890, updated by
RFC 8190), as the standard library's :mod:`ipaddress` encodes them, plus explicit lists for
what that module calls global but must never be reached: multicast, the cloud providers'
metadata addresses, and IPv4 addresses embedded in IPv6 ones (IPv4-mapped ``::ffff:0:0/96``,
RFC 4291 §2.5.5.2; the NAT64 well-known prefix ``64:ff9b::/96``, RFC 6052; 6to4 ``2002::/16``,
RFC 3056), which are judged by the IPv4 address they carry.

This module imports nothing of the application: callers pass plain values.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Cloud instance-metadata and platform addresses: never reachable, whatever the policy.
#: 169.254.169.254 (AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack), 169.254.170.2 (AWS ECS
#: task credentials), fd00:ec2::254 (AWS IMDS over IPv6), 100.100.100.200 (Alibaba Cloud),
#: 168.63.129.16 (Azure WireServer), 192.0.0.192 (Oracle Cloud).
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(text)
    for text in (
        "169.254.169.254",
        "169.254.170.2",
        "fd00:ec2::254",
        "100.100.100.200",
        "168.63.129.16",
        "192.0.0.192",
    )
)

_THIS_NETWORK_V4 = ipaddress.IPv4Network("0.0.0.0/8")  # RFC 791/6890: "this network", no dest
_SHARED_V4 = ipaddress.IPv4Network("100.64.0.0/10")  # RFC 6598 shared address space (CGNAT)
_NAT64_WKP = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known NAT64 prefix
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215 local-use NAT64 prefix

#: Rules that no policy lifts: these addresses are never a sending account's server.
NEVER_ALLOWED = frozenset({"cloud metadata", "unspecified", "multicast", "reserved", "broadcast"})


class UnsafeTarget(ValueError):
    """A host that resolves to an address the policy refuses.

    Attributes:
        host: the host as given (never a URL, so never its userinfo).
        port: the TCP port.
        rule: what the refused address is: ``loopback``, ``private``, ``link-local``,
            ``shared (CGNAT)``, ``not globally routable``, or one of :data:`NEVER_ALLOWED`.
        address: the refused address (for operators' logs; not in the message, which users
            may see, so internal DNS answers are not disclosed).
        overridable: True when allowing private targets (or listing ``host:port``) lifts it.
    """

    def __init__(self, host: str, port: int, rule: str, address: str) -> None:
        super().__init__(f"{host} resolves to a {rule} address")
        self.host = host
        self.port = port
        self.rule = rule
        self.address = address
        self.overridable = rule not in NEVER_ALLOWED


class UnresolvableTarget(ValueError):
    """A host name that does not resolve (or resolves to nothing usable for TCP).

    Attributes:
        host: the host as given.
        port: the TCP port.
    """

    def __init__(self, host: str, port: int, detail: str = "") -> None:
        text = f"{host} does not resolve"
        super().__init__(f"{text}: {detail}" if detail else text)
        self.host = host
        self.port = port


def normalise_host(host: str) -> str:
    """``host`` lower-cased, without IPv6 brackets or a trailing root dot.

    ``"[::1]"`` -> ``"::1"``, ``"Relay.Example."`` -> ``"relay.example"``.
    """
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return text.rstrip(".").lower()


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    """Which special-purpose targets may be reached.

    Attributes:
        allow_private: lift the overridable rules (loopback, private, link-local, shared,
            not globally routable) for every host. :data:`NEVER_ALLOWED` rules still apply.
        allowed_targets: exact ``(host, port)`` pairs (host as :func:`normalise_host` gives
            it) for which the overridable rules are lifted, even when ``allow_private`` is
            off. The host is matched as written in the URL: ``127.0.0.1:8025`` does not allow
            ``localhost:8025``.
    """

    allow_private: bool = False
    allowed_targets: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, allow_private: bool, allowed_targets: str) -> TargetPolicy:
        """Build a policy from settings text: ``allowed_targets`` is comma-separated
        ``host:port`` pairs (``[v6]:port`` for IPv6 literals); blanks are ignored.

        Raises:
            ValueError: an entry without a port, or with a port outside 1-65535.
        """
        pairs: set[tuple[str, int]] = set()
        for raw in allowed_targets.split(","):
            entry = raw.strip()
            if not entry:
                continue
            host, sep, port_text = entry.rpartition(":")
            if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise ValueError(
                    f"allowed private target {entry!r} must be host:port with a port 1-65535"
                )
            if ":" in host and not host.startswith("["):
                raise ValueError(f"allowed private target {entry!r}: write IPv6 as [addr]:port")
            pairs.add((normalise_host(host), int(port_text)))
        return cls(allow_private=allow_private, allowed_targets=frozenset(pairs))

    def lifts_private(self, host: str, port: int) -> bool:
        """True when the overridable rules do not apply to ``host:port``."""
        return self.allow_private or (normalise_host(host), port) in self.allowed_targets


def address_rule(address: IPAddress) -> str | None:
    """The rule that makes ``address`` special-purpose, or ``None`` for a global address.

    Returns one of :data:`NEVER_ALLOWED` (``cloud metadata``, ``unspecified``, ``multicast``,
    ``reserved``, ``broadcast``) or an overridable rule (``loopback``, ``link-local``,
    ``private``, ``shared (CGNAT)``, ``not globally routable``). An IPv6 address carrying an
    IPv4 one (IPv4-mapped, NAT64 well-known prefix, 6to4) gets the rule of that IPv4 address;
    an IPv6 link-local address with a zone (``fe80::1%eth0``) is link-local.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            address = ipaddress.IPv6Address(str(address).split("%", 1)[0])
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64_WKP:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_rule(embedded)
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if address.is_unspecified or (
        isinstance(address, ipaddress.IPv4Address) and address in _THIS_NETWORK_V4
    ):
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address == ipaddress.IPv4Address(
        "255.255.255.255"
    ):
        return "broadcast"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if isinstance(address, ipaddress.IPv4Address):
        if address in _SHARED_V4:
            return "shared (CGNAT)"
        if address.is_reserved:
            return "reserved"
    else:
        if address.is_site_local or address in _NAT64_LOCAL:
            return "private"
    if address.is_private:
        return "private"
    if isinstance(address, ipaddress.IPv6Address) and address.is_reserved:
        return "reserved"  # outside 2000::/3 and the ranges above: not unicast on the Internet
    if not address.is_global:
        return "not globally routable"
    return None


def check_address(address: str | IPAddress, host: str, port: int, policy: TargetPolicy) -> None:
    """Refuse one resolved ``address`` of ``host:port`` when ``policy`` does not allow it.

    Raises:
        UnsafeTarget: the address is special-purpose (:func:`address_rule`) and the rule is in
            :data:`NEVER_ALLOWED` or not lifted by ``policy``.
        ValueError: ``address`` is not an IP address.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    rule = address_rule(ip)
    if rule is None:
        return
    if rule not in NEVER_ALLOWED and policy.lifts_private(host, port):
        return
    raise UnsafeTarget(normalise_host(host), port, rule, str(ip))


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` spells when it is an IP literal (including the legacy IPv4 forms
    :func:`socket.inet_aton` accepts, such as ``127.1`` or ``0x7f000001``), else ``None``.
    Never queries DNS (``AI_NUMERICHOST``)."""
    name = normalise_host(host)
    if not name:
        return None
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError):
        return None
    return ipaddress.ip_address(str(infos[0][4][0]))


@dataclass(frozen=True, slots=True)
class CheckedTarget:
    """A host resolved once and checked: connect to ``sockaddrs``, never to ``host`` again.

    Attributes:
        host: the host as given, normalised (:func:`normalise_host`); use it for TLS server
            name indication and certificate checks, and for the HTTP ``Host`` header.
        port: the TCP port.
        sockaddrs: ``(family, sockaddr)`` pairs in the resolver's order, every one checked.
    """

    host: str
    port: int
    sockaddrs: tuple[tuple[socket.AddressFamily, tuple[Any, ...]], ...]

    @property
    def addresses(self) -> tuple[str, ...]:
        """The checked IP addresses, as text, in the resolver's order."""
        return tuple(str(sockaddr[0]) for _, sockaddr in self.sockaddrs)


def check_target(host: str, port: int, policy: TargetPolicy) -> CheckedTarget:
    """Resolve ``host`` once and check every address it resolves to.

    Args:
        host: a DNS name or IP literal (IPv6 with or without brackets).
        port: the TCP port, 1-65535.
        policy: what may be reached.

    Returns:
        The checked target, to connect to with :func:`connect_checked` or
        :class:`huntaze.kit.netguard_http.GuardedNetworkBackend`.

    Raises:
        UnsafeTarget: any resolved address is refused (one bad answer among good ones is
            enough: the connection could otherwise land on it).
        UnresolvableTarget: the name does not resolve, or to no TCP address.
    """
    name = normalise_host(host)
    if not name:
        raise UnresolvableTarget(host, port, "empty host")
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableTarget(name, port, str(exc)) from None
    sockaddrs: list[tuple[socket.AddressFamily, tuple[Any, ...]]] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        check_address(str(sockaddr[0]), name, port, policy)
        pair = (family, tuple(sockaddr))
        if pair not in sockaddrs:
            sockaddrs.append(pair)
    if not sockaddrs:
        raise UnresolvableTarget(name, port, "no IPv4 or IPv6 address")
    return CheckedTarget(name, port, tuple(sockaddrs))


def connect_checked(
    target: CheckedTarget,
    timeout: float | None,
    source_address: tuple[str, int] | None = None,
) -> socket.socket:
    """Open a TCP connection to the first of ``target``'s checked addresses that answers.

    No name is resolved here: the sockets connect to the ``sockaddr`` values checked by
    :func:`check_target`. ``timeout`` (seconds, ``None`` = blocking) applies to each attempt
    and stays set on the returned socket.

    Raises:
        OSError: every address failed (the last error; :class:`TimeoutError` on a timeout).
    """
    last: OSError | None = None
    for family, sockaddr in target.sockaddrs:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            if source_address is not None:
                sock.bind(source_address)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        return sock
    raise last if last is not None else OSError(f"no address to connect to for {target.host}")


def unsafe_reason(exc: UnsafeTarget, subject: str, override_hint: str) -> str:
    """A sentence for users about a refused target, naming the rule but never the address.

    ``subject`` names what was configured (``"relay URL"``); ``override_hint`` is how an
    operator lifts an overridable rule (the caller's setting names). Rules in
    :data:`NEVER_ALLOWED` get no hint.
    """
    text = f"{subject} host {exc.host} resolves to a {exc.rule} address"
    if exc.overridable:
        return f"{text}; {override_hint}"
    return f"{text}, which is never allowed"
