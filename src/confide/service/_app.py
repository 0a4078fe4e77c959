"""The FastAPI app factory: settings, database, routers, problem+json errors, telemetry."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response

from confide._version import __version__
from confide.service._limits import BodySizeLimit
from confide.service._problems import install_handlers
from confide.service._settings import Settings
from confide.service._telemetry import Telemetry
from confide.store import create_engine, upgrade

__all__ = ["create_app"]

DESCRIPTION = """
Every prediction passes through the model's calibrator and policy; confident ones go through,
uncertain ones go to the review queue (`/review`), reviewers' labels flow back as feedback to
measure and recalibrate, and a drift detector watches the confidence all along.

Authenticate with `Authorization: Bearer <key>` (`confide keys create --role ingest`).
Errors are `application/problem+json`.
"""


def _warm_up() -> None:
    """Compile the drift detector's kernel (numba, when installed) before the first request
    rather than inside it."""
    import numpy as np

    from confide.service._monitoring import default_detector

    default_detector().update_many(np.full(4, 0.5))


def create_app(settings: Settings | None = None, *, engine: Any = None) -> FastAPI:
    """Build the service. ``settings`` default to the ``CONFIDE_*`` environment variables."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = engine if engine is not None else create_engine(settings.db_url)
        if settings.auto_migrate:
            upgrade(app.state.engine)
        _warm_up()
        try:
            yield
        finally:
            if engine is None:
                app.state.engine.dispose()

    app = FastAPI(
        title="confide",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.telemetry = Telemetry()
    install_handlers(app)

    from confide.service.routers import (
        _admin,
        _feedback,
        _models,
        _ops,
        _predictions,
        _quality,
        _review,
    )

    for module in (_ops, _models, _predictions, _feedback, _quality, _admin, _review):
        app.include_router(module.router)

    @app.middleware("http")
    async def _observe(request: Request, call_next: Any) -> Response:
        start = time.perf_counter()
        response: Response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        tel = request.app.state.telemetry
        tel.requests.labels(
            method=request.method, route=path, status=str(response.status_code)
        ).inc()
        tel.latency.labels(route=path).observe(time.perf_counter() - start)
        return response

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
