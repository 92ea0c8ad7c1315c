"""``Idempotency-Key`` on POSTs with an outside side effect (design.md §5).

- The same key with the same request answers the first response again; nothing runs twice.
- The same key with another request answers 422 ``idempotency_key_reused``.
- The same key while the first request is still running answers 409
  ``idempotency_key_in_flight``.
- Keys are kept 24 hours per creator. The response is stored in the same transaction as the
  request's own writes, so a stored response always matches what happened. A request that
  crashed leaves its key ``in_flight``; after ``IN_FLIGHT_TIMEOUT`` the key can be used again.

The contract follows the IETF draft "The Idempotency-Key HTTP Header Field"
(draft-ietf-httpapi-idempotency-key-header).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
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


def begin(engine: Engine, creator_id: str, key: str, digest: str, now: datetime) -> Stored | None:
    """Reserve ``key`` for this request, or return the stored response of its first use.

    Raises:
        ApiError: 400 ``invalid_idempotency_key`` for an empty or over-long key; 409
            ``idempotency_key_in_flight``; 422 ``idempotency_key_reused``.
    """
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ApiError(
            400, "invalid_idempotency_key", "Idempotency-Key must be 1-255 printable characters"
        )
    for _ in range(2):
        with engine.begin() as conn:
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
                    raise ApiError(
                        409,
                        "idempotency_key_in_flight",
                        "A request with this Idempotency-Key is still running",
                        [{"header": "Idempotency-Key"}],
                    )
                return Stored(
                    int(row.response_status or 200), json.loads(row.response_body or "null")
                )
            if stale:
                conn.execute(
                    delete(IdempotencyKey).where(
                        IdempotencyKey.creator_id == creator_id, IdempotencyKey.key == key
                    )
                )
        try:
            with engine.begin() as conn:
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
        except IntegrityError:
            continue  # another request took it between our read and insert: read it again
    raise ApiError(
        409, "idempotency_key_in_flight", "A request with this Idempotency-Key is still running"
    )


def finish(session: Session, creator_id: str, key: str, status: int, body: Any) -> None:
    """Store the response in ``session`` (committed with the request's own writes)."""
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.creator_id == creator_id, IdempotencyKey.key == key)
        .values(status="done", response_status=status, response_body=json.dumps(body, default=str))
    )


def abandon(engine: Engine, creator_id: str, key: str) -> None:
    """Free a key whose request failed unexpectedly, so the client may try again."""
    with engine.begin() as conn:
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
