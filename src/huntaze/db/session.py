"""Session helpers that services share."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from huntaze.kit.errors import ApiError


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
