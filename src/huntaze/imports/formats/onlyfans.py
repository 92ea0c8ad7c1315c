"""OnlyFans JSON: the subscriber list and the earnings transactions (formats.md, "OnlyFans").

OnlyFans has no CSV export; creators hold the JSON its web app returns, as
``{"list": [...], "hasMore": true}`` or a bare array of the same objects. Both parsers stream
the elements with :mod:`huntaze.imports.reading.jsonstream` and turn each into exactly one record.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from typing import Any, BinaryIO

from huntaze.imports.reading.jsonrecords import FieldError, json_text, stream_records
from huntaze.imports.reading.jsonstream import CHUNK_SIZE, iter_array_items
from huntaze.imports.records import (
    FanRecord,
    PurchaseRecord,
    Record,
)
from huntaze.kit.dates import parse_datetime
from huntaze.kit.money import normalise_currency, to_cents
from huntaze.models.crm import PurchaseKindValue, SubscriptionStatusValue

PLATFORM = "onlyfans"

#: ``subscribedOnData`` money fields -> the key of ``custom_fields["spendCents"]``.
SPEND_FIELDS = {
    "subscribesSumm": "subscriptions",
    "tipsSumm": "tips",
    "messagesSumm": "messages",
    "postsSumm": "posts",
    "streamsSumm": "streams",
}

#: Description prefixes (HTML stripped, case-insensitive) -> purchase kind, longest first.
DESCRIPTION_KINDS: tuple[tuple[str, PurchaseKindValue], ...] = (
    ("recurring subscription from", "renewal"),
    ("subscription from", "subscription"),
    ("tip in chat from", "tip"),
    ("tip on post from", "tip"),
    ("tip from", "tip"),
    ("payment for message from", "ppv_message"),
    ("post purchase by", "ppv_post"),
    ("stream from", "stream"),
    ("custom request from", "custom"),
)

_PENDING = frozenset({"loading", "pending_return"})
#: Record field (or ``custom.<key>``) -> the key it comes from, for the report.
FAN_COLUMNS: Mapping[str, str] = {
    "platform_fan_id": "id",
    "username": "username",
    "display_name": "name",
    "subscribed_at": "subscribedOnData.subscribeAt",
    "expires_at": "subscribedOnData.expiredAt",
    "last_active_at": "lastSeen",
    "lifetime_value_cents": "subscribedOnData.totalSumm",
    "tags": "listsStates",
    "custom.creatorLabel": "displayName",
    "custom.spendCents": "subscribedOnData",
    "custom.priceCents": "subscribedOnData.price",
    "custom.regularPriceCents": "subscribedOnData.regularPrice",
}
TRANSACTION_COLUMNS: Mapping[str, str] = {
    "transaction_id": "id",
    "platform_fan_id": "user.id",
    "username": "user.username",
    "display_name": "user.name",
    "gross_cents": "amount",
    "net_cents": "net",
    "currency": "currency",
    "purchased_at": "createdAt",
}
_SPACES = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>?")


def _object(value: Any, column: str | None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FieldError(column, f"expected a JSON object, got {type(value).__name__}")
    return value


def _user_id(value: Any, column: str) -> str:
    if value is None:
        raise FieldError(column, "missing user id")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.strip().isdecimal():
        return str(int(value.strip()))
    raise FieldError(column, f"invalid user id {value!r}")


def _date(value: Any, column: str) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise FieldError(column, f"not a date: {value!r}")
    try:
        return parse_datetime(value)
    except (ValueError, OverflowError) as exc:
        raise FieldError(column, str(exc)) from None


def _cents(value: Any, column: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FieldError(column, f"not an amount: {value!r}")
    try:
        return to_cents(value)
    except ValueError as exc:
        raise FieldError(column, str(exc)) from None


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def strip_html(text: str) -> str:
    """Return the visible text of an HTML fragment, entities unescaped, spaces collapsed.

    Uses :class:`html.parser.HTMLParser`, which tolerates broken markup; if it still fails the
    tags are removed with a regular expression. Never raises.
    """
    try:
        parser = _TextOnly()
        parser.feed(text)
        parser.close()
        plain = "".join(parser.parts)
    except Exception:  # the stdlib parser has raised on pathological input in the past
        plain = html.unescape(_TAG.sub(" ", text))
    return _SPACES.sub(" ", plain).strip()


def description_kind(description: str) -> PurchaseKindValue | None:
    """The purchase kind named by an earnings description (HTML allowed), or ``None``."""
    text = strip_html(description).lower()
    for prefix, kind in DESCRIPTION_KINDS:
        if text.startswith(prefix):
            return kind
    return None


def fan_status(item: dict[str, Any], data: dict[str, Any]) -> SubscriptionStatusValue:
    """Map a fan object to a subscription status.

    Rule: a ``subscribedOnData.status`` containing ``cancel`` (``Cancelled``, ``canceled``) or
    reading ``set to expire`` is *cancelled-like* (renewal turned off). Then:
    ``subscribedOn`` true → ``"cancelled"`` if cancelled-like else ``"active"``;
    otherwise ``subscribedOnExpiredNow`` true → ``"expired"``; otherwise ``"cancelled"`` if
    cancelled-like, else ``"none"``.
    """
    status = data.get("status")
    label = status.strip().lower() if isinstance(status, str) else ""
    cancelled = "cancel" in label or label == "set to expire"
    if item.get("subscribedOn") is True:
        return "cancelled" if cancelled else "active"
    if item.get("subscribedOnExpiredNow") is True:
        return "expired"
    return "cancelled" if cancelled else "none"


def fan_from_item(item: Any, line: int) -> FanRecord:
    """Map one subscriber object (``/subscriptions/subscribers`` element) to a ``FanRecord``.

    ``platform_fan_id`` is ``str(id)``; money fields (USD numbers) become cents; dates aware
    UTC; ``tags`` are the ``listsStates`` names where ``hasUser`` is true; ``custom_fields``
    holds ``creatorLabel`` (``displayName``), ``spendCents`` by kind, ``priceCents`` and
    ``regularPriceCents`` when present.

    Raises:
        FieldError: a field is missing or invalid (the parser turns it into a ``RowError``).
    """
    if not isinstance(item, dict):
        raise FieldError(None, f"expected a JSON object, got {type(item).__name__}")
    if item.get("id") is None:
        raise FieldError("id", "missing fan id")
    fan_id = _user_id(item.get("id"), "id")
    data = _object(item.get("subscribedOnData"), "subscribedOnData")
    last_seen = _date(item.get("lastSeen"), "lastSeen")
    activity = _date(data.get("lastActivity"), "subscribedOnData.lastActivity")
    if last_seen is None or (activity is not None and activity > last_seen):
        last_seen = activity
    custom: dict[str, Any] = {}
    label = json_text(item.get("displayName"))
    if label:
        custom["creatorLabel"] = label
    spend = {}
    for source, kind in SPEND_FIELDS.items():
        cents = _cents(data.get(source), f"subscribedOnData.{source}")
        if cents is not None:
            spend[kind] = cents
    if spend:
        custom["spendCents"] = spend
    for source in ("price", "regularPrice"):
        cents = _cents(data.get(source), f"subscribedOnData.{source}")
        if cents is not None:
            custom[f"{source}Cents"] = cents
    tags: list[str] = []
    lists = item.get("listsStates")
    for entry in lists if isinstance(lists, list) else ():
        name = json_text(entry.get("name")) if isinstance(entry, dict) else None
        if name and entry.get("hasUser") is True and name not in tags:
            tags.append(name)
    return FanRecord(
        platform=PLATFORM,
        platform_fan_id=fan_id,
        line=line,
        username=json_text(item.get("username")),
        display_name=json_text(item.get("name")),
        subscription_status=fan_status(item, data),
        subscribed_at=_date(data.get("subscribeAt"), "subscribedOnData.subscribeAt"),
        expires_at=_date(data.get("expiredAt"), "subscribedOnData.expiredAt"),
        last_active_at=last_seen,
        lifetime_value_cents=_cents(data.get("totalSumm"), "subscribedOnData.totalSumm"),
        currency="USD",
        tags=tuple(tags),
        custom_fields=custom,
    )


def purchase_from_item(item: Any, line: int) -> PurchaseRecord:
    """Map one earnings transaction (``/payouts/transactions`` ``list[]`` element).

    ``transaction_id`` = ``id``; ``purchased_at`` = ``createdAt`` (UTC); ``gross_cents`` =
    ``amount``, ``net_cents`` = ``net`` or ``amount - fee``, in cents of ``currency``
    (default ``USD``). ``status`` ``done`` (or absent) is a payment whose ``kind`` comes from
    the description text; ``undo`` is a ``"chargeback"`` with negative gross and net, whatever
    the description says (formats.md: chargebacks come with status ``undo``; their
    description may read ``Refund: …`` or be missing).

    Raises:
        FieldError: missing ``id``/``user.id``/``createdAt``/``amount``, net not derivable,
            pending status (``loading``, ``pending_return``), unknown status, or (for a
            payment) a missing or unknown description.
    """
    if not isinstance(item, dict):
        raise FieldError(None, f"expected a JSON object, got {type(item).__name__}")
    raw_id = item.get("id")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    transaction_id = json_text(raw_id)
    if transaction_id is None:
        raise FieldError("id", "missing transaction id")
    status = item.get("status")
    status = status.strip().lower() if isinstance(status, str) else status
    if status in _PENDING:
        raise FieldError("status", f"pending transaction (status {status}) is not imported yet")
    if status not in (None, "", "done", "undo"):
        raise FieldError("status", f"unknown transaction status {status!r}")
    user = _object(item.get("user"), "user")
    fan_id = _user_id(user.get("id"), "user.id")
    purchased_at = _date(item.get("createdAt"), "createdAt")
    if purchased_at is None:
        raise FieldError("createdAt", "missing transaction date")
    gross = _cents(item.get("amount"), "amount")
    if gross is None:
        raise FieldError("amount", "missing amount")
    net = _cents(item.get("net"), "net")
    if net is None:
        fee = _cents(item.get("fee"), "fee")
        if fee is None:
            raise FieldError("net", "missing net amount and fee")
        net = gross - fee
    currency_value = item.get("currency")
    try:
        currency = normalise_currency(currency_value if isinstance(currency_value, str) else None)
    except ValueError as exc:
        raise FieldError("currency", str(exc)) from None
    kind: PurchaseKindValue
    if status == "undo":
        kind, gross, net = "chargeback", -abs(gross), -abs(net)
    else:
        description = item.get("description")
        if not isinstance(description, str) or not description.strip():
            raise FieldError("description", "missing description")
        found = description_kind(description)
        if found is None:
            shown = strip_html(description)[:80]
            raise FieldError("description", f"unknown payment kind: {shown!r}")
        kind = found
    fan = FanRecord(
        platform=PLATFORM,
        platform_fan_id=fan_id,
        line=line,
        username=json_text(user.get("username")),
        display_name=json_text(user.get("name")),
    )
    return PurchaseRecord(
        fan=fan,
        kind=kind,
        gross_cents=gross,
        net_cents=net,
        currency=currency or "USD",
        purchased_at=purchased_at,
        transaction_id=transaction_id,
        line=line,
    )


@dataclass
class OnlyFansFansParser:
    """Parser for ``onlyfans_fans``: a subscriber list → one ``FanRecord`` or ``RowError`` each.

    Accepts ``{"list": [...], ...}`` or a bare array (formats.md). Invalid JSON after the
    first element ends the stream with ``RowError(line, None, "invalid JSON: ...")``.

    Raises:
        ImportFormatError: from ``parse``, before any record, when the document holds no such
            array or fails (invalid JSON, nesting too deep) before its first element
            (:func:`~huntaze.imports.reading.jsonrecords.stream_records`).
    """

    format: str = "onlyfans_fans"
    platform: str = PLATFORM
    provides: frozenset[str] = field(
        default_factory=lambda: frozenset(
            {
                "username",
                "display_name",
                "subscription_status",
                "subscribed_at",
                "expires_at",
                "last_active_at",
                "lifetime_value_cents",
                "currency",
                "custom_fields",
            }
        )
    )
    columns: Mapping[str, str] = field(default_factory=lambda: FAN_COLUMNS)
    chunk_size: int = CHUNK_SIZE

    def parse(self, stream: BinaryIO) -> Iterator[Record]:
        """Yield a record per element of the list, in file order (see the class docstring)."""
        items = iter_array_items(stream, ("list",), chunk_size=self.chunk_size)
        return stream_records(items, fan_from_item)


@dataclass
class OnlyFansTransactionsParser:
    """Parser for ``onlyfans_transactions``: one ``PurchaseRecord`` or ``RowError`` per element.

    The payer is ``PurchaseRecord.fan`` (``user.id``, ``username``, ``name``). Errors as for
    :class:`OnlyFansFansParser`.
    """

    format: str = "onlyfans_transactions"
    platform: str = PLATFORM
    provides: frozenset[str] = field(
        default_factory=lambda: frozenset({"username", "display_name"})
    )
    columns: Mapping[str, str] = field(default_factory=lambda: TRANSACTION_COLUMNS)
    chunk_size: int = CHUNK_SIZE

    def parse(self, stream: BinaryIO) -> Iterator[Record]:
        """Yield a record per transaction, in file order (see the class docstring)."""
        items = iter_array_items(stream, ("list",), chunk_size=self.chunk_size)
        return stream_records(items, purchase_from_item)


def make_fans_parser(
    platform: str | None = None, mapping: Any = None, **_: Any
) -> OnlyFansFansParser:
    """Factory for the ``onlyfans_fans`` format (registry.py); arguments are ignored."""
    return OnlyFansFansParser()


def make_transactions_parser(
    platform: str | None = None, mapping: Any = None, **_: Any
) -> OnlyFansTransactionsParser:
    """Factory for the ``onlyfans_transactions`` format (registry.py); arguments are ignored."""
    return OnlyFansTransactionsParser()
