"""Request and response bodies of ``/api/tokens`` (camelCase JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from huntaze.kit.schema import CamelModel, Page
from huntaze.kit.validation import Email, SafeStr

Role = Literal["owner", "manager", "chatter", "analyst"]


class TokenOut(CamelModel):
    """A token as listed: never its secret nor its hash.

    ``prefix`` is the token's first 8 characters (``hz_`` and 5 more), to tell tokens apart.
    ``role`` is the user's role on the creator acted on; ``current`` marks the token that
    made this request. Times are UTC; ``lastUsedAt`` is recorded at most once a minute.
    """

    id: str
    name: str
    prefix: str
    user_id: str
    user_email: str
    role: str
    current: bool
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenList(Page[TokenOut]):
    """A page of tokens, newest first."""

    next_cursor: str | None  # always present in this answer


class TokenCreate(CamelModel):
    """``POST /api/tokens``.

    ``email``: the user the token acts for (default: the caller); a new address creates the
    user. ``role``: their role on this creator (default: the role they have; required for a
    new member). A role different from the one they have changes it for all their tokens,
    and is applied only with ``changeRole: true`` (else 409 ``role_change_required``).
    """

    name: Annotated[SafeStr, Field(max_length=255)] = ""
    email: Email | None = None
    role: Role | None = None
    change_role: bool = False


class TokenCreated(TokenOut):
    """The new token: ``token`` is the secret, shown in this response only.
    ``previousRole`` is the role this request replaced (null when it changed none)."""

    token: str
    previous_role: str | None
