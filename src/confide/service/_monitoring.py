"""The model's drift detector, fed each batch's confidences inside the batch's transaction."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy.engine import Connection

from confide.monitor import ADWIN, DriftDetector, load_detector
from confide.store import monitor as monitor_store

__all__ = ["default_detector", "drift_status", "feed_detector"]


def default_detector() -> DriftDetector:
    """ADWIN on the calibrated confidence: no reference sample or tuning needed."""
    return ADWIN()


def feed_detector(conn: Connection, model_id: int, confidence: np.ndarray) -> list[dict[str, Any]]:
    """Update the stored detector with ``confidence``; store and return any new alerts."""
    doc = monitor_store.get_detector_state(conn, model_id, for_update=True)
    detector = default_detector() if doc is None else load_detector(doc)
    result = detector.update_many(np.asarray(confidence, dtype=np.float64))
    alerts = []
    if result.n_alarms:
        message = (
            f"{type(detector).__name__} flagged a change in the confidence distribution "
            f"({result.n_alarms} alarm(s) in this batch; {detector.n_seen} values seen)."
        )
        value = float(np.mean(confidence))
        alert_id = monitor_store.add_alert(
            conn, model_id, rule="confidence_drift", level="warning", message=message, value=value
        )
        alerts.append(
            {"id": alert_id, "rule": "confidence_drift", "message": message, "value": value}
        )
    monitor_store.put_detector_state(conn, model_id, detector.to_dict())
    return alerts


def drift_status(conn: Connection, model_id: int) -> dict[str, Any]:
    doc = monitor_store.get_detector_state(conn, model_id)
    if doc is None:
        return {"detector": None, "n_seen": 0, "n_alarms": 0, "drift_detected": False}
    detector = load_detector(doc)
    return {
        "detector": type(detector).__name__,
        "n_seen": detector.n_seen,
        "n_alarms": detector.n_alarms,
        "drift_detected": bool(detector.drift_detected),
        "statistic": float(detector.statistic) if np.isfinite(detector.statistic) else None,
    }
