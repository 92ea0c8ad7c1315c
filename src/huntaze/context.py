"""What every route may ask for, typed: the application context, the clock's reading and the
request's database session, which commits once when the route succeeds.

The app factory (:func:`huntaze.api.create_app`) builds one :class:`AppContext` and keeps it
on ``app.state``; routes ask for it with ``ctx: Ctx`` instead of reading ``app.state``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Annotated, Any, Protocol

from fastapi import Depends, Header, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from huntaze.config import Settings
from huntaze.db.dialect import writer_bind
from huntaze.db.engine import session_scope
from huntaze.idempotency.wrapper import IdempotentRequest
from huntaze.kit.clock import Clock
from huntaze.kit.crypto import SecretBox
from huntaze.models.crm import Conversation, Message
from huntaze.outbox.metrics import Metrics
from huntaze.outbox.service import Outbox
from huntaze.outbox.supervisor import SupervisedWorker


class SendOutbound(Protocol):
    """Queues an inbox message to its conversation's fan; returns the outbox message id.

    The inbox calls it without knowing the messaging domain (messaging provides it:
    :class:`huntaze.messaging.conversations.ConversationSender`).
    """

    def __call__(self, session: Session, conv: Conversation, message: Message, data: Any) -> str:
        """Queue ``message`` in ``session``'s transaction; ``data`` carries the priority."""
        ...


@dataclass
class AppContext:
    """What request handlers share: settings, the engine, the session factory, the clock,
    the secret box, the outbox, the metrics, the inbox's sender and the in-process worker."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    box: SecretBox
    outbox: Outbox
    metrics: Metrics
    send_outbound: SendOutbound
    worker: SupervisedWorker | None = None


def get_context(request: Request) -> AppContext:
    """The application's context (``app.state.ctx``, set by the app factory)."""
    ctx: AppContext = request.app.state.ctx
    return ctx


Ctx = Annotated[AppContext, Depends(get_context)]


def get_now(request: Request) -> datetime:
    """The application clock's reading for this request (aware, UTC); tests inject a clock."""
    return get_context(request).clock.now()


#: ``now: Now``: the application clock's reading (aware, UTC).
Now = Annotated[datetime, Depends(get_now)]


def get_session(request: Request) -> Iterator[Session]:
    """Yield the request's session; commit it once when the route returns, roll it back if the
    route raises. Routes never commit: services add and flush, and this commits.

    The dependency is ``scope="function"``: FastAPI runs the commit as soon as the route
    function returns, before the response is sent, so a commit that fails answers an error
    instead of a success that did not happen (a request-scoped dependency would commit after
    the answer had gone).

    The session holds a pooled connection only while a transaction is open: it takes one at
    its first statement and gives it back at each commit or rollback. ``get_principal`` ends
    its read before the route's own thread call, so a route holds no connection, and no
    SQLite lock, while it waits for one of anyio's threads.

    On SQLite a request that may write (any method but GET, HEAD and OPTIONS) begins its
    transactions with ``BEGIN IMMEDIATE``, taking the write lock at once: a read that later
    turns into a write could otherwise fail once a worker has committed in between (SQLite's
    ``SQLITE_BUSY_SNAPSHOT``, https://sqlite.org/rescode.html#busy_snapshot), while one that
    asks for the lock at BEGIN waits for it (up to the 30 s busy timeout).

    Yields:
        Session: ``expire_on_commit=False``; closed when the route ends.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: from the commit (the route's writes are rolled back).
    """
    ctx = get_context(request)
    factory: Callable[[], Session] = ctx.sessions
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        factory = partial(ctx.sessions, bind=writer_bind(ctx.engine))
    with session_scope(factory) as session:
        yield session


DbSession = Annotated[Session, Depends(get_session, scope="function")]


def get_idempotent(
    request: Request,
    session: DbSession,
    now: Now,
    key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> IdempotentRequest:
    """The request's ``Idempotency-Key`` with what running under it needs."""
    return IdempotentRequest(request, session, now, key)


#: ``idem: Idempotent``, then ``return idem.run(creator_id, body, handler)``: the route's
#: handler runs once per ``Idempotency-Key`` (:func:`huntaze.idempotency.wrapper.run_idempotent`).
Idempotent = Annotated[IdempotentRequest, Depends(get_idempotent)]
