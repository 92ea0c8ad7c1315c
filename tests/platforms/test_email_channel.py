"""The email channel against the loopback fake SMTP server (design.md §1.4)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from huntaze.platforms.base import (
    AccountConfig,
    OutgoingMessage,
    PermanentError,
    ReconnectRequired,
    RetryableError,
)
from huntaze.platforms.email import EmailChannel, parse_smtp_url
from huntaze.platforms.email.channel import default_subject, message_id_for
from huntaze.platforms.email.fake import FakeSmtpServer
from tests.netfakes import channel_settings, self_signed

# aiosmtpd itself sets the deprecated Session.login_data on every successful AUTH.
pytestmark = pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")

SENDER = "creator@example.com"


def message(n: int = 1, **overrides: object) -> OutgoingMessage:
    values: dict[str, object] = {
        "message_id": f"msg_{n}",
        "idempotency_key": f"idem_{n}",
        "account_id": "acc_1",
        "platform": "email",
        "recipient": "fan@example.org",
        "content": f"Hello number {n}\nSecond line",
    }
    values.update(overrides)
    return OutgoingMessage(**values)  # type: ignore[arg-type]


def channel_for(url: str, **account: object) -> EmailChannel:
    config = AccountConfig("acc_1", "email", {"smtpUrl": url, "from": SENDER, **account})
    return EmailChannel(config, channel_settings(), timeout=5.0)


@pytest.fixture
def smtp() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer(username="bot", password="s3cret") as server:
        yield server


@pytest.fixture
def channel(smtp: FakeSmtpServer) -> Iterator[EmailChannel]:
    ch = channel_for(smtp.url)
    yield ch
    ch.close()


# -- success ----------------------------------------------------------------------------


def test_send_delivers_with_headers_and_auth(smtp: FakeSmtpServer, channel: EmailChannel) -> None:
    result = channel.send(
        message(
            subject="Your weekly drop",
            media_urls=("https://cdn.example/a.jpg", "https://cdn.example/b.mp4"),
            content="Hi Ana ✨\nNew set is up",
        )
    )

    assert len(smtp.messages) == 1
    got = smtp.messages[0]
    assert got.login == "bot"
    assert got.mail_from == SENDER
    assert got.rcpt_tos == ("fan@example.org",)
    assert got.tls is False
    assert got.headers["Subject"] == "Your weekly drop"
    assert got.headers["From"] == SENDER
    assert got.headers["To"] == "fan@example.org"
    assert got.headers["Message-ID"] == "<idem_1@huntaze>"
    assert got.headers["X-Huntaze-Message-Id"] == "msg_1"
    assert "Date" in got.headers
    body = got.message.get_content()
    assert body.startswith("Hi Ana ✨\nNew set is up")
    assert body.rstrip().endswith("https://cdn.example/a.jpg\nhttps://cdn.example/b.mp4")
    assert result.external_id == "<idem_1@huntaze>"


def test_connection_is_reused_across_sends(smtp: FakeSmtpServer, channel: EmailChannel) -> None:
    for n in range(3):
        channel.send(message(n))
    assert [m.headers["Message-ID"] for m in smtp.messages] == [
        "<idem_0@huntaze>",
        "<idem_1@huntaze>",
        "<idem_2@huntaze>",
    ]
    assert smtp.sessions == 1


def test_default_subject_is_first_line_cut_to_78() -> None:
    assert default_subject("\n  Hello there  \nmore") == "Hello there"
    long = "x" * 100
    assert len(default_subject(long)) == 78
    assert default_subject(long).endswith("…")
    assert default_subject("") == "(no subject)"


def test_default_subject_used_when_message_has_none(
    smtp: FakeSmtpServer, channel: EmailChannel
) -> None:
    channel.send(message(content="A" * 90 + "\nrest"))
    assert smtp.messages[0].headers["Subject"] == "A" * 77 + "…"


def test_message_id_of_odd_key_is_a_stable_digest() -> None:
    odd = message_id_for("key with spaces/<>")
    assert odd == message_id_for("key with spaces/<>")
    assert odd.startswith("<") and odd.endswith("@huntaze>") and " " not in odd


def test_plain_server_without_auth_or_starttls() -> None:
    with FakeSmtpServer() as server:
        assert server.url.startswith("smtp://127.0.0.1:")
        ch = channel_for(server.url)
        ch.send(message())
        ch.close()
    assert server.messages[0].login is None
    assert server.messages[0].tls is False


def test_starttls_required_but_not_offered_is_permanent() -> None:
    with FakeSmtpServer() as server:
        ch = channel_for(server.url + "?starttls=true")
        with pytest.raises(PermanentError, match="STARTTLS"):
            ch.send(message())
    assert server.messages == []


def test_credentials_are_url_decoded() -> None:
    with FakeSmtpServer(username="bot@example.com", password="p@ss:w/rd %") as server:
        assert "bot%40example.com:p%40ss%3Aw%2Frd%20%25@" in server.url
        ch = channel_for(server.url)
        ch.send(message())
        ch.close()
    assert server.messages[0].login == "bot@example.com"


def test_account_secret_overrides_url_password(smtp: FakeSmtpServer) -> None:
    url = f"smtp://bot:wrong@127.0.0.1:{smtp.port}"
    config = AccountConfig("acc_1", "email", {"smtpUrl": url, "from": SENDER}, secret="s3cret")
    ch = EmailChannel(config, channel_settings())
    ch.send(message())
    ch.close()
    assert smtp.messages[0].login == "bot"


def test_settings_defaults_apply_when_account_has_none(smtp: FakeSmtpServer) -> None:
    ch = EmailChannel(
        AccountConfig("acc_1", "email"),
        channel_settings(smtp_url=SecretStr(smtp.url), email_from="studio@example.com"),
    )
    ch.send(message())
    ch.close()
    assert smtp.messages[0].mail_from == "studio@example.com"


# -- TLS --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a self-signed 127.0.0.1 cert."""
    return self_signed(tmp_path_factory.mktemp("tls"), "127.0.0.1")


def test_starttls_upgrade_when_offered(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_ctx, client_ctx = tls
    with FakeSmtpServer(username="bot", password="s3cret", tls_context=server_ctx) as server:
        config = AccountConfig("acc_1", "email", {"smtpUrl": server.url, "from": SENDER})
        ch = EmailChannel(config, channel_settings(), ssl_context=client_ctx)
        ch.send(message())
        ch.close()
    assert server.messages[0].tls is True
    assert server.messages[0].login == "bot"


def test_starttls_false_stays_plain(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_ctx, client_ctx = tls
    with FakeSmtpServer(tls_context=server_ctx) as server:
        config = AccountConfig(
            "acc_1", "email", {"smtpUrl": server.url + "?starttls=false", "from": SENDER}
        )
        ch = EmailChannel(config, channel_settings(), ssl_context=client_ctx)
        ch.send(message())
        ch.close()
    assert server.messages[0].tls is False


def test_smtps_implicit_tls(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_ctx, client_ctx = tls
    with FakeSmtpServer(
        username="bot", password="s3cret", tls_context=server_ctx, implicit_tls=True
    ) as server:
        assert server.url.startswith("smtps://")
        config = AccountConfig("acc_1", "email", {"smtpUrl": server.url, "from": SENDER})
        ch = EmailChannel(config, channel_settings(), ssl_context=client_ctx)
        ch.send(message())
        ch.close()
    assert server.messages[0].tls is True


# -- failures ---------------------------------------------------------------------------


def test_refused_recipient_is_permanent_with_server_text(
    smtp: FakeSmtpServer, channel: EmailChannel
) -> None:
    smtp.reject_recipients("ghost@example.org")
    with pytest.raises(PermanentError) as caught:
        channel.send(message(recipient="ghost@example.org"))
    assert "550" in caught.value.reason
    assert "User unknown" in caught.value.reason
    channel.send(message(2))  # the connection survives a refused recipient
    assert [m.rcpt_tos for m in smtp.messages] == [("fan@example.org",)]
    assert smtp.sessions == 1


@pytest.mark.parametrize("code", [451, 421])
def test_temporary_reply_is_retryable(
    smtp: FakeSmtpServer, channel: EmailChannel, code: int
) -> None:
    smtp.fail_next(1, code=code)
    with pytest.raises(RetryableError) as caught:
        channel.send(message())
    assert str(code) in caught.value.reason
    assert smtp.messages == []
    channel.send(message())
    assert len(smtp.messages) == 1


def test_dropped_connection_is_retryable_then_reconnects(
    smtp: FakeSmtpServer, channel: EmailChannel
) -> None:
    channel.send(message(1))
    smtp.drop_next(1)
    with pytest.raises(RetryableError, match="disconnected"):
        channel.send(message(2))
    assert smtp.dropped == 1
    channel.send(message(2))  # the retry reconnects and carries the same Message-ID
    assert [m.headers["Message-ID"] for m in smtp.messages] == [
        "<idem_1@huntaze>",
        "<idem_2@huntaze>",
    ]
    assert smtp.sessions == 2


def test_idle_connection_closed_by_server_is_reopened_once(
    smtp: FakeSmtpServer, channel: EmailChannel
) -> None:
    channel.send(message(1))
    smtp.disconnect_all()
    channel.send(message(2))  # no error: the stale connection is noticed and replaced
    assert len(smtp.messages) == 2
    assert smtp.sessions == 2


def test_bad_credentials_require_reconnect(smtp: FakeSmtpServer) -> None:
    ch = channel_for(f"smtp://bot:nope@127.0.0.1:{smtp.port}")
    with pytest.raises(ReconnectRequired, match="535"):
        ch.send(message())
    assert smtp.failed_logins >= 1  # smtplib tries each offered mechanism
    assert smtp.messages == []


def test_unreachable_server_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ch = channel_for(f"smtp://127.0.0.1:{port}")
    with pytest.raises(RetryableError, match="connection failed"):
        ch.send(message())


def test_missing_sender_is_permanent(smtp: FakeSmtpServer) -> None:
    ch = EmailChannel(AccountConfig("acc_1", "email", {"smtpUrl": smtp.url}), channel_settings())
    with pytest.raises(PermanentError, match="no sender address configured"):
        ch.send(message())


def test_missing_server_is_permanent() -> None:
    ch = EmailChannel(AccountConfig("acc_1", "email", {"from": SENDER}), channel_settings())
    with pytest.raises(PermanentError, match="no SMTP server configured"):
        ch.send(message())


def test_header_injection_is_refused(smtp: FakeSmtpServer, channel: EmailChannel) -> None:
    with pytest.raises(PermanentError):
        channel.send(message(recipient="fan@example.org\r\nBcc: all@example.org"))
    assert smtp.messages == []


def test_close_quits_and_a_later_send_reconnects(
    smtp: FakeSmtpServer, channel: EmailChannel
) -> None:
    channel.send(message(1))
    channel.close()
    channel.close()  # idempotent
    channel.send(message(2))
    assert len(smtp.messages) == 2
    assert smtp.sessions == 2


# -- URL parsing ------------------------------------------------------------------------


def test_parse_smtp_url() -> None:
    plain = parse_smtp_url("smtp://a%40b.c:p%2Fw@mail.example")
    assert (plain.host, plain.port, plain.implicit_tls, plain.starttls) == (
        "mail.example",
        587,
        False,
        "auto",
    )
    assert (plain.user, plain.password) == ("a@b.c", "p/w")
    tls = parse_smtp_url("smtps://mail.example", password="x")
    assert (tls.port, tls.implicit_tls, tls.user, tls.password) == (465, True, None, "x")
    assert parse_smtp_url("smtp://h:25?starttls=FALSE").starttls == "false"
    for bad in ("http://h", "smtp://", "smtp://h?starttls=maybe", "smtp://h:99999"):
        with pytest.raises(PermanentError):
            parse_smtp_url(bad)
