r"""The pooled, sorted view of two windows that KS, CvM, AD and Wasserstein-1 share.

Both windows are sorted once; the two sorted runs are merged by a stable argsort (two runs: a
linear merge), and the distinct pooled values ``z_1 < ... < z_G`` are listed with the number of
reference and current scores at or below each. Every rank statistic is then a vector expression
over the ``G`` distinct values:

* KS: :math:`D = \max_j |F_n(z_j) - G_m(z_j)|`;
* Wasserstein-1: :math:`W_1 = \sum_{j<G} |F_n(z_j) - G_m(z_j)|\,(z_{j+1} - z_j)`;
* CvM: ``U`` of Anderson (1962) from the mid-ranks;
* AD: :math:`A^2_{akN}` of Scholz and Stephens (1987), eq. 7 (mid-rank version, valid with ties).

Comparisons are exact (float32 scores are widened to float64, which preserves their order), so
the statistics do not depend on the input dtype.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from confide.monitor._window_base import DriftTestResult

__all__ = ["Pooled", "pool", "rank_test_result", "wasserstein_sorted"]


@dataclass(frozen=True, eq=False)
class Pooled:
    """Sorted windows and the counts at or below each distinct pooled value."""

    xs: np.ndarray  # sorted reference, float64
    ys: np.ndarray  # sorted current, float64
    values: np.ndarray  # distinct pooled values, increasing (G,)
    cum_x: np.ndarray  # reference scores <= values[j], int64 (G,)
    cum_all: np.ndarray  # pooled scores <= values[j], int64 (G,)

    @property
    def n(self) -> int:
        return int(self.xs.shape[0])

    @property
    def m(self) -> int:
        return int(self.ys.shape[0])

    @property
    def n_distinct(self) -> int:
        return int(self.values.shape[0])

    @property
    def ties(self) -> bool:
        return self.n_distinct < self.n + self.m

    @cached_property
    def cum_y(self) -> np.ndarray:
        return self.cum_all - self.cum_x

    @cached_property
    def cdf_diff(self) -> np.ndarray:
        """``F_n(z_j) - G_m(z_j)`` in the same float operations as scipy.stats.ks_2samp."""
        return self.cum_x / self.n - self.cum_y / self.m

    @cached_property
    def starts(self) -> np.ndarray:
        """Pooled scores strictly below each distinct value."""
        return np.concatenate(([0], self.cum_all[:-1]))

    # ----------------------------------------------------------------- statistics
    def ks(self) -> tuple[float, int]:
        """Two-sided KS distance (as scipy computes it) and its integer numerator ``h``.

        ``D = h / lcm(n, m)`` with ``h = max_j |cum_x m' - cum_y n'|``, ``n' = n / g``,
        ``m' = m / g``, ``g = gcd(n, m)``: exact integers, used for the exact p-value.
        """
        diff = self.cdf_diff
        max_s = float(diff.max())
        min_s = float(np.clip(-diff.min(), 0, 1))
        d = min_s if min_s > max_s else max_s
        g = math.gcd(self.n, self.m)
        lattice = self.cum_x * (self.m // g) - self.cum_y * (self.n // g)
        h = int(np.abs(lattice).max())
        return d, h

    def wasserstein(self) -> float:
        """Wasserstein-1 distance between the two empirical distributions."""
        if self.n_distinct < 2:
            return 0.0
        deltas = np.diff(self.values)
        return float(np.dot(np.abs(self.cdf_diff[:-1]), deltas))

    def cvm_u(self) -> float:
        """``U = n sum_i (r_i - i)^2 + m sum_j (s_j - j)^2`` with mid-ranks (Anderson 1962, eq. 10)."""
        mid = 0.5 * (self.cum_all + self.starts + 1)  # mid-rank of each distinct value (1-based)
        fx = np.diff(self.cum_x, prepend=0)
        fy = np.diff(self.cum_y, prepend=0)
        rx = np.repeat(mid, fx)
        ry = np.repeat(mid, fy)
        ux = np.sum((rx - np.arange(1, self.n + 1, dtype=np.float64)) ** 2)
        uy = np.sum((ry - np.arange(1, self.m + 1, dtype=np.float64)) ** 2)
        return float(self.n * ux + self.m * uy)

    def cvm_t_ecdf(self) -> float:
        r"""Anderson's ``T`` in its ECDF form, :math:`\frac{nm}{N^2}\sum_j l_j (F_n(z_j) - G_m(z_j))^2`.

        Equal to the rank form without ties; with ties every tied score is evaluated at the
        right-continuous ECDFs, as the definition reads.
        """
        big_n = self.n + self.m
        sizes = np.diff(self.cum_all, prepend=0).astype(np.float64)
        total = float(np.dot(sizes, self.cdf_diff**2))
        return float(self.n * self.m / (big_n * big_n) * total)

    def ad_midrank(self) -> float:
        r"""Scholz and Stephens' (1987) :math:`A^2_{akN}` for two samples (eq. 7)."""
        return float(ad_midrank_from_counts(self.cum_x[None, :], self)[0])


def ad_midrank_from_counts(cum_x: np.ndarray, pooled: Pooled) -> np.ndarray:
    r""":math:`A^2_{akN}` for every row of ``cum_x`` (reference counts at or below each value).

    The rows may be label permutations of the same pooled sample (the permutation test); the
    pooled values, and so ``l_j`` and ``B_j``, are shared. The arithmetic follows
    ``scipy.stats.anderson_ksamp`` term for term.
    """
    big_n = pooled.n + pooled.m
    sizes = np.diff(pooled.cum_all, prepend=0)
    lj: np.ndarray | float = 1.0 if not pooled.ties else sizes
    bj = pooled.starts + lj / 2.0
    denom = bj * (big_n - bj) - big_n * lj / 4.0
    a2 = np.zeros(cum_x.shape[0])
    fx = np.diff(cum_x, axis=1, prepend=0)
    for counts, f, n_i in (
        (cum_x, fx, pooled.n),
        (pooled.cum_all - cum_x, sizes - fx, pooled.m),
    ):
        mij = counts.astype(np.float64) - f / 2.0
        inner = lj / float(big_n) * (big_n * mij - bj * n_i) ** 2 / denom
        a2 = a2 + inner.sum(axis=1) / n_i
    out: np.ndarray = a2 * ((big_n - 1.0) / big_n)
    return out


def wasserstein_sorted(xs: np.ndarray, ys: np.ndarray) -> float:
    r"""Wasserstein-1 from two sorted samples, as :math:`\int_0^1 |F^{-1}(u) - G^{-1}(u)|\,du`.

    The quantile functions are steps at ``i / n`` and ``j / m``; in units of ``1 / (n m)`` the
    steps are the integers ``i m`` and ``j n``, whose merged order is known by arithmetic
    (``i m`` has ``ceil(i m / n)`` steps ``j n`` before it), so no search or sort is needed.
    """
    n, m = xs.shape[0], ys.shape[0]
    if n == m:  # the steps coincide: the mean gap between order statistics
        return float(np.mean(np.abs(xs - ys)))
    # In-place arithmetic: every temporary of this size costs page faults on first touch.
    idx_a = np.arange(n, dtype=np.int64)
    step_a = idx_a * m  # the step i m
    floor_a = step_a // n  # current index at i m
    pos_a = floor_a * n
    np.less(pos_a, step_a, out=pos_a, casting="unsafe")  # 1 where n does not divide i m
    pos_a += floor_a
    pos_a += idx_a  # i + ceil(i m / n)
    idx_b = np.arange(m, dtype=np.int64)
    step_b = idx_b * n
    floor_b = step_b // m  # reference index at j n
    pos_b = floor_b + idx_b
    pos_b += 1
    steps = np.empty(n + m, dtype=np.int64)
    steps[pos_a] = step_a
    steps[pos_b] = step_b
    gaps = np.empty(n + m)
    gaps[pos_a] = xs
    gaps[pos_b] = xs[floor_b]
    at_y = np.empty(n + m)
    at_y[pos_a] = ys[floor_a]
    at_y[pos_b] = ys
    np.subtract(gaps, at_y, out=gaps)
    np.abs(gaps, out=gaps)
    widths = at_y  # reuse the buffer
    np.subtract(steps[1:], steps[:-1], out=widths[:-1], casting="unsafe")
    widths[-1] = n * m - steps[-1]
    return float(np.dot(gaps, widths) / (float(n) * float(m)))


def pool(reference: np.ndarray, current: np.ndarray) -> Pooled:
    """Sort both windows once and list the distinct pooled values with their counts."""
    xs = np.sort(reference).astype(np.float64, copy=False)
    ys = np.sort(current).astype(np.float64, copy=False)
    n = xs.shape[0]
    both = np.concatenate((xs, ys))
    order = np.argsort(both, kind="stable")  # two sorted runs: a linear merge
    z = both[order]
    from_ref = order < n
    last = np.flatnonzero(z[1:] != z[:-1])
    cum_x_all = np.cumsum(from_ref, dtype=np.int64)
    if last.shape[0] == z.shape[0] - 1:  # no ties
        return Pooled(xs, ys, z, cum_x_all, np.arange(1, z.shape[0] + 1, dtype=np.int64))
    ends = np.append(last, z.shape[0] - 1)
    return Pooled(xs, ys, z[ends], cum_x_all[ends], (ends + 1).astype(np.int64))


def rank_test_result(
    test: str,
    pooled: Pooled,
    statistic: float,
    p_value: float,
    threshold: float | None,
    alpha: float,
    method: str,
    details: dict[str, Any],
) -> DriftTestResult:
    """The result of a rank test (KS, AD, CvM): W1 effect size, drift when ``p <= alpha``."""
    return DriftTestResult(
        test=test,
        statistic=float(statistic),
        p_value=float(p_value),
        threshold=threshold,
        effect_size=pooled.wasserstein(),
        drifted=bool(p_value <= alpha),
        n_reference=pooled.n,
        n_current=pooled.m,
        alpha=alpha,
        method=method,
        details=details,
    )
