"""HTTP routes for API tokens: ``/api/tokens`` (list, create, revoke; owners only).

The tokens of a creator are those that can act on it: the tokens of every user with a role on
it. Revoking one ends it everywhere it acts, from the next request on (401). Another
creator's token id answers 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from huntaze.auth import service
from huntaze.auth.deps import Principal, get_principal
from huntaze.auth.schemas import TokenCreate, TokenCreated, TokenList, TokenOut
from huntaze.auth.token_list import TokenInfo, list_tokens
from huntaze.context import DbSession, Now
from huntaze.kit.errors import forbidden
from huntaze.kit.http import ERRORS
from huntaze.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(prefix="/api/tokens", tags=["tokens"])


def _owner(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    """The caller, if they are an owner of the creator acted on.

    Raises:
        ApiError: 403 ``forbidden`` for any other role (after get_principal's 401 and 404).
    """
    if principal.role != "owner":
        raise forbidden("Only a creator's owners manage its tokens")
    return principal


Owner = Annotated[Principal, Depends(_owner)]


def _out(info: TokenInfo, principal: Principal) -> TokenOut:
    return TokenOut(
        id=info.id,
        name=info.name,
        prefix=info.prefix,
        user_id=info.user_id,
        user_email=info.user_email,
        role=info.role or "",
        current=info.id == principal.token_id,
        created_at=info.created_at,
        last_used_at=info.last_used_at,
        revoked_at=info.revoked_at,
    )


@router.get("", response_model=TokenList, responses=ERRORS)
def get_tokens(
    session: DbSession,
    principal: Owner,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> TokenList:
    """Every token that can act on this creator (its members' tokens), newest first,
    revoked ones included (``revokedAt``). Never a secret or its hash."""
    items, next_cursor = list_tokens(session, principal.creator_id, limit=limit, cursor=cursor)
    return TokenList(items=[_out(i, principal) for i in items], next_cursor=next_cursor)


@router.post("", response_model=TokenCreated, status_code=201, responses=ERRORS)
def create_token(data: TokenCreate, now: Now, session: DbSession, principal: Owner) -> TokenCreated:
    """Create a token acting on this creator, for the caller or for the user with ``email``
    (created if new). The secret is in this response only: store it now.

    403 ``user_works_elsewhere`` for a user with a role on another creator (a token acts on
    all of a user's creators); 409 ``role_change_required`` for a role different from the one
    the user has, unless ``changeRole``; 409 ``last_owner``; 422 ``role_required`` for a new
    member without a role."""
    issued, info = service.issue_token(
        session,
        principal.creator_id,
        principal.user_id,
        now,
        email=data.email,
        role=data.role,
        change_role=data.change_role,
        name=data.name,
    )
    return TokenCreated(
        **_out(info, principal).model_dump(),
        token=issued.secret,
        previous_role=issued.previous_role,
    )


@router.delete("/{token_id}", status_code=204, response_class=Response, responses=ERRORS)
def delete_token(token_id: str, now: Now, session: DbSession, principal: Owner) -> Response:
    """Revoke a token: from now on it answers 401, on every creator it acted on (the
    caller's own token too). Revoking a revoked token changes nothing (204)."""
    service.revoke(session, principal.creator_id, token_id, now)
    return Response(status_code=204)
