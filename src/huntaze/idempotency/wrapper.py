"""The one wrapper for routes that take an ``Idempotency-Key``: single sends and bulks today,
campaign launches and automations next."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from huntaze.idempotency import service as keys
from huntaze.kit.errors import ApiError

log = structlog.get_logger("huntaze.idempotency")


class IdempotentRequest:
    """A request that may carry an ``Idempotency-Key``, ready to run its handler under it
    (routes get one from :data:`huntaze.context.Idempotent`).

    Args:
        request: the request (its method and path are part of the key's hash).
        session: the request's session.
        now: the request's time (aware, UTC).
        key: the ``Idempotency-Key`` header, None when absent.
    """

    def __init__(self, request: Request, session: Session, now: datetime, key: str | None):
        self.request = request
        self.session = session
        self.now = now
        self.key = key

    def run(
        self,
        creator_id: str,
        payload: BaseModel | None,
        handler: Callable[[], Any],
        status_code: int = 200,
    ) -> JSONResponse:
        """Run ``handler()`` under the key for ``creator_id`` (:func:`run_idempotent`).

        Raises:
            ApiError: as :func:`run_idempotent`.
        """
        return run_idempotent(
            self.request,
            self.session,
            creator_id,
            self.now,
            self.key,
            payload,
            handler,
            status_code,
        )


def run_idempotent(
    request: Request,
    session: Session,
    creator_id: str,
    now: datetime,
    key: str | None,
    payload: BaseModel | None,
    handler: Callable[[], Any],
    status_code: int = 200,
) -> JSONResponse:
    """Run ``handler()`` under the request's ``Idempotency-Key`` and answer its result as JSON.

    Without a key the handler runs on ``session`` and the request's session dependency
    (:func:`huntaze.context.get_session`) commits it. With one, everything runs on the
    request's own session, so the request holds at most one pooled connection, one
    transaction at a time:

    1. the key is reserved in a short transaction of its own, committed before the handler
       runs (:func:`huntaze.idempotency.service.begin`); a completed key answers its stored
       response again with ``Idempotent-Replayed: true`` and the handler does not run;
    2. the handler adds its writes to ``session``, and the response is stored in the same
       transaction (:func:`~huntaze.idempotency.service.finish`), so it always matches
       what happened;
    3. an ``ApiError`` from the handler rolls its writes back and stores the error answer
       instead; any other exception frees the key (``abandon``) and propagates.

    Args:
        creator_id: the caller's creator; keys are kept per creator.
        now: the request's time (aware, UTC).
        payload: the parsed body, hashed with the method and path to tell a replay from a
            reuse; None for a route without a body.
        handler: a function of no arguments returning a response model.
        status_code: the status of a success.

    Raises:
        ApiError: the handler's, and from ``begin``: 400 ``invalid_idempotency_key``, 409
            ``idempotency_key_in_flight``, 422 ``idempotency_key_reused``.
    """
    if not key:
        result = handler()
        return JSONResponse(jsonable_encoder(result, by_alias=True), status_code=status_code)
    digest = keys.request_hash(
        request.method, request.url.path, payload.model_dump(mode="json") if payload else None
    )
    session.commit()  # the reservation must be a transaction of its own
    stored = keys.begin(session, creator_id, key, digest, now)
    if stored is not None:
        return JSONResponse(
            stored.body, status_code=stored.status, headers={"Idempotent-Replayed": "true"}
        )
    try:
        result = handler()
        body = jsonable_encoder(result, by_alias=True)
        keys.finish(session, creator_id, key, status_code, body)
        session.commit()
        return JSONResponse(body, status_code=status_code)
    except ApiError as exc:
        session.rollback()
        keys.finish(session, creator_id, key, exc.status, exc.body())
        session.commit()
        raise
    except BaseException:
        session.rollback()
        try:
            keys.abandon(session, creator_id, key)
        except Exception as exc:
            # the database itself failed: the key frees itself after IN_FLIGHT_TIMEOUT
            session.rollback()
            log.warning("idempotency_abandon_failed", error_type=type(exc).__name__)
        raise
