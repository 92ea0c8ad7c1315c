"""What every router shares: the error responses OpenAPI documents, the page limit, and the
application clock's reading for a request.

Routers import these from here rather than from one another, so no domain's router depends
on another domain's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query, Request

from huntaze.kit.pagination import MAX_LIMIT
from huntaze.kit.schema import ErrorResponse

#: The error responses every API operation documents (the body is ``ErrorResponse``:
#: ``{"error": {"code", "message", "details"}}``, docs/api.md "Errors").
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)
}

#: ``?limit=``: items in a page, 1 to :data:`~huntaze.kit.pagination.MAX_LIMIT`.
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def request_now(request: Request) -> datetime:
    """The application clock's current time (aware, UTC) for ``request``: the clock the app
    was built with (``app.state.ctx.clock``), so tests can inject one."""
    now: datetime = request.app.state.ctx.clock.now()
    return now
