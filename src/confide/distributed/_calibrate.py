r"""Fit calibrators on Dask: the ordinary calibrator objects, from per-partition statistics.

* :func:`fit_temperature`: the exact optimum of the NLL over ``β = 1/T`` by the same
  safeguarded Newton iteration as :class:`~confide.calibration.TemperatureScaling`; each
  evaluation of :math:`(\mathrm{NLL}, \mathrm{NLL}', \mathrm{NLL}'')` is one map-reduce over the
  partitions, whose log-scores are persisted in the workers' memory for the iterations.
* :func:`fit_histogram_binning`: per-bin counts and positive weights per partition, summed
  (uniform bins; equal-mass bins need the sorted scores).
* :func:`fit_binned_isotonic`: per-bin count, score sum and target sum per partition, summed;
  PAVA on the bin means weighted by the counts.

Each returns the calibrator built from its saved-document form (:func:`confide.calibration.load`
of ``{"method", "config", "n_classes", "binary", "params"}``), so it predicts, saves and loads
exactly as one fitted in memory. Sample weights are not supported at scale.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from confide import _accel
from confide._serialization import to_document
from confide._validation import check_positive_int
from confide.calibration._base import DOCUMENT_KIND, Calibrator, load
from confide.calibration._histogram import HistogramBinning
from confide.calibration._isotonic import IsotonicCalibration, fit_isotonic
from confide.calibration._platt import columns, ovr_probs, targets
from confide.calibration._temperature import (
    TemperatureScaling,
    _as_two_columns,
    _derivatives_function,
    _newton,
)
from confide.distributed._dask import compute, import_dask, tree_reduce
from confide.distributed._sources import Batch, PartitionedPredictions, as_partitions
from confide.exceptions import LabelError, ShapeError, ValidationError
from confide.metrics._binning import assign_bins, bin_sums, uniform_edges

__all__ = ["fit_binned_isotonic", "fit_histogram_binning", "fit_temperature"]


def _sum(items: list[Any]) -> Any:
    total = items[0]
    for x in items[1:]:
        total = total + x
    return total


def _scores(batch: Batch, cal: Calibrator, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Checked scores (as the calibrator's ``fit`` checks them) and labels of one partition."""
    y = batch.labels("fitting a calibrator").astype(np.intp, copy=False)
    if kind == "logits" and cal.input == "logits":
        assert batch.logits is not None
        raw = batch.logits
    elif kind in ("probs", "score") and cal.input == "logits":
        raise ValidationError(
            "the data hold probabilities, not logits: pass input='probs' to fit on them."
        )
    else:
        raw = batch.probs
    if raw.shape[0] == 0:  # an empty partition (e.g. after a filter) adds nothing
        return np.asarray(raw, dtype=np.float64), y
    return cal._check_scores(raw), y


def _label_counts(batch: Batch, cal: Calibrator, kind: str, k: int) -> np.ndarray:
    x, y = _scores(batch, cal, kind)
    if x.shape[0] and (y.min() < 0 or y.max() >= k):
        bad = np.unique(y[(y < 0) | (y >= k)])[:10].tolist()
        raise LabelError(
            f"y holds label(s) {bad} outside the {k} classes 0..{k - 1} of the scores."
        )
    return np.bincount(y, minlength=k).astype(np.float64)


def _prepare(parts: PartitionedPredictions, cal: Calibrator) -> np.ndarray:
    """Check every partition as ``Calibrator.fit`` checks its input; the class counts."""
    if not parts.binary and parts.n_classes > 2 and not cal.supports_multiclass:
        raise ShapeError(
            f"{type(cal).__name__} calibrates binary scores; got {parts.n_classes} classes."
        )
    if parts.input in ("probs", "score") and cal.input == "logits":
        raise ValidationError(
            f"{parts.source} holds probabilities, not logits: pass input='probs' to fit on them."
        )
    dask = import_dask()
    k = parts.n_classes
    counts = [
        dask.delayed(_label_counts, pure=True)(p, cal, parts.input, k) for p in parts.partitions
    ]
    (total,) = compute(tree_reduce(counts, _sum))
    n = int(total.sum())
    if n < cal.min_samples:
        raise ValidationError(
            f"{type(cal).__name__} needs at least {cal.min_samples} calibration samples, got {n}."
        )
    present = np.flatnonzero(total > 0)
    if present.size < 2:
        raise LabelError(
            f"the calibration set holds only class {present.tolist()}; calibration needs "
            "examples of at least two classes (a one-class set would fit a degenerate map)."
        )
    out: np.ndarray = total
    return out


def _build(cal: Calibrator, parts: PartitionedPredictions, params: dict[str, Any]) -> Any:
    payload = {
        "method": cal.method,
        "config": cal._config(),
        "n_classes": parts.n_classes,
        "binary": parts.binary,
        "params": params,
    }
    return load(to_document(DOCUMENT_KIND, payload))


# -- temperature scaling ----------------------------------------------------------------------
def _log_scores(batch: Batch, cal: TemperatureScaling, kind: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = _scores(batch, cal, kind)
    return _as_two_columns(cal.log_scores(x)), y


def _partition_derivatives(
    prepared: tuple[np.ndarray, np.ndarray], beta: float, n: int
) -> np.ndarray:
    raw, y = prepared
    if raw.shape[0] == 0:
        return np.zeros(4)
    derivs = _derivatives_function(raw, y, np.full(raw.shape[0], 1.0 / n))
    return np.asarray(derivs(beta), dtype=np.float64)


def _warm_start(prepared: tuple[np.ndarray, np.ndarray], max_iter: int) -> float:
    """Newton to 1e-6 on one partition (a strided subsample of it when large)."""
    raw, y = prepared
    step = max(1, raw.shape[0] // _accel.CHUNK_ROWS)
    sub = slice(0, None, step)
    w = np.full(raw[sub].shape[0], 1.0 / raw[sub].shape[0])
    try:
        return _newton(_derivatives_function(raw[sub], y[sub], w), 1.0, 1e-6, max_iter)[0]
    except (ValidationError, ZeroDivisionError, FloatingPointError):
        return 1.0


def fit_temperature(
    data: Any,
    y_prob: Any = None,
    *,
    input: str = "logits",
    tol: float = 1e-12,
    max_iter: int = 100,
    **read_options: Any,
) -> TemperatureScaling:
    r"""Temperature scaling fitted on Dask: Newton on the NLL, one map-reduce per iteration.

    .. math:: \mathrm{NLL}(\beta) = \frac1N\sum_i\Big[\log\sum_k e^{\beta z_{ik}} - \beta z_{iy_i}\Big],
        \quad T = 1/\beta^*

    Each partition returns :math:`(\mathrm{NLL}_j, \mathrm{NLL}_j', \mathrm{NLL}_j'', w_j)` of
    its rows weighted ``1/N``; the sums are the full-data values, so the iteration is the one of
    :meth:`TemperatureScaling.fit` and ``temperature_`` equals the in-memory fit to rounding
    (``n_iter_`` may differ: the warm start comes from the first partition). Log-scores are
    persisted in the workers' memory between iterations (``N x k`` float values in the cluster).

    Parameters
    ----------
    data, y_prob
        Dask arrays ``(y_true, scores)``, a Dask dataframe or Parquet path(s) (logit columns
        ``logit_<class>`` for ``input="logits"``).
    input : {"logits", "probs"}, default "logits"
    tol, max_iter
        As :class:`~confide.calibration.TemperatureScaling`.

    References
    ----------
    Guo, Pleiss, Sun & Weinberger (2017), "On calibration of modern neural networks", ICML.
    """
    cal = TemperatureScaling(input=input, tol=tol, max_iter=max_iter)
    parts = as_partitions(data, y_prob, **read_options)
    dask = import_dask()
    n = int(_prepare(parts, cal).sum())
    prepared = [dask.delayed(_log_scores, pure=True)(p, cal, parts.input) for p in parts.partitions]
    prepared = list(dask.persist(*prepared))

    def derivs(beta: float) -> tuple[float, float, float, float]:
        tasks = [dask.delayed(_partition_derivatives, pure=True)(p, beta, n) for p in prepared]
        (tot,) = compute(tree_reduce(tasks, _sum))
        return float(tot[0]), float(tot[1]), float(tot[2]), float(tot[3])

    _, g0, _, wrong = derivs(0.0)
    if g0 >= 0:
        raise ValidationError(
            "the scores carry no information about the labels (the likelihood improves as the "
            "temperature grows without bound); temperature scaling cannot be fitted."
        )
    if wrong <= 0:
        raise ValidationError(
            "every calibration prediction is right, so the likelihood keeps improving as the "
            "temperature goes to 0; temperature scaling has no optimum here."
        )
    (start,) = compute(dask.delayed(_warm_start, pure=True)(prepared[0], cal.max_iter))
    beta, n_iter, nll = _newton(derivs, float(start), cal.tol, cal.max_iter)
    params = {"temperature": 1.0 / beta, "nll": nll, "n_iter": n_iter}
    out = _build(cal, parts, params)
    assert isinstance(out, TemperatureScaling)
    return out


# -- histogram binning and binned isotonic ---------------------------------------------------
def _partition_bins(batch: Batch, cal: Calibrator, kind: str, n_bins: int) -> np.ndarray:
    """``(m, 3, n_bins)``: count, score sum and target sum per calibrated column and bin."""
    x, y = _scores(batch, cal, kind)
    p = columns(ovr_probs(cal, x))
    t = targets(y, x.ndim == 1, p.shape[1])
    edges = uniform_edges(n_bins)
    out = np.zeros((p.shape[1], 3, n_bins))
    for j in range(p.shape[1]):  # a loop over classes
        out[j] = bin_sums(assign_bins(p[:, j], edges), p[:, j], t[:, j], n_bins)
    return out


def _bin_stats(parts: PartitionedPredictions, cal: Calibrator, n_bins: int) -> np.ndarray:
    dask = import_dask()
    _prepare(parts, cal)
    tasks = [
        dask.delayed(_partition_bins, pure=True)(p, cal, parts.input, n_bins)
        for p in parts.partitions
    ]
    (tot,) = compute(tree_reduce(tasks, _sum))
    out: np.ndarray = tot
    return out


def fit_histogram_binning(
    data: Any,
    y_prob: Any = None,
    *,
    input: str = "logits",
    n_bins: int = 15,
    binning: str = "uniform",
    **read_options: Any,
) -> HistogramBinning:
    r"""Histogram binning (Zadrozny & Elkan 2001) fitted on Dask from summed per-bin statistics.

    Bin ``b`` of column ``j`` gets :math:`\sum_{i \in b} t_{ij} / n_b` (its centre when empty),
    the :class:`~confide.calibration.HistogramBinning` rule, from the counts and positive
    weights summed over partitions. Only ``binning="uniform"``: equal-mass edges need the sorted
    scores.

    References
    ----------
    Zadrozny & Elkan (2001), "Obtaining calibrated probability estimates from decision trees
    and naive Bayesian classifiers", ICML.
    """
    if binning != "uniform":
        raise ValidationError(
            f"binning={binning!r}: on Dask only 'uniform' bins can be fitted from per-partition "
            "sums (equal-mass edges need the sorted scores). Use binning='uniform'."
        )
    cal = HistogramBinning(input=input, n_bins=n_bins, binning="uniform")
    parts = as_partitions(data, y_prob, **read_options)
    stats = _bin_stats(parts, cal, cal.n_bins)
    e = uniform_edges(cal.n_bins)
    centre = 0.5 * (e[:-1] + e[1:])
    count, pos = stats[:, 0, :], stats[:, 2, :]
    values = np.where(count > 0, pos / np.where(count > 0, count, 1.0), centre)
    params = {
        "edges": np.tile(e, (stats.shape[0], 1)).tolist(),
        "bin_values": values.tolist(),
        "bin_weights": count.tolist(),
    }
    out = _build(cal, parts, params)
    assert isinstance(out, HistogramBinning)
    return out


def fit_binned_isotonic(
    data: Any,
    y_prob: Any = None,
    *,
    input: str = "logits",
    n_bins: int = 4096,
    **read_options: Any,
) -> IsotonicCalibration:
    r"""Isotonic calibration on Dask, fitted by PAVA on ``n_bins`` uniform bins of the score.

    Per bin, the count :math:`n_b`, score sum and target sum are summed over partitions; PAVA
    (weighted by :math:`n_b`) runs on the points :math:`(\bar p_b, \bar t_b)`. When every bin
    holds one distinct score (scores on a grid no finer than the bins) this is exactly the
    in-memory :class:`~confide.calibration.IsotonicCalibration`; otherwise scores within a bin
    are pooled first, an approximation whose knots are ``1/n_bins`` apart at most.

    References
    ----------
    Zadrozny & Elkan (2002), "Transforming classifier scores into accurate multiclass
    probability estimates", KDD; Barlow, Bartholomew, Bremner & Brunk (1972), Statistical
    Inference under Order Restrictions, Wiley.
    """
    cal = IsotonicCalibration(input=input)
    parts = as_partitions(data, y_prob, **read_options)
    stats = _bin_stats(parts, cal, check_positive_int(n_bins, "n_bins"))
    xs_all, ys_all = [], []
    for j in range(stats.shape[0]):  # a loop over classes
        count, s_sum, t_sum = stats[j]
        live = count > 0
        xk, yk = fit_isotonic(s_sum[live] / count[live], t_sum[live] / count[live], count[live])
        xs_all.append(xk.tolist())
        ys_all.append(yk.tolist())
    out = _build(cal, parts, {"x_thresholds": xs_all, "y_thresholds": ys_all})
    assert isinstance(out, IsotonicCalibration)
    return out
