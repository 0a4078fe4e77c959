r"""Selective prediction: the risk-coverage curve, AURC and excess AURC.

A model abstains on its least confident inputs. Ranking samples by confidence (higher first),
accepting the top fraction ``c`` (the *coverage*) leaves a *selective risk*: the 0/1 error rate
of the top-label prediction among the accepted samples.

Ties in confidence never make a result depend on row order:

* the curve has one point per distinct confidence (all tied samples enter together);
* AURC is the expectation over every ordering of the tied samples. A tie group of ``m`` samples
  with ``e`` errors that enters after ``s_0`` samples with ``c_0`` errors has, among its first
  ``j`` samples, ``c_0 + e j / m`` expected errors, so it adds
  :math:`\sum_{j=1}^{m} (c_0 + e j / m) / (s_0 + j)` to the sum of risks. Without ties this is the
  usual definition.

With ``sample_weight`` a sample of weight ``w`` counts as ``w`` samples: for integer weights the
results equal those of the data with rows repeated; for real weights the sums over ``j`` are
continued through the digamma function, :math:`\sum_{j=1}^{M} 1/(a + j) = \psi(a + M + 1) -
\psi(a + 1)`, evaluated without cancellation. Zero-weight samples are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from confide._validation import as_float_array, check_consistent_length
from confide.exceptions import ValidationError
from confide.metrics._inputs import check_classification, top_label
from confide.metrics._ranking_core import json_floats

__all__ = ["RiskCoverageCurve", "aurc", "e_aurc", "risk_coverage_curve"]

_SHIFT = 32.0  # the asymptotic series of psi is used from this argument on


@dataclass(frozen=True, eq=False)
class RiskCoverageCurve:
    """Selective risk at every distinct confidence threshold.

    Attributes
    ----------
    coverage : ndarray of float64
        Increasing fraction (of the total weight) of samples with ``confidence >= thresholds[i]``;
        the last entry is 1.
    risk : ndarray of float64
        Error rate of the top-label prediction among those samples.
    thresholds : ndarray of float64
        Decreasing distinct confidences.
    """

    coverage: np.ndarray
    risk: np.ndarray
    thresholds: np.ndarray

    def __post_init__(self) -> None:
        for f in fields(self):
            getattr(self, f.name).setflags(write=False)

    def to_dict(self) -> dict[str, Any]:
        """Lists of floats."""
        return {f.name: json_floats(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class _Groups:
    """Tie groups in decreasing confidence: per-group weight ``m`` and error weight ``e``."""

    thresholds: np.ndarray
    m: np.ndarray  # float64 (integer-valued without weights)
    e: np.ndarray
    weighted: bool

    @property
    def cum_m(self) -> np.ndarray:
        return np.cumsum(self.m)

    @property
    def cum_e(self) -> np.ndarray:
        return np.cumsum(self.e)


def _prepare(y_true: Any, y_prob: Any, confidence: Any, sample_weight: Any) -> _Groups:
    data = check_classification(y_true, y_prob, sample_weight)
    conf, pred = top_label(data.prob)
    if confidence is not None:
        conf = as_float_array(confidence, "confidence", ndim=1)
        check_consistent_length(y_true=data.y, confidence=conf)
    err = pred != data.y
    if data.weight is None:
        return _groups_unweighted(conf, err)
    return _groups_weighted(conf, err, data.weight)


def _groups_unweighted(conf: np.ndarray, err: np.ndarray) -> _Groups:
    # Two plain sorts (no argsort): tie groups from all confidences, errors located by searching.
    n = conf.shape[0]
    s = np.sort(conf)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(s)) + 1))
    thresholds = s[starts][::-1].astype(np.float64)
    at_or_above = n - starts[::-1]
    err_sorted = np.sort(conf[err])
    err_at_or_above = err_sorted.shape[0] - np.searchsorted(
        err_sorted, s[starts][::-1], side="left"
    )
    m = np.diff(at_or_above, prepend=0).astype(np.float64)
    e = np.diff(err_at_or_above, prepend=0).astype(np.float64)
    return _Groups(thresholds, m, e, weighted=False)


def _groups_weighted(conf: np.ndarray, err: np.ndarray, w: np.ndarray) -> _Groups:
    keep = w > 0
    if not keep.any():
        raise ValidationError("every sample_weight is zero: there is nothing to measure.")
    conf, err, w = conf[keep], err[keep], w[keep]
    # Sorting by (confidence, weight, error) fixes the order of every sum whatever the row order.
    order = np.lexsort((err, w, -conf.astype(np.float64)))
    c = conf[order]
    ws = w[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(c)) + 1))
    m = np.add.reduceat(ws, starts)
    e = np.add.reduceat(ws * err[order], starts)
    return _Groups(c[starts].astype(np.float64), m, e, weighted=True)


def _harmonic_diff(a: np.ndarray, m: np.ndarray) -> np.ndarray:
    r"""``psi(a + m + 1) - psi(a + 1)`` (``= sum_{j=1}^{m} 1/(a + j)`` for integer m), a >= 0, m > 0.

    Shifts the arguments to ``>= 32`` with ``psi(z + 1) = psi(z) + 1/z`` (adding positive terms
    ``m / (z (z + m))``), then uses the asymptotic series with every difference written as a
    product, so the result keeps its relative accuracy however small ``m / a`` is.
    """
    x = np.asarray(a, dtype=np.float64) + 1.0
    m = np.asarray(m, dtype=np.float64)
    total = np.zeros(np.broadcast(x, m).shape)
    shift = np.maximum(np.ceil(_SHIFT - x), 0.0)
    for i in range(int(shift.max(initial=0.0))):
        active = i < shift
        xi = x + i
        total += np.where(active, m / (xi * (xi + m)), 0.0)
    x = x + shift
    y = x + m
    rx, ry = 1.0 / x, 1.0 / y
    total += np.log1p(m * rx) + 0.5 * m * rx * ry
    # c_k (x^-2k - y^-2k) = c_k m/(x y) sum_{i<2k} x^-i y^-(2k-1-i); c = B_2k / (2k).
    for k, c_k in ((1, 1.0 / 12.0), (2, -1.0 / 120.0), (3, 1.0 / 252.0), (4, -1.0 / 240.0)):
        inner = sum(rx**i * ry ** (2 * k - 1 - i) for i in range(2 * k))
        total += c_k * m * rx * ry * inner
    return total


def _sum_of_risks(groups: _Groups) -> float:
    """Sum over accepted-sample positions of the expected selective risk (weighted: continued)."""
    cum_m, cum_e = groups.cum_m, groups.cum_e
    s0 = cum_m - groups.m
    c0 = cum_e - groups.e
    if not groups.weighted:
        # One term per sample: position i = s0 + j of group g, risk (c0 + e j / m) / i.
        sizes = groups.m.astype(np.intp)
        g = np.repeat(np.arange(sizes.shape[0]), sizes)
        i = np.arange(1, g.shape[0] + 1, dtype=np.float64)
        j = i - s0[g]
        return float(np.sum((c0[g] + groups.e[g] * j / groups.m[g]) / i))
    # sum_j (c0 + e j/m)/(s0 + j) = c0 D + (e/m)(m - s0 D), D = psi(s0+m+1) - psi(s0+1).
    d = _harmonic_diff(s0, groups.m)
    return float(np.sum(c0 * d + groups.e / groups.m * (groups.m - s0 * d)))


def risk_coverage_curve(
    y_true: Any, y_prob: Any, *, confidence: Any = None, sample_weight: Any = None
) -> RiskCoverageCurve:
    r"""Selective risk against coverage, one point per distinct confidence.

    .. math:: \mathrm{cov}(t) = \frac{\sum_i w_i [\kappa_i \ge t]}{\sum_i w_i}, \qquad
        \mathrm{risk}(t) = \frac{\sum_i w_i [\kappa_i \ge t][\hat y_i \ne y_i]}{\sum_i w_i [\kappa_i \ge t]}

    where :math:`\hat y_i` is the top-label prediction (argmax, lowest index on ties; for 1-D
    binary input class 1 iff ``p > 0.5``) and :math:`\kappa_i` the confidence.

    Parameters
    ----------
    y_true : array of shape (n,)
        {0, 1} for 1-D ``y_prob``; ``0..k-1`` for ``(n, k)`` probabilities.
    y_prob : array of shape (n,) or (n, k)
        ``P(y = 1)`` or class probabilities; they give the prediction (and, by default, the
        confidence ``max_k p_k``, or ``max(p, 1 - p)`` for 1-D input).
    confidence : array of shape (n,), optional
        Any finite score to rank by instead, higher meaning more confident (e.g. negative entropy).
    sample_weight : array of shape (n,), optional
        Non-negative weights; zero-weight samples are dropped.

    Returns
    -------
    RiskCoverageCurve

    References
    ----------
    El-Yaniv, R. and Wiener, Y. (2010). On the foundations of noise-free selective
    classification. J. Mach. Learn. Res. 11, 1605-1641.
    """
    groups = _prepare(y_true, y_prob, confidence, sample_weight)
    cum_m, cum_e = groups.cum_m, groups.cum_e
    return RiskCoverageCurve(
        coverage=cum_m / cum_m[-1], risk=cum_e / cum_m, thresholds=groups.thresholds
    )


def aurc(y_true: Any, y_prob: Any, *, confidence: Any = None, sample_weight: Any = None) -> float:
    r"""Area under the risk-coverage curve (AURC), ties resolved by expectation.

    .. math:: \mathrm{AURC} = \frac{1}{n} \sum_{i=1}^{n} \frac{\text{errors among the } i
        \text{ most confident}}{i}

    with the numerator averaged over all orderings of tied confidences (see the module notes:
    a tie group of size ``m`` with ``e`` errors after ``c_0`` errors in ``s_0`` samples adds
    :math:`\sum_{j=1}^{m}(c_0 + e j/m)/(s_0 + j)`), so the value never depends on row order.
    With weights, ``n`` is the total weight and a weight counts as that many samples.

    Parameters
    ----------
    y_true, y_prob, confidence, sample_weight
        As in :func:`risk_coverage_curve`.

    Returns
    -------
    float
        In [0, 1]; lower is better.

    References
    ----------
    Geifman, Y., Uziel, G. and El-Yaniv, R. (2019). Bias-reduced uncertainty estimation for deep
    neural classifiers. ICLR.
    """
    groups = _prepare(y_true, y_prob, confidence, sample_weight)
    return _sum_of_risks(groups) / float(groups.cum_m[-1])


def _oracle_sum_of_risks(total: float, errors: float, weighted: bool) -> float:
    """Sum of risks when every correct sample comes first: one group of errors after the rest."""
    if errors <= 0:
        return 0.0
    correct = total - errors
    if not weighted:
        j = np.arange(1, int(errors) + 1, dtype=np.float64)
        return float(np.sum(j / (correct + j)))
    d = _harmonic_diff(np.array([correct]), np.array([errors]))
    return float(errors - correct * d[0])


def e_aurc(y_true: Any, y_prob: Any, *, confidence: Any = None, sample_weight: Any = None) -> float:
    r"""Excess AURC: the AURC minus that of an oracle ranking every correct prediction first.

    .. math:: \mathrm{E\text{-}AURC} = \mathrm{AURC} - \mathrm{AURC}^*, \qquad
        \mathrm{AURC}^* = \frac{1}{n} \sum_{j=1}^{n_e} \frac{j}{n - n_e + j}

    with :math:`n_e` the number (weight) of errors: the exact discrete oracle, not its continuous
    approximation :math:`r + (1 - r)\ln(1 - r)`. It isolates the ranking quality of the
    confidence from the error rate. Rounding below 0 is clipped to 0.

    Parameters
    ----------
    y_true, y_prob, confidence, sample_weight
        As in :func:`risk_coverage_curve`.

    Returns
    -------
    float
        Non-negative; 0 for a confidence that ranks every correct prediction above every error.

    References
    ----------
    Geifman, Y., Uziel, G. and El-Yaniv, R. (2019). Bias-reduced uncertainty estimation for deep
    neural classifiers. ICLR.
    """
    groups = _prepare(y_true, y_prob, confidence, sample_weight)
    total = float(groups.cum_m[-1])
    errors = float(groups.cum_e[-1])
    excess = _sum_of_risks(groups) - _oracle_sum_of_risks(total, errors, groups.weighted)
    return max(0.0, excess / total)
