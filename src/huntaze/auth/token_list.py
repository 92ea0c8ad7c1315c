"""Reading API tokens back: what ``GET /api/tokens`` and ``huntaze token list`` show.

Never the secret (it is not stored) nor its hash: the id, the name, the clear prefix, the
user, their role, and the created, last-used and revoked times (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from huntaze.kit.keyset import Keyset, SortColumn
from huntaze.models.tenancy import ApiToken, Creator, Membership, User


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """One token as listed.

    ``role`` is the user's role on the creator the listing is for (or, listing all tokens,
    on the token's default creator; None when they have none there). ``creator_handle`` is
    the default creator's handle (None when it has none).
    """

    id: str
    name: str
    prefix: str
    user_id: str
    user_email: str
    role: str | None
    creator_handle: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


#: Tokens page newest first.
PAGES = Keyset(SortColumn(ApiToken.created_at, "datetime"), ApiToken.id, descending=True)


def _query(creator_id: str | None) -> Any:
    default = aliased(Creator)
    if creator_id is not None:
        # every token that can act on the creator: those of its members
        role_on = Membership.creator_id == creator_id
    else:
        role_on = Membership.creator_id == ApiToken.default_creator_id
    stmt = (
        select(ApiToken, User.email, Membership.role, default.handle)
        .join(User, User.id == ApiToken.user_id)
        .outerjoin(default, default.id == ApiToken.default_creator_id)
    )
    if creator_id is not None:
        return stmt.join(Membership, (Membership.user_id == ApiToken.user_id) & role_on)
    return stmt.outerjoin(Membership, (Membership.user_id == ApiToken.user_id) & role_on)


def _info(row: Any) -> TokenInfo:
    token, email, role, handle = row
    return TokenInfo(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        user_id=token.user_id,
        user_email=email,
        role=role,
        creator_handle=handle,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


def list_tokens(
    session: Session,
    creator_id: str | None,
    *,
    limit: int,
    cursor: str | None = None,
    include_revoked: bool = True,
) -> tuple[list[TokenInfo], str | None]:
    """Tokens newest first, and the cursor of the next page (None on the last).

    With ``creator_id``, the tokens that can act on that creator (those of users with a role
    on it, whatever their default creator); without, every token.

    Raises:
        ApiError: 400 ``invalid_cursor`` for a cursor this function did not make.
    """
    stmt = _query(creator_id)
    if not include_revoked:
        stmt = stmt.where(ApiToken.revoked_at.is_(None))
    rows = [_info(row) for row in session.execute(PAGES.seek(stmt, PAGES.decode(cursor), limit))]
    return rows[:limit], PAGES.next_cursor(rows, limit)


def get_token_info(session: Session, creator_id: str | None, token_id: str) -> TokenInfo | None:
    """The token ``token_id`` as :func:`list_tokens` shows it, or None (also when it cannot
    act on ``creator_id``)."""
    row = session.execute(_query(creator_id).where(ApiToken.id == token_id)).first()
    return _info(row) if row is not None else None
