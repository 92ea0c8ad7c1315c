"""Creators, users, memberships and API tokens: creation and lookup.

A token is ``hz_`` followed by 43 urlsafe characters (256 random bits from :mod:`secrets`).
Only its SHA-256 is stored: with that much entropy a fast hash is the standard choice (as in
GitHub's and Stripe's token schemes); a slow password hash would add nothing but latency.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from huntaze.kit.ids import new_id
from huntaze.models.tenancy import ROLES, ApiToken, Creator, Membership, User

TOKEN_PREFIX = "hz_"  # noqa: S105 - a public prefix, not a secret
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


def get_or_create_creator(
    session: Session, handle: str, now: datetime, *, name: str | None = None
) -> Creator:
    """Return the creator with ``handle``, creating it (UTC, USD) if missing.

    Raises:
        ValueError: for an invalid handle.
    """
    handle = validate_handle(handle)
    creator = session.scalar(select(Creator).where(Creator.handle == handle))
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


def ensure_membership(
    session: Session, user: User, creator: Creator, role: str, now: datetime
) -> Membership:
    """Give ``user`` the ``role`` on ``creator`` (updating an existing membership).

    Raises:
        ValueError: for a role other than owner, manager, chatter or analyst.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    membership = session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.creator_id == creator.id)
    )
    if membership is None:
        membership = Membership(
            id=new_id("mem"), user_id=user.id, creator_id=creator.id, role=role, created_at=now
        )
        session.add(membership)
    else:
        membership.role = role
    session.flush()
    return membership


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A newly created token: ``secret`` is shown once and never stored."""

    id: str
    secret: str
    user_id: str
    creator_id: str | None


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
        prefix=secret[:8],
        created_at=now,
        last_used_at=None,
        revoked_at=None,
    )
    session.add(token)
    session.flush()
    return IssuedToken(token.id, secret, user.id, token.default_creator_id)


def create_token_for(
    session: Session, handle: str, now: datetime, *, role: str = "owner", email: str | None = None
) -> IssuedToken:
    """Create (if needed) creator ``handle``, a user and their membership, and a token.

    The user defaults to ``<role>@<handle>.local``. Used by ``huntaze token create`` and
    ``huntaze demo``.

    Raises:
        ValueError: for an invalid handle or role.
    """
    creator = get_or_create_creator(session, handle, now)
    user = get_or_create_user(session, email or f"{role}@{creator.handle}.local", now)
    ensure_membership(session, user, creator, role, now)
    return issue_token(session, user, creator, now, name=f"{role} token")


def revoke_token(session: Session, token_id: str, now: datetime) -> bool:
    """Revoke a token by id; return False when there is no such token."""
    token = session.get(ApiToken, token_id)
    if token is None:
        return False
    token.revoked_at = now
    session.flush()
    return True
