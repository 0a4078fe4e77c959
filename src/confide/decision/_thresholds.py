r"""Thresholds on a confidence score with statistical guarantees.

* :func:`threshold_for_error` — the lowest threshold whose error rate among accepted items is
  certified ``<= max_error`` with probability ``>= 1 - delta`` (Learn then Test).
* :func:`threshold_for_coverage` — accept a given fraction of new items, in expectation or with
  probability ``>= 1 - delta`` (order statistics).

The cost and precision/recall thresholds live in :mod:`confide.decision._threshold_cost` and
:mod:`confide.decision._threshold_pr` and are re-exported here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from scipy import special

from confide._validation import check_consistent_length
from confide.decision._bounds import clopper_pearson_upper
from confide.decision._threshold_common import as_dict, check_binary, check_level, check_scores
from confide.decision._threshold_cost import CostThresholds, threshold_for_cost
from confide.decision._threshold_ltt import (
    InfeasibleTargetError,
    InsufficientSamplesError,
    SortedScores,
    learn_then_test,
)
from confide.decision._threshold_pr import (
    OperatingPoint,
    threshold_for_precision,
    threshold_for_recall,
    threshold_max_f1,
)

__all__ = [
    "CostThresholds",
    "CoverageThreshold",
    "ErrorThreshold",
    "InfeasibleTargetError",
    "InsufficientSamplesError",
    "OperatingPoint",
    "threshold_for_cost",
    "threshold_for_coverage",
    "threshold_for_error",
    "threshold_for_precision",
    "threshold_for_recall",
    "threshold_max_f1",
]


@dataclass(frozen=True)
class ErrorThreshold:
    """A threshold whose error rate among accepted items is certified ``<= max_error``.

    Attributes
    ----------
    threshold : float
        Accept an item when its confidence is ``>= threshold``.
    max_error, delta : float
        The target: ``P(error | accepted) <= max_error`` with probability ``>= 1 - delta``.
    n : int
        Calibration samples.
    n_accepted, n_errors : int
        Calibration items accepted at ``threshold``, and the errors among them.
    coverage : float
        ``n_accepted / n``, the estimated fraction of new items accepted.
    error : float
        ``n_errors / n_accepted``, the empirical error among accepted items.
    error_upper_bound : float
        One-sided Clopper-Pearson ``1 - delta`` upper bound on that error (``<= max_error``).
    p_value : float
        Exact binomial p-value of ``H0: error > max_error`` at ``threshold``.
    n_candidates, n_tested, n_rejected : int
        Candidate thresholds after dropping those accepting fewer than ``min_samples`` items,
        hypotheses tested by the fixed sequence, and hypotheses rejected.
    min_samples : int
        Smallest number of accepted items at which zero errors certify ``max_error``.
    start_samples : int
        Candidates accepting fewer items than this are not tested (see the function).
    """

    threshold: float
    max_error: float
    delta: float
    n: int
    n_accepted: int
    n_errors: int
    coverage: float
    error: float
    error_upper_bound: float
    p_value: float
    n_candidates: int
    n_tested: int
    n_rejected: int
    min_samples: int
    start_samples: int

    def to_dict(self) -> dict[str, Any]:
        """Plain Python types."""
        return as_dict(self)


def threshold_for_error(
    correct: Any, confidence: Any, *, max_error: float, delta: float = 0.05, grid: Any = None
) -> ErrorThreshold:
    r"""Lowest confidence threshold with a certified error rate among accepted items.

    With :math:`R(t) = P(\text{wrong} \mid \text{confidence} \ge t)` on the data distribution,
    the returned :math:`\hat t` satisfies

    .. math:: P\big(R(\hat t) \le \varepsilon\big) \ge 1 - \delta

    over the draw of exchangeable (i.i.d.) calibration data — Learn then Test (LTT). For each
    candidate :math:`t_j` (decreasing), with :math:`n_j` accepted items and :math:`e_j` errors,
    the null :math:`H_j: R(t_j) > \varepsilon` gets the exact binomial p-value
    :math:`p_j = P(\mathrm{Bin}(n_j, \varepsilon) \le e_j)` on the integer counts. Fixed-sequence
    testing rejects :math:`H_1, H_2, \dots` while :math:`p_j \le \delta` and stops at the first
    non-rejection; the lowest rejected threshold is returned. Its one-sided Clopper-Pearson bound
    is then ``<= max_error`` (the bound and the test are dual).

    The grid. ``grid=None`` (50) or an integer ``m`` takes quantiles of the calibration
    *confidences*: the ``k``-th candidate is the ``ceil(k n / m)``-th largest confidence. It is
    computed from the confidences alone, before any label is looked at, and so are the two
    cuts that follow: candidates accepting fewer than ``min_samples`` items (no label outcome
    could certify them) and those accepting fewer than ``start_samples`` (where an error rate of
    ``max_error / 2`` would be certified: testing begins there, so that one chance error among
    the few most confident items cannot end the sequence early).

    Why a label-free grid is valid. LTT's theorem is stated for candidates fixed in advance, and
    for those the test above is exact: for a fixed :math:`t`, given :math:`n_j`, the accepted
    items are i.i.d. from the law of the data above :math:`t`, so
    :math:`e_j \sim \mathrm{Bin}(n_j, R(t))`. A candidate placed at an order statistic of the
    confidences differs only in its boundary item: given that order statistic, the other
    accepted items are i.i.d. from the law above it, and
    :math:`e_j \sim \mathrm{Bin}(n_j - 1, R) + \mathrm{Bernoulli}(q(t_j))`, with :math:`q` the
    error rate at the boundary. This is conservative when errors become rarer as confidence grows
    (:math:`q(t_j) \ge R(t_j)`), and otherwise off by at most that one item, which is why the
    labels must never enter the grid. For a guarantee that is exact by construction pass a fixed
    array (e.g. ``np.linspace(0, 1, 201)``). Fixed-sequence testing spends nothing on
    multiplicity, but it stops at the first noisy non-rejection, so a very fine grid does not
    help.

    Parameters
    ----------
    correct : array of shape (n,)
        Booleans or 0/1: whether prediction ``i`` was right.
    confidence : array of shape (n,)
        Any finite score, higher meaning more confident.
    max_error : float
        Target error rate among accepted items, in (0, 1).
    delta : float, default 0.05
        Allowed probability that the target is missed, in (0, 1).
    grid : None, int or array of float
        Candidate thresholds: ``None`` (50 quantiles), a number of quantiles, or thresholds.

    Returns
    -------
    ErrorThreshold

    Raises
    ------
    InsufficientSamplesError
        ``(1 - max_error)^n > delta``: zero errors out of ``n`` could not certify the target;
        the message gives the number of samples needed.
    InfeasibleTargetError
        No candidate is certified; the message gives the best achievable bound.

    Notes
    -----
    ``sample_weight`` is not supported: the binomial test needs a count of exchangeable items.

    A looser ``max_error`` lowers ``min_samples`` and ``start_samples`` and so puts stricter
    candidates at the front of the sequence; one of them can fail where the stricter target's
    sequence did not even start. The threshold is therefore monotone in ``max_error`` for a
    fixed sequence (a grid whose candidates all accept at least ``start_samples`` items under
    both targets), not always across the two default grids.

    References
    ----------
    Angelopoulos, A. N., Bates, S., Candès, E. J., Jordan, M. I. and Lei, L. (2021). Learn then
    test: calibrating predictive algorithms to achieve risk control. arXiv:2110.01052.
    Bauer, P. (1991). Multiple testing in clinical trials. Stat. Med. 10(6), 871-890.
    """
    eps = check_level(max_error, "max_error")
    d = check_level(delta, "delta")
    conf = check_scores(confidence, "confidence")
    ok = check_binary(correct, "correct", "1 when the prediction was right")
    n = check_consistent_length(correct=ok, confidence=conf)
    data = SortedScores.build(conf, 1 - ok)
    out = learn_then_test(data, eps, d, grid)
    j = out.index
    n_acc, n_err = int(out.n_accepted[j]), int(out.n_flagged[j])
    return ErrorThreshold(
        threshold=float(out.thresholds[j]),
        max_error=eps,
        delta=d,
        n=n,
        n_accepted=n_acc,
        n_errors=n_err,
        coverage=n_acc / n,
        error=n_err / n_acc,
        error_upper_bound=float(clopper_pearson_upper(n_err, n_acc, d)),
        p_value=float(out.p_values[j]),
        n_candidates=out.n_candidates,
        n_tested=min(out.n_rejected + 1, out.n_candidates),
        n_rejected=out.n_rejected,
        min_samples=out.n_min,
        start_samples=out.n_start,
    )


@dataclass(frozen=True)
class CoverageThreshold:
    """A threshold accepting a target fraction of new items.

    Attributes
    ----------
    threshold : float
        Accept when confidence ``>= threshold`` (``-inf``: accept everything).
    coverage : float
        The target fraction.
    delta : float or None
        None: the target holds in expectation; else with probability ``>= 1 - delta``.
    n : int
        Calibration samples.
    rank : int
        ``threshold`` is the ``rank``-th largest calibration confidence (``n + 1``: none).
    n_accepted : int
        Calibration items with confidence ``>= threshold`` (ties included).
    empirical_coverage : float
        ``n_accepted / n``.
    expected_coverage : float
        ``rank / (n + 1)``: the coverage of a new item, exact for continuous confidences, a
        lower bound with ties (1 when everything is accepted).
    guaranteed_coverage : float
        With ``delta``: the coverage exceeded with probability ``>= 1 - delta``,
        ``B^{-1}(delta; rank, n + 1 - rank)``; else ``expected_coverage``.
    """

    threshold: float
    coverage: float
    delta: float | None
    n: int
    rank: int
    n_accepted: int
    empirical_coverage: float
    expected_coverage: float
    guaranteed_coverage: float

    def to_dict(self) -> dict[str, Any]:
        """Plain Python types (``-inf`` as the string "-inf")."""
        return as_dict(self)


def _rank_in_expectation(coverage: float, n: int) -> int:
    """Smallest ``k`` with ``k / (n + 1) >= coverage``, ``coverage`` read as its shortest decimal."""
    c = Fraction(repr(coverage))
    return math.ceil(c * (n + 1))


def _rank_with_probability(coverage: float, delta: float, n: int) -> int:
    """Smallest ``k <= n`` with ``P(Beta(k, n + 1 - k) < coverage) <= delta``, else ``n + 1``.

    ``P(Beta(k, n + 1 - k) < c) = P(Bin(n, c) >= k)``, decreasing in ``k``: start from the binomial
    quantile and step to the exact boundary with the integer tail ``bdtrc``.
    """

    def ok(k: int) -> bool:
        return k > n or bool(special.bdtrc(k - 1, n, coverage) <= delta)

    k = int(min(max(special.bdtrik(1.0 - delta, n, coverage), 0.0), n)) + 1 if n else 1
    while k > 1 and ok(k - 1):
        k -= 1
    while not ok(k):
        k += 1
    return k


def threshold_for_coverage(
    confidence: Any, *, coverage: float, delta: float | None = None
) -> CoverageThreshold:
    r"""Threshold accepting the ``coverage`` most confident fraction of new items.

    The threshold is the ``k``-th largest of the ``n`` calibration confidences
    :math:`s_{(k)}`. For a new exchangeable item with continuous confidence, its rank among the
    ``n + 1`` values is uniform, and the coverage of the rule, conditional on the calibration set,
    is :math:`C_k = 1 - F(s_{(k)}) \sim \mathrm{Beta}(k, n + 1 - k)`. Hence:

    * ``delta=None`` (in expectation): :math:`k = \lceil \text{coverage} \cdot (n + 1) \rceil`, the
      conformal rank, so that :math:`E[C_k] = k / (n + 1) \ge \text{coverage}`;
    * ``delta`` given (with probability): the smallest ``k`` with
      :math:`P(\mathrm{Beta}(k, n + 1 - k) < \text{coverage}) = P(\mathrm{Bin}(n, \text{coverage})
      \ge k) \le \delta`, so that :math:`P(C_k \ge \text{coverage}) \ge 1 - \delta`.

    When ``k > n`` no calibration value is low enough and the threshold is ``-inf`` (accept all).
    Ties in the confidences only raise the coverage (tied items are accepted together), so both
    guarantees hold as lower bounds. ``coverage`` is read as its shortest decimal (0.9 is 9/10), so
    ``ceil`` is exact. Runs in O(n) (one partition).

    Parameters
    ----------
    confidence : array of shape (n,)
        Calibration confidences (any finite score, higher meaning more confident).
    coverage : float
        Target fraction of new items accepted, in (0, 1].
    delta : float, optional
        Allowed probability of falling short of ``coverage``, in (0, 1).

    Returns
    -------
    CoverageThreshold

    References
    ----------
    Wilks, S. S. (1941). Determination of sample sizes for setting tolerance limits. Ann. Math.
    Statist. 12(1), 91-96. Vovk, V. (2012). Conditional validity of inductive conformal
    predictors. ACML. Angelopoulos, A. N. and Bates, S. (2021). A gentle introduction to
    conformal prediction and distribution-free uncertainty quantification. arXiv:2107.07511.
    """
    cov = check_level(coverage, "coverage", allow_one=True)
    d = None if delta is None else check_level(delta, "delta")
    conf = check_scores(confidence, "confidence")
    n = int(conf.shape[0])
    k = _rank_in_expectation(cov, n) if d is None else _rank_with_probability(cov, d, n)
    if k > n:
        return CoverageThreshold(-math.inf, cov, d, n, n + 1, n, 1.0, 1.0, 1.0)
    t = conf.dtype.type(np.partition(conf, n - k)[n - k])
    n_acc = int(np.count_nonzero(conf >= t))
    expected = k / (n + 1)
    guaranteed = expected if d is None else float(special.betaincinv(k, n + 1 - k, d))
    return CoverageThreshold(float(t), cov, d, n, k, n_acc, n_acc / n, expected, guaranteed)
