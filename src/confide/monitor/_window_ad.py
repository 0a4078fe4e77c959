r"""Two-sample Anderson–Darling test (Scholz and Stephens 1987), mid-rank version.

The statistic is :math:`A^2_{akN}` of Scholz and Stephens (eq. 7), valid with ties, standardised
as :math:`T = (A^2_{akN} - 1) / \sigma_N` with the exact finite-sample variance
:math:`\sigma_N^2` (their eq. 4 with ``k = 2``), which is what ``scipy.stats.anderson_ksamp``
returns as ``statistic``.

p-values:

* ``method="interpolated"`` (default): scipy's interpolation of log-significance against the
  critical values of Scholz and Stephens' Table 2; it only covers 0.1%–25%, so p-values are
  floored at 0.001 and capped at 0.25 (``details["p_value_bound"]`` says when). Decisions are
  therefore offered for ``0.001 <= alpha < 0.25`` only, and ``threshold`` is the interpolated
  critical value of ``T`` at ``alpha``.
* ``method="permutation"``: the permutation distribution of :math:`A^2_{akN}`
  (:mod:`confide.monitor._window_perm`), uncapped, seeded, and exact in level with ties, where
  the interpolated p-value (which uses the no-ties variance) is liberal: 6.9% false alarms at
  ``alpha = 0.05`` for ``n = m = 200`` confidences with 30% of them exactly 1.0.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from confide._validation import check_choice, check_positive_int
from confide.exceptions import ValidationError
from confide.monitor._window import resamples_error, smallest_size
from confide.monitor._window_base import (
    DriftTestResult,
    check_alpha,
    check_windows,
    too_small_error,
)
from confide.monitor._window_perm import ad_rows, permutation_min_pvalue, permutation_pvalue
from confide.monitor._window_ranks import Pooled, pool, rank_test_result

__all__ = ["anderson_darling_test"]

_B0 = np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
_B1 = np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615])
_B2 = np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154])
_SIG = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])
#: Two samples: m = k - 1 = 1 in Scholz and Stephens' interpolation of critical values.
_CRITICAL = _B0 + _B1 / math.sqrt(1) + _B2 / 1
_FIT = np.polyfit(_CRITICAL, np.log(_SIG), 2)


@lru_cache(maxsize=256)
def _sigma(big_n: int, n: int, m: int) -> float:
    """``sigma_N`` of the k-sample statistic for k = 2 (Scholz and Stephens 1987, eq. 4)."""
    k = 2
    sizes = np.array([n, m])
    H = (1.0 / sizes).sum()
    hs_cs = (1.0 / np.arange(big_n - 1, 1, -1)).cumsum()
    h = hs_cs[-1] + 1
    g = (hs_cs / np.arange(2, big_n)).sum()
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * H
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * H - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * H + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    sigmasq = (a * big_n**3 + b * big_n**2 + c * big_n + d) / (
        (big_n - 1.0) * (big_n - 2.0) * (big_n - 3.0)
    )
    return math.sqrt(sigmasq)


def _interpolated(t: float) -> tuple[float, str | None]:
    if t < _CRITICAL.min():
        return float(_SIG.max()), "capped at 0.25 (the true p-value is larger)"
    if t > _CRITICAL.max():
        return float(_SIG.min()), "floored at 0.001 (the true p-value is smaller)"
    return math.exp(np.polyval(_FIT, t)), None


def _critical(alpha: float) -> float:
    """``T`` at which the interpolated p-value equals ``alpha`` (0.001 <= alpha < 0.25)."""
    a2, a1, a0 = _FIT
    roots = np.roots([a2, a1, a0 - math.log(alpha)])
    real = roots[np.isreal(roots)].real
    lo, hi = _CRITICAL.min() - 0.5, _CRITICAL.max() + 0.5
    inside = real[(real >= lo) & (real <= hi)]
    return float(inside.min())


def _separated(n: int, m: int) -> float:
    """``T`` when the windows do not overlap (the largest value the statistic takes)."""
    big_n = n + m
    cum_all = np.arange(1, big_n + 1, dtype=np.int64)
    pooled = Pooled(
        np.zeros(n),
        np.zeros(m),
        np.arange(big_n, dtype=np.float64),
        np.minimum(cum_all, n),
        cum_all,
    )
    return (pooled.ad_midrank() - 1.0) / _sigma(big_n, n, m)


def _min_pvalue(n: int, m: int, method: str, n_resamples: int) -> float:
    if n + m < 4:
        return 1.0
    if method == "permutation":
        return permutation_min_pvalue(n, m, n_resamples)
    return _interpolated(_separated(n, m))[0]


def ad_from_pooled(
    pooled: Pooled,
    alpha: float,
    method: str = "interpolated",
    n_resamples: int = 9999,
    seed: int | np.random.Generator | None = 0,
) -> DriftTestResult:
    n, m = pooled.n, pooled.m
    if method == "interpolated" and not 0.001 <= alpha < 0.25:
        raise ValidationError(
            f"anderson_darling_test: the interpolated p-value only covers 0.001 to 0.25, so "
            f"alpha={alpha} cannot be decided; use method='permutation' (uncapped p-values) or "
            "an alpha in [0.001, 0.25)."
        )
    p_min = _min_pvalue(n, m, method, n_resamples)
    if p_min > alpha:
        if method == "permutation" and 1.0 / (n_resamples + 1) > alpha:
            raise resamples_error("anderson_darling_test", n_resamples, alpha)
        raise too_small_error(
            "anderson_darling_test",
            n,
            m,
            alpha,
            p_min,
            smallest_size(lambda k: _min_pvalue(k, m, method, n_resamples), alpha),
            smallest_size(lambda k: _min_pvalue(n, k, method, n_resamples), alpha),
        )
    if pooled.n_distinct < 2:
        raise ValidationError(
            "anderson_darling_test: every score in both windows has the same value, so the "
            "Anderson-Darling statistic is undefined; there is no drift to measure (ks_test "
            "gives D = 0, p = 1 here)."
        )
    a2 = pooled.ad_midrank()
    big_n = n + m
    t = (a2 - 1.0) / _sigma(big_n, n, m)
    details: dict[str, Any] = {"A2akN": a2, "ties": pooled.ties}
    threshold: float | None = None
    if method == "interpolated":
        p, bound = _interpolated(t)
        details["p_value_bound"] = bound
        threshold = _critical(alpha)
    else:
        _, p = permutation_pvalue(pooled, ad_rows, n_resamples, seed)
        details["n_resamples"] = n_resamples
    return rank_test_result("ad", pooled, t, p, threshold, alpha, method, details)


def anderson_darling_test(
    reference: Any,
    current: Any,
    *,
    alpha: float = 0.05,
    method: str = "interpolated",
    n_resamples: int = 9999,
    seed: int | np.random.Generator | None = 0,
) -> DriftTestResult:
    r"""Two-sample Anderson–Darling test, mid-rank version (Scholz and Stephens 1987).

    .. math:: A^2_{akN} = \frac{N - 1}{N} \sum_{i=1}^{2} \frac{1}{n_i} \sum_{j=1}^{G}
        \frac{l_j}{N} \frac{(N M_{aij} - n_i B_{aj})^2}{B_{aj}(N - B_{aj}) - N l_j / 4}

    over the distinct pooled values :math:`z_j` with multiplicity :math:`l_j`,
    :math:`B_{aj} = \#\{z < z_j\} + l_j/2` and :math:`M_{aij}` the same mid-count in sample ``i``.
    ``statistic`` is the standardised :math:`T = (A^2_{akN} - 1)/\sigma_N`, equal to
    ``scipy.stats.anderson_ksamp(..., variant="midrank").statistic``. The AD statistic weights
    the tails of the score distribution more than KS does.

    Parameters
    ----------
    reference, current : array of shape (n,), (m,)
        Finite scores; the pooled sample needs two distinct values.
    alpha : float, default 0.05
        Significance level. With ``method="interpolated"`` it must lie in [0.001, 0.25).
    method : {"interpolated", "permutation"}
        ``"interpolated"``: scipy's p-value (floored at 0.001, capped at 0.25, see the module
        notes). ``"permutation"``: seeded permutation p-value, uncapped.
    n_resamples : int, default 9999
        Resamples for ``method="permutation"``.
    seed : int, Generator or None, default 0
        Seed of the permutations (the same seed gives the same p-value).

    Returns
    -------
    DriftTestResult

    References
    ----------
    Scholz, F. W. and Stephens, M. A. (1987). K-sample Anderson–Darling tests. Journal of the
    American Statistical Association 82(399), 918–924.
    """
    ref, cur = check_windows(reference, current)
    a = check_alpha(alpha)
    method = check_choice(method, "method", ("interpolated", "permutation"))
    b = check_positive_int(n_resamples, "n_resamples")
    return ad_from_pooled(pool(ref, cur), a, method, b, seed)
