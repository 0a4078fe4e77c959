"""Fused one-pass kernels for the metrics' hot paths (numba optional, see :mod:`confide._accel`).

Each kernel has a NumPy reference path. The compiled loops add values in row order in float64,
the same order as ``np.bincount``, so both paths give bit-identical bin sums (tested).
"""

from __future__ import annotations

import numpy as np

from confide._accel import compiled
from confide.metrics._binning import assign_bins, bin_sums, edges_in_precision
from confide.metrics._inputs import top_label

__all__ = ["brier_sum", "top_label_bin_sums"]


def _py_top_label_bins(
    prob: np.ndarray, y: np.ndarray, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled by numba
    n, k = prob.shape
    b = edges.shape[0] - 1
    count = np.zeros(b, dtype=np.int64)
    sconf = np.zeros(b, dtype=np.float64)
    scorr = np.zeros(b, dtype=np.float64)
    scale = float(b)
    for i in range(n):
        best = prob[i, 0]
        arg = 0
        for j in range(1, k):
            v = prob[i, j]
            if v > best:
                best = v
                arg = j
        c = np.float64(best)
        j = int(c * scale)
        if j > b - 1:
            j = b - 1
        if c < edges[j]:
            j -= 1
        elif j < b - 1 and c >= edges[j + 1]:
            j += 1
        count[j] += 1
        sconf[j] += c
        if arg == y[i]:
            scorr[j] += 1.0
    return count, sconf, scorr


def _py_brier_sum(prob: np.ndarray, y: np.ndarray) -> float:  # pragma: no cover - compiled
    n, k = prob.shape
    total = 0.0
    for i in range(n):
        row = 0.0
        for j in range(k):
            v = np.float64(prob[i, j])
            row += v * v
        p = np.float64(prob[i, y[i]])
        total += row - 2.0 * p + 1.0
    return total


def top_label_bin_sums(
    prob: np.ndarray, y: np.ndarray, edges: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bin ``(count, sum_confidence, sum_correct)`` of the top label of a 2-D ``prob``.

    ``edges`` must be uniform (``i / B``) for the compiled path, which finds the bin from
    ``floor(c B)`` and corrects it against the edges in the input's precision; other edges
    and weighted input take the NumPy path.
    """
    b = edges.shape[0] - 1
    uniform = np.array_equal(edges, np.arange(b + 1, dtype=np.float64) / b)
    kernel = (
        compiled(_py_top_label_bins, prob.size)
        if weights is None and uniform and prob.ndim == 2
        else None
    )
    if kernel is not None:
        p = np.ascontiguousarray(prob)
        e = edges_in_precision(edges, p.dtype)
        count, sconf, scorr = kernel(p, np.ascontiguousarray(y, dtype=np.intp), e)
        return count.astype(np.float64), sconf, scorr
    conf, pred = top_label(prob)
    idx = assign_bins(conf, edges)
    return bin_sums(idx, conf, pred == y, b, weights)


def brier_sum(prob: np.ndarray, y: np.ndarray) -> float:
    """``sum_i sum_k (p_ik - [y_i = k])^2`` in float64 (unweighted, 2-D ``prob``)."""
    kernel = compiled(_py_brier_sum, prob.size)
    if kernel is not None:
        return float(kernel(np.ascontiguousarray(prob), np.ascontiguousarray(y, dtype=np.intp)))
    sq = np.einsum("ij,ij->i", prob, prob, dtype=np.float64)
    py = np.take_along_axis(prob, y[:, None], axis=1)[:, 0].astype(np.float64)
    return float(np.sum(sq - 2.0 * py + 1.0))
