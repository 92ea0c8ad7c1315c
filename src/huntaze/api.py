"""``create_app()``: the FastAPI application with every domain's router mounted."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import FastAPI, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from huntaze import __version__
from huntaze.auth import router as tokens_router
from huntaze.auth.deps import Reader
from huntaze.config import Settings, get_settings
from huntaze.crm import fans_router, import_router, inbox_router
from huntaze.db.engine import make_engine, make_sessionmaker
from huntaze.kit.body_limit import BodySizeLimit
from huntaze.kit.clock import Clock, SystemClock
from huntaze.kit.crypto import SecretBox, box_from_settings
from huntaze.kit.errors import ApiError
from huntaze.kit.logging import request_id_middleware
from huntaze.kit.schema import CamelModel
from huntaze.messaging import accounts_router
from huntaze.messaging import router as messaging_router
from huntaze.messaging.conversations import ConversationSender
from huntaze.messaging.metrics import Metrics
from huntaze.messaging.outbox import Outbox, outbox_from_settings
from huntaze.messaging.supervisor import SupervisedWorker

log = structlog.get_logger("huntaze.api")


@dataclass
class AppContext:
    """What request handlers share: settings, the engine, the session factory, the clock,
    the secret box, the outbox and the metrics."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    box: SecretBox
    outbox: Outbox
    metrics: Metrics
    send_outbound: ConversationSender
    worker: SupervisedWorker | None = None


class WorkerStatus(CamelModel):
    """The in-process worker's liveness (see :class:`huntaze.messaging.supervisor.WorkerHealth`)."""

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
    details = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        details.append({"field": ".".join(loc), "message": err.get("msg", "invalid")})
    return details


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
    )
    app.state.ctx = ctx
    app.middleware("http")(request_id_middleware)
    app.add_middleware(
        BodySizeLimit,
        prefixes=("/api/crm/import", "/api/onlyfans/import"),
        limit=lambda: ctx.settings.import_max_bytes + 64 * 1024,
    )

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        err = ApiError(422, "invalid_request", "The request is not valid", _validation_details(exc))
        return JSONResponse(err.body(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        err = ApiError(exc.status_code, code, str(exc.detail))
        return JSONResponse(err.body(), status_code=exc.status_code, headers=exc.headers)

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

    app.include_router(fans_router.router)
    app.include_router(inbox_router.router)
    app.include_router(import_router.router)
    app.include_router(accounts_router.router)
    app.include_router(messaging_router.router)
    app.include_router(tokens_router.router)
    return app
