"""Messaging request and response shapes (camelCase JSON; cents; UTC).

Request models derive from :class:`huntaze.fans.schemas.SafeModel`: no string in a request may
hold a NUL character or a lone surrogate (422 naming the field). Integers are bounded by their
columns (``priceCents`` fits ``BIGINT``), ``settings`` by
:func:`huntaze.kit.validation.check_json`, and the bulk filter's dates read a date as midnight
UTC and a datetime without a zone as UTC (:data:`huntaze.kit.validation.UtcDateTime`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from huntaze.fans.schemas import AudienceFilter, SafeModel
from huntaze.kit.schema import CamelModel
from huntaze.kit.validation import Cents, JsonObject, Platform

Priority = Literal["high", "medium", "low"]
#: At most this many fan ids in one bulk.
MAX_BULK_FAN_IDS = 100_000
#: A message's text (and a bulk's template) is at most this many characters.
MAX_CONTENT = 10_000
#: At most this many media URLs on a message, each at most :data:`MAX_MEDIA_URL` characters.
MAX_MEDIA = 50
MAX_MEDIA_URL = 2048
#: An id in a request (a fan id, a recipient id) is at most this many characters.
MAX_ID = 255


MediaUrls = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=MAX_MEDIA_URL)]],
    Field(max_length=MAX_MEDIA),
]


class OnlyFansSend(SafeModel):
    """``POST /api/onlyfans/messages/send`` (the seed's contract). ``recipientId`` is the fan's
    OnlyFans user id (``platformFanId``)."""

    recipient_id: str = Field(min_length=1, max_length=MAX_ID)
    content: str = Field(min_length=1, max_length=MAX_CONTENT)
    priority: Priority = "medium"
    media_urls: MediaUrls = Field(default_factory=list)
    price_cents: Cents | None = None


DELAY_REASON_DOC = (
    "why the message waits longer than its account's send rate alone: `account_paused` "
    "(its sending account needs reconnecting; no time can be promised until it is), "
    "`circuit_open` (the account's circuit breaker is open), `retry_backoff` (waiting for "
    "the next attempt after a failure), `beyond_calendar` (the queue ahead is so deep at the "
    "account's limits that its time would fall after year 9999; no time is given)"
)


class SendQueued(CamelModel):
    """``{success, messageId, status: "queued", estimatedDelivery}``; ``estimatedDelivery`` is
    null while the account is paused, and ``delayReason`` then says why."""

    success: bool = True
    message_id: str
    status: str
    estimated_delivery: datetime | None
    delay_reason: str | None = Field(default=None, description=DELAY_REASON_DOC)


class MessageSend(SafeModel):
    """``POST /api/messages/send``: one message on any platform, to ``fanId`` or to the
    platform's ``recipientId``."""

    platform: Platform = Field(min_length=1, max_length=32)
    fan_id: str | None = Field(default=None, min_length=1, max_length=MAX_ID)
    recipient_id: str | None = Field(default=None, min_length=1, max_length=MAX_ID)
    content: str = Field(min_length=1, max_length=MAX_CONTENT)
    subject: str | None = Field(default=None, max_length=255)
    priority: Priority = "medium"
    media_urls: MediaUrls = Field(default_factory=list)
    price_cents: Cents | None = None

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


class BulkFilter(AudienceFilter):
    """The fan list's filters (``GET /api/crm/fans``), money in cents. ``lastActiveBefore``
    and ``lastActiveAfter`` read ``2025-06-01`` as midnight UTC and a datetime without a zone
    as UTC."""

    # The audience filter itself (huntaze.fans.schemas.AudienceFilter), under the name and
    # description the bulk route's OpenAPI document has always given it.


class BulkRecipients(SafeModel):
    """Fan ids, or a filter over the creator's fans."""

    fan_ids: list[Annotated[str, Field(min_length=1, max_length=MAX_ID)]] | None = Field(
        default=None, max_length=MAX_BULK_FAN_IDS
    )
    filter: BulkFilter | None = None

    @model_validator(mode="after")
    def _one(self) -> BulkRecipients:
        if (self.fan_ids is None) == (self.filter is None):
            raise ValueError("give exactly one of fanIds and filter")
        return self


class BulkSendIn(SafeModel):
    """``POST /api/messages/bulk``: ``template`` uses ``{username}``, ``{displayName}``,
    ``{firstName}``, ``{email}``, ``{platform}`` or any custom field by name, as many as it
    likes; ``default`` fills a missing value."""

    recipients: BulkRecipients
    template: str = Field(min_length=1, max_length=MAX_CONTENT)
    default: str = Field(default="", max_length=255)
    platform: Platform = Field(min_length=1, max_length=32)
    priority: Priority = "low"
    subject: str | None = Field(default=None, max_length=255)
    media_urls: MediaUrls = Field(default_factory=list)
    price_cents: Cents | None = None


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


class ManualReport(SafeModel):
    """``POST /api/messages/{id}/report``: what the chatter did."""

    status: Literal["sent", "failed"]
    external_id: str | None = Field(default=None, max_length=255)
    reason: str | None = Field(default=None, max_length=2000)


def _trimmed(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


#: A sending account's name: trimmed, 1 to 100 characters, unique per creator and platform
#: (exact spelling: ``Main`` and ``main`` are two names).
AccountName = Annotated[str, BeforeValidator(_trimmed), Field(min_length=1, max_length=100)]


class AccountIn(SafeModel):
    """A sending account. ``secret`` is write-only (stored encrypted, never returned)."""

    platform: Platform = Field(min_length=1, max_length=32)
    name: AccountName
    channel: Literal["onlyfans_relay", "email", "manual", "noop"] | None = None
    settings: JsonObject = Field(default_factory=dict)
    secret: str | None = Field(default=None, max_length=4096)
    send_limits: str | None = Field(default=None, max_length=200)


class AccountPatch(SafeModel):
    """Change some fields of a sending account; ``status: "active"`` after a reconnect.
    ``settings`` replaces the whole object; a value sent back masked (``***``) as the API
    showed it keeps the stored one."""

    name: AccountName | None = None
    channel: Literal["onlyfans_relay", "email", "manual", "noop"] | None = None
    settings: JsonObject | None = None
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
