"""The auth domain's named errors (docs/api.md "Authentication")."""

from __future__ import annotations

from huntaze.kit.errors import NotFound


class CreatorNotFound(NotFound):
    """404 ``creator_not_found``: no such creator, or one the caller has no role on (the two
    are indistinguishable)."""

    error_code = "creator_not_found"
    default_message = "Creator not found"


class TokenNotFound(NotFound):
    """404 ``token_not_found``: no token with this id acts on the creator."""

    error_code = "token_not_found"
    default_message = "Token not found"
