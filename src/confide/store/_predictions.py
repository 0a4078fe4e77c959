"""Predictions with their decisions: a batch is stored in one transaction, all or nothing."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from confide.exceptions import ValidationError
from confide.store._common import NotFoundError
from confide.store._schema import predictions

__all__ = [
    "PUBLIC_COLUMNS",
    "find_by_client_ids",
    "get_prediction",
    "insert_predictions",
    "recent_confidences",
]

#: Columns a client sees (scores and payload are returned only where asked).
PUBLIC_COLUMNS = (
    "id",
    "client_id",
    "batch_id",
    "created_at",
    "label",
    "raw_confidence",
    "confidence",
    "decision",
    "reason",
    "calibrator_version",
    "policy_version",
    "review_state",
)


def find_by_client_ids(
    conn: Connection, model_id: int, client_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """Stored predictions of ``model_id`` with these client ids (for idempotent retries)."""
    if not client_ids:
        return {}
    cols = [predictions.c[name] for name in PUBLIC_COLUMNS] + [predictions.c.probs]
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(client_ids), 500):  # keep IN lists within every driver's limits
        part = client_ids[start : start + 500]
        rows = conn.execute(
            sa.select(*cols).where(
                predictions.c.model_id == model_id, predictions.c.client_id.in_(part)
            )
        )
        found.update({r.client_id: dict(r._mapping) for r in rows})
    return found


def insert_predictions(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (complete column dicts) and return their ids in the same order."""
    if not rows:
        return []
    result = conn.execute(
        sa.insert(predictions).returning(predictions.c.id, sort_by_parameter_order=True), rows
    )
    return [int(r[0]) for r in result]


def get_prediction(conn: Connection, prediction_id: int) -> dict[str, Any]:
    row = conn.execute(sa.select(predictions).where(predictions.c.id == prediction_id)).first()
    if row is None:
        raise NotFoundError(f"no prediction with id {prediction_id}.")
    return dict(row._mapping)


def resolve_ids(
    conn: Connection,
    model_id: int,
    *,
    prediction_ids: list[int | None],
    client_ids: list[str | None],
) -> list[int]:
    """Prediction ids for items named by id or by client id; every one must exist."""
    wanted_cids = sorted({c for c in client_ids if c is not None})
    by_cid = {k: int(v["id"]) for k, v in find_by_client_ids(conn, model_id, wanted_cids).items()}
    wanted_ids = sorted({int(i) for i in prediction_ids if i is not None})
    known: set[int] = set()
    for start in range(0, len(wanted_ids), 500):
        part = wanted_ids[start : start + 500]
        known.update(
            int(r[0])
            for r in conn.execute(
                sa.select(predictions.c.id).where(
                    predictions.c.model_id == model_id, predictions.c.id.in_(part)
                )
            )
        )
    out: list[int] = []
    for i, (pid, cid) in enumerate(zip(prediction_ids, client_ids, strict=True)):
        if pid is not None:
            if int(pid) not in known:
                raise NotFoundError(f"item {i}: no prediction with id {pid} for this model.")
            out.append(int(pid))
        elif cid is not None:
            if cid not in by_cid:
                raise NotFoundError(
                    f"item {i}: no prediction with client_id {cid!r} for this model."
                )
            out.append(by_cid[cid])
        else:
            raise ValidationError(
                f"item {i} names no prediction: give 'prediction_id' or 'client_id'."
            )
    return out


def recent_confidences(conn: Connection, model_id: int, *, limit: int) -> list[float]:
    """Calibrated confidences of the newest ``limit`` predictions, oldest first."""
    rows = conn.execute(
        sa.select(predictions.c.confidence)
        .where(predictions.c.model_id == model_id)
        .order_by(predictions.c.id.desc())
        .limit(limit)
    )
    return [float(r[0]) for r in rows][::-1]


def recent_decisions(conn: Connection, model_id: int, *, limit: int) -> list[tuple[float, str]]:
    """(calibrated confidence, decision) of the newest ``limit`` predictions, oldest first."""
    rows = conn.execute(
        sa.select(predictions.c.confidence, predictions.c.decision)
        .where(predictions.c.model_id == model_id)
        .order_by(predictions.c.id.desc())
        .limit(limit)
    )
    return [(float(c), str(d)) for c, d in rows][::-1]


def decision_counts(conn: Connection, model_id: int) -> dict[str, int]:
    rows = conn.execute(
        sa.select(predictions.c.decision, sa.func.count())
        .where(predictions.c.model_id == model_id)
        .group_by(predictions.c.decision)
    )
    return {str(d): int(n) for d, n in rows}
