"""Live quality of a model (from feedback, and label-free) and recalibration from feedback."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from fastapi import APIRouter, Request

from confide.calibration import select_calibrator
from confide.calibration._base import _REGISTRY
from confide.decision._bounds import clopper_pearson_interval
from confide.metrics import ece
from confide.service._auth import Admin, Ingest
from confide.service._monitoring import drift_status
from confide.service._problems import Problem
from confide.service._schemas import Recalibrate
from confide.store import audit, reading, registry
from confide.store import feedback as feedback_store
from confide.store import monitor as monitor_store
from confide.store import predictions as prediction_store
from confide.store import review as review_store

router = APIRouter(prefix="/api/v1", tags=["quality"])


DEFAULT_COSTS = {"accepted_error": 1.0, "review": 0.0, "reject": 0.0}


def _outcome_costs(decisions: np.ndarray, wrong: np.ndarray, costs: dict[str, float]) -> np.ndarray:
    """Cost of each item: an accepted error, a review, a rejection (an accepted right answer is free).

    ``wrong`` may be a 0/1 outcome (realised cost) or the probability of an error ``1 - c``
    (expected cost, the label-free estimate).
    """
    return (
        (decisions == "accept") * wrong * costs["accepted_error"]
        + (decisions == "review") * costs["review"]
        + (decisions == "reject") * costs["reject"]
    )


def _labelled_metrics(rows: list[dict[str, Any]], costs: dict[str, float]) -> dict[str, Any]:
    n = len(rows)
    if n == 0:
        return {"n_labelled": 0}
    y = np.array([r["y_true"] for r in rows], dtype=np.int64)
    pred = np.array([r["label"] for r in rows], dtype=np.int64)
    probs = np.array([r["probs"] for r in rows], dtype=np.float64)
    correct = int((y == pred).sum())
    ci = clopper_pearson_interval(correct, n, confidence_level=0.95)
    accepted = np.array([r["decision"] == "accept" for r in rows])
    n_acc = int(accepted.sum())
    acc_errors = int((y[accepted] != pred[accepted]).sum())
    decisions = np.array([r["decision"] for r in rows])
    cost = _outcome_costs(decisions, (y != pred).astype(np.float64), costs)
    out: dict[str, Any] = {
        "n_labelled": n,
        "mean_cost": float(cost.mean()),
        "accuracy": correct / n,
        "accuracy_ci95": [ci.low, ci.high],
        "ece": float(ece(y, probs)),
        "accepted_labelled": n_acc,
        "accepted_error_rate": (acc_errors / n_acc) if n_acc else None,
    }
    if n_acc:
        a_ci = clopper_pearson_interval(acc_errors, n_acc, confidence_level=0.95)
        out["accepted_error_rate_ci95"] = [a_ci.low, a_ci.high]
    return out


@router.get(
    "/models/{name}/metrics", summary="Live ECE, accuracy, label-free estimates, drift and alerts"
)
def model_metrics(name: str, request: Request, key: Ingest) -> dict[str, Any]:
    """Feedback-based metrics use the newest labelled predictions (CONFIDE_METRICS_WINDOW).

    The label-free accuracy is CBPE's estimator on calibrated probabilities: the mean top-label
    confidence, with a 95% band from the Poisson-binomial variance ``sum c(1-c) / n^2``. It
    cannot see a change of P(y|x) with unchanged inputs; feedback can.
    """
    window = request.app.state.settings.metrics_window
    with reading(request.app.state.engine) as conn:
        model = registry.get_model(conn, name)
        rows = feedback_store.labelled_predictions(conn, model.id, limit=window)
        recent = prediction_store.recent_decisions(conn, model.id, limit=window)
        counts = prediction_store.decision_counts(conn, model.id)
        queue = review_store.queue_stats(conn, model_id=model.id)
        drift = drift_status(conn, model.id)
        alerts = monitor_store.list_alerts(conn, model.id, limit=20)
    costs = {**DEFAULT_COSTS, **(model.costs or {})}
    conf = np.array([c for c, _ in recent], dtype=np.float64)
    estimate: dict[str, Any] = {"n": int(conf.size)}
    if conf.size:
        mean = float(conf.mean())
        half = 1.96 * math.sqrt(float(np.sum(conf * (1 - conf)))) / conf.size
        expected = _outcome_costs(np.array([d for _, d in recent]), 1.0 - conf, costs)
        estimate.update(
            {
                "accuracy": mean,
                "accuracy_band95": [max(0.0, mean - half), min(1.0, mean + half)],
                "mean_confidence": mean,
                "mean_cost": float(expected.mean()),
            }
        )
    return {
        "model": name,
        "calibrator_version": model.calibrator_version,
        "policy_version": model.policy_version,
        "predictions": sum(counts.values()),
        "decisions": counts,
        "review_queue": queue,
        "costs": costs,
        "feedback": _labelled_metrics(rows, costs),
        "label_free": estimate,
        "drift": drift,
        "alerts": alerts,
    }


@router.post(
    "/models/{name}/recalibrate",
    status_code=201,
    summary="Fit a new calibrator version from feedback",
)
def recalibrate(name: str, body: Recalibrate, request: Request, key: Admin) -> dict[str, Any]:
    """Fit ``method`` on the raw scores of labelled predictions; the old versions are kept.

    A seeded holdout compares the current calibrator (the probabilities stored with each
    prediction) with the new one fitted on the rest; the saved version is then refitted on all
    labels.
    """
    if body.method != "auto" and body.method not in _REGISTRY:
        raise Problem(
            422,
            "Invalid input",
            f"unknown method {body.method!r}; choose 'auto' or one of {', '.join(sorted(_REGISTRY))}.",
        )
    with reading(request.app.state.engine) as conn:
        model = registry.get_model(conn, name)
        rows = feedback_store.labelled_predictions(
            conn, model.id, limit=request.app.state.settings.metrics_window
        )
    kinds = {r["input_kind"] for r in rows}
    if len(rows) < body.min_labels:
        raise Problem(
            422,
            "Not enough labels",
            f"{len(rows)} labelled predictions; recalibration needs at least {body.min_labels}.",
        )
    if len(kinds) > 1:
        raise Problem(
            422,
            "Mixed inputs",
            "the labelled predictions mix logits and probabilities; cannot fit one calibrator.",
        )
    kind = "logits" if kinds == {"logits"} else "probs"
    x = np.array([r["scores"] for r in rows], dtype=np.float64)
    y = np.array([r["y_true"] for r in rows], dtype=np.int64)
    stored = np.array([r["probs"] for r in rows], dtype=np.float64)
    rng = np.random.default_rng(body.seed)
    test = rng.random(len(rows)) < body.holdout
    if test.sum() < 5 or (~test).sum() < 5:
        raise Problem(
            422, "Not enough labels", "the holdout split leaves fewer than 5 labels on one side."
        )
    method = body.method
    if method == "auto":  # cross-validated choice on the fitting part only
        method = select_calibrator(x[~test], y[~test], input=kind, seed=body.seed).method
    cls = _REGISTRY[method]
    if x.shape[1] == 2 and not cls.supports_multiclass:  # binary-only methods read P(y=1)
        x = x[:, 1] - x[:, 0] if kind == "logits" else x[:, 1]
    trial = cls(input=kind).fit(x[~test], y[~test])
    new_test = np.asarray(trial.predict_proba(x[test]), dtype=np.float64)
    if new_test.ndim == 1:
        new_test = np.column_stack([1 - new_test, new_test])
    comparison = {
        "n_holdout": int(test.sum()),
        "ece_current": float(ece(y[test], stored[test])),
        "ece_new": float(ece(y[test], new_test)),
    }
    final = cls(input=kind).fit(x, y)
    with request.app.state.engine.begin() as conn:
        version = registry.add_calibrator(
            conn, model.id, final.to_dict(), source="recalibrated", actor=key.name
        )
        audit.record(
            conn,
            actor=key.name,
            action="recalibrate",
            entity="model",
            entity_id=model.id,
            before={"calibrator_version": model.calibrator_version},
            after={"calibrator_version": version, "method": method, **comparison},
        )
    return {
        "model": name,
        "calibrator_version": version,
        "method": method,
        "requested": body.method,
        "n_labels": len(rows),
        **comparison,
    }
