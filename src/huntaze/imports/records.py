"""What a format parser yields: normalised fans, purchases, and rejected rows.

Parsers are pure: they read a binary stream and yield these records one by one, so memory
stays flat however large the file. The writer (:mod:`huntaze.imports.writing.writer`) batches
them into the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from huntaze.models.crm import ConsentValue, PurchaseKindValue, SubscriptionStatusValue

#: Columns a format may set on a fan. A parser lists the ones its format really carries in
#: ``Parser.provides``; the writer updates only those, so a TikTok import never blanks an
#: email that an earlier import set.
FAN_COLUMNS = (
    "username",
    "display_name",
    "email",
    "subscription_status",
    "subscribed_at",
    "expires_at",
    "last_active_at",
    "lifetime_value_cents",
    "currency",
    "consent",
    "custom_fields",
)


@dataclass(slots=True)
class FanRecord:
    """One fan as a format describes it.

    ``platform_fan_id`` is the format's key (formats.md): a platform user id, or a normalised
    email or username (lower case, no leading ``@``). Datetimes are aware UTC. Money is in
    cents of ``currency`` (ISO 4217). ``line`` is the 1-based line where the row starts.
    ``custom_json`` is not set by parsers: the record checks
    (:mod:`huntaze.imports.validate`) store there the ``custom_fields`` they serialised
    (orjson, sorted keys), so the writer does not serialise them again.
    """

    platform: str
    platform_fan_id: str
    line: int
    username: str | None = None
    display_name: str | None = None
    email: str | None = None
    subscription_status: SubscriptionStatusValue = "none"
    subscribed_at: datetime | None = None
    expires_at: datetime | None = None
    last_active_at: datetime | None = None
    lifetime_value_cents: int | None = None
    currency: str | None = None
    consent: ConsentValue | None = None
    tags: tuple[str, ...] = ()
    custom_fields: dict[str, Any] = field(default_factory=dict)
    custom_json: str | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class PurchaseRecord:
    """One payment by a fan (a transaction row of Ko-fi or OnlyFans earnings).

    ``gross_cents`` and ``net_cents`` are signed: chargebacks and refunds are negative.
    ``fan`` carries what the transaction says about the payer; the writer upserts that fan
    first, and derives the fan's lifetime value from the sum of its purchases' net amounts.
    """

    fan: FanRecord
    kind: PurchaseKindValue
    gross_cents: int
    net_cents: int
    currency: str
    purchased_at: datetime
    transaction_id: str
    line: int


@dataclass(slots=True)
class RowError:
    """A rejected row: its 1-based starting line, the column or key at fault, and why."""

    line: int
    column: str | None
    reason: str


Record = FanRecord | PurchaseRecord | RowError


@dataclass(slots=True)
class FanBlock:
    """Many fans of one file, converted a column at a time (the block import path).

    Every row already passed the shared value rules (:mod:`huntaze.imports.validate`)
    and no two rows share a key. ``columns`` maps each column of ``Parser.provides`` plus
    ``platform_fan_id`` to an Arrow array in the stored form: text, int64 cents, timestamps as
    ``YYYY-MM-DD HH:MM:SS.ffffff`` UTC text, ``custom_fields`` as JSON text; ``None`` for no
    value. ``keys`` are the ``platform_fan_id`` values as Python strings, ``lines`` each row's
    1-based starting line, and ``fingerprint`` each row's import fingerprint text (what the
    writer hashes, as it does for a ``FanRecord``).
    """

    keys: list[str]
    lines: Any
    columns: dict[str, Any]
    fingerprint: Any

    def __len__(self) -> int:
        return len(self.keys)
