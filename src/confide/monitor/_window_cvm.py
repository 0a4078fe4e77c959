r"""Two-sample Cramér–von Mises window test (Anderson 1962).

Statistic and p-value as ``scipy.stats.cramervonmises_2samp`` (same choice of exact or
asymptotic p-value under ``method="auto"``), from the shared sort and merge of the two windows
(:mod:`confide.monitor._window_ranks`); the exact p-values come from a cached null table
(:mod:`confide.monitor._window_exact`). With tied scores the default evaluates Anderson's ECDF
definition rather than scipy's mid-rank ``U`` (see ``ties``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from confide._validation import check_choice, check_positive_int
from confide.exceptions import ValidationError
from confide.monitor._window import RANK_METHODS, resamples_error, smallest_size
from confide.monitor._window_base import (
    DriftTestResult,
    check_alpha,
    check_windows,
    too_small_error,
)
from confide.monitor._window_exact import (
    CVM_MAX_AUTO_N,
    cvm_asymptotic_pvalue,
    cvm_exact_feasible,
    cvm_exact_pvalue,
    cvm_t,
    log_comb,
)
from confide.monitor._window_perm import cvm_rows, permutation_min_pvalue, permutation_pvalue
from confide.monitor._window_ranks import Pooled, pool, rank_test_result

__all__ = ["cramer_von_mises_test", "cvm_from_pooled"]


def _cvm_mode(method: str, n: int, m: int) -> str:
    if method == "permutation":
        return method
    if method == "auto":
        return "exact" if max(n, m) <= CVM_MAX_AUTO_N else "asymptotic"
    if method == "exact" and not cvm_exact_feasible(n, m):
        raise ValidationError(
            f"cramer_von_mises_test: the exact p-value is not available for n_reference={n} "
            f"and n_current={m} (C(n + m, n) overflows the exact counts); use "
            "method='asymptotic' or 'auto'."
        )
    return method


def _cvm_pvalue(u: float, n: int, m: int, mode: str) -> float:
    if mode == "exact":
        return cvm_exact_pvalue(u, n, m)
    return cvm_asymptotic_pvalue(cvm_t(u, n, m), n, m)


def _cvm_min_pvalue(n: int, m: int, method: str, n_resamples: int = 9999) -> float:
    """p-value at complete separation, where ``U`` is largest: ``U = n^2 m^2``."""
    if min(n, m) < 2:
        return 1.0
    if method == "permutation":
        return permutation_min_pvalue(n, m, n_resamples)
    mode = "exact" if method == "auto" and max(n, m) <= CVM_MAX_AUTO_N else method
    if mode == "exact":
        return float(min(1.0, math.exp(math.log(2.0) - float(log_comb(n + m, n)))))
    return cvm_asymptotic_pvalue(cvm_t(float(n * n * m * m), n, m), n, m)


def cvm_from_pooled(
    pooled: Pooled,
    alpha: float,
    method: str = "auto",
    ties: str = "ecdf",
    n_resamples: int = 9999,
    seed: int | np.random.Generator | None = 0,
) -> DriftTestResult:
    n, m = pooled.n, pooled.m
    if method == "permutation" and 1.0 / (n_resamples + 1) > alpha:
        raise resamples_error("cramer_von_mises_test", n_resamples, alpha)
    p_min = _cvm_min_pvalue(n, m, method, n_resamples)
    if p_min > alpha:
        raise too_small_error(
            "cramer_von_mises_test",
            n,
            m,
            alpha,
            p_min,
            smallest_size(lambda k: _cvm_min_pvalue(k, m, method, n_resamples), alpha, start=2),
            smallest_size(lambda k: _cvm_min_pvalue(n, k, method, n_resamples), alpha, start=2),
        )
    mode = _cvm_mode(method, n, m)
    details: dict[str, Any] = {"ties": pooled.ties, "tie_handling": ties if pooled.ties else None}
    if mode == "permutation":
        t, p = permutation_pvalue(pooled, cvm_rows, n_resamples, seed)
        k, big_n = n * m, n + m
        details["U"] = (t + (4 * k - 1) / (6 * big_n)) * (k * big_n)
        details["n_resamples"] = n_resamples
        return _cvm_result(pooled, alpha, t, p, mode, details)
    if pooled.ties and ties == "ecdf":
        t = pooled.cvm_t_ecdf()
        k, big_n = n * m, n + m
        u = (t + (4 * k - 1) / (6 * big_n)) * (k * big_n)
    else:
        u = pooled.cvm_u()
        t = cvm_t(u, n, m)
    p = _cvm_pvalue(u, n, m, mode)
    details["U"] = u
    return _cvm_result(pooled, alpha, t, p, mode, details)


def _cvm_result(
    pooled: Pooled, alpha: float, t: float, p: float, mode: str, details: dict[str, Any]
) -> DriftTestResult:
    return rank_test_result("cvm", pooled, t, p, None, alpha, mode, details)


def cramer_von_mises_test(
    reference: Any,
    current: Any,
    *,
    alpha: float = 0.05,
    method: str = "auto",
    ties: str = "ecdf",
    n_resamples: int = 9999,
    seed: int | np.random.Generator | None = 0,
) -> DriftTestResult:
    r"""Two-sample Cramér–von Mises test (Anderson 1962).

    .. math:: U = n \sum_{i=1}^{n} (r_i - i)^2 + m \sum_{j=1}^{m} (s_j - j)^2, \qquad
        T = \frac{U}{n m (n + m)} - \frac{4 n m - 1}{6 (n + m)}

    with :math:`r_i`, :math:`s_j` the (mid-)ranks in the pooled sample of the sorted reference
    and current scores. ``statistic`` is ``T``. The p-value is exact (Xiao, Gordon and Yakovlev
    2006) when ``max(n, m) <= 20`` under ``method="auto"``, else from Anderson's normalised
    statistic and the limiting distribution (Csörgő and Faraway 1996): the rule, statistic and
    p-value of ``scipy.stats.cramervonmises_2samp``.

    Parameters
    ----------
    reference, current : array of shape (n,), (m,)
        Finite scores, at least two in each window.
    alpha : float, default 0.05
        Significance level: ``drifted`` is ``p_value <= alpha``.
    method : {"auto", "exact", "asymptotic", "permutation"}
        ``"permutation"``: seeded permutation p-value of the ECDF-form ``T``, exact in level
        with ties.
    ties : {"ecdf", "midrank"}, default "ecdf"
        Only matters when scores are tied. ``"ecdf"`` evaluates Anderson's definition
        :math:`T = \frac{nm}{N^2} \sum_{z} (F_n(z) - G_m(z))^2` over the pooled scores with the
        right-continuous ECDFs, which equals the rank form above without ties and, like KS,
        is conservative with ties. ``"midrank"`` plugs mid-ranks into ``U``, which is what
        ``scipy.stats.cramervonmises_2samp`` does; it is not a valid statistic under heavy ties
        (``U`` grows with the square of the tie-group sizes: ``n = 1000``, ``m = 80`` scores on
        ten levels from one distribution give ``T = 22``, ``p = 5e-9``).
    n_resamples : int, default 9999
        Resamples for ``method="permutation"``.
    seed : int, Generator or None, default 0

    Returns
    -------
    DriftTestResult
        ``details["U"]`` holds ``U`` (from ``T`` when ``ties="ecdf"`` and scores are tied).

    Raises
    ------
    ValidationError
        Bad ``alpha``; windows too small to ever reach ``alpha`` (the message gives the size
        needed); ``method="exact"`` on sizes whose path counts overflow.

    References
    ----------
    Anderson, T. W. (1962). On the distribution of the two-sample Cramér–von Mises criterion.
    Annals of Mathematical Statistics 33(3), 1148–1159.
    Xiao, Y., Gordon, A. and Yakovlev, A. (2006). A C++ program for the Cramér–von Mises
    two-sample test. Journal of Statistical Software 17(8).
    Csörgő, S. and Faraway, J. J. (1996). The exact and asymptotic distributions of Cramér–von
    Mises statistics. Journal of the Royal Statistical Society B 58(1), 221–234.
    """
    ref, cur = check_windows(reference, current)
    a = check_alpha(alpha)
    method = check_choice(method, "method", RANK_METHODS)
    ties = check_choice(ties, "ties", ("ecdf", "midrank"))
    b = check_positive_int(n_resamples, "n_resamples")
    if ref.shape[0] < 2 or cur.shape[0] < 2:
        raise too_small_error(
            "cramer_von_mises_test",
            ref.shape[0],
            cur.shape[0],
            a,
            1.0,
            smallest_size(lambda k: _cvm_min_pvalue(k, max(cur.shape[0], 2), method, b), a, 2),
            smallest_size(lambda k: _cvm_min_pvalue(max(ref.shape[0], 2), k, method, b), a, 2),
        )
    return cvm_from_pooled(pool(ref, cur), a, method, ties, b, seed)
