"""The segment criteria language: JSON that names fans, parsed into a checked tree.

A criterion is a group or a condition::

    {"all": [criterion, ...]}        every one holds
    {"any": [criterion, ...]}        at least one holds
    {"not": criterion}               it does not hold
    {"field": "...", "op": "...", "value": ..., ...parameters}

Fields and operators come from one allow-list (:data:`FIELDS`); a value must be one its field
can hold. :func:`parse` checks everything before the compiler (:mod:`.compiler`) sees it, and
the compiler binds every value as a parameter: no text of a criterion ever becomes SQL.
docs/segments.md lists every field, operator and parameter.

Raises :class:`~huntaze.fans.errors.InvalidCriteria` (422 ``invalid_criteria``) naming
the criterion's path, for example ``criteria.all[1].value``.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime
from typing import Any, Literal

from huntaze.fans.errors import InvalidCriteria
from huntaze.fans.tiers import TIERS
from huntaze.kit.validation import check_int64, check_text
from huntaze.models.crm import Consent, PurchaseKind, SubscriptionStatus

#: The deepest nesting of groups, and the most conditions, one criteria document may hold.
MAX_DEPTH = 8
MAX_CONDITIONS = 100
#: The most values an ``in`` list may hold, and the longest text value.
MAX_VALUES = 1000
MAX_TEXT = 255
#: The largest number of days a day count may name (about 100 years).
MAX_DAYS = 36_500

Kind = Literal["text", "enum", "int", "datetime", "days", "tags", "custom", "segment"]

_COMPARE = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "between"})
_PRESENCE = frozenset({"isSet", "isNotSet"})
_OPS: dict[str, frozenset[str]] = {
    "text": frozenset({"eq", "ne", "in", "notIn", "contains", "startsWith"}) | _PRESENCE,
    "enum": frozenset({"eq", "ne", "in", "notIn"}),
    "int": _COMPARE | {"in", "notIn"},
    "datetime": (_COMPARE - {"eq", "ne"})
    | {"olderThanDays", "newerThanDays", "withinLastDays"}
    | _PRESENCE,
    "days": _COMPARE,
    "tags": frozenset({"contains", "in", "notIn"}) | _PRESENCE,
    "custom": frozenset({"eq", "ne", "in", "notIn", "contains"}) | _PRESENCE,
    "segment": frozenset({"in", "notIn"}),
}


@dataclass(frozen=True, slots=True)
class Field:
    """One field of the language.

    Attributes:
        name: its name in criteria (camelCase, as the API's JSON).
        kind: how its values are checked and compiled.
        nullable: whether it may have no value (then ``isSet`` / ``isNotSet`` apply).
        choices: the values an ``enum`` field takes.
        params: the parameters a condition on it may add (``kind``, ``withinDays``,
            ``direction``).
    """

    name: str
    kind: Kind
    nullable: bool = False
    choices: frozenset[str] = frozenset()
    params: frozenset[str] = frozenset()

    @property
    def ops(self) -> frozenset[str]:
        """The operators this field takes."""
        ops = _OPS[self.kind]
        return ops if self.nullable or self.kind in ("tags", "custom") else ops - _PRESENCE


_AGG = frozenset({"kind", "withinDays"})
#: Every field, by name. ``customFields.<key>`` names one custom field (kind ``custom``).
FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("platform", "text"),
        Field("platformFanId", "text"),
        Field("username", "text", nullable=True),
        Field("displayName", "text", nullable=True),
        Field("email", "text", nullable=True),
        Field("currency", "text", nullable=True),
        Field("timezone", "text", nullable=True),
        Field("subscriptionStatus", "enum", choices=frozenset(SubscriptionStatus)),
        Field("consent", "enum", choices=frozenset(Consent)),
        Field("subscribedAt", "datetime", nullable=True),
        Field("expiresAt", "datetime", nullable=True),
        Field("lastActiveAt", "datetime", nullable=True),
        Field("createdAt", "datetime"),
        Field("lifetimeValueCents", "int"),
        Field("tags", "tags"),
        Field("daysSinceLastActivity", "days"),
        Field("daysSubscribed", "days"),
        Field("spendCents", "int", params=_AGG),
        Field("purchaseCount", "int", params=_AGG),
        Field("messageCount", "int", params=frozenset({"direction", "withinDays"})),
        Field("segment", "segment"),
        Field("tier", "enum", choices=frozenset(TIERS)),
    )
}
CUSTOM_PREFIX = "customFields."
#: Purchase kinds a ``kind`` parameter may also name as a group (the issue's "spend by kind:
#: subscriptions, tips, PPV").
KIND_GROUPS: dict[str, tuple[str, ...]] = {
    "ppv": (PurchaseKind.PPV_MESSAGE, PurchaseKind.PPV_POST),
    "subscriptions": (PurchaseKind.SUBSCRIPTION, PurchaseKind.RENEWAL),
}
_PURCHASE_KINDS = frozenset(PurchaseKind) | frozenset(KIND_GROUPS)
_DIRECTIONS = frozenset({"inbound", "outbound"})


@dataclass(frozen=True, slots=True)
class Condition:
    """One checked condition: its field, operator, value (already in the column's type:
    ``int``, ``str``, aware ``datetime``, a tuple for ``in`` and ``between``, None for
    ``isSet``) and parameters. ``key`` is the custom field's key; ``path`` where it sits."""

    field: Field
    op: str
    value: Any
    path: str
    key: str | None = None
    params: dict[str, Any] = dc_field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Group:
    """``all`` (every child holds) or ``any`` (at least one does)."""

    mode: Literal["all", "any"]
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The child does not hold."""

    child: Node


Node = Condition | Group | Not


def parse(raw: Any, path: str = "criteria") -> Node:
    """Check ``raw`` (decoded JSON) and return its tree.

    Raises:
        InvalidCriteria: 422 naming the first offending criterion's path.
    """
    counter = [0]
    return _node(raw, path, 0, counter)


def segment_ids(node: Node) -> set[str]:
    """The ids of the segments ``node`` refers to (``{"field": "segment", ...}``)."""
    if isinstance(node, Group):
        return set().union(*(segment_ids(c) for c in node.children))
    if isinstance(node, Not):
        return segment_ids(node.child)
    if node.field.kind == "segment":
        return set(node.value)
    return set()


def _node(raw: Any, path: str, depth: int, counter: list[int]) -> Node:
    if not isinstance(raw, dict):
        raise InvalidCriteria(path, "must be an object: a group (all, any, not) or a condition")
    if depth > MAX_DEPTH:
        raise InvalidCriteria(path, f"groups nest at most {MAX_DEPTH} deep")
    groups = [k for k in ("all", "any", "not") if k in raw]
    if groups:
        if len(raw) != 1:
            raise InvalidCriteria(path, "a group has exactly one key: all, any or not")
        key = groups[0]
        if key == "not":
            return Not(_node(raw["not"], f"{path}.not", depth + 1, counter))
        items = raw[key]
        if not isinstance(items, list) or not items:
            raise InvalidCriteria(f"{path}.{key}", "must be a non-empty list of criteria")
        children = tuple(
            _node(item, f"{path}.{key}[{i}]", depth + 1, counter) for i, item in enumerate(items)
        )
        return Group(key, children)  # type: ignore[arg-type]
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise InvalidCriteria(path, f"criteria hold at most {MAX_CONDITIONS} conditions")
    return _condition(raw, path)


def _condition(raw: dict[str, Any], path: str) -> Condition:
    name = raw.get("field")
    if not isinstance(name, str):
        raise InvalidCriteria(f"{path}.field", "must name a field", allowed=sorted(FIELDS))
    key = None
    if name.startswith(CUSTOM_PREFIX):
        key = _custom_key(name[len(CUSTOM_PREFIX) :], f"{path}.field")
        spec = Field("customFields", "custom")
    elif name in FIELDS:
        spec = FIELDS[name]
    else:
        raise InvalidCriteria(
            f"{path}.field", f"unknown field {name[:100]!r}", allowed=sorted(FIELDS)
        )
    op = raw.get("op")
    if not isinstance(op, str) or op not in spec.ops:
        raise InvalidCriteria(
            f"{path}.op", f"{name} takes the operators {', '.join(sorted(spec.ops))}"
        )
    extra = set(raw) - {"field", "op", "value"} - spec.params
    if extra:
        raise InvalidCriteria(f"{path}.{sorted(extra)[0]}", f"{name} takes no such parameter")
    params = {p: _param(p, raw[p], f"{path}.{p}") for p in spec.params if p in raw}
    if op in _PRESENCE:
        if raw.get("value") is not None:
            raise InvalidCriteria(f"{path}.value", f"{op} takes no value")
        value: Any = None
    else:
        if "value" not in raw:
            raise InvalidCriteria(f"{path}.value", "is required")
        value = _value(spec, op, raw["value"], f"{path}.value")
    return Condition(spec, op, value, path, key, params)


def _custom_key(key: str, path: str) -> str:
    if not key or len(key) > 100 or '"' in key or "\\" in key:
        raise InvalidCriteria(path, "a custom field's key is 1 to 100 characters, no quote")
    try:
        return check_text(key)
    except ValueError as exc:
        raise InvalidCriteria(path, str(exc)) from None


def _param(name: str, raw: Any, path: str) -> Any:
    if name == "withinDays":
        return _days(raw, path)
    allowed = _PURCHASE_KINDS if name == "kind" else _DIRECTIONS
    if raw not in allowed:
        raise InvalidCriteria(path, f"must be one of {', '.join(sorted(allowed))}")
    return raw


def _value(spec: Field, op: str, raw: Any, path: str) -> Any:
    if op in ("in", "notIn"):
        if spec.kind == "segment" and isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw or len(raw) > MAX_VALUES:
            raise InvalidCriteria(path, f"must be a list of 1 to {MAX_VALUES} values")
        return tuple(_scalar(spec, v, f"{path}[{i}]") for i, v in enumerate(raw))
    if op == "between":
        if not isinstance(raw, list) or len(raw) != 2:
            raise InvalidCriteria(path, "must be a list of two values: [low, high]")
        low, high = (_scalar(spec, v, f"{path}[{i}]") for i, v in enumerate(raw))
        if low > high:
            raise InvalidCriteria(path, "the low bound is above the high bound")
        return (low, high)
    if op in ("olderThanDays", "newerThanDays", "withinLastDays"):
        return _days(raw, path)
    if op in ("contains", "startsWith") and spec.kind != "tags":
        return _text(raw, path)
    return _scalar(spec, raw, path)


def _scalar(spec: Field, raw: Any, path: str) -> Any:
    if spec.kind == "days":
        return _days(raw, path)
    if spec.kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise InvalidCriteria(path, "must be an integer")
        try:
            return check_int64(raw)
        except ValueError as exc:
            raise InvalidCriteria(path, str(exc)) from None
    if spec.kind == "datetime":
        if not isinstance(raw, str):
            raise InvalidCriteria(path, "must be an ISO 8601 time with a zone")
        try:
            when = datetime.fromisoformat(raw)
        except ValueError:
            raise InvalidCriteria(path, "must be an ISO 8601 time with a zone") from None
        if when.tzinfo is None:
            raise InvalidCriteria(path, "must be an ISO 8601 time with a zone")
        return when
    text = _text(raw, path)
    if spec.kind == "enum" and text not in spec.choices:
        raise InvalidCriteria(path, f"must be one of {', '.join(sorted(spec.choices))}")
    return text


def _text(raw: Any, path: str) -> str:
    if not isinstance(raw, str) or not raw or len(raw) > MAX_TEXT:
        raise InvalidCriteria(path, f"must be text of 1 to {MAX_TEXT} characters")
    try:
        return check_text(raw)
    except ValueError as exc:
        raise InvalidCriteria(path, str(exc)) from None


def _days(raw: Any, path: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_DAYS:
        raise InvalidCriteria(path, f"must be a whole number of days from 0 to {MAX_DAYS}")
    return raw
