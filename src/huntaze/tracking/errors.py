"""The tracking domain's named errors (docs/api.md "Errors")."""

from __future__ import annotations

from huntaze.kit.errors import NotFound


class LinkNotFound(NotFound):
    """404 ``link_not_found``: a ``/t/`` token that is malformed, not signed by this Huntaze,
    or names a message or link that is gone or that its campaign does not name."""

    error_code = "link_not_found"
    default_message = "This link does not exist"
