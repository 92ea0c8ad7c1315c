"""The worker's metrics server: ``huntaze worker --metrics-port``.

A small threaded WSGI server that answers any path with the process's Prometheus registry,
behind ``HUNTAZE_METRICS_TOKEN`` as a bearer token when it is set (as ``/metrics`` of the
API)::

    server = serve_metrics(metrics.registry, settings.host, port, token)
    ...
    server.shutdown()
"""

from __future__ import annotations

import hmac
import json
import socket
import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _QuietHandler(WSGIRequestHandler):
    """wsgiref's request handler without a log line per scrape."""

    def log_message(self, format: str, *args: Any) -> None:
        """Say nothing."""


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """wsgiref's server, one daemon thread per request (a stuck scraper blocks no other)."""

    daemon_threads = True


class _ThreadingWSGIServer6(_ThreadingWSGIServer):
    """The same, listening on an IPv6 address."""

    address_family = socket.AF_INET6


def metrics_app(inner: Any, token: str) -> Any:
    """Wrap the WSGI app ``inner`` so that, when ``token`` is set, a request without the
    header ``Authorization: Bearer <token>`` (compared in constant time) gets 401 with the
    API's error body."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if token:
            given = str(environ.get("HTTP_AUTHORIZATION", "")).encode("utf-8", "surrogateescape")
            if not hmac.compare_digest(given, f"Bearer {token}".encode()):
                body = json.dumps(
                    {
                        "error": {
                            "code": "unauthenticated",
                            "message": "A valid metrics token is required",
                        }
                    }
                ).encode()
                start_response(
                    "401 Unauthorized",
                    [
                        ("Content-Type", "application/json"),
                        ("Content-Length", str(len(body))),
                        ("WWW-Authenticate", "Bearer"),
                    ],
                )
                return [body]
        return inner(environ, start_response)

    return app


def serve_metrics(registry: Any, host: str, port: int, token: str) -> WSGIServer:
    """Serve ``registry`` in Prometheus' text format on ``host:port`` (any path), in a daemon
    thread, behind the bearer ``token`` when it is not empty (as ``/metrics`` of the API).
    Returns the server (``shutdown()`` stops it).

    Raises:
        OSError: the address cannot be bound (in use, not local).
    """
    from prometheus_client import make_wsgi_app

    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    server_class: type[WSGIServer] = (
        _ThreadingWSGIServer6 if family == socket.AF_INET6 else _ThreadingWSGIServer
    )
    server = make_server(
        host,
        port,
        metrics_app(make_wsgi_app(registry), token),
        server_class=server_class,
        handler_class=_QuietHandler,
    )
    threading.Thread(target=server.serve_forever, name="huntaze-metrics", daemon=True).start()
    return server
