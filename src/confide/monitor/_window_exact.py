r"""Null distributions of the two-sample KS and Cramér–von Mises statistics.

**KS, exact.** With no ties every interleaving of the ``n1`` reference and ``n2`` current scores
is equally likely under "no drift"; an interleaving is a lattice path from ``(0, 0)`` to
``(n1, n2)`` and :math:`D \ge h/\mathrm{lcm}(n_1, n_2)` exactly when the path reaches
:math:`|i\,n_2 - j\,n_1| \ge h \gcd(n_1, n_2)` (Hodges 1958). The path is walked as a Markov chain
along the anti-diagonals ``i + j = s`` (from ``(i, j)`` the next score is a reference one with
probability ``(n1 - i) / (n1 + n2 - s)``); the mass that leaves the band is added up. The p-value
is thus a sum of positive terms, accurate to a few ulps times ``n1 + n2`` even when tiny, and the
work per diagonal is one vector operation over the band (the diagonals themselves are sequential,
as in every lattice-path method); with numba installed, large walks run compiled, in the same
floating-point operations (``tests/monitor/test_monitor_window.py`` checks the two paths agree
bit for bit). p-values are cached per ``(n1, n2, h)``.

**CvM, exact.** The frequency table of the path sum
:math:`\zeta = \sum (a v - b u)^2` over the lattice points, ``a = lcm / nx``, ``b = lcm / ny``
(Xiao, Gordon and Yakovlev 2006, Algorithm 1; Anderson 1962), built cell by cell with integer
counts, so a p-value is a ratio of integers; cached per ``(nx, ny)``.

**CvM, asymptotic.** Anderson's (1962) normalisation of ``T`` referred to the limiting
distribution of the one-sample statistic (Csörgő and Faraway 1996, eq. 1.2), the series summed
exactly as ``scipy.stats.cramervonmises_2samp`` does so the p-values agree to the last digits.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import special, stats

from confide._accel import compiled

__all__ = [
    "cvm_asymptotic_pvalue",
    "cvm_exact_pvalue",
    "ks_asymptotic_pvalue",
    "ks_exact_pvalue",
    "log_comb",
]

#: scipy.stats.ks_2samp's rule for method="auto": exact when max(n1, n2) <= this.
KS_MAX_AUTO_N = 10_000
#: scipy.stats.cramervonmises_2samp's rule for method="auto": exact when max(nx, ny) <= this.
CVM_MAX_AUTO_N = 20


def log_comb(n: np.ndarray | int, k: np.ndarray | int) -> np.ndarray:
    """``log C(n, k)`` through ``gammaln`` (vectorised)."""
    n_ = np.asarray(n, dtype=np.float64)
    k_ = np.asarray(k, dtype=np.float64)
    out: np.ndarray = (
        special.gammaln(n_ + 1) - special.gammaln(k_ + 1) - special.gammaln(n_ - k_ + 1)
    )
    return out


def _floor_div(a: np.ndarray, b: int) -> np.ndarray:
    return a // b


def _ceil_div(a: np.ndarray, b: int) -> np.ndarray:
    return -((-a) // b)


@lru_cache(maxsize=4096)
def ks_exact_pvalue(n1: int, n2: int, h: int) -> float:
    r"""Exact :math:`P(D_{n_1,n_2} \ge h / \mathrm{lcm}(n_1, n_2))` for continuous data (two-sided)."""
    if h <= 0:
        return 1.0
    g = math.gcd(n1, n2)
    big_n = n1 + n2
    hg = h * g
    s = np.arange(big_n + 1, dtype=np.int64)
    # Inside the band on diagonal s: |i N - s n1| < h g, and max(0, s - n2) <= i <= min(s, n1).
    lo = np.maximum(np.maximum(0, s - n2), _floor_div(s * n1 - hg, big_n) + 1)
    hi = np.minimum(np.minimum(s, n1), _ceil_div(s * n1 + hg, big_n) - 1)
    if np.any(lo > hi):
        return 1.0  # some diagonal has no point inside the band: every path leaves it
    kernel = compiled(_py_ks_band_exit, big_n * int((hi - lo).max() + 1))
    if kernel is not None:
        return min(max(float(kernel(n1, n2, lo, hi)), 0.0), 1.0)
    return min(max(_ks_band_exit_numpy(n1, n2, lo, hi), 0.0), 1.0)


def _ks_band_exit_numpy(n1: int, n2: int, lo: np.ndarray, hi: np.ndarray) -> float:
    """Mass leaving the band, one vector operation per diagonal (the NumPy path)."""
    big_n = n1 + n2
    lo_l = lo.tolist()
    hi_l = hi.tolist()
    q = np.ones(1)
    p = 0.0
    for step in range(1, big_n + 1):
        a, b = lo_l[step - 1], hi_l[step - 1]
        i_prev = np.arange(a, b + 1, dtype=np.float64)
        remaining = float(big_n - step + 1)
        p_ref = (n1 - i_prev) / remaining  # next score is a reference one: i -> i + 1
        p_cur = (n2 - (step - 1 - i_prev)) / remaining  # next score is a current one
        new = np.zeros(b - a + 2)
        new[:-1] += q * p_cur
        new[1:] += q * p_ref
        lo_s, hi_s = lo_l[step], hi_l[step]
        # The band moves by at most one cell per diagonal: at most one cell leaves on each side.
        if lo_s > a:
            p += float(new[0])
        if hi_s < b + 1:
            p += float(new[-1])
        q = new[lo_s - a : hi_s - a + 1]
    return p


def _py_ks_band_exit(
    n1: int, n2: int, lo: np.ndarray, hi: np.ndarray
) -> float:  # pragma: no cover - compiled by numba
    """The same walk cell by cell, in the same floating-point operations (bit-identical)."""
    big_n = n1 + n2
    q = np.zeros(n1 + 2)
    new = np.zeros(n1 + 2)
    q[0] = 1.0
    p = 0.0
    for step in range(1, big_n + 1):
        a = lo[step - 1]
        b = hi[step - 1]
        remaining = float(big_n - step + 1)
        for i in range(a, b + 2):
            new[i] = 0.0
        for i in range(a, b + 1):
            new[i] += q[i] * (float(n2 - (step - 1 - i)) / remaining)
        for i in range(a, b + 1):
            new[i + 1] += q[i] * (float(n1 - i) / remaining)
        lo_s = lo[step]
        hi_s = hi[step]
        if lo_s > a:
            p += new[a]
        if hi_s < b + 1:
            p += new[b + 1]
        for i in range(lo_s, hi_s + 1):
            q[i] = new[i]
    return p


def ks_asymptotic_pvalue(d: float, n1: int, n2: int) -> float:
    """scipy.stats.ks_2samp's asymptotic two-sided p-value: ``kstwo.sf(d, round(n1 n2/(n1+n2)))``."""
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    return float(np.clip(stats.kstwo.sf(d, np.round(en)), 0.0, 1.0))


@lru_cache(maxsize=256)
def ks_asymptotic_critical(alpha: float, n1: int, n2: int) -> float:
    """The asymptotic critical distance: ``kstwo.isf(alpha, round(n1 n2/(n1+n2)))``."""
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    return float(stats.kstwo.isf(alpha, np.round(en)))


def _merge(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Merge sparse frequency tables (sorted values, int64 counts) into one."""
    if len(parts) == 1:
        return parts[0][0].copy(), parts[0][1]
    vals = np.concatenate([p[0] for p in parts])
    cnts = np.concatenate([p[1] for p in parts])
    order = np.argsort(vals, kind="stable")
    vals = vals[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(vals)) + 1))
    return vals[starts], np.add.reduceat(cnts[order], starts)


@lru_cache(maxsize=64)
def _cvm_table(nx: int, ny: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Distinct path sums (sorted), the count of paths at or above each, and C(nx+ny, nx)."""
    lcm = math.lcm(nx, ny)
    a, b = lcm // nx, lcm // ny
    start = (np.zeros(1, dtype=np.int64), np.ones(1, dtype=np.int64))
    prev: list[tuple[np.ndarray, np.ndarray] | None] = [start] + [None] * nx
    for u in range(ny + 1):
        row: list[tuple[np.ndarray, np.ndarray] | None] = []
        left: tuple[np.ndarray, np.ndarray] | None = None
        for v in range(nx + 1):
            parts = [t for t in (left, prev[v]) if t is not None]
            vals, cnts = _merge(parts)
            vals += (a * v - b * u) ** 2
            left = (vals, cnts)
            row.append(left)
        prev = row
    final = prev[nx]
    assert final is not None
    values, counts = final
    tail = np.cumsum(counts[::-1])[::-1]
    return values, tail, math.comb(nx + ny, nx)


def cvm_exact_pvalue(u: float, nx: int, ny: int) -> float:
    """Exact p-value of the two-sample CvM statistic from ``U`` (eq. 10 of Anderson 1962)."""
    values, tail, combinations = _cvm_table(nx, ny)
    lcm = math.lcm(nx, ny)
    mn = nx * ny
    # The same float expression as scipy, so that ties in U fall on the same side of zeta.
    zeta = np.floor_divide(
        np.float64(lcm * lcm * (nx + ny)) * (6.0 * np.float64(u) - float(mn * (4 * mn - 1))),
        float(6 * mn * mn),
    )
    k = int(np.searchsorted(values, zeta, side="left"))
    count = int(tail[k]) if k < tail.shape[0] else 0
    return count / combinations


def cvm_exact_feasible(nx: int, ny: int) -> bool:
    """Whether the exact table's integer counts fit in int64."""
    return math.comb(nx + ny, nx) < 2**62


def _cdf_cvm_inf(x: float) -> float:
    """Limiting CDF of the one-sample CvM statistic (Csörgő and Faraway 1996, eq. 1.2)."""
    xa = np.asarray([x], dtype=np.float64)
    tot = np.zeros(1)
    k = 0
    while True:
        u = math.exp(special.gammaln(k + 0.5) - special.gammaln(k + 1)) / (np.pi**1.5 * np.sqrt(xa))
        y = 4 * k + 1
        q = y**2 / (16 * xa)
        b = special.kv(0.25, q)
        z = u * math.sqrt(y) * np.exp(-q) * b
        tot = tot + z
        if not abs(z[0]) >= 1e-7:
            break
        k += 1
    return float(tot[0])


def cvm_t(u: float, nx: int, ny: int) -> float:
    """``T = U / (k N) - (4k - 1) / (6N)`` with ``k = nx ny``, ``N = nx + ny`` (Anderson 1962, eq. 9)."""
    k, big_n = nx * ny, nx + ny
    return float(np.float64(u) / (k * big_n) - (4 * k - 1) / (6 * big_n))


def cvm_asymptotic_pvalue(t: float, nx: int, ny: int) -> float:
    """p-value of ``T`` through Anderson's (1962) normalisation and the limiting distribution."""
    k, big_n = nx * ny, nx + ny
    et = (1 + 1 / big_n) / 6
    vt_num = (big_n + 1) * (4 * k * big_n - 3 * (nx**2 + ny**2) - 2 * k)
    vt = vt_num / (45 * big_n**2 * 4 * k)
    tn = 1 / 6 + (np.float64(t) - et) / math.sqrt(45 * vt)
    if not tn >= 0.003:
        return 1.0
    return float(max(1.0 - _cdf_cvm_inf(float(tn)), 0.0))
