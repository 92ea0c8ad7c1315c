"""Masking credentials (huntaze.kit.redact) and the redacting log configuration
(huntaze.kit.logging)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from huntaze.kit.logging import RedactingFilter, configure_logging, redact_event
from huntaze.kit.redact import is_secret_name, redact_text, redact_url, redact_value


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://bot:hunter2@relay.example/send?token=abc&team=1",
            "https://bot:***@relay.example/send?token=***&team=1",
        ),
        ("smtp://a%40b.c:p%2Fw@mail.example:587", "smtp://a%40b.c:***@mail.example:587"),
        ("smtp://bot@mail.example", "smtp://bot@mail.example"),  # no password: nothing hidden
        ("smtp://bot:@mail.example", "smtp://bot:***@mail.example"),
        ("https://u:p@ss@h.example/", "https://u:***@h.example/"),  # the last @ ends userinfo
        (
            "https://h.example/cb?a=1&access_token=x&X-Amz-Signature=y&apiKey=z&sig=w;pwd=v",
            "https://h.example/cb?a=1&access_token=***&X-Amz-Signature=***&apiKey=***&sig=***"
            ";pwd=***",
        ),
        (
            "https://h.example/#access_token=x&state=s",
            "https://h.example/#access_token=***&state=s",
        ),
        ("http://[::1]:8080/r?Password=x", "http://[::1]:8080/r?Password=***"),
        (
            "https://h.example/a?idempotency_key=k1&key=k2",
            "https://h.example/a?idempotency_key=k1&key=***",
        ),
        ("https://h.example/plain", "https://h.example/plain"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    "name",
    [
        "token",
        "access_token",
        "X-Api-Key",
        "clientSecret",
        "smtp_password",
        "pass",
        "pwd",
        "sig",
        "signature",
        "auth",
        "Authorization",
        "credential",
        "apikey",
        "private_key",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["team", "idempotency_key", "state", "page", "from", "relayUrl"])
def test_ordinary_names(name: str) -> None:
    assert not is_secret_name(name)


def test_redact_text_masks_urls_pairs_and_bearer_credentials() -> None:
    text = (
        'HTTP Request: POST http://u:s1@127.0.0.1:5/r?token=s2 "HTTP/1.1 400" '
        "GET /cb?password=s3 Authorization: Bearer s4 "
        '{"secret": "s 5", "name": "ok"} api_key=s6'
    )
    shown = redact_text(text)
    for secret in ("s1", "s2", "s3", "s4", "s 5", "s6"):
        assert secret not in shown
    assert '"name": "ok"' in shown and "127.0.0.1:5/r" in shown


def test_redact_text_scrubs_known_secrets_anywhere() -> None:
    assert redact_text("login bot hunter22 refused", ["hunter22", "", "ab"]) == (
        "login bot *** refused"
    )


def test_redact_value_walks_containers_and_masks_secret_keys() -> None:
    value = {"url": "http://a:b1234@h/", "items": ["x", ("token=t1",)], "password": "pw", "n": 3}
    assert redact_value(value) == {
        "url": "http://a:***@h/",
        "items": ["x", ("token=***",)],
        "password": "***",
        "n": 3,
    }


@pytest.fixture
def stdlib_logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("huntaze.test.redact")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_the_filter_redacts_messages_arguments_and_tracebacks(
    stdlib_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = stdlib_logger
    logger.info("HTTP Request: %s %s", "POST", "http://bot:pw-111@relay.test/r?token=tk-222")
    try:
        raise ValueError("could not reach smtp://m:pw-333@mail.test")
    except ValueError:
        logger.exception("failed")
    out = stream.getvalue()
    assert "pw-111" not in out and "tk-222" not in out and "pw-333" not in out
    assert "http://bot:***@relay.test/r?token=***" in out
    assert "smtp://m:***@mail.test" in out and "Traceback" in out


def test_configure_logging_redacts_structlog_lines_and_quiets_httpx(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = structlog.get_config()
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    try:
        configure_logging("DEBUG", json_lines=True)
        assert logging.getLogger("httpx").level == logging.WARNING
        assert logging.getLogger("httpcore").level == logging.WARNING
        log = structlog.get_logger("huntaze.test")
        log.info("relay_called", url="https://u:pw-444@relay.test/?sig=sg-555", token="tk-666")
        try:
            raise RuntimeError("POST https://u:pw-777@relay.test/")
        except RuntimeError:
            log.exception("relay_failed")
        out = capsys.readouterr().out
        for secret in ("pw-444", "sg-555", "tk-666", "pw-777"):
            assert secret not in out
        first = json.loads(out.splitlines()[0])
        assert first["url"] == "https://u:***@relay.test/?sig=***" and first["token"] == "***"
        assert "RuntimeError" in out
        # A record made through the standard library from now on is redacted at creation.
        record = logging.getLogger("x").makeRecord(
            "x", logging.INFO, __file__, 1, "to %s", ("http://a:pw-888@h/",), None
        )
        assert "pw-888" not in record.getMessage()
    finally:
        structlog.configure(**before)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def test_redact_event_is_a_structlog_processor() -> None:
    event = redact_event(None, "info", {"event": "x", "smtp": "smtp://u:p1234@h"})
    assert event == {"event": "x", "smtp": "smtp://u:***@h"}
