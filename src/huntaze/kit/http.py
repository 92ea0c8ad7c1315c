"""What every router shares: the error responses OpenAPI documents and the page limit (the
typed context, clock reading and session are in :mod:`huntaze.context`).

Routers import these from here rather than from one another, so no domain's router depends
on another domain's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from huntaze.kit.pagination import MAX_LIMIT
from huntaze.kit.schema import ErrorResponse

#: The error responses every API operation documents (the body is ``ErrorResponse``:
#: ``{"error": {"code", "message", "details"}}``, docs/api.md "Errors").
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)
}

#: ``?limit=``: items in a page, 1 to :data:`~huntaze.kit.pagination.MAX_LIMIT`.
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
