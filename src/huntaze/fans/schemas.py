"""CRM request and response shapes (camelCase JSON). Money in cents; datetimes UTC ISO 8601.

Every request model here derives from :class:`SafeModel`, so no string anywhere in a request
(a field, a list item, a key or value of free-form JSON) can hold a NUL character or a lone
surrogate, which no database column can store (:func:`huntaze.kit.validation.check_text`).
Free-form JSON (``customFields``) is bounded by :func:`huntaze.kit.validation.check_json`,
integers by the ``BIGINT`` columns they land in, and stored datetimes to years 1900 to 9999.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import AfterValidator, BeforeValidator, Field, field_validator

from huntaze.fans.tags import tag_key
from huntaze.kit.money import normalise_currency
from huntaze.kit.schema import CamelModel, Page
from huntaze.kit.validation import (
    MAX_TAG,
    Email,
    Int64,
    JsonObject,
    Platform,
    as_utc,
    check_text,
)
from huntaze.models.crm import ConsentValue, SubscriptionStatusValue

SubscriptionStatus = SubscriptionStatusValue
Consent = ConsentValue
_TIMEZONES = available_timezones()

#: The earliest and latest instants a stored datetime may hold. Python's ``datetime`` ends
#: with year 9999; a day of margin keeps any time zone's reading of a stored value inside it.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
#: A fan has at most this many tags.
MAX_TAGS = 200
#: ``notes`` is at most this many characters.
MAX_NOTES = 20_000


def _text_at(text: str, path: str) -> None:
    try:
        check_text(text)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}" if path else str(exc)) from None


def check_strings(value: Any) -> Any:
    """Return ``value`` if every string in it (nested lists, tuples, sets, dict keys and
    values included) passes :func:`~huntaze.kit.validation.check_text`; walks without
    recursion. Pydantic models inside are skipped: they check their own fields.

    Raises:
        ValueError: naming where the NUL or lone surrogate is (``[3]``, ``a.b``, ``a key``);
            the message never repeats the offending text.
    """
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            _text_at(item, path)
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str):
                    _text_at(key, f"{path} (a key)" if path else "a key")
                stack.append((child, f"{path}.{key}" if path else str(key)))
        elif isinstance(item, list | tuple | set | frozenset):
            for index, child in enumerate(item):
                if isinstance(child, str):  # the common case, without building its path
                    try:
                        check_text(child)
                    except ValueError:
                        _text_at(child, f"{path}[{index}]")
                else:
                    stack.append((child, f"{path}[{index}]"))
    return value


class SafeModel(CamelModel):
    """A request model whose every field passes :func:`check_strings`: a NUL character or a
    lone surrogate anywhere answers 422 naming the field, never a 500 from the database."""

    @field_validator("*", mode="after")
    @classmethod
    def _text_is_storable(cls, value: Any) -> Any:
        return check_strings(value)


def utc_instant(value: datetime | None) -> datetime | None:
    """Return an aware ``value`` in UTC, between :data:`EARLIEST` and :data:`LATEST`.

    Raises:
        ValueError: for a datetime without a time zone, or one outside the bounds.
    """
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("give a time zone (for example 2026-01-01T10:00:00Z)")
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        value = None
    if value is None or not EARLIEST <= value <= LATEST:
        raise ValueError("must be between 1900-01-01 and 9999-12-30 (UTC)")
    return value


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


#: An email address or null; a blank string reads as null
#: (:func:`~huntaze.kit.validation.check_email`: trimmed, lower-cased, no CR/LF, ≤ 320).
OptionalEmail = Annotated[Email | None, BeforeValidator(_blank_is_none)]
#: A fan's free-form fields (:func:`~huntaze.kit.validation.check_json`: depth ≤ 8, ≤ 2,000
#: values, ≤ 64 KiB of text, keys ≤ 255 characters, integers within 64 bits).
CustomFields = JsonObject


def _check_tags(value: list[str]) -> list[str]:
    """Trimmed, blank ones dropped, one per spelling-insensitive key (the first spelling
    given; :func:`huntaze.fans.tags.tag_key`), sorted; each at most :data:`MAX_TAG`."""
    kept: dict[str, str] = {}
    for tag in value:
        text = tag.strip()
        if text:
            kept.setdefault(tag_key(text), text)
    if any(len(t) > MAX_TAG for t in kept.values()):
        raise ValueError(f"a tag is at most {MAX_TAG} characters")
    return sorted(kept.values())


class _FanChecks(SafeModel):
    @field_validator("currency", check_fields=False)
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        return normalise_currency(value)

    @field_validator("timezone", check_fields=False)
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value is not None and value not in _TIMEZONES:
            raise ValueError("not an IANA time zone name (for example Europe/Paris)")
        return value

    @field_validator("tags", check_fields=False)
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _check_tags(value)

    @field_validator("subscribed_at", "expires_at", "last_active_at", check_fields=False)
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return utc_instant(value)


class FanFields(_FanChecks):
    """Editable fan fields shared by create, replace and patch."""

    username: str | None = Field(default=None, max_length=255)
    display_name: str | None = Field(default=None, max_length=255)
    email: OptionalEmail = None
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    subscription_status: SubscriptionStatus = "none"
    subscribed_at: datetime | None = None
    expires_at: datetime | None = None
    last_active_at: datetime | None = None
    lifetime_value_cents: Int64 = 0
    currency: str | None = Field(default=None, max_length=16)
    timezone: str | None = Field(default=None, max_length=64)
    consent: Consent = "unknown"
    notes: str | None = Field(default=None, max_length=MAX_NOTES)
    custom_fields: CustomFields = Field(default_factory=dict)


class FanCreate(FanFields):
    """``POST /api/crm/fans`` and ``PUT /api/crm/fans/{id}``."""

    platform: Platform = Field(min_length=1, max_length=32)
    platform_fan_id: str = Field(min_length=1, max_length=255)


class FanPatch(_FanChecks):
    """``PATCH /api/crm/fans/{id}``: only the fields sent change."""

    username: str | None = Field(default=None, max_length=255)
    display_name: str | None = Field(default=None, max_length=255)
    email: OptionalEmail = None
    tags: list[str] | None = Field(default=None, max_length=MAX_TAGS)
    subscription_status: SubscriptionStatus | None = None
    subscribed_at: datetime | None = None
    expires_at: datetime | None = None
    last_active_at: datetime | None = None
    lifetime_value_cents: Int64 | None = None
    currency: str | None = Field(default=None, max_length=16)
    timezone: str | None = Field(default=None, max_length=64)
    consent: Consent | None = None
    notes: str | None = Field(default=None, max_length=MAX_NOTES)
    custom_fields: CustomFields | None = None


class FanOut(CamelModel):
    """A fan as the API answers it."""

    id: str
    platform: str
    platform_fan_id: str
    username: str | None
    display_name: str | None
    email: str | None
    tags: list[str]
    subscription_status: str
    subscribed_at: datetime | None
    expires_at: datetime | None
    last_active_at: datetime | None
    lifetime_value_cents: int
    currency: str | None
    timezone: str | None
    consent: str
    notes: str | None
    custom_fields: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class FanPage(Page[FanOut]):
    """A page of fans."""


class TopFans(CamelModel):
    """Fans ranked by lifetime value, highest first."""

    items: list[FanOut]


class PurchaseOut(CamelModel):
    """One payment; amounts are signed cents (chargebacks and refunds negative)."""

    id: str
    fan_id: str
    platform: str
    kind: str
    gross_cents: int
    net_cents: int
    currency: str
    purchased_at: datetime
    transaction_id: str


class PurchasePage(Page[PurchaseOut]):
    """A page of purchases, newest first."""


def _utc_instant(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the calendar in UTC (years 1 to 9999)") from None


#: A filter instant: a date is midnight UTC, a datetime without a zone is UTC (as
#: :data:`huntaze.kit.validation.UtcDateTime`, with an instant past the calendar a 422).
FilterInstant = Annotated[datetime, BeforeValidator(as_utc), AfterValidator(_utc_instant)]


class AudienceFilter(SafeModel):
    """Which of a creator's fans: the one audience filter of the fan list
    (``GET /api/crm/fans``, its query parameters), bulk recipients (``recipients.filter``)
    and the segments to come. Money in cents. ``lastActiveBefore`` and ``lastActiveAfter``
    read ``2025-06-01`` as midnight UTC and a datetime without a zone as UTC.

    ``q`` searches username, display name and email (case-insensitive substring); ``tag``
    matches whatever its case or spacing (:func:`huntaze.fans.tags.tag_key`). Blank text
    filters select everything. The SQL is :func:`huntaze.fans.queries.fan_conditions`.
    """

    q: str | None = Field(default=None, max_length=200)
    platform: Platform | None = Field(default=None, max_length=32)
    tag: str | None = Field(default=None, max_length=MAX_TAG)
    subscription_status: SubscriptionStatus | None = None
    min_lifetime_value_cents: Int64 | None = None
    max_lifetime_value_cents: Int64 | None = None
    last_active_before: FilterInstant | None = None
    last_active_after: FilterInstant | None = None
