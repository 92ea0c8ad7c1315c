"""The API's value rules, applied to every record an import format yields, in one place.

The writer (:mod:`huntaze.imports.writing.writer`) passes each ``FanRecord`` and
``PurchaseRecord`` through :class:`RecordChecker` before it batches it, so an import stores
nothing the API would refuse and nothing a column cannot hold. A bad value rejects its row
(a ``RowError`` with the line, the file's column and the reason) and the import goes on.

The rules are those of :mod:`huntaze.kit.validation` and the columns of
:mod:`huntaze.models.crm`:

======================  =================================================================
``platform_fan_id``     1 to 255 characters (``fans.platform_fan_id``), :func:`check_text`
``username``            at most 255 characters, :func:`check_text`
``display_name``        at most 255 characters, :func:`check_text`
``email``               :func:`check_email` (at most 320 characters, one ``@``, no spaces,
                        line breaks or control characters); stored normalised
``currency``            at most 3 characters (parsers give ISO 4217 codes)
``lifetime_value_cents``  magnitude at most :data:`~huntaze.imports.reading.cells.MAX_CENTS`
``*_at`` datetimes      between :data:`EARLIEST` and :data:`LATEST` (UTC)
``tags``                each at most :data:`~huntaze.kit.validation.MAX_TAG` characters,
                        :func:`check_text`
``custom_fields``       :func:`check_json` (depth, size, key length, text, 64-bit integers)
purchases               ``transaction_id`` 1 to 128 characters (``purchases.transaction_id``)
                        and :func:`check_text`; ``gross_cents``/``net_cents`` magnitude at
                        most ``MAX_CENTS``; ``currency`` 1 to 3 characters; ``purchased_at``
                        as above; the payer as a fan
======================  =================================================================

The platform is checked once per import, before the file is read
(:func:`huntaze.imports.service.choose_parser`), not per row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from huntaze.imports.reading.cells import MAX_CENTS
from huntaze.imports.records import FanRecord, PurchaseRecord, RowError
from huntaze.kit.validation import (
    MAX_EMAIL,
    MAX_JSON_DEPTH,
    MAX_JSON_KEY,
    MAX_JSON_NODES,
    MAX_TAG,
    check_email,
    check_json,
    check_text,
)

#: Characters of ``fans.platform_fan_id``.
MAX_KEY = 255
#: Characters of ``fans.username`` and ``fans.display_name``.
MAX_NAME = 255
#: Characters of ``fans.currency`` and ``purchases.currency``.
MAX_CURRENCY = 3
#: Characters of ``purchases.transaction_id``.
MAX_TRANSACTION_ID = 128
#: The earliest and latest instants an imported datetime may hold: the bounds the API puts on
#: the datetimes it stores (``huntaze.fans.schemas``; Python's ``datetime`` ends with year 9999,
#: and a day of margin keeps any time zone's reading of a stored value inside it).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)

#: How a record field is named in the report when its parser names no column for it (the
#: API's field names).
_LABELS = {
    "platform_fan_id": "platformFanId",
    "display_name": "displayName",
    "lifetime_value_cents": "lifetimeValueCents",
    "subscribed_at": "subscribedAt",
    "expires_at": "expiresAt",
    "last_active_at": "lastActiveAt",
    "custom_fields": "customFields",
    "transaction_id": "transactionId",
    "gross_cents": "grossCents",
    "net_cents": "netCents",
    "purchased_at": "purchasedAt",
}
#: A serialised custom-fields object no longer than this has at most ``MAX_JSON_NODES``
#: values and ``MAX_JSON_CHARS`` characters of text (each value takes at least one byte).
_SHORT_JSON = MAX_JSON_NODES
#: ... and no longer than this has no key over ``MAX_JSON_KEY`` (``{"<key>":0}``).
_SHORT_KEYS = MAX_JSON_KEY + 5
_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER
#: How many distinct custom-field texts one checker remembers as valid (about 2 MB at most).
_KNOWN_JSON = 10_000


class _Bad(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _text(value: str, limit: int, field: str) -> None:
    """Raise ``_Bad`` unless ``value`` has 1 to ``limit`` characters and passes
    :func:`check_text`."""
    if len(value) > limit:
        raise _Bad(field, f"at most {limit} characters ({len(value)} given)")
    if not value:
        raise _Bad(field, "must not be blank")
    try:
        check_text(value)
    except ValueError as exc:
        raise _Bad(field, str(exc)) from None


def _email(value: str) -> str:
    """:func:`check_email`, naming the field when it fails."""
    try:
        return check_email(value)
    except ValueError as exc:
        raise _Bad("email", str(exc)) from None


def _json_if_surely_valid(custom: dict[str, Any], known: set[bytes]) -> bytes | None:
    """``custom`` as JSON (orjson, sorted keys) if it certainly passes :func:`check_json`,
    judged from that text; else ``None``. ``known`` holds texts already judged so (exports
    repeat the same custom fields row after row), and gains this one.

    orjson refuses lone surrogates, non-string keys, nesting past 254 and (with
    ``OPT_STRICT_INTEGER``) integers beyond 53 bits; it writes NUL as ``\\u0000`` and a NaN or
    infinity as ``null``. Every test below can only fail on input that might be valid, and
    then :func:`check_json` decides. Two values with one text (and no ``null`` in it) are the
    same JSON, so a text in ``known`` needs no test.
    """
    try:
        text = orjson.dumps(custom, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return None
    if text in known:
        return text
    if len(text) > _SHORT_JSON or b"\\u0000" in text or b"null" in text:
        return None
    brackets = text.count(b"{") + text.count(b"[")
    if brackets > MAX_JSON_DEPTH:
        return None
    # Past this length, only a flat object's keys are cheap to measure (brackets inside
    # strings only ever make this test fail, never pass).
    if len(text) > _SHORT_KEYS and (brackets != 1 or max(map(len, custom)) > MAX_JSON_KEY):
        return None
    if len(known) < _KNOWN_JSON:
        known.add(text)
    return text


class RecordChecker:
    """Checks records against the shared rules (see the module docstring).

    Args:
        columns: the parser's ``columns`` (record field or ``custom.<key>`` -> the file's
            column), to name the column at fault.

    Calling it with a record returns ``None`` when every value is acceptable (an email is
    replaced by its normalised form, ``custom_json`` set), else the ``RowError`` to report,
    at the record's line. One checker serves one import (it remembers custom fields it has
    judged, at most :data:`_KNOWN_JSON` of them).
    """

    __slots__ = ("_columns", "_known")

    def __init__(self, columns: Mapping[str, str]) -> None:
        self._columns = columns
        self._known: set[bytes] = set()

    def __call__(self, record: FanRecord | PurchaseRecord) -> RowError | None:
        try:
            if type(record) is FanRecord:
                self._fan(record)
            else:
                assert isinstance(record, PurchaseRecord)
                self._purchase(record)
        except _Bad as bad:
            return RowError(record.line, self._column(bad.field), bad.reason)
        return None

    def _column(self, field: str) -> str:
        column = self._columns.get(field)
        if column is not None:
            return column
        if field.startswith("custom."):
            return "customFields." + field[7:]
        return _LABELS.get(field, field)

    def _fan(self, rec: FanRecord) -> None:
        # Each test first tries the common case that certainly passes (short printable
        # ASCII...), and only otherwise runs the shared rule, which then decides.
        # Printable text has no NUL (a control character) and no lone surrogate (category Cs).
        key = rec.platform_fan_id
        if not (0 < len(key) <= MAX_KEY and key.isprintable()):
            _text(key, MAX_KEY, "platform_fan_id")
        name = rec.display_name
        if name is not None and not (0 < len(name) <= MAX_NAME and name.isprintable()):
            _text(name, MAX_NAME, "display_name")
        name = rec.username
        if name is not None and not (0 < len(name) <= MAX_NAME and name.isprintable()):
            _text(name, MAX_NAME, "username")
        email = rec.email
        if email is not None:
            at = email.rfind("@")
            # printable ASCII without a space has no whitespace or control character
            if (
                0 < at < len(email) - 1
                and len(email) <= MAX_EMAIL
                and email.isascii()
                and email.isprintable()
                and " " not in email
            ):
                rec.email = email.lower()
            else:
                rec.email = _email(email)
        if rec.currency is not None and len(rec.currency) > MAX_CURRENCY:
            raise _Bad("currency", f"at most {MAX_CURRENCY} characters (an ISO 4217 code)")
        value = rec.lifetime_value_cents
        if value is not None and not -MAX_CENTS <= value <= MAX_CENTS:
            raise _Bad("lifetime_value_cents", "amount out of range")
        # a year strictly between 1900 and 9999 is inside the bounds whatever the offset
        when = rec.subscribed_at
        if when is not None and not 1900 < when.year < 9999:
            _check_instant(when, "subscribed_at")
        when = rec.expires_at
        if when is not None and not 1900 < when.year < 9999:
            _check_instant(when, "expires_at")
        when = rec.last_active_at
        if when is not None and not 1900 < when.year < 9999:
            _check_instant(when, "last_active_at")
        for tag in rec.tags:
            _text(tag, MAX_TAG, "tags")
        custom = rec.custom_fields
        if custom:
            serialised = _json_if_surely_valid(custom, self._known)
            if serialised is None:
                _check_custom(custom)
            else:
                rec.custom_json = serialised.decode()

    def _purchase(self, rec: PurchaseRecord) -> None:
        _text(rec.transaction_id, MAX_TRANSACTION_ID, "transaction_id")
        if not -MAX_CENTS <= rec.gross_cents <= MAX_CENTS:
            raise _Bad("gross_cents", "amount out of range")
        if not -MAX_CENTS <= rec.net_cents <= MAX_CENTS:
            raise _Bad("net_cents", "amount out of range")
        if not 0 < len(rec.currency) <= MAX_CURRENCY:
            raise _Bad("currency", "an ISO 4217 code of 3 letters")
        _check_instant(rec.purchased_at, "purchased_at")
        self._fan(rec.fan)


def _check_instant(when: datetime, field: str) -> None:
    if not EARLIEST <= when <= LATEST:
        raise _Bad(field, "must be between 1900-01-01 and 9999-12-30 (UTC)")


def _check_custom(custom: dict[str, Any]) -> None:
    """Run :func:`check_json` on ``custom``; raise ``_Bad`` naming the custom field at fault
    (``custom.<key>``), or ``custom_fields`` for a bound of the whole object."""
    try:
        check_json(custom)
    except ValueError as exc:
        reason = str(exc)
    else:
        return
    for key, value in custom.items():
        try:
            check_json({key: value})
        except ValueError:
            if isinstance(key, str) and len(key) <= MAX_JSON_KEY:
                raise _Bad(f"custom.{key}", reason) from None
            break
    raise _Bad("custom_fields", reason)
