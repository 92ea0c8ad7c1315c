"""Decides whether an imported fan row would change the stored fan (no write if not)."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import orjson

from huntaze.imports.writing.store import FAN_INSERT_COLUMNS

#: Positions in a fan row (:data:`FAN_INSERT_COLUMNS`) of each column a format may provide.
COLUMN_INDEX = {name: i for i, name in enumerate(FAN_INSERT_COLUMNS)}
_CONSENT = COLUMN_INDEX["consent"]
CUSTOM = COLUMN_INDEX["custom_fields"]
FINGERPRINTS = COLUMN_INDEX["import_fingerprints"]
_LTV = COLUMN_INDEX["lifetime_value_cents"]
_LAST_ACTIVE = COLUMN_INDEX["last_active_at"]


_SPECIAL = frozenset({"custom_fields", "consent", "last_active_at", "lifetime_value_cents"})


class FanComparer:
    """Tells whether an imported fan row would change the stored fan.

    Mirrors the update rules of
    :meth:`~huntaze.imports.writing.store.ImportStore.fan_update_set`: plain columns compare
    equal or not;
    custom fields merge (unchanged when every imported key already holds that value); consent
    only moves to ``opted_out``; last activity only moves forward; a fan with purchases keeps
    its derived lifetime value.

    Args:
        columns: the provided columns, in the order ``sql.select_existing_fans`` returns them.
    """

    def __init__(self, columns: list[str]) -> None:
        plain = [j for j, c in enumerate(columns) if c not in _SPECIAL]
        self._stored_plain = itemgetter(*plain) if plain else _nothing
        self._row_plain = (
            itemgetter(*[COLUMN_INDEX[columns[j]] for j in plain]) if plain else _nothing
        )
        where = {c: j for j, c in enumerate(columns)}
        self._custom = where.get("custom_fields")
        self._consent = where.get("consent")
        self._last_active = where.get("last_active_at")
        self._ltv = where.get("lifetime_value_cents")

    def changed(
        self,
        row: list[Any],
        custom_text: str,
        custom: dict[str, Any],
        stored: tuple[Any, ...],
        has_purchases: bool,
    ) -> bool:
        """True when writing ``row`` (custom fields as ``custom`` / ``custom_text``) changes
        the fan whose stored values are ``stored``."""
        if self._row_plain(row) != self._stored_plain(stored):
            return True
        if self._custom is not None:
            old = stored[self._custom]
            if old != custom_text:
                old = orjson.loads(old) if old else {}
                if any(old.get(k) != v for k, v in custom.items()):
                    return True
        j = self._consent
        if j is not None and row[_CONSENT] == "opted_out" and stored[j] != "opted_out":
            return True
        j = self._last_active
        new_last = row[_LAST_ACTIVE]
        if j is not None and new_last is not None and (stored[j] is None or new_last > stored[j]):
            return True
        j = self._ltv
        return j is not None and not has_purchases and stored[j] != row[_LTV]


def _nothing(_: Any) -> tuple[()]:
    return ()
