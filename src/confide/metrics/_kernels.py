"""Fused one-pass kernels for the metrics' hot paths (numba optional, see :mod:`confide._accel`).

Each kernel has a NumPy reference path. Both cut the rows into fixed chunks of
:data:`confide._accel.CHUNK_ROWS`, sum each chunk in row order in float64 (the compiled kernel
runs chunks in parallel), then add the chunks' partial sums in chunk order. Same order, same
additions: the two paths give bit-identical bin sums on any number of cores (tested).
"""

from __future__ import annotations

import numpy as np

from confide import _accel
from confide._accel import chunk_starts, compiled
from confide.metrics._binning import assign_bins, bin_sums, edges_in_precision
from confide.metrics._inputs import top_label

#: ``range`` in Python; confide._accel.compiled rebinds it to ``numba.prange`` before compiling.
prange = range

__all__ = ["brier_sum", "top_label_bin_sums"]


def _py_top_label_bins(
    prob: np.ndarray, y: np.ndarray, edges: np.ndarray, starts: np.ndarray, chunk: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled by numba
    n, k = prob.shape
    b = edges.shape[0] - 1
    n_chunks = starts.shape[0]
    part = np.zeros((n_chunks, 3, b), dtype=np.float64)
    scale = float(b)
    for c in prange(n_chunks):
        lo = starts[c]
        hi = min(lo + chunk, n)
        for i in range(lo, hi):
            best = prob[i, 0]
            arg = 0
            for j in range(1, k):
                v = prob[i, j]
                if v > best:
                    best = v
                    arg = j
            conf = np.float64(best)
            m = int(conf * scale)
            if m > b - 1:
                m = b - 1
            if conf < edges[m]:
                m -= 1
            elif m < b - 1 and conf >= edges[m + 1]:
                m += 1
            part[c, 0, m] += 1.0
            part[c, 1, m] += conf
            if arg == y[i]:
                part[c, 2, m] += 1.0
    total = np.zeros((3, b), dtype=np.float64)
    for c in range(n_chunks):
        total += part[c]
    return total[0], total[1], total[2]


def _py_brier_rows(
    prob: np.ndarray, y: np.ndarray, starts: np.ndarray, chunk: int
) -> float:  # pragma: no cover
    n, k = prob.shape
    n_chunks = starts.shape[0]
    part = np.zeros(n_chunks, dtype=np.float64)
    for c in prange(n_chunks):
        lo = starts[c]
        hi = min(lo + chunk, n)
        acc = 0.0
        for i in range(lo, hi):
            row = 0.0
            for j in range(k):
                v = np.float64(prob[i, j])
                row += v * v
            acc += row - 2.0 * np.float64(prob[i, y[i]]) + 1.0
        part[c] = acc
    total = 0.0
    for c in range(n_chunks):
        total += part[c]
    return total


def top_label_bin_sums(
    prob: np.ndarray, y: np.ndarray, edges: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bin ``(count, sum_confidence, sum_correct)`` of the top label of a 2-D ``prob``.

    Unweighted input with uniform edges (``i / B``) takes the fused path: the compiled kernel
    finds the bin from ``floor(c B)`` and corrects it against the edges in the input's
    precision; the NumPy twin bins chunk by chunk so that its sums are the same to the last bit.
    Weighted input and other edges take the plain NumPy path.
    """
    b = edges.shape[0] - 1
    uniform = np.array_equal(edges, np.arange(b + 1, dtype=np.float64) / b)
    if weights is not None or not uniform or prob.ndim != 2:
        conf, pred = top_label(prob)
        return bin_sums(assign_bins(conf, edges), conf, pred == y, b, weights)
    starts = chunk_starts(prob.shape[0])
    kernel = compiled(_py_top_label_bins, prob.size, parallel=True)
    if kernel is not None:
        p = np.ascontiguousarray(prob)
        e = edges_in_precision(edges, p.dtype)
        yy = np.ascontiguousarray(y, dtype=np.intp)
        count, sconf, scorr = kernel(p, yy, e, starts, _accel.CHUNK_ROWS)
        return count, sconf, scorr
    total = np.zeros((3, b))
    for lo in starts:
        block = prob[lo : lo + _accel.CHUNK_ROWS]
        conf, pred = top_label(block)
        total += np.stack(
            bin_sums(assign_bins(conf, edges), conf, pred == y[lo : lo + _accel.CHUNK_ROWS], b)
        )
    return total[0], total[1], total[2]


def brier_sum(prob: np.ndarray, y: np.ndarray) -> float:
    """``sum_i sum_k (p_ik - [y_i = k])^2`` in float64 (unweighted, 2-D ``prob``)."""
    starts = chunk_starts(prob.shape[0])
    kernel = compiled(_py_brier_rows, prob.size, parallel=True)
    if kernel is not None:
        p = np.ascontiguousarray(prob)
        return float(kernel(p, np.ascontiguousarray(y, dtype=np.intp), starts, _accel.CHUNK_ROWS))
    sq = np.einsum("ij,ij->i", prob, prob, dtype=np.float64)
    py = np.take_along_axis(prob, y[:, None], axis=1)[:, 0].astype(np.float64)
    return float(np.sum(sq - 2.0 * py + 1.0))
