"""Checks that run on every API route before its handler: the token before the body is read,
no query parameter the route does not declare, and no NUL in a path or query value.

Both read what they need from the FastAPI route that serves the request (``scope["route"]``,
set by the router once it has matched), once per route: whether its dependencies include
:func:`huntaze.auth.deps.get_principal`, and the query parameters its dependant declares
(its own and its dependencies', models expanded), which are also what ``/openapi.json``
documents for it.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from datetime import datetime
from typing import Any

import anyio.to_thread
from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_flat_params, get_validation_alias
from fastapi.routing import APIRoute
from pydantic import AliasChoices
from sqlalchemy.orm import Session, sessionmaker

from huntaze.auth.deps import EARLY_PRINCIPAL, Principal, authenticate, get_principal
from huntaze.context import get_context
from huntaze.kit.body_limit import BodyReadRefused
from huntaze.kit.errors import ApiError
from huntaze.kit.validation import check_text

Scope = MutableMapping[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _RouteFacts:
    """What the guards need to know about one route, computed once."""

    __slots__ = ("checks_query", "needs_auth", "query_params")

    def __init__(self, route: APIRoute) -> None:
        dependants = list(_walk(route.dependant))
        self.needs_auth = any(d.call is get_principal for d in dependants)
        self.query_params = _query_names(dependants)
        # Routes left out of the OpenAPI document (the docs pages, the root redirect) may be
        # reached with query strings of their own (Swagger UI's OAuth redirect).
        self.checks_query = route.include_in_schema


#: Facts by ``id(route)`` (routes define ``__eq__`` and are not hashable), each with a weak
#: reference to its route: an entry goes when its route does (apps built by tests).
_FACTS: dict[int, tuple[weakref.ref[APIRoute], _RouteFacts]] = {}


def _facts(route: object) -> _RouteFacts | None:
    if not isinstance(route, APIRoute):
        return None
    key = id(route)
    entry = _FACTS.get(key)
    if entry is None or entry[0]() is not route:
        entry = (weakref.ref(route, lambda _ref: _FACTS.pop(key, None)), _RouteFacts(route))
        _FACTS[key] = entry
    return entry[1]


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    stack = [dependant]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.dependencies)


def _query_names(dependants: list[Dependant]) -> frozenset[str]:
    fields = [f for d in dependants for f in d.query_params]
    names: set[str] = set()
    # get_flat_params expands a query model (``Annotated[Model, Query()]``) into its fields.
    for field in get_flat_params(Dependant(query_params=fields)):
        names.add(get_validation_alias(field))
        choices = field.field_info.validation_alias
        if isinstance(choices, AliasChoices):
            names.update(c for c in choices.choices if isinstance(c, str))
        config = getattr(field, "config", None) or {}
        if config.get("populate_by_name") or config.get("validate_by_name"):
            names.add(field.name)
    return frozenset(names)


def route_query_params(route: APIRoute) -> frozenset[str]:
    """The query parameter names ``route`` accepts: those its dependant declares, its
    dependencies' included, with aliases (``subscriptionStatus``, not ``subscription_status``)."""
    facts = _facts(route)
    assert facts is not None
    return facts.query_params


def _authenticate_now(
    sessions: sessionmaker[Session], scope: Scope
) -> tuple[Principal, datetime | None]:
    """Run :func:`~huntaze.auth.deps.authenticate` for the request ``scope`` in a session
    of its own (read only, closed before returning)."""
    authorization = creator = None
    for name, value in scope.get("headers") or ():
        if name == b"authorization":
            authorization = value.decode("latin-1")
        elif name == b"x-huntaze-creator":
            creator = value.decode("latin-1")
    with sessions() as session:
        return authenticate(session, authorization, creator)


async def _ensure_authenticated(sessions: sessionmaker[Session], scope: Scope) -> None:
    """Authenticate the request now, unless already done; leave the principal in the
    request's state for :func:`~huntaze.auth.deps.get_principal`.

    Raises:
        ApiError: 401, 404 ``creator_not_found`` or 400 ``creator_required``.
    """
    state = scope.setdefault("state", {})
    if EARLY_PRINCIPAL not in state:
        state[EARLY_PRINCIPAL] = await anyio.to_thread.run_sync(_authenticate_now, sessions, scope)


class AuthenticateBeforeBody:
    """Check the bearer token of a route that needs one before the route reads its body.

    FastAPI reads and parses a request body before it runs the route's dependencies, so
    without this an unauthenticated caller could make the server read, buffer and parse a
    body only to answer 401. This middleware wraps ``receive``: the first time the app asks
    for the body, once the router has matched the route, a route whose dependencies include
    :func:`~huntaze.auth.deps.get_principal` has its token checked (in a worker thread, with
    the same :func:`~huntaze.auth.deps.authenticate` the dependency uses) and a refused
    caller's error is raised (as :class:`~huntaze.kit.body_limit.BodyReadRefused`) before a
    byte of the body is read. The principal is left in the request's state, so the
    dependency does not look the token up again. Routes that never read a body (GET) are
    authenticated by their dependency as before, at no extra cost.

    Args:
        app: the wrapped ASGI app.
        sessions: the session factory to look the token up with.
    """

    def __init__(self, app: ASGIApp, sessions: sessionmaker[Session]) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        checked = False

        async def receive_after_auth() -> Message:
            nonlocal checked
            if not checked:
                checked = True
                facts = _facts(scope.get("route"))
                if facts is not None and facts.needs_auth:
                    try:
                        await _ensure_authenticated(self.sessions, scope)
                    except ApiError as exc:
                        raise BodyReadRefused(exc) from None
            return await receive()

        await self.app(scope, receive_after_auth, send)


async def check_parameters(request: Request) -> None:
    """App-wide dependency, run before the route's own: the query string and the path.

    Each query parameter the route does not declare is refused, so ``?platfrom=onlyfans``
    is not ignored (which listed every fan). Each path parameter and query value must be text a
    database column can store (:func:`~huntaze.kit.validation.check_text`: no NUL, which
    PostgreSQL refuses with an error, and no lone surrogate), whatever type the route gives it.
    A route that needs a token checks it first, so a caller without a valid one gets 401
    whatever its query string.

    Raises:
        ApiError: 422 ``invalid_request`` with ``details: [{"field": name, "message":
            "unknown query parameter"}]`` for undeclared names, else one detail per value that
            is not valid text; 401/404/400 as :func:`~huntaze.auth.deps.get_principal` first
            when the route needs a token and the caller's is refused.
    """
    facts = _facts(request.scope.get("route"))
    if facts is None or not facts.checks_query:
        return
    query = request.query_params
    details = [
        {"field": name, "message": "unknown query parameter"}
        for name in dict.fromkeys(query.keys())
        if name not in facts.query_params
    ]
    if not details:
        values = [*request.path_params.items(), *query.multi_items()]
        for name, value in values:
            try:
                check_text(str(value))
            except ValueError as exc:
                details.append({"field": name, "message": str(exc)})
    if not details:
        return
    if facts.needs_auth:
        await _ensure_authenticated(get_context(request).sessions, request.scope)
    raise ApiError(422, "invalid_request", "The request is not valid", details)
