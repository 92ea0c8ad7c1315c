"""Session helpers that services share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from huntaze.db.base import Base
from huntaze.kit.errors import ApiError
from huntaze.kit.validation import check_text

ModelT = TypeVar("ModelT", bound=Base)


def flush_or_raise(session: Session, error: ApiError) -> None:
    """Flush ``session``; when a unique key refuses it, roll the transaction back and raise
    ``error`` (a 409 naming what is taken) instead of the database's error.

    The whole request fails with the error, so nothing of it is kept (the request's session
    dependency would roll back as well; rolling back here frees the connection at once).

    Raises:
        ApiError: ``error``, from the ``IntegrityError``.
    """
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise error from exc


def is_storable(value: str) -> bool:
    """True when ``value`` could be a stored id (valid text): anything else cannot match a
    row, and PostgreSQL would refuse to compare it (a NUL character)."""
    try:
        check_text(value)
    except ValueError:
        return False
    return True


def get_owned(
    session: Session,
    model: type[ModelT],
    creator_id: str,
    row_id: str,
    not_found: Callable[[], ApiError],
) -> ModelT:
    """The row of ``model`` with id ``row_id`` that belongs to ``creator_id``.

    Another creator's row answers exactly as a missing one (tenant isolation), and so does
    an id no column could hold.

    Raises:
        ApiError: ``not_found()`` (a domain's 404, such as ``FanNotFound``).
    """
    if not is_storable(row_id):
        raise not_found()
    columns: Any = model
    row = session.scalar(
        select(model).where(columns.id == row_id, columns.creator_id == creator_id)
    )
    if row is None:
        raise not_found()
    return row


def rows_changed(session: Session, statement: Any) -> int:
    """Run a set-based ``INSERT``, ``UPDATE`` or ``DELETE`` and return how many rows it
    changed (SQLAlchemy keeps an ``INSERT … SELECT``'s rowcount only when asked)."""
    result = cast(
        "CursorResult[Any]",
        session.execute(statement, execution_options={"preserve_rowcount": True}),
    )
    return max(int(result.rowcount), 0)
