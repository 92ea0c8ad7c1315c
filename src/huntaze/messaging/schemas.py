"""Messaging request and response shapes (camelCase JSON; cents; UTC)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from huntaze.crm.schemas import SubscriptionStatus
from huntaze.kit.schema import CamelModel

Priority = Literal["high", "medium", "low"]


class OnlyFansSend(CamelModel):
    """``POST /api/onlyfans/messages/send`` (the seed's contract). ``recipientId`` is the fan's
    OnlyFans user id (``platformFanId``)."""

    recipient_id: str = Field(min_length=1, max_length=255)
    content: str = Field(min_length=1, max_length=10_000)
    priority: Priority = "medium"
    media_urls: list[str] = Field(default_factory=list, max_length=50)
    price_cents: int | None = Field(default=None, ge=0)


DELAY_REASON_DOC = (
    "why the message waits longer than its account's send rate alone: `account_paused` "
    "(its sending account needs reconnecting; no time can be promised until it is), "
    "`circuit_open` (the account's circuit breaker is open), `retry_backoff` (waiting for "
    "the next attempt after a failure)"
)


class SendQueued(CamelModel):
    """``{success, messageId, status: "queued", estimatedDelivery}``; ``estimatedDelivery`` is
    null while the account is paused, and ``delayReason`` then says why."""

    success: bool = True
    message_id: str
    status: str
    estimated_delivery: datetime | None
    delay_reason: str | None = Field(default=None, description=DELAY_REASON_DOC)


class MessageSend(CamelModel):
    """``POST /api/messages/send``: one message on any platform, to ``fanId`` or to the
    platform's ``recipientId``."""

    platform: str = Field(min_length=1, max_length=32)
    fan_id: str | None = None
    recipient_id: str | None = None
    content: str = Field(min_length=1, max_length=10_000)
    subject: str | None = Field(default=None, max_length=255)
    priority: Priority = "medium"
    media_urls: list[str] = Field(default_factory=list, max_length=50)
    price_cents: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_recipient(self) -> MessageSend:
        if (self.fan_id is None) == (self.recipient_id is None):
            raise ValueError("give exactly one of fanId and recipientId")
        return self


class MessageStatus(CamelModel):
    """``{messageId, status, sentAt, attempts, lastError?, estimatedDelivery?}``."""

    message_id: str
    status: str
    sent_at: datetime | None
    attempts: int
    last_error: str | None = None
    estimated_delivery: datetime | None = None
    delay_reason: str | None = Field(default=None, description=DELAY_REASON_DOC)
    platform: str
    priority: str
    fan_id: str | None
    account_id: str
    external_id: str | None = None


class BulkFilter(CamelModel):
    """The fan list's filters (``GET /api/crm/fans``), money in cents."""

    q: str | None = None
    platform: str | None = None
    tag: str | None = None
    subscription_status: SubscriptionStatus | None = None
    min_lifetime_value_cents: int | None = None
    max_lifetime_value_cents: int | None = None
    last_active_before: datetime | None = None
    last_active_after: datetime | None = None


class BulkRecipients(CamelModel):
    """Fan ids, or a filter over the creator's fans."""

    fan_ids: list[str] | None = Field(default=None, max_length=100_000)
    filter: BulkFilter | None = None

    @model_validator(mode="after")
    def _one(self) -> BulkRecipients:
        if (self.fan_ids is None) == (self.filter is None):
            raise ValueError("give exactly one of fanIds and filter")
        return self


class BulkSendIn(CamelModel):
    """``POST /api/messages/bulk``: ``template`` uses ``{username}``, ``{displayName}``,
    ``{firstName}`` or any custom field; ``default`` fills a missing value."""

    recipients: BulkRecipients
    template: str = Field(min_length=1, max_length=10_000)
    default: str = Field(default="", max_length=255)
    platform: str = Field(min_length=1, max_length=32)
    priority: Priority = "low"
    subject: str | None = Field(default=None, max_length=255)
    media_urls: list[str] = Field(default_factory=list, max_length=50)
    price_cents: int | None = Field(default=None, ge=0)


class Skipped(CamelModel):
    """A fan the bulk did not message, and why: ``opted_out``, ``no_channel``, ``not_found``."""

    fan_id: str
    reason: str


class BulkOut(CamelModel):
    """A bulk send: how many were queued, who was skipped, and progress by status."""

    success: bool = True
    bulk_id: str
    status: str
    platform: str
    queued: int
    skipped: list[Skipped]
    skipped_count: int
    counts: dict[str, int]
    created_at: datetime


class Cancelled(CamelModel):
    """How many queued messages a cancel stopped."""

    cancelled: int


class QueueRow(CamelModel):
    """Depth and oldest age (seconds) of one account's queue at one priority."""

    account_id: str
    platform: str
    priority: str
    depth: int
    oldest_age_seconds: float


class QueueOut(CamelModel):
    """``GET /api/messages/queue``."""

    items: list[QueueRow]


class ManualItem(CamelModel):
    """A message for a chatter to send by hand, held for them until ``claimedUntil``."""

    message_id: str
    account_id: str
    platform: str
    fan_id: str | None
    recipient: str
    content: str
    media_urls: list[str]
    price_cents: int | None
    claimed_until: datetime


class ManualList(CamelModel):
    """``GET /api/messages/manual``."""

    items: list[ManualItem]


class ManualReport(CamelModel):
    """``POST /api/messages/{id}/report``: what the chatter did."""

    status: Literal["sent", "failed"]
    external_id: str | None = Field(default=None, max_length=255)
    reason: str | None = Field(default=None, max_length=2000)


class AccountIn(CamelModel):
    """A sending account. ``secret`` is write-only (stored encrypted, never returned)."""

    platform: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")
    name: str = Field(min_length=1, max_length=100)
    channel: Literal["onlyfans_relay", "email", "manual", "noop"] | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    secret: str | None = Field(default=None, max_length=4096)
    send_limits: str | None = Field(default=None, max_length=200)


class AccountPatch(CamelModel):
    """Change some fields of a sending account; ``status: "active"`` after a reconnect.
    ``settings`` replaces the whole object; a value sent back masked (``***``) as the API
    showed it keeps the stored one."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    channel: Literal["onlyfans_relay", "email", "manual", "noop"] | None = None
    settings: dict[str, Any] | None = None
    secret: str | None = Field(default=None, max_length=4096)
    send_limits: str | None = Field(default=None, max_length=200)
    status: Literal["active"] | None = None


class AccountOut(CamelModel):
    """A sending account as the API shows it: no secret, only whether one is set; passwords
    and secret-looking query values in ``settings`` URLs are masked as ``***``."""

    id: str
    platform: str
    name: str
    channel: str
    settings: dict[str, Any]
    has_secret: bool
    send_limits: str | None
    effective_send_limits: str | None
    status: str
    status_reason: str | None
    breaker_state: str
    breaker_failures: int
    breaker_opened_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AccountList(CamelModel):
    """The creator's sending accounts."""

    items: list[AccountOut]
