"""Set-based fan-out: one personalised outbox row per selected fan, in one ``INSERT …
SELECT``. Bulk sends and campaign launches both queue through it, so every message of
either is an outbox row that the send-rate limits, retries and breaker govern."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    String,
    case,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, Grouping

from huntaze.db.expressions import sql_for
from huntaze.kit.ids import SEQUENCE_DIGITS, new_id_head
from huntaze.kit.templates import parts
from huntaze.models.crm import Fan
from huntaze.models.messaging import PRIORITIES, OutboxMessage, OutboxStatus, SendingAccount


def recipient_column(platform: str) -> Any:
    """The fan column a message on ``platform`` is addressed to: the email address for
    ``email``, else the fan's id on its platform."""
    return Fan.email if platform == "email" else Fan.platform_fan_id


def reachable_on(platform: str) -> ColumnElement[bool]:
    """The fans a message on ``platform`` can reach: those with an email address for
    ``email``, else the platform's own fans."""
    if platform == "email":
        return Fan.email.isnot(None)
    return Fan.platform == platform


def insert_personalised(
    session: Session,
    account: SendingAccount,
    now: datetime,
    conditions: Sequence[ColumnElement[bool]],
    *,
    template: str,
    default: str = "",
    key_prefix: str,
    bulk_id: str | None = None,
    campaign_id: str | None = None,
    variant_id: str | None = None,
    priority: str = "low",
    subject: str | None = None,
    media_urls: Sequence[str] | None = None,
    price_cents: int | None = None,
    max_attempts: int = 3,
    skip_existing: bool = False,
    not_before: ColumnElement[Any] | None = None,
    max_chars: int | None = None,
) -> int:
    """Queue on ``account`` one message per fan ``conditions`` select (they hold the
    tenant's filter, consent and reachability), rendered from ``template`` in SQL; return
    how many were queued.

    Each row's ``idempotency_key`` is ``<key_prefix>:<fan id>``, unique per account, so one
    fan gets one message per bulk or campaign. The rows share ``created_at`` and get
    ascending ids (:func:`huntaze.kit.ids.new_id_head` plus the row number), so workers
    send them in the order the fans were read.

    With ``max_chars`` a personalised text longer than that many characters is cut to fit,
    ending with ``…`` (a platform's length limit, :mod:`huntaze.campaigns.adapt`).

    ``not_before`` is SQL giving each fan's earliest send time (a campaign's send window,
    :mod:`huntaze.campaigns.send_window`); by default every row is due at ``now``.

    With ``skip_existing`` a fan that already has a row with this key on this account is
    skipped by the unique key (``ON CONFLICT DO NOTHING``) rather than by a ``NOT EXISTS``
    on the outbox: PostgreSQL, planning with an empty campaign's statistics, could scan the
    rows this very statement inserts once per fan.

    Raises:
        sqlalchemy.exc.IntegrityError: without ``skip_existing``, when a selected fan already
            has a row with this key on this account.
    """
    source = select(
        _row_ids(session, new_id_head("msg")).label("id"),
        literal(account.creator_id),
        literal(account.id),
        literal(account.platform),
        Fan.id,
        recipient_column(account.platform),
        literal(subject, String),
        _cut(personalised(session, template, default, now), max_chars),
        literal(list(media_urls or []), OutboxMessage.__table__.c.media.type),
        literal(price_cents, OutboxMessage.__table__.c.price_cents.type),
        literal(PRIORITIES[priority]),
        literal(OutboxStatus.QUEUED),
        literal(0),
        literal(max_attempts),
        literal(now, OutboxMessage.__table__.c.not_before.type)
        if not_before is None
        else not_before,
        literal(key_prefix + ":") + Fan.id,
        literal(bulk_id, String),
        literal(campaign_id, String),
        literal(variant_id, String),
        literal(now, OutboxMessage.__table__.c.created_at.type),
        literal(now, OutboxMessage.__table__.c.updated_at.type),
    ).where(*conditions)
    columns = [
        "id",
        "creator_id",
        "account_id",
        "platform",
        "fan_id",
        "recipient",
        "subject",
        "content",
        "media",
        "price_cents",
        "priority",
        "status",
        "attempts",
        "max_attempts",
        "not_before",
        "idempotency_key",
        "bulk_id",
        "campaign_id",
        "variant_id",
        "created_at",
        "updated_at",
    ]
    # SQLAlchemy keeps the rowcount of an INSERT … SELECT only when asked; both drivers then
    # give the number of rows inserted
    inserted = cast(
        "CursorResult[Any]",
        session.execute(
            (
                sql_for(session).insert_ignoring_conflicts(OutboxMessage)
                if skip_existing
                else insert(OutboxMessage)
            ).from_select(columns, source),
            execution_options={"preserve_rowcount": True},
        ),
    )
    return max(int(inserted.rowcount), 0)


def _cut(text: ColumnElement[str], max_chars: int | None) -> ColumnElement[str]:
    """``text``, or its first ``max_chars - 1`` characters and ``…`` when it is longer."""
    if max_chars is None:
        return text
    shortened = func.substr(text, 1, max_chars - 1) + literal("…", String)
    return case((func.length(text) > max_chars, shortened), else_=text)


def _row_ids(session: Session, head: str) -> Any:
    """Each selected row's id: ``head`` plus its ``row_number()`` as zero-padded hex
    (:func:`huntaze.kit.ids.new_id_head`), so the ids of one ``INSERT … SELECT`` ascend and
    the primary key grows at its right edge. Past 16**8 - 1 rows PostgreSQL's ``lpad`` would
    cut the number and the insert fail on the primary key (no fan list comes near)."""
    sequence = sql_for(session).hex_number(func.row_number().over(), SEQUENCE_DIGITS)
    return literal(head) + sequence


def personalised(
    session: Session, template: str, default: str, now: datetime | None = None
) -> ColumnElement[str]:
    """SQL that renders ``template`` for each fan: ``{username}``, ``{displayName}``,
    ``{firstName}``, ``{email}``, ``{platform}``, with ``now`` ``{days_absent}`` (whole days
    since the fan's last activity, or since it was added), and any custom field by name; a
    missing or empty value gives ``default``.

    The template's pieces (:func:`huntaze.kit.templates.parts`) are joined with ``||`` in a
    balanced tree, so the expression is as deep as the logarithm of the number of pieces:
    a 10,000-character template of placeholders stays far inside SQLite's parser stack and
    expression depth (``SQLITE_MAX_EXPR_DEPTH``, 1,000) and Python's recursion limit, where
    one nested ``replace()`` per placeholder overflowed SQLite's parser at about 30 and
    SQLAlchemy's compiler at about 100. Values are put in one pass, so a value that looks
    like a placeholder stays as it is, as :func:`huntaze.kit.templates.render` does.
    """
    fallback = literal(default, String)

    def days_absent() -> Any:
        # whole days since the fan's last activity (or since it was added)
        assert now is not None
        since = func.coalesce(Fan.last_active_at, Fan.created_at)
        return sql_cast(sql_for(session).whole_days(now, since), String)

    # built when the template uses them (a launch renders many short templates)
    known: dict[str, Callable[[], Any]] = {
        "username": lambda: func.coalesce(func.nullif(Fan.username, ""), fallback),
        "displayName": lambda: func.coalesce(
            func.nullif(Fan.display_name, ""), Fan.username, fallback
        ),
        "firstName": lambda: func.coalesce(
            func.nullif(sql_for(session).first_word(func.coalesce(Fan.display_name, "")), ""),
            Fan.username,
            fallback,
        ),
        "email": lambda: func.coalesce(Fan.email, fallback),
        "platform": lambda: Fan.platform,
    }
    if now is not None:
        known["days_absent"] = days_absent
    values: dict[str, Any] = {}
    pieces: list[Any] = []
    for text, is_variable in parts(template):
        if not is_variable:
            pieces.append(literal(text, String))
            continue
        value = values.get(text)
        if value is None:
            make = known.get(text)
            value = values[text] = (
                make()
                if make is not None
                else func.coalesce(func.nullif(Fan.custom_fields[text].as_string(), ""), fallback)
            )
        pieces.append(value)
    if not pieces:
        return literal("", String)
    while len(pieces) > 1:
        pieces = [
            _concat(pieces[i], pieces[i + 1]) if i + 1 < len(pieces) else pieces[i]
            for i in range(0, len(pieces), 2)
        ]
    return pieces[0]  # type: ignore[no-any-return]


def _concat(left: Any, right: Any) -> ColumnElement[str]:
    """``left || right`` with each side that is itself a concatenation in parentheses, kept
    as written: SQLAlchemy would otherwise flatten ``(a || b) || (c || d)`` into a chain
    that SQLite parses as deep as it is long."""

    def side(piece: Any) -> Any:
        return Grouping(piece) if isinstance(piece, BinaryExpression) else piece

    return BinaryExpression(side(left), side(right), operators.concat_op, type_=String())
