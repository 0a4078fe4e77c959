"""Input checks and the per-chunk loop of CBPE (see :mod:`confide.monitor._cbpe`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import norm

from confide._validation import (
    check_binary_labels,
    check_choice,
    check_consistent_length,
    check_fraction,
    check_labels,
    check_positive_int,
)
from confide.calibration import Calibrator
from confide.exceptions import ConfideTypeError, NotFittedError, ValidationError
from confide.monitor._cbpe_metrics import METRICS, analytic_std, bootstrap_draws, expected, realised
from confide.monitor._chunks import ChunksLike, make_chunks
from confide.monitor._estimate import EstimateRow, PerformanceEstimate

__all__ = [
    "NotFittedError",
    "apply_calibrator",
    "check_common",
    "check_metrics",
    "check_predictions",
    "run_estimate",
]


def check_metrics(metrics: Any) -> tuple[str, ...]:
    if isinstance(metrics, str):
        metrics = (metrics,)
    out = tuple(metrics)
    if not out:
        raise ValidationError(f"metrics is empty; choose from {', '.join(METRICS)}.")
    for m in out:
        check_choice(m, "metric", METRICS)
    return tuple(dict.fromkeys(out))


def check_predictions(y_pred: Any, raw: np.ndarray, threshold: float) -> np.ndarray:
    if y_pred is None:
        if raw.ndim == 1:
            return (raw > threshold).astype(np.intp)
        return np.argmax(raw, axis=1).astype(np.intp)
    check_consistent_length(y_prob=raw, y_pred=y_pred)
    if raw.ndim == 1:
        return check_binary_labels(y_pred, "y_pred")
    return check_labels(y_pred, raw.shape[1], "y_pred")


def apply_calibrator(calibrator: Any, raw: np.ndarray) -> np.ndarray:
    if calibrator is None:
        return raw.astype(np.float64, copy=False)
    if not isinstance(calibrator, Calibrator):
        raise ConfideTypeError(
            f"calibrator must be a fitted confide.calibration calibrator, got "
            f"{type(calibrator).__name__}."
        )
    if calibrator.input != "probs":
        raise ValidationError(
            f"calibrator was built with input={calibrator.input!r}; estimate_performance reads "
            "probabilities, so it needs a calibrator fitted with input='probs'."
        )
    return np.asarray(calibrator.predict_proba(raw), dtype=np.float64)


def run_estimate(
    raw: np.ndarray,
    p: np.ndarray,
    yhat: np.ndarray,
    y: np.ndarray | None,
    chunks: ChunksLike,
    metrics: tuple[str, ...],
    confidence_level: float,
    interval: str,
    n_resamples: int,
    random_state: int,
) -> PerformanceEstimate:
    parts = make_chunks(raw.shape[0], chunks)
    z = float(norm.ppf(0.5 + confidence_level / 2.0))
    lo_q, hi_q = 0.5 - confidence_level / 2.0, 0.5 + confidence_level / 2.0
    seeds = np.random.SeedSequence(random_state).spawn(len(parts))
    rows: list[EstimateRow] = []
    for chunk, seed in zip(parts, seeds, strict=True):
        idx = chunk.indices
        pc, sc, yc = p[idx], raw[idx], yhat[idx]
        est = expected(pc, yc, sc, metrics)
        real = realised(y[idx], yc, sc, metrics) if y is not None else {}
        stds = {m: analytic_std(pc, yc, sc, m) for m in metrics} if interval == "analytic" else {}
        need_boot = tuple(m for m in metrics if stds.get(m) is None)
        draws = (
            bootstrap_draws(pc, yc, sc, need_boot, n_resamples, np.random.default_rng(seed))
            if need_boot
            else {}
        )
        for m in metrics:
            e = est[m]
            if m in draws:
                d = draws[m][np.isfinite(draws[m])]
                if d.size and np.isfinite(e):
                    sd = float(d.std())
                    lo, hi = (float(v) for v in np.quantile(d, [lo_q, hi_q]))
                else:
                    sd, lo, hi = (float("nan"),) * 3
            else:
                sd = float(stds[m])  # type: ignore[arg-type]
                lo = max(0.0, e - z * sd) if np.isfinite(sd) else float("nan")
                hi = min(1.0, e + z * sd) if np.isfinite(sd) else float("nan")
            rows.append(
                EstimateRow(
                    chunk=chunk.key,
                    n=chunk.n,
                    metric=m,
                    estimate=float(e),
                    std=sd,
                    lower=lo,
                    upper=hi,
                    realised=real.get(m, float("nan")),
                )
            )
    return PerformanceEstimate(
        method="cbpe",
        metrics=metrics,
        confidence_level=confidence_level,
        interval=interval,
        rows=tuple(rows),
    )


def check_common(
    confidence_level: Any, interval: Any, n_resamples: Any, threshold: Any
) -> tuple[float, str, int, float]:
    cl = check_fraction(confidence_level, "confidence_level")
    iv = check_choice(interval, "interval", ("analytic", "bootstrap"))
    nr = check_positive_int(n_resamples, "n_resamples", minimum=10)
    th = check_fraction(threshold, "threshold")
    return cl, iv, nr, th
