"""True labels for stored predictions, from the API or from reviews (retractable by undo)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from confide.store._common import now
from confide.store._schema import feedback, predictions

__all__ = ["add_feedback", "labelled_predictions", "list_feedback"]


def add_feedback(
    conn: Connection,
    prediction_ids: list[int],
    labels: list[int],
    *,
    source: str,
    review_id: int | None = None,
) -> list[int]:
    """Insert one label per prediction; the newest label of a prediction is its truth."""
    t = now()
    rows = [
        {
            "prediction_id": p,
            "label": int(y),
            "source": source,
            "review_id": review_id,
            "created_at": t,
        }
        for p, y in zip(prediction_ids, labels, strict=True)
    ]
    if not rows:
        return []
    result = conn.execute(
        sa.insert(feedback).returning(feedback.c.id, sort_by_parameter_order=True), rows
    )
    return [int(r[0]) for r in result]


def _latest_feedback() -> sa.Subquery:
    live = feedback.c.retracted_at.is_(None)
    newest = (
        sa.select(sa.func.max(feedback.c.id).label("id"))
        .where(live)
        .group_by(feedback.c.prediction_id)
        .subquery()
    )
    return (
        sa.select(feedback.c.prediction_id, feedback.c.label)
        .join(newest, newest.c.id == feedback.c.id)
        .subquery()
    )


def labelled_predictions(
    conn: Connection, model_id: int, *, limit: int = 100_000
) -> list[dict[str, Any]]:
    """The newest ``limit`` predictions that have a live label, with that label as ``y_true``."""
    fb = _latest_feedback()
    rows = conn.execute(
        sa.select(
            predictions.c.id,
            predictions.c.input_kind,
            predictions.c.scores,
            predictions.c.probs,
            predictions.c.label,
            predictions.c.confidence,
            predictions.c.decision,
            predictions.c.calibrator_version,
            fb.c.label.label("y_true"),
        )
        .join(fb, fb.c.prediction_id == predictions.c.id)
        .where(predictions.c.model_id == model_id)
        .order_by(predictions.c.id.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows][::-1]


def list_feedback(conn: Connection, *, prediction_id: int | None = None) -> list[dict[str, Any]]:
    q = sa.select(feedback).order_by(feedback.c.id)
    if prediction_id is not None:
        q = q.where(feedback.c.prediction_id == prediction_id)
    return [dict(r._mapping) for r in conn.execute(q)]
