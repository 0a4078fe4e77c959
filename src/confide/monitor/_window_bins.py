r"""Shared bins for the histogram window tests (chi-square, G, PSI).

Three ways to choose the bins, under confide's bin convention (``confide.metrics._binning``: a
score equal to an edge goes to the upper bin):

* ``binning="reference"``: the ``n_bins`` quantile bins of the reference, inner edges the sorted
  reference scores at positions ``floor(r n / B)``, ``r = 1..B-1`` (the usual PSI bins);
* ``binning="pooled"``: the same on the pooled sample (both windows). Under "no drift" the
  pooled sample does not depend on which score came from which window, so the bins are fixed
  given it and the ``2 x B`` table has fixed margins: the setting in which the chi-square and G
  tests of homogeneity hold their level. With reference bins the reference row is not random
  given the bins (``n / B`` per bin by construction), and Pearson's statistic, whose
  denominators then move with the current window, over-rejects when ``m >> n`` (12% at
  ``alpha = 0.05`` for ``n = 50``, ``m = 500`` in ``tests/monitor/test_monitor_window_null.py``);
* explicit ``edges`` (increasing; the last bin closed): every score must lie in
  ``[edges[0], edges[-1]]``; float32 windows are compared with the edges rounded to float32.

With quantile bins the outer bins are open (``(-inf, e_1)`` and ``[e_{B-1}, inf)``), so a current
score outside the reference range is still counted; repeated edges (ties) and edges at the
minimum are dropped, so every bin holds at least one score of the sample that defined it.
Bins empty in both windows (possible with explicit edges) are dropped: they carry no
information, and scipy would reject their zero expected count. ``n_bins`` of the result says
how many bins were used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from confide._validation import as_float_array, check_choice, check_positive_int
from confide.exceptions import ConfideTypeError, ValidationError
from confide.metrics._binning import edges_in_precision

__all__ = ["BinSpec", "Histogram2", "check_bins", "kth_of_two", "shared_histogram"]

BINNINGS = ("reference", "pooled")


@dataclass(frozen=True, eq=False)
class BinSpec:
    """How to bin: quantile bins of the reference or pooled sample, or explicit edges."""

    binning: str  # "reference", "pooled" or "edges"
    n_bins: int
    edges: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class Histogram2:
    """Counts of both windows in shared bins."""

    inner_edges: np.ndarray
    reference: np.ndarray  # int64 counts per bin
    current: np.ndarray
    binning: str

    @property
    def n_bins(self) -> int:
        return int(self.reference.shape[0])


def check_bins(n_bins: Any, edges: Any, binning: Any) -> BinSpec:
    """Checked ``n_bins``, ``binning`` and optional explicit ``edges``."""
    if edges is None:
        kind = check_choice(binning, "binning", BINNINGS)
        return BinSpec(kind, check_positive_int(n_bins, "n_bins"))
    if isinstance(edges, str | bytes):
        raise ConfideTypeError(f"edges must be an array of bin edges, got {edges!r}.")
    arr = as_float_array(edges, "edges", ndim=1).astype(np.float64)
    if arr.shape[0] < 2 or np.any(np.diff(arr) <= 0):
        raise ValidationError(
            f"edges must hold at least two strictly increasing values, got {arr.tolist()[:12]}."
        )
    return BinSpec("edges", arr.shape[0] - 1, arr)


def kth_of_two(xs: np.ndarray, ys: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The ``k``-th smallest (0-based) values of the union of two sorted arrays, without merging.

    Bisection, vectorised over ``k``, on the number ``i`` of ``xs`` among the ``k + 1`` smallest:
    the smallest ``i`` with ``ys[k - i] <= xs[i]`` (``O(len(k) log n)``).
    """
    n, m = xs.shape[0], ys.shape[0]
    lo = np.maximum(0, k + 1 - m)
    hi = np.minimum(k + 1, n)
    while np.any(lo < hi):
        active = lo < hi
        mid = (lo + hi) // 2
        j = k + 1 - mid
        more_x = (mid < n) & (j > 0)
        more_x &= ys[np.clip(j - 1, 0, m - 1)] > xs[np.clip(mid, 0, n - 1)]
        lo = np.where(active & more_x, mid + 1, lo)
        hi = np.where(active & ~more_x, mid, hi)
    j = k + 1 - lo
    from_x = np.where(lo > 0, xs[np.clip(lo - 1, 0, n - 1)], -np.inf)
    from_y = np.where(j > 0, ys[np.clip(j - 1, 0, m - 1)], -np.inf)
    out: np.ndarray = np.maximum(from_x, from_y)
    return out


def _counts(sorted_scores: np.ndarray, inner: np.ndarray) -> np.ndarray:
    below = np.searchsorted(sorted_scores, inner, side="left")
    return np.diff(np.concatenate(([0], below, [sorted_scores.shape[0]]))).astype(np.int64)


def shared_histogram(xs: np.ndarray, ys: np.ndarray, spec: BinSpec, dtype: Any) -> Histogram2:
    """Count the sorted windows ``xs``, ``ys`` in shared bins (see the module notes)."""
    b = spec.n_bins
    if spec.binning != "edges":
        if spec.binning == "reference":
            pos = (np.arange(1, b, dtype=np.int64) * xs.shape[0]) // b
            inner, low = xs[pos], xs[0]
        else:
            big_n = xs.shape[0] + ys.shape[0]
            pos = (np.arange(1, b, dtype=np.int64) * big_n) // b
            inner, low = kth_of_two(xs, ys, pos), min(xs[0], ys[0])
        inner = np.unique(inner)
        inner = inner[inner > low]
        return Histogram2(inner, _counts(xs, inner), _counts(ys, inner), spec.binning)
    assert spec.edges is not None
    edges = edges_in_precision(spec.edges, dtype) if dtype == np.float32 else spec.edges
    for name, s in (("reference", xs), ("current", ys)):
        outside = int(np.searchsorted(s, edges[0], "left")) + int(
            s.shape[0] - np.searchsorted(s, edges[-1], "right")
        )
        if outside:
            raise ValidationError(
                f"{name} has {outside} score(s) outside the bin edges [{edges[0]!r}, "
                f"{edges[-1]!r}] (its range is [{s[0]!r}, {s[-1]!r}]). Widen the edges, or "
                "leave edges=None for quantile bins with open outer bins."
            )
    inner = edges[1:-1]
    ref, cur = _counts(xs, inner), _counts(ys, inner)
    keep = (ref + cur) > 0
    return Histogram2(inner, ref[keep], cur[keep], "edges")
