"""``Idempotency-Key`` on POSTs with an outside side effect (design.md §5).

- The same key with the same request answers the first response again; nothing runs twice.
- The same key with another request answers 422 ``idempotency_key_reused``.
- The same key while the first request is still running answers 409
  ``idempotency_key_in_flight``.
- Keys are kept 24 hours per creator. The response is stored in the same transaction as the
  request's own writes, so a stored response always matches what happened. A request that
  crashed leaves its key ``in_flight``; after ``IN_FLIGHT_TIMEOUT`` the key can be used again.

The API runs all of it on the request's own session, one transaction after another: the key
is reserved (:func:`begin`) and committed before the handler runs, then the handler's writes
and the response (:func:`finish`) are committed together. A request thus never needs a
second pooled connection, so any number of keyed requests at once cannot drain the pool
while each holds one (issue 8, D4).

The contract follows the IETF draft "The Idempotency-Key HTTP Header Field"
(draft-ietf-httpapi-idempotency-key-header).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from huntaze.kit.errors import ApiError
from huntaze.models.messaging import IdempotencyKey

KEEP = timedelta(hours=24)
IN_FLIGHT_TIMEOUT = timedelta(minutes=5)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Stored:
    """A finished request's response."""

    status: int
    body: Any


def request_hash(method: str, path: str, payload: Any) -> str:
    """SHA-256 of the method, path and canonical JSON of the parsed body."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def begin(
    db: Engine | Session, creator_id: str, key: str, digest: str, now: datetime
) -> Stored | None:
    """Reserve ``key`` for this request, or return the stored response of its first use.

    The reservation is one short transaction of its own, committed before this returns, so
    that another request with the key sees it ``in_flight`` while this one runs. With a
    :class:`~sqlalchemy.orm.Session` (the request's own, as the API does) that transaction
    runs on the session, which must have nothing pending: it is committed, or rolled back when
    this raises; on SQLite a request's session begins it with ``BEGIN IMMEDIATE``, so the read
    and the insert hold the write lock together. With an :class:`~sqlalchemy.engine.Engine`
    it runs on a connection of its own. Two requests that both found the key free race on the
    primary key ``(creator_id, key)``: the loser reads the key again and answers as above.

    Args:
        db: the request's session (nothing pending), or an engine.
        creator_id: keys are per creator.
        key: the ``Idempotency-Key`` header.
        digest: :func:`request_hash` of the request.
        now: the request's time; a key expires at ``now + KEEP``.

    Returns:
        None when the key is now reserved for this request (the caller must then
        :func:`finish` or :func:`abandon` it); the first response when the key already
        completed with the same request.

    Raises:
        ApiError: 400 ``invalid_idempotency_key`` for an empty, over-long or unprintable key;
            409 ``idempotency_key_in_flight`` while the first request runs (its reservation is
            younger than ``IN_FLIGHT_TIMEOUT``); 422 ``idempotency_key_reused`` when the key
            was used with another request (another ``digest``).
    """
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ApiError(
            400, "invalid_idempotency_key", "Idempotency-Key must be 1-255 printable characters"
        )
    for _ in range(2):
        try:
            with _transaction(db) as conn:
                return _reserve(conn, creator_id, key, digest, now)
        except IntegrityError:
            continue  # another request inserted it between our read and insert: read again
    raise _in_flight()


def _reserve(
    conn: Connection | Session, creator_id: str, key: str, digest: str, now: datetime
) -> Stored | None:
    """:func:`begin`'s read-then-insert, inside one transaction."""
    row = conn.execute(
        select(IdempotencyKey.__table__).where(
            IdempotencyKey.creator_id == creator_id, IdempotencyKey.key == key
        )
    ).first()
    stale = row is not None and (
        row.expires_at <= now
        or (row.status == "in_flight" and row.created_at <= now - IN_FLIGHT_TIMEOUT)
    )
    if row is not None and not stale:
        if row.request_hash != digest:
            raise ApiError(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was used with another request",
                [{"header": "Idempotency-Key"}],
            )
        if row.status == "in_flight":
            raise _in_flight()
        return Stored(int(row.response_status or 200), json.loads(row.response_body or "null"))
    if stale:
        conn.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.creator_id == creator_id, IdempotencyKey.key == key
            )
        )
    conn.execute(
        insert(IdempotencyKey).values(
            creator_id=creator_id,
            key=key,
            request_hash=digest,
            status="in_flight",
            response_status=None,
            response_body=None,
            created_at=now,
            expires_at=now + KEEP,
        )
    )
    return None


def _in_flight() -> ApiError:
    return ApiError(
        409,
        "idempotency_key_in_flight",
        "A request with this Idempotency-Key is still running",
        [{"header": "Idempotency-Key"}],
    )


@contextmanager
def _transaction(db: Engine | Session) -> Iterator[Connection | Session]:
    """A transaction on ``db``: committed when the block ends, rolled back if it raises."""
    if isinstance(db, Session):
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise
    else:
        with db.begin() as conn:
            yield conn


def finish(session: Session, creator_id: str, key: str, status: int, body: Any) -> None:
    """Store the response in ``session``, to be committed with the request's own writes.

    ``body`` is any JSON-encodable value; it is answered again with ``status`` to every later
    request with the key and the same body, until the key expires.
    """
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.creator_id == creator_id, IdempotencyKey.key == key)
        .values(status="done", response_status=status, response_body=json.dumps(body, default=str))
    )


def abandon(db: Engine | Session, creator_id: str, key: str) -> None:
    """Free a key whose request failed unexpectedly, so the client may try again.

    Runs in a transaction of its own (on ``db``, a session with nothing pending, or an
    engine); a key already ``done`` is left alone.
    """
    with _transaction(db) as conn:
        conn.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.creator_id == creator_id,
                IdempotencyKey.key == key,
                IdempotencyKey.status == "in_flight",
            )
        )


def prune(engine: Engine, now: datetime) -> int:
    """Delete expired keys; return how many."""
    with engine.begin() as conn:
        result = conn.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))
    return int(result.rowcount or 0)
