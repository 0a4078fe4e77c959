"""Bin edges, bin assignment and per-bin sums: the one place that decides which bin a value is in.

Convention (stated once, tested in ``tests/metrics/test_binning.py``):

* ``n_bins`` bins with edges ``e_0 = 0 < e_1 < ... < e_B = 1``; uniform edges are ``e_i = i / B``
  correctly rounded in float64.
* Bin ``i`` is the half-open interval ``[e_i, e_{i+1})``; the last bin is closed, so it also
  holds 1.0; a value of exactly 0 is in the first bin.
* A value equal to an edge goes to the upper bin. The comparison is made in the caller's
  precision: float32 scores are compared with the edges rounded to float32, so ``float32(0.2)``
  is in the bin that starts at 0.2 whether or not ``float32(0.2) >= 0.2`` in float64.
* Sums are accumulated in float64 whatever the input dtype.

netcal and scikit-learn's ``calibration_curve`` put an edge value in the *lower* bin (right-closed
bins via ``np.digitize(..., right=True)`` or ``searchsorted``), and torchmetrics compares in
float32 and puts 1.0 in an extra bin; the tests show where that changes the value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from confide._validation import check_choice, check_positive_int

__all__ = ["BinStats", "assign_bins", "bin_edges", "bin_sums", "quantile_edges", "uniform_edges"]


def uniform_edges(n_bins: int) -> np.ndarray:
    """``e_i = i / n_bins`` for ``i = 0..n_bins``, each correctly rounded in float64."""
    b = check_positive_int(n_bins, "n_bins")
    return np.arange(b + 1, dtype=np.float64) / b


def quantile_edges(
    scores: np.ndarray, n_bins: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Equal-mass edges: ``e_r`` is the sorted score at cumulative weight ``r / B`` of the total.

    Without weights ``e_r = s[floor(r n / B)]`` for the sorted scores ``s``, so bin ``r`` holds
    positions ``floor(r n / B) .. floor((r+1) n / B) - 1`` when there are no ties; tied values stay
    together (in the upper bin), which keeps the result independent of row order. Repeated edges
    give empty bins, which carry no weight. Outer edges are 0 and 1.
    """
    b = check_positive_int(n_bins, "n_bins")
    order = np.argsort(scores, kind="stable")
    s = scores[order].astype(np.float64)
    if weights is None:
        pos = (np.arange(1, b) * s.shape[0]) // b
    else:
        cw = np.cumsum(weights[order])
        pos = np.searchsorted(cw, np.arange(1, b) * cw[-1] / b, side="right")
    pos = np.minimum(pos, s.shape[0] - 1)
    inner = s[pos] if s.shape[0] else np.zeros(b - 1)
    return np.concatenate(([0.0], np.maximum.accumulate(inner), [1.0]))


def bin_edges(
    scores: np.ndarray, n_bins: int, binning: str, weights: np.ndarray | None = None
) -> np.ndarray:
    """Edges for ``binning="uniform"`` or ``"quantile"``."""
    check_choice(binning, "binning", ("uniform", "quantile"))
    if binning == "uniform":
        return uniform_edges(n_bins)
    return quantile_edges(scores, n_bins, weights)


def edges_in_precision(edges: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The edges rounded to ``dtype`` (then held in float64, where that rounding is exact)."""
    return edges.astype(dtype).astype(np.float64)


#: Above this many bins the direct index could be off by more than one; use the search.
_DIRECT_MAX_BINS = 1 << 20


def _is_uniform(edges: np.ndarray) -> bool:
    b = edges.shape[0] - 1
    return 1 <= b <= _DIRECT_MAX_BINS and bool(np.array_equal(edges, uniform_edges(b)))


def assign_bins(scores: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index of every score under the module's convention (``intp``, in ``0..B-1``).

    Uniform edges take a direct index ``floor(x B)`` and one exact correction step against the
    edges in the caller's precision (float32 edges ``fl(i/B)`` differ from ``i/B`` by less than
    one part in ``2^24``, so for ``B < 2^20`` the direct index is off by at most one); the result
    equals the binary search below, value for value, at a fraction of its cost.
    """
    e = edges_in_precision(edges, scores.dtype) if scores.dtype.kind == "f" else edges
    b = e.shape[0] - 1
    if scores.dtype.kind == "f" and scores.size >= 4096 and _is_uniform(edges):
        x = scores.astype(np.float64, copy=False)
        idx = np.clip(np.floor(x * b), 0, b - 1).astype(np.intp)
        idx -= (x < e[idx]) & (idx > 0)
        idx += (x >= e[idx + 1]) & (idx < b - 1)
        return idx
    idx = np.searchsorted(e[1:-1], scores, side="right")
    return idx.astype(np.intp, copy=False)


@dataclass(frozen=True)
class BinStats:
    """Per-bin sums: ``count`` (total weight), ``sum_score`` and ``sum_target`` (float64)."""

    edges: np.ndarray
    count: np.ndarray
    sum_score: np.ndarray
    sum_target: np.ndarray

    @property
    def n_bins(self) -> int:
        return int(self.count.shape[0])

    @property
    def total(self) -> float:
        return float(self.count.sum())


def bin_sums(
    idx: np.ndarray,
    score: np.ndarray,
    target: np.ndarray,
    n_bins: int,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(count, sum_score, sum_target)`` per bin, summed in float64 in row order."""
    score64 = score.astype(np.float64, copy=False)
    target64 = target.astype(np.float64, copy=False)
    if weights is None:
        count: np.ndarray = np.bincount(idx, minlength=n_bins).astype(np.float64)
        s = np.bincount(idx, weights=score64, minlength=n_bins)
        t = np.bincount(idx, weights=target64, minlength=n_bins)
    else:
        count = np.bincount(idx, weights=weights, minlength=n_bins)
        s = np.bincount(idx, weights=score64 * weights, minlength=n_bins)
        t = np.bincount(idx, weights=target64 * weights, minlength=n_bins)
    return count, s, t
