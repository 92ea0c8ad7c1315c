"""Structured logs (structlog) that carry the request id of the request being served.

Every line is redacted before it is written (:mod:`huntaze.kit.redact`): URL userinfo
passwords, secret-looking query values and ``name=value`` pairs, bearer credentials. That
holds for structlog's lines (a processor over the event's values, then the rendered line) and
for the standard library's (a record factory and a :class:`RedactingFilter` on the root
handlers), which carry httpx's, uvicorn's and SQLAlchemy's messages.
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from huntaze.kit.errors import ApiError, send_error
from huntaze.kit.redact import redact_text, redact_value

log = structlog.get_logger("huntaze")

#: Libraries whose INFO lines name the URLs they call; kept at WARNING (their lines are
#: redacted anyway, this keeps request-by-request noise and URLs out of the logs).
QUIET_LOGGERS = ("httpx", "httpcore", "hpack")

_TRACEBACKS = logging.Formatter()


def redact_event(_logger: Any, _method: str, event_dict: Any) -> Any:
    """structlog processor: :func:`~huntaze.kit.redact.redact_value` on every value of the
    event (strings anywhere inside dicts, lists and tuples; a value under a secret-looking
    key such as ``password`` or ``token`` is replaced by ``***``)."""
    return redact_value(event_dict)


def redacting_renderer(renderer: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a structlog renderer so its output (the whole line, exception text included)
    goes through :func:`~huntaze.kit.redact.redact_text`; bytes and other outputs pass
    unchanged."""

    def render(logger: Any, method: str, event_dict: Any) -> Any:
        line = renderer(logger, method, event_dict)
        return redact_text(line) if isinstance(line, str) else line

    return render


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a standard-library record in place: its rendered message (``msg % args``, then
    ``args`` dropped) and its exception and stack text; records with nothing to hide are
    left untouched. Returns the record."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: logging itself reports it when emitting
        return record
    redacted = redact_text(message)
    if redacted != message:
        record.msg = redacted
        record.args = None
    if record.exc_info and not record.exc_text:
        text = _TRACEBACKS.formatException(record.exc_info)
        cleaned = redact_text(text)
        if cleaned != text:
            record.exc_text = cleaned
    elif record.exc_text:
        record.exc_text = redact_text(record.exc_text)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """A :class:`logging.Filter` that lets every record through after
    :func:`redact_record`. :func:`configure_logging` puts one on each root handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; always True."""
        redact_record(record)
        return True


_installed_factory: Callable[..., logging.LogRecord] | None = None


def _install_record_factory() -> None:
    """Redact every standard-library record as it is created, so handlers added later
    (uvicorn's own, a test's capture) never see a credential either. Installed once."""
    global _installed_factory
    current = logging.getLogRecordFactory()
    if current is _installed_factory:
        return
    inner = current

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(inner(*args, **kwargs))

    _installed_factory = factory
    logging.setLogRecordFactory(factory)


def configure_logging(level: str = "INFO", json_lines: bool = False) -> None:
    """Configure structlog and the stdlib root logger, with every line redacted.

    Every line carries ``request_id`` while a request is served (contextvars). Tracebacks
    are plain (never with local variables, which may hold secrets) and redacted like the
    rest of the line. httpx and httpcore are kept at WARNING (:data:`QUIET_LOGGERS`).
    Loggers are not cached, so calling this again (``serve`` after an import, tests)
    always takes effect. Safe to call more than once.

    Raises:
        ValueError: for an unknown level name.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level: {level!r}")
    logging.basicConfig(level=numeric, format="%(message)s")
    _install_record_factory()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor
    if json_lines:
        processors.append(structlog.processors.format_exc_info)
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
    processors += [redact_event, redacting_renderer(renderer)]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=False,
    )


class RequestContext:
    """Pure ASGI middleware: the request id, the request log line, and a JSON 500 for any
    exception the app lets through.

    The id is the caller's ``X-Request-ID`` (1-64 printable characters) or a new one; it is
    bound to every log line of the request and echoed in the ``X-Request-ID`` response header
    of every response, 500s included. An unhandled exception is logged (``unhandled_error``,
    with its redacted traceback) and answered 500 ``internal_error``; it is not re-raised, so
    the server keeps the keep-alive connection open for the client's next request (uvicorn
    closes a connection whose app raised). If the response had already started, nothing more
    can be sent: the response is left incomplete and the server closes that connection.
    Headers and bodies are never logged, so tokens and secrets stay out of the logs.

    Args:
        app: the wrapped ASGI app.
    """

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = ""
        for name, value in scope.get("headers") or ():
            if name == b"x-request-id":
                given = value.decode("latin-1")
        request_id = given if 0 < len(given) <= 64 and given.isprintable() else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status: int | None = None

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers") or () if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # The traceback as text, without local variables (they may hold secrets), redacted.
            trace = "".join(traceback.format_exception(exc))
            log.error(
                "unhandled_error", error_type=type(exc).__name__, exception=redact_text(trace)
            )
            if status is None:
                await send_error(
                    send_with_id,
                    ApiError(500, "internal_error", "Something went wrong on our side"),
                )
        log.info(
            "request",
            method=scope.get("method"),
            path=scope.get("path"),
            status=status,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
