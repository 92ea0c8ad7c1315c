"""Substack subscriber lists (from the export ZIP, or separate CSVs), as in formats.md.

The three layouts, matched by column name:

* ``email,active_subscription,expiry,plan,email_disabled,created_at,first_payment_at``
  (``email_list.<pub>.csv``, 2024 on);
* ``email,active_subscription,expiry,email_disabled,prefer_digests,created_at`` (older
  signup list);
* ``email,expiry,email_disabled,prefer_digests,stripe_connected_customer_id,type`` (older paid
  list; ``type`` is ``paid``, ``comp`` or ``gift``).

Mapping (one :class:`~huntaze.imports.records.FanRecord` per row, no username or name):

* ``email`` (trimmed, lower case) is the key: ``platform_fan_id`` is the bare email, the only
  key Substack has; a blank value or one without ``@`` is a ``RowError``.
* ``subscription_status``, without a clock (the app judges ``expires_at`` against its own):
  with an ``active_subscription`` column, ``true`` -> ``active``; ``false`` with an
  ``expiry`` -> ``expired`` (a lapsed paid subscriber); ``false`` without -> ``follower`` (a
  free subscriber). In the paid layout every row is a paid subscriber: ``type`` ``paid``,
  ``comp`` or ``gift`` -> ``active``; a blank or other ``type`` -> ``none``.
* ``created_at`` -> ``subscribed_at``; ``expiry`` -> ``expires_at`` (aware UTC).
* ``email_disabled`` ``true`` -> ``consent="opted_out"``; otherwise ``None`` (consent left as
  it is).
* ``custom_fields``: ``plan``, ``type`` (strings), ``firstPaymentAt`` (ISO 8601 UTC string) and
  ``preferDigests`` (bool), each only when present and non-blank.

Booleans are ``true``/``false`` in any case; any other non-blank value is a ``RowError`` naming
the column, as is a bad date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from huntaze.imports.base import ImportFormatError
from huntaze.imports.reading.cells import Cells, FieldError, parse_bool
from huntaze.imports.reading.csvread import CsvRows, Header
from huntaze.imports.records import FanRecord, Record
from huntaze.models.crm import SubscriptionStatusValue

FORMAT = "substack_subscribers"
PLATFORM = "substack"

_PROVIDES = frozenset(
    {"email", "subscription_status", "subscribed_at", "expires_at", "consent", "custom_fields"}
)
_PAID_TYPES = frozenset({"paid", "comp", "gift"})
#: Record field (or ``custom.<key>``) -> the column it comes from, for the report.
_COLUMNS = {
    "platform_fan_id": "email",
    "email": "email",
    "subscribed_at": "created_at",
    "expires_at": "expiry",
    "custom.plan": "plan",
    "custom.type": "type",
}


class SubstackSubscribersParser:
    """Parser for ``substack_subscribers`` (satisfies :class:`~huntaze.imports.base.Parser`).

    ``parse(stream)`` yields one ``FanRecord`` or ``RowError`` per non-blank data row.

    Raises:
        ImportFormatError: from ``parse``, before any record, when the header lacks ``email``
            or has neither ``active_subscription`` nor ``stripe_connected_customer_id``.
    """

    format = FORMAT
    platform = PLATFORM
    provides = _PROVIDES
    columns = _COLUMNS

    def parse(self, stream: BinaryIO) -> Iterator[Record]:
        """Yield a record per row of a Substack subscriber CSV (see the module docstring)."""
        rows = CsvRows(stream)
        header = rows.header
        missing = None
        if not header.has("email"):
            missing = "email"
        elif not (header.has("active_subscription") or header.has("stripe_connected_customer_id")):
            missing = "active_subscription"
        if missing:
            raise ImportFormatError(
                f"not a Substack subscriber list: no {missing!r} column",
                line=rows.header_line,
                column=missing,
            )
        yield from rows.records(_converter(header))


def _converter(header: Header) -> Callable[[int, list[str]], FanRecord]:
    """Build the row -> FanRecord function with every column index resolved once."""

    def col(name: str) -> tuple[int, str]:
        return header.index(name), header.find(name) or name

    i_email, c_email = col("email")
    i_active, c_active = col("active_subscription")
    i_expiry, c_expiry = col("expiry")
    i_disabled, c_disabled = col("email_disabled")
    i_created, c_created = col("created_at")
    i_first, c_first = col("first_payment_at")
    i_digests, c_digests = col("prefer_digests")
    i_plan = header.index("plan")
    i_type = header.index("type")
    has_active = header.has("active_subscription")
    cells = Cells()
    date = cells.date

    def convert(line: int, row: list[str]) -> FanRecord:
        email = row[i_email].strip().lower()
        if not email:
            raise FieldError(c_email, "blank email")
        if "@" not in email:
            raise FieldError(c_email, f"not an email address: {email[:60]!r}")
        expires_at = date(row[i_expiry], c_expiry)
        kind = row[i_type].strip().lower()
        status: SubscriptionStatusValue
        if has_active:
            if parse_bool(row[i_active], c_active):
                status = "active"
            elif expires_at is not None:
                status = "expired"  # a lapsed paid subscriber
            else:
                status = "follower"  # a free subscriber
        else:
            status = "active" if kind in _PAID_TYPES else "none"
        custom: dict[str, Any] = {}
        plan = row[i_plan].strip()
        if plan:
            custom["plan"] = plan
        if kind:
            custom["type"] = kind
        first_payment = date(row[i_first], c_first)
        if first_payment is not None:
            custom["firstPaymentAt"] = first_payment.isoformat()
        digests = parse_bool(row[i_digests], c_digests)
        if digests is not None:
            custom["preferDigests"] = digests
        disabled = parse_bool(row[i_disabled], c_disabled)
        return FanRecord(
            platform=PLATFORM,
            platform_fan_id=email,
            line=line,
            email=email,
            subscription_status=status,
            subscribed_at=date(row[i_created], c_created),
            expires_at=expires_at,
            consent="opted_out" if disabled else None,
            custom_fields=custom,
        )

    return convert


def make_parser(
    platform: str | None = None, mapping: dict[str, Any] | None = None, **_: Any
) -> SubstackSubscribersParser:
    """Return the ``substack_subscribers`` parser; ``platform`` and ``mapping`` are ignored
    (the platform is always ``substack``)."""
    return SubstackSubscribersParser()
