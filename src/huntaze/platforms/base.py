"""The send-a-message protocol every messaging channel implements.

A channel turns one outbox row into one platform call. It reports the outcome by returning a
:class:`SendResult` or by raising one of :class:`RetryableError`, :class:`PermanentError` and
:class:`ReconnectRequired`; the outbox decides what happens next (retry with backoff, fail,
pause the account).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message to send.

    Attributes:
        message_id: the outbox id (``msg_…``).
        idempotency_key: the same for every attempt of this message, so a platform or relay can
            drop a duplicate after a crash.
        account_id: the sending account (``acc_…``).
        platform: ``onlyfans``, ``email``…
        recipient: the platform's address of the fan: the OnlyFans user id, an email address.
        content: the text, already personalised.
        media_urls: media references.
        price_cents: the PPV price in cents, or ``None`` for a free message.
        subject: the email subject, where the channel has one.
        fan_id: Huntaze's fan id.
        campaign_id: the campaign that queued it, if any (its links are tracked).
    """

    message_id: str
    idempotency_key: str
    account_id: str
    platform: str
    recipient: str
    content: str
    media_urls: tuple[str, ...] = ()
    price_cents: int | None = None
    subject: str | None = None
    fan_id: str | None = None
    campaign_id: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """A message the platform accepted; ``external_id`` is its id there, when it gives one."""

    external_id: str | None = None


class RetryableError(Exception):
    """A transient failure (timeout, 5xx, 429): try again later.

    Args:
        reason: what happened, kept as the message's ``lastError``.
        retry_after: seconds the platform asked us to wait (``Retry-After``), or ``None``.
    """

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PermanentError(Exception):
    """A failure that retrying cannot fix (unknown recipient, rejected content, messaging
    window closed): the message fails at once with ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReconnectRequired(Exception):
    """The account's credentials no longer work; nothing is sent until it is reconnected."""

    def __init__(self, reason: str = "the account must be reconnected") -> None:
        super().__init__(reason)
        self.reason = reason


class Channel(Protocol):
    """Sends messages for one sending account.

    ``deduplicates`` is True when the receiving end drops a message whose idempotency key it
    has already accepted (the relay contract, docs/relay.md "Replay protection and
    duplicates"). Workers then record that channel's successes in groups: a crash can repeat
    a whole group, and the receiver answers the repeats without sending them again. Channels
    whose receiver cannot do that (SMTP) say False, and each success is recorded before the
    next send, so a crash repeats at most one message.
    """

    deduplicates: bool

    def send(self, message: OutgoingMessage) -> SendResult:
        """Send ``message`` once.

        Raises:
            RetryableError: transient failure (with ``retry_after`` when the platform gave one).
            PermanentError: the message can never be sent as it is.
            ReconnectRequired: the account's credentials are refused.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@dataclass(frozen=True, slots=True)
class AccountConfig:
    """What a channel needs to know about its sending account.

    ``settings`` holds non-secret settings (a relay URL, a from address); ``secret`` the
    decrypted secret (a relay's HMAC secret, an SMTP password) or ``None`` to use the
    defaults from the environment.
    """

    account_id: str
    platform: str
    settings: dict[str, Any] = field(default_factory=dict)
    secret: str | None = None
