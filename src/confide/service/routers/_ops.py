"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from confide.store import current_revision, head_revision

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers and is migrated")
def readyz(request: Request) -> JSONResponse:
    try:
        rev = current_revision(request.app.state.engine)
    except Exception as exc:  # any driver error means "not ready"
        return JSONResponse(
            {"status": "unavailable", "detail": f"database: {type(exc).__name__}"}, 503
        )
    head = head_revision()
    if rev != head:
        return JSONResponse(
            {
                "status": "unavailable",
                "detail": f"database at revision {rev}, code needs {head}: "
                "run `confide db upgrade`.",
            },
            503,
        )
    return JSONResponse({"status": "ready", "revision": rev})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    request.app.state.telemetry.refresh(request.app.state.engine)
    return Response(
        generate_latest(request.app.state.telemetry.registry), media_type=CONTENT_TYPE_LATEST
    )
