"""The token use cases behind ``/api/tokens``: issue a token on a creator, revoke one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from huntaze.auth.errors import CreatorNotFound, TokenNotFound
from huntaze.auth.token_list import TokenInfo, get_token_info
from huntaze.auth.tokens import IssuedToken, create_member_token, revoke_token
from huntaze.models.tenancy import Creator


def issue_token(
    session: Session,
    creator_id: str,
    caller_user_id: str,
    now: datetime,
    *,
    email: str | None,
    role: str | None,
    change_role: bool,
    name: str,
) -> tuple[IssuedToken, TokenInfo]:
    """Create a token acting on ``creator_id`` for the caller or the user with ``email``
    (:func:`huntaze.auth.tokens.create_member_token`); return it with its listing row.

    Raises:
        ApiError: as ``create_member_token`` (403 ``user_works_elsewhere``, 409
            ``role_change_required`` or ``last_owner``, 422 ``role_required``); 404
            ``creator_not_found`` if the creator is gone.
    """
    creator = session.get(Creator, creator_id)
    if creator is None:
        raise CreatorNotFound()
    issued = create_member_token(
        session,
        creator,
        caller_user_id,
        now,
        email=email,
        role=role,
        change_role=change_role,
        name=name,
    )
    session.flush()
    info = get_token_info(session, creator_id, issued.id)
    if info is None:  # pragma: no cover - just created with a membership
        raise TokenNotFound()
    return issued, info


def revoke(session: Session, creator_id: str, token_id: str, now: datetime) -> None:
    """Revoke a token acting on ``creator_id``; revoking a revoked one changes nothing.

    Raises:
        ApiError: 404 ``token_not_found`` for a token that does not act on the creator.
    """
    if not revoke_token(session, token_id, now, creator_id=creator_id):
        raise TokenNotFound()
