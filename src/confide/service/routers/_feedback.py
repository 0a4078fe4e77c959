"""POST /feedback: true labels for stored predictions (all items or none)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from confide.exceptions import LabelError
from confide.service._auth import Ingest
from confide.service._schemas import FeedbackBatch
from confide.store import audit, registry
from confide.store import feedback as feedback_store
from confide.store import predictions as prediction_store

router = APIRouter(prefix="/api/v1", tags=["feedback"])


def _label_index(label: str | int, classes: tuple[str, ...], i: int) -> int:
    if isinstance(label, int) and not isinstance(label, bool):
        if 0 <= label < len(classes):
            return label
        raise LabelError(f"item {i}: class index {label} is outside 0..{len(classes) - 1}.")
    if label in classes:
        return classes.index(label)
    raise LabelError(
        f"item {i}: unknown class {label!r}; the model's classes are {', '.join(classes)}."
    )


@router.post("/feedback", status_code=201, summary="True labels for stored predictions")
def post_feedback(body: FeedbackBatch, request: Request, key: Ingest) -> dict[str, Any]:
    with request.app.state.engine.begin() as conn:
        model = registry.get_model(conn, body.model)
        labels = [_label_index(it.label, model.classes, i) for i, it in enumerate(body.items)]
        ids = prediction_store.resolve_ids(
            conn,
            model.id,
            prediction_ids=[it.prediction_id for it in body.items],
            client_ids=[it.client_id for it in body.items],
        )
        feedback_ids = feedback_store.add_feedback(conn, ids, labels, source="api")
        audit.record(
            conn,
            actor=key.name,
            action="feedback",
            entity="model",
            entity_id=model.id,
            after={"n": len(ids), "first_feedback_id": feedback_ids[0]},
        )
    request.app.state.telemetry.feedback.labels(model=body.model, source="api").inc(len(ids))
    return {"model": body.model, "stored": len(ids), "prediction_ids": ids}
