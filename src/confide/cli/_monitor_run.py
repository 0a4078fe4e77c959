r"""The work behind ``confide monitor``: one dict per chunk, alerts, detector (arrays in, JSON out).

:func:`run_monitor_arrays` is what the command and ``confide demo`` call. Per chunk of the
monitored predictions it reports

* ``n`` and the mean top-label confidence (binary ``P(y=1)``: ``max(p, 1 - p)``);
* drift of the confidence distribution against the reference confidences: the two-sample KS
  test and the PSI with its size-aware threshold (:func:`confide.monitor.drift_report`), the
  p-values of every (chunk, test) pair adjusted together by Benjamini-Hochberg;
* the accuracy estimated without labels by CBPE (fitted on the labelled reference; its
  calibration checked, and isotonic-corrected when needed, unless ``calibrate=False``) with
  its band, and by ATC (Garg et al. 2022);
* the realised accuracy where labels are given;
* Page's CUSUM on the standardised chunk means of the confidence,
  :math:`z_c = (\bar s_c - \mu_0) / (\sigma_0 \sqrt{1/n_c + 1/n_0})` (chunk means are near
  normal where single confidences are not, so Siegmund's approximation of the in-control run
  length holds; :func:`confide.monitor.threshold_for_arl` with ``arl0`` chunks);
* alerts of :class:`confide.monitor.AlertManager` rules, one observation per chunk.

Benjamini-Hochberg is applied across all chunks at once: a retrospective analysis. A new chunk
can change the adjusted p-values of earlier ones; a live job should correct per chunk instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from confide._validation import (
    check_binary_labels,
    check_fraction,
    check_labels,
    check_positive_int,
    check_probabilities,
)
from confide.exceptions import ShapeError, ValidationError
from confide.monitor import (
    ATC,
    CBPE,
    CUSUM,
    AlertManager,
    AlertRule,
    drift_report,
    make_chunks,
    threshold_for_arl,
)

__all__ = ["ALERT_METRICS", "PERIODS", "parse_alert", "run_monitor_arrays", "top_confidence"]

#: Chunk fields an ``--alert`` rule may watch.
ALERT_METRICS = (
    "n",
    "mean_confidence",
    "ks_statistic",
    "ks_p_value",
    "ks_p_adjusted",
    "psi",
    "psi_p_adjusted",
    "wasserstein",
    "estimated_accuracy",
    "atc_accuracy",
    "realised_accuracy",
    "cusum_statistic",
)
#: ``--period`` names and the calendar unit they floor timestamps to.
PERIODS = {"hour": "h", "day": "D", "month": "M", "year": "Y"}
_RULE = re.compile(
    r"^\s*([A-Za-z_]\w*)\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)


def top_confidence(p: np.ndarray) -> np.ndarray:
    """Top-label confidence in float64: the row maximum, or ``max(p, 1 - p)`` for 1-D input."""
    q = np.asarray(p, dtype=np.float64)
    return np.maximum(q, 1.0 - q) if q.ndim == 1 else q.max(axis=1)


def _predicted(p: np.ndarray) -> np.ndarray:
    return (p > 0.5).astype(np.intp) if p.ndim == 1 else np.argmax(p, axis=1)


def parse_alert(text: str) -> AlertRule:
    """An :class:`AlertRule` from ``"metric>value"`` (``>``, ``<``, ``>=``, ``<=``)."""
    match = _RULE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValidationError(
            f"--alert {text!r} is not of the form METRIC>VALUE (or <, >=, <=), e.g. "
            "'estimated_accuracy<0.7' or 'psi>0.2'."
        )
    metric, op, value = match.groups()
    if metric not in ALERT_METRICS:
        raise ValidationError(
            f"--alert {text!r} watches unknown metric {metric!r}; choose one of "
            f"{', '.join(ALERT_METRICS)}."
        )
    return AlertRule(name=text.strip(), metric=metric, op=op, threshold=float(value))


def _json(v: Any) -> Any:
    """Plain JSON: NumPy scalars unwrapped, NaN and infinities as None."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _check_inputs(
    ref_probs: Any, ref_y: Any, probs: Any, y: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    rp = check_probabilities(ref_probs, "reference probabilities")
    p = check_probabilities(probs, "monitored probabilities")
    if rp.ndim != p.ndim or (p.ndim == 2 and p.shape[1] != rp.shape[1]):
        raise ShapeError(
            f"the reference has probabilities of shape {rp.shape} but the monitored file "
            f"{p.shape}: both must come from the same model (same classes)."
        )
    if np.asarray(ref_y).shape != (rp.shape[0],):
        raise ShapeError(f"{np.asarray(ref_y).shape[0]} reference labels for {rp.shape[0]} rows.")
    k = 2 if rp.ndim == 1 else rp.shape[1]
    ry = check_binary_labels(ref_y) if rp.ndim == 1 else check_labels(ref_y, k)
    yy = None
    if y is not None:
        if np.asarray(y).shape != (p.shape[0],):
            raise ShapeError(f"{np.asarray(y).shape[0]} labels for {p.shape[0]} monitored rows.")
        yy = check_binary_labels(y) if p.ndim == 1 else check_labels(y, k)
    return rp, ry, p, yy


def run_monitor_arrays(
    ref_probs: Any,
    ref_y: Any,
    probs: Any,
    y: Any = None,
    *,
    chunk: int = 1000,
    keys: Any = None,
    period: str | None = None,
    alpha: float = 0.01,
    calibrate: bool = True,
    alerts: Sequence[str | AlertRule] = (),
    accuracy_margin: float = 0.05,
    arl0: float = 500.0,
    seed: int = 0,
) -> dict[str, Any]:
    """Monitor ``probs`` chunk by chunk against a labelled reference; plain-JSON result.

    Parameters
    ----------
    ref_probs, ref_y : reference probabilities ((n0, k) or binary (n0,)) and labels.
    probs : monitored probabilities, same classes.
    y : monitored labels, optional (gives the realised accuracy).
    chunk : int, default 1000
        Chunk size (row order) when ``keys`` is None; the last chunk may be shorter.
    keys : array of shape (n,), optional
        One key per row (a time, a batch): one chunk per distinct key, in sorted order.
    period : {"hour", "day", "month", "year"}, optional
        Floor datetime64 ``keys`` to this unit first.
    alpha : float, default 0.01
        False discovery rate of the drift tests (BH across chunks and tests); the default
        ``drift`` alert fires when a chunk's adjusted KS p-value is below it.
    calibrate : bool, default True
        Let CBPE check the reference calibration and correct it (isotonic) when needed.
    alerts : sequence of ``"metric>value"`` strings or AlertRule
        Rules added to the defaults ``drift`` and ``accuracy_drop`` (estimated accuracy below
        the reference accuracy minus ``accuracy_margin``; clears at half the margin).
    arl0 : float, default 500
        In-control average run length, in chunks, of the CUSUM.
    seed : int, default 0

    Returns
    -------
    dict
        ``{"reference": {...}, "chunks": [...], "alerts": [...], "detectors": {...},
        "settings": {...}}``, plain JSON types (missing values as None).
    """
    rp, ry, p, yy = _check_inputs(ref_probs, ref_y, probs, y)
    a = check_fraction(alpha, "alpha")
    margin = check_fraction(accuracy_margin, "accuracy_margin")
    unit = None
    if period is not None:
        if period not in PERIODS:
            raise ValidationError(f"period must be one of {', '.join(PERIODS)}, got {period!r}.")
        unit = PERIODS[period]
    if keys is None:
        chunks = make_chunks(p.shape[0], check_positive_int(chunk, "chunk"))
    else:
        chunks = make_chunks(p.shape[0], np.asarray(keys), period=unit)
    rc, conf = top_confidence(rp), top_confidence(p)

    windows = {str(i): (rc, conf[c.indices]) for i, c in enumerate(chunks)}
    drift = drift_report(windows, methods=("ks", "psi"), alpha=a, correction="bh").to_dict()
    tests = drift["tests"]

    cbpe = CBPE(metrics=("accuracy",), calibration="auto" if calibrate else "none")
    cbpe.fit(rp, ry, reference_pred=_predicted(rp))
    est = cbpe.estimate(p, y_true=yy, chunks=chunks)
    atc_model = ATC().fit(rp, ry)
    atc = atc_model.estimate(p, chunks=chunks)
    ref_acc = float(cbpe.reference_realised_["accuracy"])

    mu0, sd0, n0 = float(rc.mean()), float(rc.std(ddof=1)), rc.shape[0]
    h = threshold_for_arl(arl0, 0.5)
    cusum = CUSUM(target_mean=0.0, std=1.0, k=0.5, h=h)

    rules = [
        AlertRule("drift", "ks_p_adjusted", "<", a, severity="critical"),
        AlertRule(
            "accuracy_drop",
            "estimated_accuracy",
            "<",
            ref_acc - margin,
            clear_threshold=ref_acc - margin / 2.0,
        ),
        *(r if isinstance(r, AlertRule) else parse_alert(r) for r in alerts),
    ]
    manager = AlertManager(rules, nan_policy="skip")
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for i, c in enumerate(chunks):  # a loop over chunks
        ks, ps = tests[2 * i], tests[2 * i + 1]
        e, t = est.rows[i], atc.rows[i]
        mean_c = float(conf[c.indices].mean())
        z = (mean_c - mu0) / (sd0 * math.sqrt(1.0 / c.n + 1.0 / n0))
        step = cusum.update(z)
        row = {
            "index": i,
            **c.to_dict(),
            "mean_confidence": mean_c,
            "ks_statistic": ks["statistic"],
            "ks_p_value": ks["p_value"],
            "ks_p_adjusted": ks["adjusted_p_value"],
            "psi": ps["statistic"],
            "psi_threshold": ps["threshold"],
            "psi_p_adjusted": ps["adjusted_p_value"],
            "psi_band": ps["details"]["band"],
            "wasserstein": ks["effect_size"],
            "drift": bool(ks["rejected"] or ps["rejected"]),
            "estimated_accuracy": e.estimate,
            "estimated_lower": e.lower,
            "estimated_upper": e.upper,
            "atc_accuracy": t.estimate,
            "realised_accuracy": e.realised,
            "cusum_z": z,
            "cusum_statistic": step.statistic,
            "cusum_alarm": bool(step.drift),
        }
        row = {k: _json(v) for k, v in row.items()}
        observed = {m: row[m] for m in ALERT_METRICS if isinstance(row[m], int | float)}
        for ev in manager.observe(observed, at=i):
            events.append({"chunk": c.key, **{k: _json(v) for k, v in ev.to_dict().items()}})
        row["alerts"] = manager.active
        rows.append(row)

    alarms = [r["key"] for r in rows if r["cusum_alarm"]]
    return {
        "reference": {
            "n": int(n0),
            "mean_confidence": mu0,
            "std_confidence": sd0,
            "accuracy": ref_acc,
            "cbpe_calibration": cbpe.calibration_,
            "cbpe_calibration_check": cbpe.calibration_check_,
            "atc_threshold": _json(atc_model.threshold_),
        },
        "chunks": rows,
        "alerts": events,
        "detectors": {
            "cusum": {
                "on": "standardised chunk means of the confidence",
                "k": 0.5,
                "h": h,
                "arl0_chunks": float(arl0),
                "alarms": alarms,
                "first_alarm": alarms[0] if alarms else None,
            }
        },
        "settings": {
            "alpha": a,
            "correction": "bh",
            "tests": ["ks", "psi"],
            "chunking": "keys" if keys is not None else f"size {chunk}",
            "period": period,
            "calibrate": bool(calibrate),
            "accuracy_margin": margin,
            "rules": [r.to_dict() for r in rules],
            "has_labels": yy is not None,
        },
    }
