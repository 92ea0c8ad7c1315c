"""Compiles a checked criteria tree (:mod:`.criteria`) into one SQL condition on ``fans``.

The condition runs on SQLite and PostgreSQL alike: every value is a bound parameter, the
columns come from the allow-list, and what would differ between the engines (a custom
field's JSON) goes through SQLAlchemy's portable JSON index. A measure over a fan's
purchases or messages that a fan with none cannot meet is a semi-join over the creator's
rows (the covering indexes ``ix_purchases_creator_purchased`` and
``ix_messages_creator_sent`` hold a window's rows in one range); one a fan with none meets
is a subquery per fan (``ix_purchases_fan_purchased``, ``ix_messages_fan_sent``).

Day counts are whole days, as a person counts them: ``daysSinceLastActivity >= 30`` holds
for a fan whose last activity is at least 30 times 24 hours old. A fan with no recorded activity
counts from the day it was added.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    cast,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from huntaze.fans.criteria import KIND_GROUPS, Condition, Group, Node, Not
from huntaze.fans.tags import tag_key
from huntaze.fans.tiers import TierRules, tier_expression
from huntaze.models.crm import Fan, FanTag, Message, Purchase

#: Given a segment id and the path of the condition naming it, the condition selecting its
#: members (the service resolves it: a static segment's stored members, a dynamic segment's
#: own criteria).
SegmentResolver = Callable[[str, str], ColumnElement[bool]]

_COLUMNS: dict[str, Any] = {
    "platform": Fan.platform,
    "platformFanId": Fan.platform_fan_id,
    "username": Fan.username,
    "displayName": Fan.display_name,
    "email": Fan.email,
    "currency": Fan.currency,
    "timezone": Fan.timezone,
    "subscriptionStatus": Fan.subscription_status,
    "consent": Fan.consent,
    "subscribedAt": Fan.subscribed_at,
    "expiresAt": Fan.expires_at,
    "lastActiveAt": Fan.last_active_at,
    "createdAt": Fan.created_at,
    "lifetimeValueCents": Fan.lifetime_value_cents,
}
_DAY = timedelta(days=1)


class Compiler:
    """Compiles criteria for one creator at one instant.

    Args:
        creator_id: the tenant; every subquery is limited to its rows.
        now: the instant day counts and windows are measured from (aware, UTC).
        resolve_segment: how a ``segment`` condition finds a segment's members.
        tiers: the creator's tier thresholds (:mod:`.tiers`; the defaults when None).
    """

    def __init__(
        self,
        creator_id: str,
        now: datetime,
        resolve_segment: SegmentResolver,
        tiers: TierRules | None = None,
    ) -> None:
        self.creator_id = creator_id
        self.now = now
        self.resolve_segment = resolve_segment
        self.tiers = tiers or TierRules()

    def where(self, node: Node) -> list[ColumnElement[bool]]:
        """The conditions selecting the creator's fans that ``node`` holds for.

        When every fan selected must be in a set-based measure (:meth:`_measured`), the
        tenant condition is kept off SQLite's indexes (:class:`NotIndexed`): SQLite then
        reads the measure's fans and looks each up by primary key, where it otherwise walked
        all the creator's fans and probed the set for each one (1.3 to 1.8 times slower on
        the segments benchmark's 1,000,000 fans, bench/notes.md). Looking up the measure's
        fans costs less than the measure itself, which groups at least as many rows, so this
        order never loses much; PostgreSQL chooses its join order itself."""
        tenant: Any = Fan.creator_id
        if _drives(node):
            tenant = NotIndexed(Fan.creator_id)
        return [tenant == self.creator_id, self.compile(node)]

    def compile(self, node: Node) -> ColumnElement[bool]:
        """The condition for ``node`` alone (no tenant filter)."""
        if isinstance(node, Group):
            parts = [self.compile(child) for child in node.children]
            return and_(true(), *parts) if node.mode == "all" else or_(false(), *parts)
        if isinstance(node, Not):
            return not_(self.compile(node.child))
        return self._condition(node)

    def _condition(self, c: Condition) -> ColumnElement[bool]:
        kind = c.field.kind
        if kind == "tags":
            return self._tags(c)
        if kind == "segment":
            parts = [self.resolve_segment(seg, c.path) for seg in c.value]
            found = or_(*parts)
            return found if c.op == "in" else not_(found)
        if kind == "days":
            return self._days(c)
        if c.field.name in self._AGGREGATES:
            return self._measured(c)
        column = self._column(c)
        return _compare(column, c.op, c.value, self.now)

    def _column(self, c: Condition) -> Any:
        name = c.field.name
        if name in _COLUMNS:
            return _COLUMNS[name]
        if name == "tier":
            return tier_expression(self.tiers, self.now)
        # the criteria module lets through no other field of a plain kind
        assert name == "customFields", name
        return cast(Fan.custom_fields[c.key].as_string(), String)

    _AGGREGATES = ("spendCents", "purchaseCount", "messageCount")

    def _rows(self, c: Condition, *, correlated: bool) -> list[ColumnElement[bool]]:
        """The purchases or messages a ``spendCents``, ``purchaseCount`` or ``messageCount``
        condition counts: the creator's, of its ``kind`` or ``direction``, in its
        ``withinDays``; with ``correlated``, only the outer fan's."""
        since = c.params.get("withinDays")
        if c.field.name == "messageCount":
            conds = [Message.creator_id == self.creator_id]
            if correlated:
                conds.append(Message.fan_id == Fan.id)
            if "direction" in c.params:
                conds.append(Message.direction == c.params["direction"])
            if since is not None:
                conds.append(Message.sent_at >= self.now - since * _DAY)
            return conds
        conds = [Purchase.creator_id == self.creator_id]
        if correlated:
            conds.append(Purchase.fan_id == Fan.id)
        if "kind" in c.params:
            kinds = KIND_GROUPS.get(c.params["kind"], (c.params["kind"],))
            conds.append(Purchase.kind.in_(kinds))
        if since is not None:
            conds.append(Purchase.purchased_at >= self.now - since * _DAY)
        return conds

    def _aggregate(self, c: Condition) -> tuple[Any, Any, Any]:
        """The measure (a net sum, coalesced to 0, or a count), the fan column of its rows,
        and the table."""
        if c.field.name == "messageCount":
            return func.count(), Message.fan_id, Message
        if c.field.name == "spendCents":
            return func.coalesce(func.sum(Purchase.net_cents), 0), Purchase.fan_id, Purchase
        return func.count(), Purchase.fan_id, Purchase

    def _measured(self, c: Condition) -> ColumnElement[bool]:
        """A condition on a fan's purchases or messages.

        When a fan with no such rows cannot match (``purchaseCount >= 2``), it compiles
        set-based: ``fans.id IN (SELECT fan_id … GROUP BY fan_id HAVING …)``, one pass over
        the creator's rows in the window, which both engines run as a semi-join, where a
        subquery per fan made a million index lookups. The rows are grouped by a fan column
        SQLite may not take from an index (:class:`NotIndexed`): with statistics, SQLite read
        the rows in fan order from ``ix_purchases_fan_purchased`` to skip the grouping's
        sort, and looked every row of the table up (8.5 s for a 90-day spend on the
        benchmark's 8,000,000 purchases, against 3 s over the window's range). Otherwise
        (``purchaseCount = 0``) it stays a subquery per fan, as ``NOT IN`` over a large set
        is slow on PostgreSQL."""
        measure, fan_column, table = self._aggregate(c)
        if _holds_for_zero(c.op, c.value):
            per_fan = select(measure).where(*self._rows(c, correlated=True)).scalar_subquery()
            return _compare(per_fan, c.op, c.value, self.now)
        grouped = NotIndexed(fan_column)  # the window's index, not the fan's (see above)
        matching = (
            select(grouped)
            .select_from(table)
            .where(*self._rows(c, correlated=False))
            .group_by(grouped)
            .having(_compare(measure, c.op, c.value, self.now))
        )
        return Fan.id.in_(matching)

    def _tags(self, c: Condition) -> ColumnElement[bool]:
        has = exists().where(FanTag.fan_id == Fan.id, FanTag.creator_id == self.creator_id)
        if c.op == "isSet":
            return has
        if c.op == "isNotSet":
            return not_(has)
        keys = [tag_key(c.value)] if c.op == "contains" else [tag_key(v) for v in c.value]
        found = exists().where(
            FanTag.fan_id == Fan.id,
            FanTag.creator_id == self.creator_id,
            FanTag.tag_key.in_(keys),
        )
        return not_(found) if c.op == "notIn" else found

    def _days(self, c: Condition) -> ColumnElement[bool]:
        """A whole-day count compiled as a range of the underlying time, so the column's
        index can serve it: ``days >= n`` is ``t <= now - n days``, ``days <= n`` is
        ``t > now - (n + 1) days``."""
        if c.field.name == "daysSubscribed":
            t: Any = Fan.subscribed_at
        else:
            t = func.coalesce(Fan.last_active_at, Fan.created_at)
        now, op = self.now, c.op

        def at_least(n: int) -> ColumnElement[bool]:
            return t <= now - n * _DAY  # type: ignore[no-any-return]

        def at_most(n: int) -> ColumnElement[bool]:
            return t > now - (n + 1) * _DAY  # type: ignore[no-any-return]

        if op == "between":
            low, high = c.value
            return and_(at_least(low), at_most(high))
        n = c.value
        if op == "gte":
            return at_least(n)
        if op == "gt":
            return at_least(n + 1)
        if op == "lte":
            return at_most(n)
        if op == "lt":
            return at_most(n - 1) if n > 0 else false()
        exact = and_(at_least(n), at_most(n))
        return exact if op == "eq" else or_(not_(exact), t.is_(None))


class NotIndexed(FunctionElement[Any]):
    """A column SQLite may not use an index for: ``+column``, the unary plus of SQLite's
    documented way to keep a term off the indexes (https://www.sqlite.org/optoverview.html,
    "Disqualifying WHERE Clause Terms using Unary-+"). Other engines get the column as is.
    It has the column's type, so values bound against it are processed as the column's.

    The unary plus also drops the column's affinity on SQLite: compare it with values of the
    column's own type (a ``str`` for a text column), as ``'1' = 1`` holds for a TEXT column
    and not for ``+column``."""

    name = "not_indexed"
    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(NotIndexed)
def _not_indexed(element: NotIndexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(NotIndexed, "sqlite")
def _not_indexed_sqlite(element: NotIndexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.clauses, **kw)


def _drives(node: Node) -> bool:
    """Whether every fan ``node`` selects is in the set of a set-based measure: ``node`` is
    such a condition, or an ``all`` group with one among its members (at any depth of
    ``all`` groups)."""
    if isinstance(node, Group):
        return node.mode == "all" and any(_drives(child) for child in node.children)
    if isinstance(node, Condition):
        return node.field.name in Compiler._AGGREGATES and not _holds_for_zero(node.op, node.value)
    return False


def _holds_for_zero(op: str, value: Any) -> bool:
    """Whether a measure of 0 (a fan with no purchases or messages) satisfies ``op value``
    (the integer operators)."""
    checks: dict[str, Callable[[], bool]] = {
        "eq": lambda: value == 0,
        "ne": lambda: value != 0,
        "gt": lambda: value < 0,
        "gte": lambda: value <= 0,
        "lt": lambda: value > 0,
        "lte": lambda: value >= 0,
        "between": lambda: value[0] <= 0 <= value[1],
        "in": lambda: 0 in value,
        "notIn": lambda: 0 not in value,
    }
    return checks[op]()


def _escape_like(text: str) -> str:
    """``text`` matched literally by ``LIKE … ESCAPE '\\'``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _compare(column: Any, op: str, value: Any, now: datetime) -> ColumnElement[bool]:
    """``column op value``; ``ne`` and ``notIn`` also hold where the column has no value."""
    if op == "eq":
        return column == value  # type: ignore[no-any-return]
    if op == "ne":
        return or_(column != value, column.is_(None))
    if op == "gt":
        return column > value  # type: ignore[no-any-return]
    if op == "gte":
        return column >= value  # type: ignore[no-any-return]
    if op == "lt":
        return column < value  # type: ignore[no-any-return]
    if op == "lte":
        return column <= value  # type: ignore[no-any-return]
    if op == "between":
        return column.between(*value)  # type: ignore[no-any-return]
    if op == "in":
        return column.in_(value)  # type: ignore[no-any-return]
    if op == "notIn":
        return or_(column.not_in(value), column.is_(None))
    if op == "contains":
        # ILIKE on PostgreSQL, so a pg_trgm index on the column can serve it (docs/benchmarks.md)
        return column.ilike(f"%{_escape_like(value)}%", escape="\\")  # type: ignore[no-any-return]
    if op == "startsWith":
        return column.ilike(f"{_escape_like(value)}%", escape="\\")  # type: ignore[no-any-return]
    if op == "isSet":
        return column.is_not(None)  # type: ignore[no-any-return]
    if op == "isNotSet":
        return column.is_(None)  # type: ignore[no-any-return]
    days = value * _DAY
    if op == "olderThanDays":
        return column < now - days  # type: ignore[no-any-return]
    if op == "newerThanDays":
        return column > now - days  # type: ignore[no-any-return]
    # withinLastDays: from now - days up to now
    return and_(column >= now - days, column <= now)
