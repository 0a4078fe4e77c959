"""POST /models/{name}/predictions: the whole batch is stored before the response, or nothing."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import sqlalchemy as sa
from fastapi import APIRouter, Request

from confide.service._auth import Ingest
from confide.service._monitoring import feed_detector
from confide.service._pipeline import ScoredBatch, score_batch
from confide.service._problems import Problem
from confide.service._schemas import PredictionBatch
from confide.store import NotFoundError, now, reading, registry
from confide.store import feedback as feedback_store
from confide.store import predictions as prediction_store

router = APIRouter(prefix="/api/v1", tags=["predictions"])


def _rows(
    model_id: int,
    batch: PredictionBatch,
    scored: ScoredBatch,
    batch_id: str,
    t: float,
    cal_v: int | None,
    pol_v: int | None,
    todo: list[int],
) -> list[dict[str, Any]]:
    rows = []
    probs = np.round(scored.probs, 12)
    for i in todo:
        item = batch.items[i]
        decision = scored.decisions[i] if item.escalate is None else "review"
        reason = scored.reasons[i] if item.escalate is None else f"escalated: {item.escalate}"
        rows.append(
            {
                "model_id": model_id,
                "client_id": item.client_id,
                "batch_id": batch_id,
                "created_at": t,
                "input_kind": batch.input,
                "scores": list(item.scores),
                "probs": probs[i].tolist(),
                "label": int(scored.labels[i]),
                "raw_confidence": float(scored.raw_confidence[i]),
                "confidence": float(scored.confidence[i]),
                "decision": decision,
                "reason": reason[:500],
                "calibrator_version": cal_v,
                "policy_version": pol_v,
                "payload": item.payload,
                "review_state": "pending" if decision == "review" else "none",
                "priority": float(scored.priority[i]),
            }
        )
    return rows


def _public(row: dict[str, Any], classes: tuple[str, ...], replayed: bool) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "client_id": row["client_id"],
        "label": classes[int(row["label"])],
        "label_index": int(row["label"]),
        "confidence": row["confidence"],
        "raw_confidence": row["raw_confidence"],
        "decision": row["decision"],
        "reason": row["reason"],
        "calibrator_version": row["calibrator_version"],
        "policy_version": row["policy_version"],
        "replayed": replayed,
    }


@router.post(
    "/models/{name}/predictions",
    summary="Calibrate, decide and store a batch of predictions",
    responses={
        404: {"description": "Unknown model"},
        413: {"description": "Batch too large"},
        422: {"description": "Bad scores (NaN, wrong class count, rows not summing to 1)"},
    },
)
def post_predictions(
    name: str, batch: PredictionBatch, request: Request, key: Ingest
) -> dict[str, Any]:
    """Per item: label, calibrated confidence, decision, reason and the versions that decided.

    Items with a ``client_id`` already stored for this model are returned as stored
    (``replayed: true``) and not stored twice, so a client may retry a batch safely.
    """
    settings = request.app.state.settings
    if len(batch.items) > settings.max_batch:
        raise Problem(
            413,
            "Batch too large",
            f"the batch has {len(batch.items)} items; the limit is {settings.max_batch} "
            "(CONFIDE_MAX_BATCH): split it.",
        )
    cids = [it.client_id for it in batch.items if it.client_id is not None]
    if len(set(cids)) != len(cids):
        dup = next(c for c in cids if cids.count(c) > 1)
        raise Problem(
            422,
            "Invalid input",
            f"client_id {dup!r} appears twice in the batch; ids must be unique.",
        )
    engine = request.app.state.engine
    with reading(engine) as conn:
        model = registry.get_model(conn, name)
    scored = score_batch(
        model, [it.scores for it in batch.items], batch.input, queue_order=settings.queue_order
    )
    batch_id = uuid.uuid4().hex
    for attempt in range(2):
        try:
            with engine.begin() as conn:
                existing = prediction_store.find_by_client_ids(conn, model.id, cids)
                todo = [i for i, it in enumerate(batch.items) if it.client_id not in existing]
                rows = _rows(
                    model.id,
                    batch,
                    scored,
                    batch_id,
                    now(),
                    model.calibrator_version,
                    model.policy_version,
                    todo,
                )
                ids = prediction_store.insert_predictions(conn, rows)
                alerts = feed_detector(conn, model.id, scored.confidence[todo]) if todo else []
            break
        except sa.exc.IntegrityError:
            if attempt == 1:
                raise Problem(
                    409, "Conflict", "a concurrent request stored the same client_id; retry."
                ) from None
    stored = {i: {**row, "id": pid} for i, row, pid in zip(todo, rows, ids, strict=True)}
    out = []
    for i, it in enumerate(batch.items):
        if i in stored:
            out.append(_public(stored[i], model.classes, False))
        else:
            out.append(_public(existing[it.client_id or ""], model.classes, True))
    tel = request.app.state.telemetry
    for row in rows:
        tel.predictions.labels(model=name, decision=row["decision"]).inc()
    if alerts:
        tel.alerts.labels(model=name).inc(len(alerts))
    return {
        "model": name,
        "batch_id": batch_id,
        "calibrator_version": model.calibrator_version,
        "policy_version": model.policy_version,
        "stored": len(todo),
        "items": out,
        "alerts": alerts,
    }


@router.get(
    "/models/{name}/predictions/{prediction_id}",
    summary="One stored prediction with its review state and newest label",
    responses={404: {"description": "Unknown model or prediction"}},
)
def get_prediction(name: str, prediction_id: int, request: Request, key: Ingest) -> dict[str, Any]:
    """What was decided, and what people said since: ``review_state`` (none, pending, done) and
    ``true_label`` (the newest live feedback label, from the API or a review; None yet)."""
    with reading(request.app.state.engine) as conn:
        model = registry.get_model(conn, name)
        row = prediction_store.get_prediction(conn, prediction_id)
        if row["model_id"] != model.id:
            raise NotFoundError(f"no prediction with id {prediction_id} for model {name!r}.")
        labels = [
            f
            for f in feedback_store.list_feedback(conn, prediction_id=prediction_id)
            if f["retracted_at"] is None
        ]
    out = _public(row, model.classes, replayed=False)
    del out["replayed"]
    true = labels[-1]["label"] if labels else None
    out.update(
        {
            "review_state": row["review_state"],
            "payload": row["payload"],
            "probs": row["probs"],
            "true_label": None if true is None else model.classes[int(true)],
            "true_label_source": labels[-1]["source"] if labels else None,
        }
    )
    return out
