r"""Kolmogorov–Smirnov window test, the Wasserstein-1 effect size, and shared helpers.

The test compares a reference sample of confidence scores with a current window. The two
windows are sorted once and merged (:mod:`confide.monitor._window_ranks`); statistic and p-value
agree with ``scipy.stats.ks_2samp`` (same choice of exact or asymptotic p-value under
``method="auto"``), computed from that one merge instead of searching every pooled value, and
the exact p-values come from a cached lattice-path computation (:mod:`._window_exact`).

Ties: the exact p-value assumes continuous scores, as scipy's does; with ties it is
conservative (the statistic can only shrink). ``method="permutation"`` is exact in level then.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from confide._validation import check_choice, check_positive_int
from confide.exceptions import ValidationError
from confide.monitor._window_base import (
    DriftTestResult,
    check_alpha,
    check_windows,
    too_small_error,
)
from confide.monitor._window_exact import (
    KS_MAX_AUTO_N,
    ks_asymptotic_critical,
    ks_asymptotic_pvalue,
    ks_exact_pvalue,
    log_comb,
)
from confide.monitor._window_perm import (
    ks_rows,
    permutation_min_pvalue,
    permutation_pvalue,
)
from confide.monitor._window_ranks import Pooled, pool, rank_test_result, wasserstein_sorted

__all__ = [
    "ks_min_pvalue",
    "ks_test",
    "smallest_size",
    "wasserstein_distance",
]

_SIZE_SEARCH_LIMIT = 100_000
RANK_METHODS = ("auto", "exact", "asymptotic", "permutation")


def smallest_size(
    p_min: Callable[[int], float], alpha: float, start: int = 1, limit: int = _SIZE_SEARCH_LIMIT
) -> int | None:
    """Smallest ``k >= start`` with ``p_min(k) <= alpha`` (``p_min`` decreasing in ``k``).

    Doubling then bisection over sample sizes: about ``2 log2(k)`` evaluations.
    """
    if p_min(start) <= alpha:
        return start
    lo, hi = start, start
    while p_min(hi) > alpha:
        lo, hi = hi, hi * 2
        if hi > limit:
            return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if p_min(mid) <= alpha else (mid, hi)
    return hi


# ------------------------------------------------------------------------------ KS
def _ks_mode(method: str, n: int, m: int) -> str:
    if method == "permutation":
        return method
    if method == "auto":
        return "exact" if max(n, m) <= KS_MAX_AUTO_N else "asymptotic"
    if method == "exact":
        g = math.gcd(n, m)
        if n // g >= np.iinfo(np.int32).max / (m // g):
            raise ValidationError(
                f"ks_test: the exact p-value is not available for n_reference={n} and "
                f"n_current={m} (lcm(n, m) is too large); use method='asymptotic' or 'auto'."
            )
    return method


def ks_min_pvalue(n: int, m: int, method: str = "auto", n_resamples: int = 9999) -> float:
    """Smallest p-value KS can give for sizes ``n`` and ``m`` (D = 1: the windows do not overlap).

    Exact: two of the ``C(n + m, n)`` equally likely interleavings reach ``D = 1``, so
    ``p_min = 2 / C(n + m, n)`` (1 when ``n = m = 1``).
    """
    if method == "permutation":
        return permutation_min_pvalue(n, m, n_resamples)
    mode = "exact" if method == "auto" and max(n, m) <= KS_MAX_AUTO_N else method
    if mode == "exact":
        return float(min(1.0, math.exp(math.log(2.0) - float(log_comb(n + m, n)))))
    return ks_asymptotic_pvalue(1.0, n, m)


def resamples_error(test: str, n_resamples: int, alpha: float) -> ValidationError:
    """Too few permutation resamples to reach ``alpha``."""
    return ValidationError(
        f"{test}: with n_resamples={n_resamples} the smallest permutation p-value is "
        f"{1.0 / (n_resamples + 1):.3g}, above alpha={alpha}; use n_resamples >= "
        f"{math.ceil(1.0 / alpha)}."
    )


def ks_from_pooled(
    pooled: Pooled,
    alpha: float,
    method: str = "auto",
    n_resamples: int = 9999,
    seed: int | np.random.Generator | None = 0,
) -> DriftTestResult:
    n, m = pooled.n, pooled.m
    mode = _ks_mode(method, n, m)
    if mode == "permutation" and 1.0 / (n_resamples + 1) > alpha:
        raise resamples_error("ks_test", n_resamples, alpha)
    p_min = ks_min_pvalue(n, m, mode, n_resamples)
    if p_min > alpha:
        raise too_small_error(
            "ks_test",
            n,
            m,
            alpha,
            p_min,
            smallest_size(lambda k: ks_min_pvalue(k, m, method, n_resamples), alpha),
            smallest_size(lambda k: ks_min_pvalue(n, k, method, n_resamples), alpha),
        )
    d, h = pooled.ks()
    g = math.gcd(n, m)
    lcm = (n // g) * m
    threshold: float | None = None
    details: dict[str, Any] = {"h": h, "lcm": lcm, "ties": pooled.ties}
    if mode == "exact":
        d = h * 1.0 / lcm  # scipy reports the statistic as h / lcm in exact mode
        p = ks_exact_pvalue(n, m, h)
    elif mode == "permutation":
        _, p = permutation_pvalue(pooled, ks_rows, n_resamples, seed)
        details["n_resamples"] = n_resamples
    else:
        p = ks_asymptotic_pvalue(d, n, m)
        threshold = ks_asymptotic_critical(alpha, n, m)
    return rank_test_result("ks", pooled, d, p, threshold, alpha, mode, details)


def ks_test(
    reference: Any,
    current: Any,
    *,
    alpha: float = 0.05,
    method: str = "auto",
    n_resamples: int = 9999,
    seed: int | np.random.Generator | None = 0,
) -> DriftTestResult:
    r"""Two-sample Kolmogorov–Smirnov test between a reference sample and a current window.

    .. math:: D = \sup_t |F_n(t) - G_m(t)|

    with :math:`F_n`, :math:`G_m` the empirical CDFs of the ``n`` reference and ``m`` current
    scores. The p-value is exact (Hodges 1958; every interleaving of the two samples equally
    likely) when ``max(n, m) <= 10000`` under ``method="auto"``, and Smirnov's asymptotic
    distribution (``scipy.stats.kstwo`` with ``round(n m / (n + m))``) above, the rule of
    ``scipy.stats.ks_2samp``, whose statistic and p-value this reproduces.

    Parameters
    ----------
    reference, current : array of shape (n,), (m,)
        Finite scores (float32 or float64; other numbers are converted).
    alpha : float, default 0.05
        Significance level: ``drifted`` is ``p_value <= alpha``.
    method : {"auto", "exact", "asymptotic", "permutation"}
        How to compute the p-value. ``"permutation"`` (:mod:`confide.monitor._window_perm`) is
        exact in level with ties, where the exact and asymptotic p-values are conservative.
    n_resamples : int, default 9999
        Resamples for ``method="permutation"``.
    seed : int, Generator or None, default 0
        Seed of the permutations.

    Returns
    -------
    DriftTestResult
        ``threshold`` is the critical distance in asymptotic mode (None in exact mode);
        ``details`` holds ``h`` and ``lcm`` with ``D = h / lcm``.

    Raises
    ------
    NonFiniteError
        NaN or infinity in a window (the message gives the position).
    ShapeError
        An empty or multi-dimensional window.
    ValidationError
        ``alpha`` outside (0, 1), or windows so small that no outcome reaches ``alpha``
        (exact: ``2 / C(n + m, n) > alpha``); the message says how many scores are needed.

    References
    ----------
    Hodges, J. L. (1958). The significance probability of the Smirnov two-sample test.
    Arkiv för Matematik 3, 469–486.
    Smirnov, N. (1948). Table for estimating the goodness of fit of empirical distributions.
    Annals of Mathematical Statistics 19, 279–281.
    """
    ref, cur = check_windows(reference, current)
    a = check_alpha(alpha)
    method = check_choice(method, "method", RANK_METHODS)
    b = check_positive_int(n_resamples, "n_resamples")
    return ks_from_pooled(pool(ref, cur), a, method, b, seed)


# ------------------------------------------------------------------------------ W1
def wasserstein_distance(reference: Any, current: Any) -> float:
    r"""Wasserstein-1 (earth mover's) distance between two samples of scores.

    .. math:: W_1 = \int_{-\infty}^{\infty} |F_n(t) - G_m(t)|\, dt
        = \sum_{j<G} |F_n(z_j) - G_m(z_j)|\,(z_{j+1} - z_j)

    over the distinct pooled values :math:`z_1 < \dots < z_G`: the average distance a score must
    move to turn one sample into the other, in score units. Equal to
    ``scipy.stats.wasserstein_distance`` (which, for float32 input, takes the gaps in float32;
    here they are float64).

    Parameters
    ----------
    reference, current : array of shape (n,), (m,)
        Finite scores.

    Returns
    -------
    float

    References
    ----------
    Villani, C. (2009). Optimal Transport: Old and New, ch. 6. Springer.
    Ramdas, A., García Trillos, N. and Cuturi, M. (2017). On Wasserstein two-sample testing and
    related families of nonparametric tests. Entropy 19(2), 47.
    """
    ref, cur = check_windows(reference, current)
    xs = np.sort(ref).astype(np.float64, copy=False)
    ys = np.sort(cur).astype(np.float64, copy=False)
    return wasserstein_sorted(xs, ys)
