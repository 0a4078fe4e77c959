"""Models: register (new versions never overwrite old ones), read, list versions, methods."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from confide.calibration import registered_methods
from confide.monitor import load_detector
from confide.service._auth import Admin, Ingest
from confide.service._pipeline import check_calibrator, check_policy
from confide.service._problems import Problem
from confide.service._schemas import RegisterModel
from confide.store import monitor as monitor_store
from confide.store import reading, registry

router = APIRouter(prefix="/api/v1", tags=["models"])


@router.post(
    "/models", status_code=201, summary="Register a model or new versions of its calibrator/policy"
)
def register(body: RegisterModel, request: Request, key: Admin) -> dict[str, Any]:
    if len(set(body.classes)) != len(body.classes):
        raise Problem(422, "Invalid input", "class names must be unique.")
    if body.calibrator is not None:
        check_calibrator(body.calibrator, len(body.classes))
    if body.policy is not None:
        check_policy(body.policy)
    if body.costs is not None and body.policy is None:
        raise Problem(
            422, "Invalid input", "costs belong to a policy version: send them with a 'policy'."
        )
    detector = None if body.detector is None else load_detector(body.detector)
    with request.app.state.engine.begin() as conn:
        record = registry.register_model(
            conn,
            name=body.name,
            classes=body.classes,
            calibrator=body.calibrator,
            policy=body.policy,
            actor=key.name,
            costs=None if body.costs is None else body.costs.model_dump(),
        )
        if detector is not None:
            monitor_store.put_detector_state(conn, record.id, detector.to_dict())
    return record.to_dict()


@router.get("/models", summary="Names of the registered models")
def list_models(request: Request, key: Ingest) -> dict[str, Any]:
    with reading(request.app.state.engine) as conn:
        return {"models": registry.list_models(conn)}


@router.get(
    "/models/{name}", summary="A model with its newest calibrator and policy, and every version"
)
def get_model(name: str, request: Request, key: Ingest) -> dict[str, Any]:
    with reading(request.app.state.engine) as conn:
        record = registry.get_model(conn, name)
        versions = registry.list_versions(conn, record.id)
    return {**record.to_dict(), "versions": versions}


@router.get("/methods", summary="Calibration methods the service can fit")
def methods(key: Ingest) -> dict[str, Any]:
    return {"methods": list(registered_methods())}
