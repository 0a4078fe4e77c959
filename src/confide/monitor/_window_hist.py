r"""Histogram window tests: Pearson's chi-square and the G-test on a 2 x B table.

Both windows are counted in shared bins (:mod:`confide.monitor._window_bins`): by default the
``n_bins`` quantile bins of the *pooled* sample, under which the tests hold their level; the
reference's quantile bins (``binning="reference"``) or explicit ``edges`` on request.

The table ``[[reference counts], [current counts]]`` is tested for homogeneity exactly as
``scipy.stats.chi2_contingency`` does: expected counts from the margins, ``B - 1`` degrees of
freedom, Yates' correction when ``B = 2`` and ``correction=True``; with
``lambda_="log-likelihood"`` the statistic is the G-test's :math:`2 \sum O \ln(O/E)`.
The chi-square law is asymptotic. Pearson's statistic holds its level down to expected counts
of about 5 (Cochran 1954). The G-test is liberal with small expected counts: at
``alpha = 0.05``, 11% false alarms for ``n = m = 30`` with 10 bins, 5.5–6.5% for ``n = 1000``,
``m = 80``. ``williams=True`` divides ``G`` by Williams' (1976) factor
:math:`q = 1 + (N \sum_i 1/R_i - 1)(N \sum_k 1/C_k - 1) / (6 N (B - 1))` for row totals
:math:`R_i` and column totals :math:`C_k` (7% at ``n = m = 30``, 10 bins; 5% with 5 bins); the
p-value then differs from scipy's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from confide.exceptions import ConfideTypeError
from confide.monitor._window_base import DriftTestResult, check_alpha, check_windows
from confide.monitor._window_bins import BinSpec, check_bins, shared_histogram
from confide.monitor._window_ranks import wasserstein_sorted

__all__ = ["chi_square_test", "contingency", "g_test", "histogram_from_sorted"]


def contingency(
    ref: np.ndarray, cur: np.ndarray, lambda_: str, correction: bool, williams: bool = False
) -> tuple[float, float, int]:
    """Statistic, p-value and degrees of freedom of the 2 x B homogeneity test (as scipy)."""
    observed = np.stack((ref, cur))
    b = observed.shape[1]
    dof = b - 1
    if dof == 0:
        return 0.0, 1.0, 0
    rows = observed.sum(axis=1, keepdims=True)
    cols = observed.sum(axis=0, keepdims=True)
    expected = rows * cols / observed.sum()
    obs = observed.astype(np.float64)
    if dof == 1 and correction:
        diff = expected - observed
        obs = observed + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    if lambda_ == "pearson":
        terms = (obs - expected) ** 2 / expected
    else:
        terms = 2.0 * special.xlogy(obs, obs / expected)
    stat = float(np.sum(terms))
    referred = stat
    if williams:
        total = float(observed.sum())
        q = 1.0 + (total * np.sum(1.0 / rows) - 1.0) * (total * np.sum(1.0 / cols) - 1.0) / (
            6.0 * total * dof
        )
        referred = stat / q
    return stat, float(special.chdtrc(dof, referred)), dof


def _histogram_test(
    test: str,
    lambda_: str,
    reference: Any,
    current: Any,
    alpha: float,
    n_bins: Any,
    edges: Any,
    binning: Any,
    correction: Any,
    williams: Any,
) -> DriftTestResult:
    ref, cur = check_windows(reference, current)
    a = check_alpha(alpha)
    spec = check_bins(n_bins, edges, binning)
    check_flags(correction=correction, williams=williams)
    xs = np.sort(ref).astype(np.float64, copy=False)
    ys = np.sort(cur).astype(np.float64, copy=False)
    dtype = np.result_type(ref, cur)
    return histogram_from_sorted(test, lambda_, xs, ys, dtype, a, spec, correction, williams)


def check_flags(**flags: Any) -> None:
    """Each flag must be a bool."""
    for name, value in flags.items():
        if not isinstance(value, bool | np.bool_):
            raise ConfideTypeError(f"{name} must be True or False, got {value!r}.")


def histogram_from_sorted(
    test: str,
    lambda_: str,
    xs: np.ndarray,
    ys: np.ndarray,
    dtype: np.dtype,
    alpha: float,
    spec: BinSpec,
    correction: bool = True,
    williams: bool = False,
    effect_size: float | None = None,
) -> DriftTestResult:
    """A histogram test on sorted, checked windows (shared with the multi-test report)."""
    hist = shared_histogram(xs, ys, spec, dtype)
    stat, p, dof = contingency(hist.reference, hist.current, lambda_, correction, williams)
    total = xs.shape[0] + ys.shape[0]
    return DriftTestResult(
        test=test,
        statistic=stat,
        p_value=p,
        threshold=float(special.chdtri(dof, alpha)) if dof > 0 else None,
        effect_size=wasserstein_sorted(xs, ys) if effect_size is None else effect_size,
        drifted=bool(p <= alpha),
        n_reference=int(xs.shape[0]),
        n_current=int(ys.shape[0]),
        alpha=alpha,
        method="asymptotic",
        details={
            "binning": hist.binning,
            "n_bins": hist.n_bins,
            "dof": dof,
            "cramers_v": float(np.sqrt(stat / total)),
            "inner_edges": hist.inner_edges.tolist(),
            "reference_counts": hist.reference.tolist(),
            "current_counts": hist.current.tolist(),
        },
    )


def chi_square_test(
    reference: Any,
    current: Any,
    *,
    alpha: float = 0.05,
    n_bins: int = 10,
    edges: Any = None,
    binning: str = "pooled",
    correction: bool = True,
) -> DriftTestResult:
    r"""Pearson's chi-square test of homogeneity on the two windows' histograms.

    .. math:: X^2 = \sum_{i \in \{r, c\}} \sum_{k=1}^{B} \frac{(O_{ik} - E_{ik})^2}{E_{ik}},
        \qquad E_{ik} = \frac{O_{i\cdot}\, O_{\cdot k}}{O_{\cdot\cdot}}

    referred to :math:`\chi^2_{B-1}`: the statistic and p-value of
    ``scipy.stats.chi2_contingency`` on the ``2 x B`` table of counts.

    Parameters
    ----------
    reference, current : array of shape (n,), (m,)
        Finite scores.
    alpha : float, default 0.05
        Significance level; ``threshold`` is the :math:`\chi^2_{B-1}` critical value.
    n_bins : int, default 10
        Number of quantile bins (fewer when the sample defining them has ties).
    edges : array of increasing floats, optional
        Explicit bin edges instead (e.g. ``np.linspace(0, 1, 11)`` for confidences); every score
        must lie in ``[edges[0], edges[-1]]``.
    binning : {"pooled", "reference"}, default "pooled"
        Whose quantiles define the bins (see :mod:`confide.monitor._window_bins`).
    correction : bool, default True
        Yates' continuity correction when only two bins remain (as scipy).

    Returns
    -------
    DriftTestResult
        ``details`` holds the bins used, the counts, the degrees of freedom and Cramér's V
        (:math:`\sqrt{X^2 / N}`, the test's own effect size).

    References
    ----------
    Pearson, K. (1900). On the criterion that a given system of deviations ... Philosophical
    Magazine 50(302), 157–175.
    Cochran, W. G. (1954). Some methods for strengthening the common chi-square tests.
    Biometrics 10(4), 417–451.
    """
    return _histogram_test(
        "chi2", "pearson", reference, current, alpha, n_bins, edges, binning, correction, False
    )


def g_test(
    reference: Any,
    current: Any,
    *,
    alpha: float = 0.05,
    n_bins: int = 10,
    edges: Any = None,
    binning: str = "pooled",
    correction: bool = True,
    williams: bool = False,
) -> DriftTestResult:
    r"""G-test (log-likelihood ratio) of homogeneity on the two windows' histograms.

    .. math:: G = 2 \sum_{i \in \{r, c\}} \sum_{k=1}^{B} O_{ik} \ln \frac{O_{ik}}{E_{ik}}

    (terms with :math:`O_{ik} = 0` are 0), referred to :math:`\chi^2_{B-1}`: the statistic and
    p-value of ``scipy.stats.chi2_contingency(..., lambda_="log-likelihood")``. Parameters,
    bins and result as :func:`chi_square_test`, plus ``williams`` (default False): refer
    ``G / q`` (Williams 1976, see the module notes) instead, for small expected counts.

    References
    ----------
    Sokal, R. R. and Rohlf, F. J. (1981). Biometry, 2nd ed., ch. 17. Freeman.
    Williams, D. A. (1976). Improved likelihood ratio tests for complete contingency tables.
    Biometrika 63(1), 33–37.
    Cressie, N. and Read, T. R. C. (1984). Multinomial goodness-of-fit tests. Journal of the
    Royal Statistical Society B 46(3), 440–464.
    """
    return _histogram_test(
        "g",
        "log-likelihood",
        reference,
        current,
        alpha,
        n_bins,
        edges,
        binning,
        correction,
        williams,
    )
