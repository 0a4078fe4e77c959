r"""Permutation p-values for the rank window tests (KS, CvM, AD), exact in level under ties.

Under "no drift" every assignment of the pooled scores to a reference of size ``n`` and a current
window of size ``m`` is equally likely, whatever ties the scores have. A resample relabels the
pooled sample; the statistics only need, for every distinct pooled value, the number of
reference scores at or below it, so a chunk of resamples is one ``(chunk, N)`` 0/1 label matrix
(``Generator.permuted`` row by row), summed per tie group with ``reduceat`` and accumulated
with ``cumsum``: no Python loop over resamples or samples. The p-value
``(1 + #{T* >= T}) / (1 + B)`` is valid at any number of resamples ``B`` (Phipson and Smyth
2010); comparisons allow a relative ``1e-12`` for rounding, as ``scipy.stats.permutation_test``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from confide.monitor._window_exact import log_comb
from confide.monitor._window_ranks import Pooled, ad_midrank_from_counts

__all__ = [
    "ad_rows",
    "cvm_rows",
    "ks_rows",
    "permutation_min_pvalue",
    "permutation_pvalue",
]

_CHUNK_ELEMENTS = 1 << 22


def ks_rows(cum_x: np.ndarray, pooled: Pooled) -> np.ndarray:
    """KS numerator ``h = max_j |cum_x m' - cum_y n'|`` per row (exact integers)."""
    g = math.gcd(pooled.n, pooled.m)
    lattice = cum_x * (pooled.m // g) - (pooled.cum_all - cum_x) * (pooled.n // g)
    out: np.ndarray = np.abs(lattice).max(axis=1).astype(np.float64)
    return out


def cvm_rows(cum_x: np.ndarray, pooled: Pooled) -> np.ndarray:
    """Anderson's ``T`` in ECDF form per row (tied scores at the right-continuous ECDFs)."""
    n, m = pooled.n, pooled.m
    big_n = n + m
    sizes = np.diff(pooled.cum_all, prepend=0).astype(np.float64)
    diff = cum_x / n - (pooled.cum_all - cum_x) / m
    out: np.ndarray = n * m / (big_n * big_n) * ((diff * diff) @ sizes)
    return out


def ad_rows(cum_x: np.ndarray, pooled: Pooled) -> np.ndarray:
    """Scholz and Stephens' mid-rank :math:`A^2_{akN}` per row."""
    return ad_midrank_from_counts(cum_x, pooled)


def permutation_min_pvalue(n: int, m: int, n_resamples: int) -> float:
    """Expected p-value of the most extreme labelling (probability ``2 / C(n + m, n)``)."""
    extreme = min(1.0, math.exp(math.log(2.0) - float(log_comb(n + m, n))))
    return (1.0 + n_resamples * extreme) / (n_resamples + 1.0)


def permutation_pvalue(
    pooled: Pooled,
    statistic: Callable[[np.ndarray, Pooled], np.ndarray],
    n_resamples: int,
    seed: int | np.random.Generator | None,
) -> tuple[float, float]:
    """Observed statistic and its permutation p-value (larger is more extreme)."""
    observed = float(statistic(pooled.cum_x[None, :], pooled)[0])
    rng = np.random.default_rng(seed)
    big_n = pooled.n + pooled.m
    labels = np.zeros(big_n, dtype=np.int64)
    labels[: pooled.n] = 1
    chunk = max(1, _CHUNK_ELEMENTS // big_n)
    cut = observed - abs(observed) * 1e-12
    hits = 0
    done = 0
    while done < n_resamples:
        size = min(chunk, n_resamples - done)
        perm = rng.permuted(np.broadcast_to(labels, (size, big_n)), axis=1)
        if pooled.ties:
            perm = np.add.reduceat(perm, pooled.starts, axis=1)
        hits += int(np.count_nonzero(statistic(np.cumsum(perm, axis=1), pooled) >= cut))
        done += size
    return observed, (hits + 1.0) / (n_resamples + 1.0)
