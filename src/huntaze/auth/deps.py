"""FastAPI dependencies: the caller (principal) and role checks.

Roles bound what a user may do on a creator:

| role | may |
|---|---|
| analyst | read |
| chatter | read fans, conversations and quick replies; write messages |
| manager, owner | everything |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from huntaze.auth.errors import CreatorNotFound
from huntaze.auth.tokens import LAST_USED_RESOLUTION, TOKEN_PREFIX, hash_token
from huntaze.context import DbSession, get_now
from huntaze.kit.errors import ApiError, forbidden
from huntaze.models.tenancy import ApiToken, Creator, Membership

PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset({"owner", "manager", "chatter", "analyst"}),
    "messages": frozenset({"owner", "manager", "chatter"}),
    "write": frozenset({"owner", "manager"}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user acting on one creator with one role."""

    user_id: str
    creator_id: str
    role: str
    token_id: str

    def can(self, permission: str) -> bool:
        """True when this principal's role grants ``permission`` (read, messages, write)."""
        return self.role in PERMISSIONS[permission]


def _unauthenticated() -> ApiError:
    # a new instance per raise: a shared one would keep its last traceback (and frames) alive
    return ApiError(401, "unauthenticated", "A valid bearer token is required")


#: ``request.state`` attribute where :class:`huntaze.api_guards.AuthenticateBeforeBody` leaves
#: the principal it resolved before the body was read, so :func:`get_principal` does not look
#: the token up twice.
EARLY_PRINCIPAL = "huntaze_principal"


def authenticate(
    session: Session, authorization: str | None, x_huntaze_creator: str | None
) -> tuple[Principal, datetime | None]:
    """Resolve ``Authorization: Bearer <token>`` and the creator acted on, reading only.

    The creator is ``x_huntaze_creator`` (a creator id or handle), else the token's default
    creator. Returns the principal and the token's ``last_used_at``; the caller ends the
    session's transaction.

    Raises:
        ApiError: as :func:`get_principal`.
    """
    return _lookup(session, bearer_secret(authorization), x_huntaze_creator)


def bearer_secret(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer hz_…`` header value (RFC 6750 §2.1).

    Raises:
        ApiError: 401 ``unauthenticated`` when the header is missing or holds no Huntaze token.
    """
    if not authorization or not authorization.lower().startswith("bearer "):
        raise _unauthenticated()
    secret = authorization[7:].strip()
    if not secret.startswith(TOKEN_PREFIX):
        raise _unauthenticated()
    return secret


def get_principal(
    request: Request,
    session: DbSession,
    authorization: Annotated[str | None, Header()] = None,
    x_huntaze_creator: Annotated[str | None, Header()] = None,
) -> Principal:
    """Authenticate ``Authorization: Bearer <token>`` and resolve the creator acted on.

    The creator is the ``X-Huntaze-Creator`` header (a creator id or handle), else the token's
    default creator. A request whose token was already checked before its body was read
    (:data:`EARLY_PRINCIPAL`) reuses that principal.

    Raises:
        ApiError: 401 for a missing, unknown or revoked token; 404 ``creator_not_found`` for a
            creator the user has no membership on (indistinguishable from one that does not
            exist); 400 when no creator is named and the token has no default.
    """
    early: tuple[Principal, datetime | None] | None = getattr(request.state, EARLY_PRINCIPAL, None)
    if early is not None:
        principal, last_used = early
    else:
        secret = bearer_secret(authorization)
        if not session.in_transaction():
            # only reads follow, so no write lock: BEGIN DEFERRED even on a session that will
            # write later (huntaze.context.get_session); the option lasts for this transaction
            session.connection(execution_options={"sqlite_begin": "DEFERRED"})
        try:
            principal, last_used = _lookup(session, secret, x_huntaze_creator)
        finally:
            # End the read before returning: the route runs in another thread call, and a
            # transaction left open would hold a connection while it waits for that thread.
            session.rollback()
    now = get_now(request)
    if last_used is None or now - last_used > LAST_USED_RESOLUTION:
        # A transaction of its own that begins with the write: on SQLite a read transaction
        # that turns into a write fails at once (SQLITE_BUSY_SNAPSHOT, no busy wait) if a
        # worker committed in between, while one that starts with the write waits for the lock
        # (https://sqlite.org/rescode.html#busy_snapshot).
        try:
            session.execute(
                update(ApiToken).where(ApiToken.id == principal.token_id).values(last_used_at=now)
            )
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return principal


def _lookup(
    session: Session, secret: str, x_huntaze_creator: str | None
) -> tuple[Principal, datetime | None]:
    """The principal of token ``secret`` and the token's ``last_used_at``.

    Raises:
        ApiError: as :func:`get_principal`.
    """
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or token.revoked_at is not None:
        raise _unauthenticated()
    creator_ref = (x_huntaze_creator or "").strip() or token.default_creator_id
    if not creator_ref:
        raise ApiError(400, "creator_required", "Name a creator in the X-Huntaze-Creator header")
    if "\x00" in creator_ref:  # no creator has one, and PostgreSQL refuses it in a query
        raise CreatorNotFound()
    row = session.execute(
        select(Membership.role, Creator.id)
        .join(Creator, Creator.id == Membership.creator_id)
        .where(Membership.user_id == token.user_id)
        .where((Creator.id == creator_ref) | (Creator.handle == creator_ref.lower()))
    ).first()
    if row is None:
        raise CreatorNotFound()
    principal = Principal(user_id=token.user_id, creator_id=row[1], role=row[0], token_id=token.id)
    return principal, token.last_used_at


def require(permission: str) -> Callable[..., Principal]:
    """Return a dependency that authenticates and checks ``permission`` (read/messages/write).

    Raises:
        ApiError: 403 ``forbidden`` when the role does not grant it (after the 401/404 checks).
    """
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not principal.can(permission):
            raise forbidden()
        return principal

    return dependency


Reader = Annotated[Principal, Depends(require("read"))]
Messenger = Annotated[Principal, Depends(require("messages"))]
Writer = Annotated[Principal, Depends(require("write"))]
