r"""Multiple-testing corrections for many drift tests run at once.

Running ``k`` tests at level ``alpha`` on healthy data raises about ``k alpha`` false alarms.

* :func:`bonferroni` controls the family-wise error rate (the chance of any false alarm) under
  any dependence: :math:`\tilde p_i = \min(1, k\, p_i)`.
* :func:`benjamini_hochberg` controls the false discovery rate (the expected fraction of false
  alarms among the alarms) for independent or positively dependent tests (Benjamini and
  Hochberg 1995; Benjamini and Yekutieli 2001):
  :math:`\tilde p_{(i)} = \min_{j \ge i} \min(1, k\, p_{(j)} / j)`.
* :func:`benjamini_yekutieli` controls it under any dependence (several tests on the *same*
  pair of windows are dependent): the BH values times :math:`\sum_{j=1}^{k} 1/j`.

Adjusted p-values equal ``scipy.stats.false_discovery_control`` (``method="bh"``/``"by"``);
hypothesis ``i`` is rejected when :math:`\tilde p_i \le \alpha`, which is the step-up rule.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from confide._validation import as_float_array, check_choice
from confide.exceptions import ProbabilityError
from confide.monitor._window_base import check_alpha, json_value

__all__ = [
    "MultipleTestingResult",
    "benjamini_hochberg",
    "benjamini_yekutieli",
    "bonferroni",
    "correct_p_values",
]

CORRECTIONS = ("bonferroni", "bh", "by")


@dataclass(frozen=True, eq=False)
class MultipleTestingResult:
    """Adjusted p-values and decisions for a family of tests.

    Attributes
    ----------
    method : str
        ``"bonferroni"``, ``"bh"`` (Benjamini–Hochberg) or ``"by"`` (Benjamini–Yekutieli).
    alpha : float
        Family-wise error rate (Bonferroni) or false discovery rate (BH, BY) controlled.
    p_values, adjusted : ndarray of float64
        Raw and adjusted p-values, in the input order (read-only).
    rejected : ndarray of bool
        ``adjusted <= alpha`` (read-only).
    """

    method: str
    alpha: float
    p_values: np.ndarray
    adjusted: np.ndarray
    rejected: np.ndarray

    def __post_init__(self) -> None:
        for f in ("p_values", "adjusted", "rejected"):
            getattr(self, f).setflags(write=False)

    @property
    def n_rejected(self) -> int:
        return int(np.count_nonzero(self.rejected))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable types."""
        out = {f.name: json_value(getattr(self, f.name)) for f in fields(self)}
        out["n_rejected"] = self.n_rejected
        return out


def _check_p_values(p_values: Any) -> np.ndarray:
    p = as_float_array(p_values, "p_values", ndim=1).astype(np.float64)
    bad = (p < 0) | (p > 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ProbabilityError(
            f"p_values must lie in [0, 1]: {int(bad.sum())} value(s) do not, the first at index "
            f"{i} ({float(p[i])!r})."
        )
    return p


def _result(
    method: str, alpha: float, p: np.ndarray, adjusted: np.ndarray
) -> MultipleTestingResult:
    return MultipleTestingResult(method, alpha, p, adjusted, adjusted <= alpha)


def bonferroni(p_values: Any, *, alpha: float = 0.05) -> MultipleTestingResult:
    r"""Bonferroni correction: :math:`\tilde p_i = \min(1, k\, p_i)`, reject when :math:`\le \alpha`.

    Parameters
    ----------
    p_values : array of shape (k,)
        p-values in [0, 1].
    alpha : float, default 0.05
        Family-wise error rate.

    Returns
    -------
    MultipleTestingResult

    References
    ----------
    Dunn, O. J. (1961). Multiple comparisons among means. Journal of the American Statistical
    Association 56(293), 52–64.
    """
    p = _check_p_values(p_values)
    a = check_alpha(alpha)
    return _result("bonferroni", a, p, np.minimum(p * p.shape[0], 1.0))


def _step_up(p: np.ndarray, dependent: bool) -> np.ndarray:
    k = p.shape[0]
    if k <= 1:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ps = p[order]
    i = np.arange(1, k + 1, dtype=np.float64)
    ps = ps * (k / i)
    if dependent:
        ps = ps * np.sum(1 / i)
    ps = np.minimum.accumulate(ps[::-1])[::-1]
    out = np.empty_like(ps)
    out[order] = ps
    return np.clip(out, 0.0, 1.0)


def benjamini_hochberg(p_values: Any, *, alpha: float = 0.05) -> MultipleTestingResult:
    r"""Benjamini–Hochberg step-up procedure (false discovery rate).

    .. math:: \tilde p_{(i)} = \min_{j \ge i} \min\Big(1, \frac{k\, p_{(j)}}{j}\Big)

    for the sorted p-values :math:`p_{(1)} \le \dots \le p_{(k)}`; rejecting
    :math:`\tilde p_i \le \alpha` rejects the ``r`` smallest p-values with
    ``r = max{j : p_(j) <= j alpha / k}``. Valid for independent or positively dependent tests.

    Parameters
    ----------
    p_values : array of shape (k,)
    alpha : float, default 0.05
        False discovery rate.

    Returns
    -------
    MultipleTestingResult

    References
    ----------
    Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate. Journal of the
    Royal Statistical Society B 57(1), 289–300.
    """
    p = _check_p_values(p_values)
    a = check_alpha(alpha)
    return _result("bh", a, p, _step_up(p, dependent=False))


def benjamini_yekutieli(p_values: Any, *, alpha: float = 0.05) -> MultipleTestingResult:
    r"""Benjamini–Yekutieli procedure: BH with :math:`k` replaced by :math:`k \sum_{j \le k} 1/j`.

    Controls the false discovery rate under any dependence between the tests.

    References
    ----------
    Benjamini, Y. and Yekutieli, D. (2001). The control of the false discovery rate in multiple
    testing under dependency. Annals of Statistics 29(4), 1165–1188.
    """
    p = _check_p_values(p_values)
    a = check_alpha(alpha)
    return _result("by", a, p, _step_up(p, dependent=True))


def correct_p_values(p_values: Any, *, method: str, alpha: float = 0.05) -> MultipleTestingResult:
    """Apply the correction named ``method`` (``"bonferroni"``, ``"bh"`` or ``"by"``)."""
    method = check_choice(method, "correction", CORRECTIONS)
    fn = {"bonferroni": bonferroni, "bh": benjamini_hochberg, "by": benjamini_yekutieli}[method]
    return fn(p_values, alpha=alpha)
