"""``create_app()``: the FastAPI application with every domain's router mounted."""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from sqlalchemy import Engine, text
from starlette.exceptions import HTTPException as StarletteHTTPException

from huntaze import __version__
from huntaze.api_guards import AuthenticateBeforeBody, check_parameters
from huntaze.auth import router as tokens_router
from huntaze.auth.deps import Reader
from huntaze.campaigns import router as campaigns_router
from huntaze.config import Settings, box_from_settings, get_settings
from huntaze.context import AppContext
from huntaze.db.engine import make_engine, make_sessionmaker
from huntaze.experiments import router as experiments_router
from huntaze.fans import router as fans_router
from huntaze.imports import router as import_router
from huntaze.inbox import router as inbox_router
from huntaze.kit.body_limit import (
    BULK_MAX_BODY_BYTES,
    BodyReadRefused,
    BodyRule,
    BodySizeLimit,
    file_too_large,
)
from huntaze.kit.clock import Clock, SystemClock
from huntaze.kit.errors import ApiError
from huntaze.kit.logging import RequestContext
from huntaze.kit.schema import CamelModel, ErrorResponse
from huntaze.messaging import accounts_router
from huntaze.messaging import router as messaging_router
from huntaze.messaging.conversations import ConversationSender
from huntaze.outbox.metrics import Metrics
from huntaze.outbox.service import outbox_from_settings
from huntaze.segments import router as segments_router
from huntaze.tracking import router as tracking_router

log = structlog.get_logger("huntaze.api")

#: Every domain's routes, in the order they are matched: a new domain adds its router here.
ROUTERS: tuple[APIRouter, ...] = (
    fans_router.router,
    inbox_router.router,
    import_router.router,
    accounts_router.router,
    messaging_router.router,
    tokens_router.router,
    segments_router.router,
    campaigns_router.router,
    experiments_router.router,
    tracking_router.router,
    tracking_router.links_router,
)


class WorkerStatus(CamelModel):
    """The in-process worker's liveness (see :class:`huntaze.outbox.supervisor.WorkerHealth`)."""

    state: str
    last_heartbeat: datetime | None
    last_progress: datetime | None
    restarts: int
    last_error: str | None


class Health(BaseModel):
    """``GET /api/health``: ``status`` is ``ok``, or ``unhealthy`` (with 503) when the database
    is unreachable or the in-process worker is dead or stalled; ``worker`` is absent when this
    process runs none (``serve --no-worker``, or the API mounted on its own)."""

    status: str
    database: str
    version: str
    worker: WorkerStatus | None = None


class Me(CamelModel):
    """The caller: user, creator acted on, and role."""

    user_id: str
    creator_id: str
    role: str


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "file_too_large",
    415: "unsupported_media_type",
}


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    """``[{"field", "message"}]`` for each of FastAPI's validation errors.

    The field is the error's location without its leading part (``body``, ``query``,
    ``path``, ``header``), or ``body`` for the body as a whole. A body that is not JSON gives
    ``{"field": "body", "message": "Invalid JSON: <reason>: line L column C (char P)",
    "line": L, "column": C}``, lines and columns counted from 1 as :mod:`json` does.
    """
    details: list[dict[str, Any]] = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        if err.get("type") == "json_invalid":
            details.append(_json_error_detail(exc.body, err))
            continue
        if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            loc = loc[1:] or ([loc[0]] if loc[0] == "body" else [])
        details.append({"field": ".".join(loc), "message": err.get("msg", "invalid")})
    return details


def _json_error_detail(doc: Any, err: dict[str, Any]) -> dict[str, Any]:
    """The detail of a body that is not JSON: FastAPI gives the :class:`json.JSONDecodeError`'s
    character offset (``loc[1]``), its reason (``ctx.error``) and the decoded text."""
    loc = err.get("loc", ())
    pos = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
    reason = str((err.get("ctx") or {}).get("error", "invalid JSON"))
    text = doc if isinstance(doc, str) else ""
    pos = min(pos, len(text))
    line = text.count("\n", 0, pos) + 1
    column = pos - text.rfind("\n", 0, pos)
    return {
        "field": "body",
        "message": f"Invalid JSON: {reason}: line {line} column {column} (char {pos})",
        "line": line,
        "column": column,
    }


#: The error responses an operation may give whatever its router says, with the condition
#: (read off the operation itself) under which it may give each.
_EDGE_RESPONSES = {
    "400": "No creator named and the token has no default (`creator_required`)",
    "401": "A valid bearer token is required (`unauthenticated`)",
    "404": "Not found, or a creator the token has no role on (`creator_not_found`)",
    "413": "The body is over its size limit (`body_too_large`, or `file_too_large` for "
    "uploads); it is refused before it is read in full",
    "422": "Invalid request (`invalid_request`): a field, a body that is not JSON (with its "
    "line and column), or an unknown query parameter",
}
_ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorResponse"}


def document_edges(doc: dict[str, Any]) -> dict[str, Any]:
    """Complete an OpenAPI document with the error answers the app's edges give on every
    route, in place, and return it.

    Every operation may answer 422 (an unknown query parameter, on any route); one that takes
    a body, 413; one that takes the ``Authorization`` header, 401; one that takes
    ``X-Huntaze-Creator``, also 400 and 404. Each is documented with the
    ``{"error": {...}}`` envelope (:class:`~huntaze.kit.schema.ErrorResponse`), and FastAPI's
    ``{"detail": [...]}`` validation schema, which the app never answers, is replaced.
    """
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    if "ErrorResponse" not in schemas:
        own = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(own.pop("$defs", {}))
        schemas["ErrorResponse"] = own
    for item in doc.get("paths", {}).values():
        for op in item.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            headers = {p["name"].lower() for p in op.get("parameters", []) if p["in"] == "header"}
            wanted = ["422"]
            if "requestBody" in op:
                wanted.append("413")
            if "authorization" in headers:
                wanted.append("401")
            if "x-huntaze-creator" in headers:
                wanted += ["400", "404"]
            responses = op["responses"]
            for code in wanted:
                current = responses.get(code)
                if current is None or "HTTPValidationError" in json.dumps(current):
                    responses[code] = {
                        "description": _EDGE_RESPONSES[code],
                        "content": {"application/json": {"schema": _ERROR_SCHEMA}},
                    }
    text = json.dumps(doc.get("paths", {}))
    if "HTTPValidationError" not in text:
        schemas.pop("HTTPValidationError", None)
        if "#/components/schemas/ValidationError" not in json.dumps(schemas):
            schemas.pop("ValidationError", None)
    return doc


def create_app(
    settings: Settings | None = None, engine: Engine | None = None, clock: Clock | None = None
) -> FastAPI:
    """Build the API.

    Args:
        settings: defaults to the environment (``HUNTAZE_*``).
        engine: defaults to one made from ``settings.database_url``; migrations are not run
            here (``huntaze serve`` runs them first).
        clock: defaults to the system clock (UTC).
    """
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)
    clock = clock or SystemClock()
    box = box_from_settings(settings)
    app_metrics = Metrics(engine)
    ctx = AppContext(
        settings,
        engine,
        make_sessionmaker(engine),
        clock,
        box,
        outbox_from_settings(engine, clock, settings),
        app_metrics,
        ConversationSender(settings, box, clock, app_metrics),
    )
    # Swagger UI and ReDoc from the installed package's assets: /docs works offline.
    app = FastAPIOffline(
        title="Huntaze",
        version=__version__,
        description="Open growth backend for content creators: fans CRM, imports, messaging.",
        dependencies=[Depends(check_parameters)],
        # no badge from validator.swagger.io: the docs page calls no outside host
        swagger_ui_parameters={"validatorUrl": None},
    )
    app.state.ctx = ctx
    # Each add_middleware wraps the ones added before it. Outside in: the request id and the
    # 500 answer (RequestContext) wrap everything; then the body limits; then the token check
    # that runs when the route first asks for its body (AuthenticateBeforeBody). Their
    # receive wrappers run inside out, so the token is checked before any size is counted.
    app.add_middleware(AuthenticateBeforeBody, sessions=ctx.sessions)

    def import_limit() -> int:
        # the file plus room for the multipart envelope and the form's other fields
        return ctx.settings.import_max_bytes + 64 * 1024

    app.add_middleware(
        BodySizeLimit,
        rules=(
            BodyRule("/api/crm/import", import_limit, file_too_large),
            BodyRule("/api/onlyfans/import", import_limit, file_too_large),
            BodyRule("/api/messages/bulk", lambda: BULK_MAX_BODY_BYTES),
        ),
    )
    app.add_middleware(RequestContext)

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(BodyReadRefused)
    async def _refused(_request: Request, exc: BodyReadRefused) -> JSONResponse:
        return JSONResponse(exc.error.body(), status_code=exc.error.status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        err = ApiError(422, "invalid_request", "The request is not valid", _validation_details(exc))
        return JSONResponse(err.body(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        err = ApiError(exc.status_code, code, str(exc.detail))
        return JSONResponse(err.body(), status_code=exc.status_code, headers=exc.headers)

    # A backstop only: RequestContext answers the 500s of everything inside it (and keeps the
    # connection open); this answers for the few layers outside it.
    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled_error", error_type=type(exc).__name__)
        err = ApiError(500, "internal_error", "Something went wrong on our side")
        return JSONResponse(err.body(), status_code=500)

    @app.get(
        "/api/health",
        response_model=Health,
        tags=["health"],
        responses={503: {"model": Health, "description": "database or worker down"}},
    )
    def health() -> JSONResponse:
        """Liveness (no auth): database reachability and the in-process worker's heartbeat.
        503 when the database is unreachable or the worker is dead or stalled."""
        try:
            with ctx.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            database = "ok"
        except Exception:
            database = "unreachable"
        worker = None
        healthy = database == "ok"
        if ctx.worker is not None:
            state = ctx.worker.health()
            healthy = healthy and state.healthy
            worker = WorkerStatus(
                state=state.state,
                last_heartbeat=state.last_heartbeat,
                last_progress=state.last_progress,
                restarts=state.restarts,
                last_error=state.last_error,
            )
        body = Health(
            status="ok" if healthy else "unhealthy",
            database=database,
            version=__version__,
            worker=worker,
        )
        return JSONResponse(
            jsonable_encoder(body, by_alias=True, exclude_none=True),
            status_code=200 if healthy else 503,
        )

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        """The interactive API documentation."""
        return RedirectResponse("/docs")

    @app.get("/api/me", response_model=Me, tags=["auth"])
    def me(principal: Reader) -> Me:
        """Who the token acts as."""
        return Me(user_id=principal.user_id, creator_id=principal.creator_id, role=principal.role)

    @app.get("/metrics", tags=["health"], response_class=PlainTextResponse)
    def metrics(authorization: Annotated[str | None, Header()] = None) -> PlainTextResponse:
        """Prometheus metrics (text format). With ``HUNTAZE_METRICS_TOKEN`` set, scrapers
        send it as a bearer token."""
        token = ctx.settings.metrics_token.get_secret_value()
        if token and not hmac.compare_digest(
            (authorization or "").encode(), f"Bearer {token}".encode()
        ):
            raise ApiError(401, "unauthenticated", "A valid metrics token is required")
        return PlainTextResponse(ctx.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    for domain_router in ROUTERS:
        app.include_router(domain_router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_edges(FastAPI.openapi(app))
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
    return app
