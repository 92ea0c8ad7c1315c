"""Creators, users, memberships and API tokens: creation, role changes, listing, revocation.

A token is ``hz_`` followed by 43 urlsafe characters (256 random bits from :mod:`secrets`).
Only its SHA-256 is stored: with that much entropy a fast hash is the standard choice (as in
GitHub's and Stripe's token schemes); a slow password hash would add nothing but latency. The
first 8 characters (``prefix``) are kept in clear so a person can tell tokens apart; they
carry 30 of the 256 bits, far too few to guess the rest.

A token acts for one user, on every creator that user has a role on (its default creator
unless a request names another). A role belongs to the membership, not to the token, so
changing it changes it for all the user's tokens: :func:`ensure_membership` refuses to do
that unless asked (``change_role``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huntaze.kit.errors import ApiError
from huntaze.kit.ids import new_id
from huntaze.models.tenancy import ROLES, ApiToken, Creator, Membership, User

TOKEN_PREFIX = "hz_"  # noqa: S105 - a public prefix, not a secret
#: characters of a token kept in clear (``ApiToken.prefix``): ``hz_`` and 5 more
SHOWN_PREFIX = 8
_HANDLE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
#: ``last_used_at`` is written at most this often per token, to keep reads cheap.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def hash_token(token: str) -> str:
    """Return the hex SHA-256 of ``token``, the form it is stored in."""
    return hashlib.sha256(token.encode()).hexdigest()


def validate_handle(handle: str) -> str:
    """Return ``handle`` lower-cased if it is a valid creator handle.

    Raises:
        ValueError: unless it is 1-64 characters of ``a-z 0-9 _ . -``, starting alphanumeric.
    """
    handle = handle.strip().lower()
    if not _HANDLE.match(handle):
        raise ValueError(
            "a creator handle is 1-64 characters of a-z, 0-9, '_', '.', '-', "
            "starting with a letter or digit"
        )
    return handle


def find_creator(session: Session, handle: str) -> Creator | None:
    """Return the creator with ``handle`` (case-insensitive), or None.

    Raises:
        ValueError: for an invalid handle.
    """
    return session.scalar(select(Creator).where(Creator.handle == validate_handle(handle)))


def creator_handles(session: Session, limit: int = 20) -> tuple[list[str], int]:
    """Return up to ``limit`` creator handles (alphabetical) and how many creators exist."""
    handles = list(session.scalars(select(Creator.handle).order_by(Creator.handle).limit(limit)))
    total = session.scalar(select(func.count()).select_from(Creator)) or 0
    return handles, total


def get_or_create_creator(
    session: Session, handle: str, now: datetime, *, name: str | None = None
) -> Creator:
    """Return the creator with ``handle``, creating it (UTC, USD) if missing.

    Raises:
        ValueError: for an invalid handle.
    """
    handle = validate_handle(handle)
    creator = find_creator(session, handle)
    if creator is None:
        creator = Creator(
            id=new_id("cr"),
            handle=handle,
            name=name or handle,
            timezone="UTC",
            currency="USD",
            created_at=now,
        )
        session.add(creator)
        session.flush()
    return creator


def get_or_create_user(session: Session, email: str, now: datetime) -> User:
    """Return the user with ``email`` (case-insensitive), creating it if missing."""
    email = email.strip().lower()
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(id=new_id("usr"), email=email, name=email.split("@")[0], created_at=now)
        session.add(user)
        session.flush()
    return user


def role_change_required(email: str, handle: str, current: str, wanted: str) -> ApiError:
    """The 409 ``role_change_required`` error: ``email`` has role ``current`` on creator
    ``handle`` and ``wanted`` was asked without leave to change it. ``details[0]`` names the
    ``role`` field and carries ``currentRole`` and ``requestedRole``."""
    return ApiError(
        409,
        "role_change_required",
        f"{email} is {_article(current)} {current} on {handle}; making them {_article(wanted)} "
        f"{wanted} changes the role of all their tokens, so it must be asked for explicitly",
        [{"field": "role", "currentRole": current, "requestedRole": wanted}],
    )


def _article(role: str) -> str:
    return "an" if role[:1] in "aeiou" else "a"


def ensure_membership(
    session: Session,
    user: User,
    creator: Creator,
    role: str | None,
    now: datetime,
    *,
    change_role: bool = False,
) -> tuple[Membership, str | None]:
    """Give ``user`` a role on ``creator``; return the membership and the role it had before
    when this call changed it (else None).

    ``role`` None keeps an existing membership's role and makes a new member an owner. A
    role different from an existing membership's is applied only with ``change_role``: the
    role is the membership's, so it changes for all the user's tokens.

    Raises:
        ValueError: for a role other than owner, manager, chatter or analyst.
        ApiError: 409 ``role_change_required`` (see :func:`role_change_required`); 409
            ``last_owner`` when the change would leave ``creator`` without an owner.
    """
    if role is not None and role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    membership = session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.creator_id == creator.id)
    )
    if membership is None:
        membership = Membership(
            id=new_id("mem"),
            user_id=user.id,
            creator_id=creator.id,
            role=role or "owner",
            created_at=now,
        )
        session.add(membership)
        session.flush()
        return membership, None
    if role is None or role == membership.role:
        return membership, None
    if not change_role:
        raise role_change_required(user.email, creator.handle, membership.role, role)
    if membership.role == "owner" and _owners(session, creator.id) <= 1:
        raise ApiError(
            409,
            "last_owner",
            f"{user.email} is the only owner of {creator.handle}; make someone else an owner first",
            [{"field": "role"}],
        )
    previous = membership.role
    membership.role = role
    session.flush()
    return membership, previous


def _owners(session: Session, creator_id: str) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.creator_id == creator_id, Membership.role == "owner")
        )
        or 0
    )


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A newly created token: ``secret`` is shown once and never stored.

    ``role`` is the user's role on ``creator_id``; ``previous_role`` the role it replaced
    when the call changed it (else None).
    """

    id: str
    secret: str
    user_id: str
    creator_id: str | None
    role: str = ""
    email: str = ""
    name: str = ""
    previous_role: str | None = None
    created_at: datetime | None = None


def issue_token(
    session: Session, user: User, default_creator: Creator | None, now: datetime, name: str = ""
) -> IssuedToken:
    """Create an API token for ``user`` and return its secret (store only the hash)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        id=new_id("tok"),
        user_id=user.id,
        default_creator_id=default_creator.id if default_creator else None,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:SHOWN_PREFIX],
        created_at=now,
        last_used_at=None,
        revoked_at=None,
    )
    session.add(token)
    session.flush()
    return IssuedToken(
        token.id,
        secret,
        user.id,
        token.default_creator_id,
        email=user.email,
        name=name,
        created_at=now,
    )


def create_token_for(
    session: Session,
    handle: str,
    now: datetime,
    *,
    role: str | None = "owner",
    email: str | None = None,
    change_role: bool = False,
    name: str | None = None,
) -> IssuedToken:
    """Create (if needed) creator ``handle``, a user and their membership, and a token whose
    default creator is ``handle``.

    The user defaults to ``<role>@<handle>.local``. ``role`` None keeps an existing member's
    role (a new member becomes an owner); a different role for an existing member needs
    ``change_role`` (:func:`ensure_membership`). ``name`` defaults to ``"<role> token"``.
    Used by ``huntaze token create``, ``huntaze demo`` and the tests.

    Raises:
        ValueError: for an invalid handle or role.
        ApiError: 409 ``role_change_required`` or ``last_owner`` (:func:`ensure_membership`).
    """
    creator = get_or_create_creator(session, handle, now)
    user = get_or_create_user(session, email or f"{role or 'owner'}@{creator.handle}.local", now)
    membership, previous = ensure_membership(
        session, user, creator, role, now, change_role=change_role
    )
    issued = issue_token(session, user, creator, now, name=name or f"{membership.role} token")
    return _with_role(issued, membership.role, previous)


def _with_role(issued: IssuedToken, role: str, previous: str | None) -> IssuedToken:
    return IssuedToken(
        issued.id,
        issued.secret,
        issued.user_id,
        issued.creator_id,
        role=role,
        email=issued.email,
        name=issued.name,
        previous_role=previous,
        created_at=issued.created_at,
    )


def create_member_token(
    session: Session,
    creator: Creator,
    caller_user_id: str,
    now: datetime,
    *,
    email: str | None,
    role: str | None,
    change_role: bool,
    name: str,
) -> IssuedToken:
    """``POST /api/tokens``: a token acting on ``creator`` for the caller (``email`` None) or
    for the user with ``email``, creating that user and their membership if needed.

    A token acts on every creator its user has a role on, so an owner may create one only for
    themselves or for a user whose every role is on ``creator``: anything else would hand
    them access to another creator.

    Raises:
        ApiError: 422 ``role_required`` when a new member is named without a role; 403
            ``user_works_elsewhere`` for a user with a role on another creator; 409 as in
            :func:`ensure_membership`.
    """
    caller = session.get(User, caller_user_id)
    if caller is None:  # pragma: no cover - the principal was just authenticated
        raise ApiError(401, "unauthenticated", "A valid bearer token is required")
    user = caller
    if email is not None and email != caller.email:
        found = session.scalar(select(User).where(User.email == email))
        if found is not None and _works_elsewhere(session, found.id, creator.id):
            raise ApiError(
                403,
                "user_works_elsewhere",
                f"{email} has a role on another creator, and a token acts on all of them; "
                "their tokens are created by whoever runs this server (`huntaze token create`)",
                [{"field": "email"}],
            )
        member = found is not None and _membership(session, found.id, creator.id) is not None
        if not member and role is None:
            raise ApiError(
                422,
                "role_required",
                f"{email} has no role on {creator.handle} yet: give one",
                [{"field": "role", "message": f"required for a new member ({', '.join(ROLES)})"}],
            )
        user = found or get_or_create_user(session, email, now)
    membership, previous = ensure_membership(
        session, user, creator, role, now, change_role=change_role
    )
    issued = issue_token(session, user, creator, now, name=name or f"{membership.role} token")
    return _with_role(issued, membership.role, previous)


def _membership(session: Session, user_id: str, creator_id: str) -> Membership | None:
    return session.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.creator_id == creator_id)
    )


def _works_elsewhere(session: Session, user_id: str, creator_id: str) -> bool:
    return (
        session.scalar(
            select(Membership.id)
            .where(Membership.user_id == user_id, Membership.creator_id != creator_id)
            .limit(1)
        )
        is not None
    )


def revoke_token(
    session: Session, token_id: str, now: datetime, *, creator_id: str | None = None
) -> bool:
    """Revoke a token by id; a token already revoked keeps its first ``revoked_at``.

    With ``creator_id``, only a token that can act on that creator (its user has a role on
    it) is found. Returns False when there is no such token.
    """
    token = session.get(ApiToken, token_id)
    if token is None:
        return False
    if creator_id is not None and _membership(session, token.user_id, creator_id) is None:
        return False
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()
    return True
