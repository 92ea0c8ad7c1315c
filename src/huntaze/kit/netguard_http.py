"""httpx clients that reach user-given hosts through the address guard.

:mod:`huntaze.kit.netguard` decides which targets may be reached and connects sockets to the
checked addresses; this module plugs that into httpx. Every TCP connection an httpx client on
a :class:`GuardedTransport` opens goes through :class:`GuardedNetworkBackend`: the URL's host
is resolved once (:func:`~huntaze.kit.netguard.check_target`), refused when the
:class:`~huntaze.kit.netguard.TargetPolicy` does not allow one of its addresses, and the
connection goes to a checked address while TLS verifies the original host name.
:func:`guarded_client` builds such a client.

This module imports nothing of the application: callers pass plain values.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from huntaze.kit.netguard import TargetPolicy, check_target


class GuardedNetworkBackend(httpcore.NetworkBackend):
    """An httpcore network backend that checks every TCP connection it opens.

    httpcore asks for ``connect_tcp(host, port)`` with the URL's host; this backend resolves
    it once with :func:`check_target` and connects to the checked addresses only. TLS is then
    set up by httpcore on the returned stream with the URL's host as server name, so the
    certificate is verified against the name, not the address.

    Raises (from :meth:`connect_tcp`):
        UnsafeTarget, UnresolvableTarget: from :func:`check_target` (not httpcore errors, so
            httpx lets them through unchanged).
        httpcore.ConnectError, httpcore.ConnectTimeout: no checked address answered.
    """

    def __init__(self, policy: TargetPolicy) -> None:
        self.policy = policy
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Check ``host:port`` (:func:`check_target`) and connect to a checked address."""
        target = check_target(host, port, self.policy)
        last: Exception | None = None
        for address in target.addresses:
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last or httpcore.ConnectError(f"no address to connect to for {host}")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Refused: user-given targets are TCP hosts only.

        Raises:
            httpcore.ConnectError: always.
        """
        raise httpcore.ConnectError("unix sockets are not reachable through the guard")

    def sleep(self, seconds: float) -> None:
        """Sleep between httpcore's connection retries."""
        self._inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """An :class:`httpx.HTTPTransport` whose every connection goes through
    :class:`GuardedNetworkBackend`, so an :class:`httpx.Client` built on it reaches only what
    ``policy`` allows, at the addresses it checked.

    The client must not use environment proxies (``trust_env=False``): httpx would route
    requests through a proxy transport instead, and the proxy would resolve the host out of
    the guard's reach. :func:`guarded_client` builds a client that way. Redirects are the
    client's business (``follow_redirects=False`` refuses them); were they followed, each new
    connection would go through the backend and be checked again.

    Args:
        policy: what may be reached.
        verify: TLS verification, as for httpx (``True``: the default CA bundle, hostname
            checked; or an :class:`ssl.SSLContext`).
        limits: connection-pool limits.
    """

    def __init__(
        self,
        policy: TargetPolicy,
        *,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=10, max_keepalive_connections=5)
        super().__init__(verify=verify, trust_env=False, limits=limits)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(policy),
        )


def guarded_client(
    policy: TargetPolicy, *, timeout: float, verify: ssl.SSLContext | bool = True
) -> httpx.Client:
    """An :class:`httpx.Client` on a :class:`GuardedTransport`: no environment proxies, no
    redirects followed, ``timeout`` seconds for each of connect, write and read."""
    return httpx.Client(
        transport=GuardedTransport(policy, verify=verify),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )
