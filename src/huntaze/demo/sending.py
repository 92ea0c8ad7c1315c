"""Sending under ``huntaze serve --demo``: a relay and an SMTP server on loopback.

``serve --demo`` starts the package's own fakes (the OnlyFans relay of docs/relay.md and an
SMTP server), points the demo creator's two sending accounts at them and lets the server reach
exactly those two ``host:port`` targets. Messages then go through the real channel code (signed
relay requests, SMTP transactions) and end ``sent``. Nothing leaves the machine: each message
the fakes accept is printed and appended as one JSON line to a deliveries file next to the
SQLite database (:data:`DELIVERIES_FILE`)::

    log = DeliveryLog(deliveries_path(settings.database_url), echo=print)
    with DemoSenders(log) as senders:
        settings = settings.model_copy(
            update={"allowed_private_targets": senders.allowed_targets}
        )
        with sessions() as session:
            ensure_demo_accounts(session, creator_id, box, now, senders, settings)
            session.commit()
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import structlog
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from huntaze.config import Settings
from huntaze.demo import DEMO_HANDLE
from huntaze.kit.crypto import SecretBox
from huntaze.kit.lifecycle import StartStop
from huntaze.messaging.account_settings import url_policy
from huntaze.messaging.accounts import create_account
from huntaze.models.crm import Fan
from huntaze.models.messaging import SendingAccount
from huntaze.models.tenancy import Creator
from huntaze.platforms.email.fake import FakeSmtpServer, ReceivedEmail
from huntaze.platforms.onlyfans.fake import FakeRelay, RelayRequest

log = structlog.get_logger("huntaze.demo")

DELIVERIES_FILE = "huntaze-demo-deliveries.jsonl"
"""The file, next to the SQLite database, that receives one JSON line per delivery."""

ACCOUNT_NAME = "demo"
"""The name of the demo creator's sending accounts (one per platform)."""

DEMO_SENDER = "Huntaze demo <demo@example.com>"
"""The ``From`` of the demo's emails (``example.com`` is reserved, RFC 2606)."""


def deliveries_path(database_url: str) -> Path:
    """Where the demo writes deliveries: :data:`DELIVERIES_FILE` in the directory of the
    SQLite file of ``database_url``, or in the current directory for any other database (or
    an in-memory or malformed URL). Returned absolute."""
    directory = Path.cwd()
    try:
        url = make_url(database_url)
    except ArgumentError:
        return directory / DELIVERIES_FILE
    database = url.database or ""
    on_disk = database not in ("", ":memory:") and not database.startswith("file:")
    if url.get_backend_name() == "sqlite" and on_disk:
        directory = Path(database).expanduser().resolve().parent
    return directory / DELIVERIES_FILE


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _short(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class DeliveryLog:
    """Records what the demo's fakes deliver: one JSON object per line in ``path`` (created
    when missing, appended to otherwise) and a one-line summary passed to ``echo``.

    Each line has ``deliveredAt`` (ISO 8601 UTC), ``platform`` (``onlyfans`` or ``email``),
    ``messageId`` (Huntaze's ``msg_…``), ``to`` and ``content``; relay lines add ``externalId``,
    ``mediaUrls`` and ``priceCents``, email lines ``from`` and ``subject``. An email that is
    delivered twice (at-least-once, after a crash) appears twice with the same ``messageId``.

    Thread-safe. A write that fails (disk full, file removed with its directory) is logged
    and skipped: the delivery itself still counts.
    """

    def __init__(self, path: Path, echo: Callable[[str], None] | None = None) -> None:
        self.path = path
        self._echo = echo
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        """Append ``record`` as one JSON line and echo its summary."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            try:
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(line)
            except OSError as exc:
                log.warning("demo_delivery_not_recorded", error=str(exc), path=str(self.path))
            if self._echo is not None:
                self._echo(
                    f"delivered {record['platform']} {record.get('messageId')} to "
                    f"{record.get('to')}: {_short(str(record.get('content', '')))}"
                )

    def relay(self, request: RelayRequest) -> None:
        """Record a message the demo relay accepted (:class:`FakeRelay`'s ``on_delivery``)."""
        payload = request.payload
        self.write(
            {
                "deliveredAt": _now_iso(),
                "platform": "onlyfans",
                "messageId": payload.get("messageId"),
                "to": payload.get("recipientId"),
                "content": payload.get("content"),
                "mediaUrls": payload.get("mediaUrls") or [],
                "priceCents": payload.get("priceCents"),
                "externalId": request.external_id,
            }
        )

    def email(self, received: ReceivedEmail) -> None:
        """Record an email the demo SMTP server accepted (:class:`FakeSmtpServer`'s
        ``on_message``)."""
        message = received.message
        body = message.get_body(preferencelist=("plain",))
        content = body.get_content() if body is not None else ""
        self.write(
            {
                "deliveredAt": _now_iso(),
                "platform": "email",
                "messageId": message.get("X-Huntaze-Message-Id"),
                "to": ", ".join(received.rcpt_tos),
                "from": received.mail_from,
                "subject": message.get("Subject"),
                "content": content.rstrip("\n"),
            }
        )


class DemoSenders(StartStop):
    """The demo's OnlyFans relay and SMTP server, both on free ports of 127.0.0.1.

    Args:
        deliveries: where accepted messages are recorded.

    Attributes:
        relay_secret: the relay's HMAC secret, new for every instance (32 random bytes).
    """

    def __init__(self, deliveries: DeliveryLog) -> None:
        self.deliveries = deliveries
        self.relay_secret = secrets.token_urlsafe(32)
        self._relay = FakeRelay(self.relay_secret, on_delivery=deliveries.relay, keep_records=False)
        self._smtp = FakeSmtpServer(on_message=deliveries.email, keep_records=False)

    def start(self) -> DemoSenders:
        """Start both servers (each in its own daemon thread). aiosmtpd's own log
        (``mail.log``, a few lines per SMTP command) is turned down to warnings: the
        deliveries file and the echo already say what arrived.

        Raises:
            OSError: a server could not bind (none stays running then).
        """
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self._relay.start()
        try:
            self._smtp.start()
        except BaseException:
            self._relay.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop both servers; messages sent afterwards are retried by the outbox."""
        try:
            self._smtp.stop()
        finally:
            self._relay.stop()

    @property
    def relay_url(self) -> str:
        """``http://127.0.0.1:<port>/messages`` (once started)."""
        return self._relay.url

    @property
    def smtp_url(self) -> str:
        """``smtp://127.0.0.1:<port>?starttls=false`` (once started): plain SMTP on loopback."""
        return f"smtp://127.0.0.1:{self._smtp.port}?starttls=false"

    @property
    def allowed_targets(self) -> str:
        """``127.0.0.1:<relay port>,127.0.0.1:<smtp port>``, the value of
        ``Settings.allowed_private_targets`` that lets the server reach these two servers and
        no other private address."""
        relay_port = urlsplit(self.relay_url).port
        return f"127.0.0.1:{relay_port},127.0.0.1:{self._smtp.port}"


def merge_targets(configured: str, added: str) -> str:
    """``configured`` and ``added`` (comma-separated ``host:port`` lists) as one list, each
    entry once, in order: the demo's fakes join whatever the environment already allows."""
    seen: list[str] = []
    for entry in (configured + "," + added).split(","):
        entry = entry.strip()
        if entry and entry not in seen:
            seen.append(entry)
    return ",".join(seen)


def find_demo_creator(session: Session) -> str | None:
    """The id of the demo creator (handle :data:`~huntaze.demo.DEMO_HANDLE`), or ``None``."""
    return session.scalar(select(Creator.id).where(Creator.handle == DEMO_HANDLE))


def ensure_demo_accounts(
    session: Session,
    creator_id: str,
    box: SecretBox,
    now: datetime,
    senders: DemoSenders,
    settings: Settings,
) -> list[SendingAccount]:
    """Point the creator's ``demo`` accounts at ``senders``; the caller commits.

    Creates the ``onlyfans`` (channel ``onlyfans_relay``) and ``email`` accounts named
    :data:`ACCOUNT_NAME` when missing, their URLs checked against the address guard of
    ``settings`` (which must allow ``senders.allowed_targets``). An existing one (from an
    earlier start, whose fakes listened on other ports) gets the new URL and relay secret, is
    made ``active`` with a closed circuit breaker, and its ``config_version`` goes up so that
    every worker rebuilds its channel. Returns the two accounts, OnlyFans first.

    Raises:
        huntaze.kit.errors.ApiError: from :func:`~huntaze.messaging.accounts.create_account`
            if an account cannot be created (422 ``unsafe_url`` when ``settings`` do not
            allow the fakes).
    """
    policy = url_policy(settings)
    wanted: list[tuple[str, str, dict[str, Any], str | None]] = [
        ("onlyfans", "onlyfans_relay", {"relayUrl": senders.relay_url}, senders.relay_secret),
        ("email", "email", {"smtpUrl": senders.smtp_url, "from": DEMO_SENDER}, None),
    ]
    accounts: list[SendingAccount] = []
    for platform, channel, values, secret in wanted:
        account = session.scalar(
            select(SendingAccount).where(
                SendingAccount.creator_id == creator_id,
                SendingAccount.platform == platform,
                SendingAccount.name == ACCOUNT_NAME,
            )
        )
        if account is None:
            account = create_account(
                session,
                creator_id,
                box,
                now,
                platform=platform,
                name=ACCOUNT_NAME,
                channel=channel,
                settings=values,
                secret=secret,
                policy=policy,
            )
        else:
            account.channel = channel
            account.settings = values
            account.secret_encrypted = box.encrypt(secret) if secret else None
            account.status = "active"
            account.status_reason = None
            account.breaker_state = "closed"
            account.breaker_failures = 0
            account.breaker_opened_at = None
            account.config_version = (account.config_version or 0) + 1
            account.updated_at = now
            session.flush()
        accounts.append(account)
    return accounts


@dataclass(frozen=True, slots=True)
class DemoRecipients:
    """Real demo fans for the printed send examples.

    Attributes:
        onlyfans_recipient_id: an OnlyFans fan's OnlyFans user id (``recipientId``).
        email_fan_id: Huntaze's id of a fan with an email address (``fanId``).
    """

    onlyfans_recipient_id: str | None
    email_fan_id: str | None


def demo_recipients(session: Session, creator_id: str) -> DemoRecipients:
    """The creator's top OnlyFans fan and top fan with an email (by lifetime value, then id),
    leaving out fans who opted out; ``None`` where there is no such fan."""
    reachable = (Fan.creator_id == creator_id, Fan.consent != "opted_out")
    order = (Fan.lifetime_value_cents.desc(), Fan.id)
    onlyfans = session.scalar(
        select(Fan.platform_fan_id)
        .where(*reachable, Fan.platform == "onlyfans", Fan.platform_fan_id != "")
        .order_by(*order)
        .limit(1)
    )
    email = session.scalar(
        select(Fan.id)
        .where(*reachable, Fan.email.is_not(None), Fan.email != "")
        .order_by(*order)
        .limit(1)
    )
    return DemoRecipients(onlyfans, email)
