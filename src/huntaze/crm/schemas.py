"""CRM request and response shapes (camelCase JSON). Money in cents; datetimes UTC ISO 8601."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import available_timezones

from pydantic import Field, field_validator

from huntaze.kit.money import normalise_currency
from huntaze.kit.schema import CamelModel

SubscriptionStatus = Literal["active", "expired", "cancelled", "follower", "none"]
Consent = Literal["opted_in", "opted_out", "unknown"]
_TIMEZONES = available_timezones()


def _check_currency(value: str | None) -> str | None:
    return normalise_currency(value)


def _check_timezone(value: str | None) -> str | None:
    if value is not None and value not in _TIMEZONES:
        raise ValueError("not an IANA time zone name (for example Europe/Paris)")
    return value


def _check_tags(value: list[str]) -> list[str]:
    cleaned = sorted({t.strip() for t in value if t.strip()})
    if any(len(t) > 100 for t in cleaned):
        raise ValueError("a tag is at most 100 characters")
    return cleaned


def _check_aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("give a time zone (for example 2026-01-01T10:00:00Z)")
    return value


class _FanChecks(CamelModel):
    @field_validator("currency", check_fields=False)
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        return _check_currency(value)

    @field_validator("timezone", check_fields=False)
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return _check_timezone(value)

    @field_validator("tags", check_fields=False)
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _check_tags(value)

    @field_validator("subscribed_at", "expires_at", "last_active_at", check_fields=False)
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return _check_aware(value)


class FanFields(_FanChecks):
    """Editable fan fields shared by create, replace and patch."""

    username: str | None = Field(default=None, max_length=255)
    display_name: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=320)
    tags: list[str] = Field(default_factory=list, max_length=200)
    subscription_status: SubscriptionStatus = "none"
    subscribed_at: datetime | None = None
    expires_at: datetime | None = None
    last_active_at: datetime | None = None
    lifetime_value_cents: int = 0
    currency: str | None = None
    timezone: str | None = None
    consent: Consent = "unknown"
    notes: str | None = Field(default=None, max_length=20_000)
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class FanCreate(FanFields):
    """``POST /api/crm/fans`` and ``PUT /api/crm/fans/{id}``."""

    platform: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")
    platform_fan_id: str = Field(min_length=1, max_length=255)


class FanPatch(_FanChecks):
    """``PATCH /api/crm/fans/{id}``: only the fields sent change."""

    username: str | None = Field(default=None, max_length=255)
    display_name: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=320)
    tags: list[str] | None = None
    subscription_status: SubscriptionStatus | None = None
    subscribed_at: datetime | None = None
    expires_at: datetime | None = None
    last_active_at: datetime | None = None
    lifetime_value_cents: int | None = None
    currency: str | None = None
    timezone: str | None = None
    consent: Consent | None = None
    notes: str | None = Field(default=None, max_length=20_000)
    custom_fields: dict[str, Any] | None = None


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


class FanPage(CamelModel):
    """A page of fans."""

    items: list[FanOut]
    next_cursor: str | None = None


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


class PurchasePage(CamelModel):
    """A page of purchases, newest first."""

    items: list[PurchaseOut]
    next_cursor: str | None = None
