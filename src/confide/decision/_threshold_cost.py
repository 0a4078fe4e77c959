r"""Cost-minimising thresholds for a binary classifier, with an optional review band.

Decisions on a score :math:`s` with thresholds :math:`t_\ell \le t_h`:

* predict 1 when :math:`s \ge t_h` (a false positive costs ``cost_fp``);
* predict 0 when :math:`s < t_\ell` (a false negative costs ``cost_fn``);
* send to review otherwise (costs ``cost_review``, whatever the label).

Without a review band :math:`t_\ell = t_h`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from confide._validation import check_consistent_length, check_probabilities
from confide.decision._threshold_common import as_dict, check_binary, check_scores
from confide.decision._threshold_ltt import SortedScores
from confide.exceptions import ConfideTypeError, ValidationError

__all__ = ["CostThresholds", "threshold_for_cost"]


@dataclass(frozen=True)
class CostThresholds:
    r"""Thresholds minimising the expected cost of binary decisions.

    Attributes
    ----------
    threshold : float
        Predict 1 when the score is ``>= threshold`` (``inf``: never).
    threshold_low : float
        Predict 0 when the score is ``< threshold_low``; review in between. Equal to
        ``threshold`` when there is no review band.
    cost_fp, cost_fn : float
        Cost of a false positive and of a false negative.
    cost_review : float or None
        Cost of sending an item to review (None: no review option).
    calibrated : bool
        True: Bayes (Chow) thresholds from the probabilities; False: empirical minimum.
    n : int
        Samples.
    cost : float or None
        Average cost per item of these decisions on the labels given (None without labels).
    model_cost : float or None
        With ``calibrated``: the average expected cost per item under the probabilities,
        :math:`\frac1n \sum_i \min(p_i c_{fn}, (1 - p_i) c_{fp}, c_r)`; else None.
    n_positive, n_negative, n_review : int
        Items predicted 1, predicted 0 and sent to review.
    false_positives, false_negatives : int or None
        Among the decided items (None without labels).
    positive_rate, review_rate : float
        ``n_positive / n`` and ``n_review / n``.
    false_positive_rate, false_negative_rate : float or None
        ``false_positives / #(y = 0)`` and ``false_negatives / #(y = 1)`` (None when undefined).
    """

    threshold: float
    threshold_low: float
    cost_fp: float
    cost_fn: float
    cost_review: float | None
    calibrated: bool
    n: int
    cost: float | None
    model_cost: float | None
    n_positive: int
    n_negative: int
    n_review: int
    false_positives: int | None
    false_negatives: int | None
    positive_rate: float
    review_rate: float
    false_positive_rate: float | None
    false_negative_rate: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain Python types (``inf`` as the string "inf")."""
        return as_dict(self)


def _cost(value: Any, name: str, *, allow_zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ConfideTypeError(f"{name} must be a number, got {value!r}.")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        need = "non-negative" if allow_zero else "positive"
        raise ValidationError(f"{name} must be a finite {need} number, got {value!r}.")
    return v


def _bayes(c_fp: float, c_fn: float, c_r: float | None) -> tuple[float, float]:
    """Chow's rule: ``(t_low, t_high)`` on calibrated probabilities."""
    t = c_fp / (c_fp + c_fn)
    if c_r is None or c_r >= c_fp * c_fn / (c_fp + c_fn):
        return t, t
    return c_r / c_fn, 1.0 - c_r / c_fp


def _empirical(
    s: np.ndarray, y: np.ndarray, c_fp: float, c_fn: float, c_r: float | None
) -> tuple[float, float]:
    """Exact minimum of the empirical cost over thresholds at the distinct scores (and ``inf``).

    Index ``g`` in ``0..G`` puts the threshold at ``values[g]`` (``g = G``: ``+inf``); with
    ``N(g)`` items and ``P(g)`` positives below it, the false negatives are ``P(g)`` and the
    false positives ``(n - N(g)) - (n_pos - P(g))``. The ``g = G`` end is handled as a scalar.
    """
    data = SortedScores.build(s, y)
    values, starts, pos_below = data.groups()
    n, n_pos = data.n, int(data.flagged.shape[0])
    below = starts.astype(np.float64)
    pos = pos_below.astype(np.float64)
    const = c_fp * (n - n_pos)  # false-positive cost when nothing is below the threshold
    if c_r is None:
        # c_fn P + c_fp [(n - N) - (n_pos - P)] = (c_fn + c_fp) P - c_fp N + const
        total = pos * (c_fn + c_fp)
        total -= below * c_fp
        b = int(np.argmin(total))
        if c_fn * n_pos < total[b] + const:  # "never predict 1" is strictly cheaper
            return math.inf, math.inf
        return float(values[b]), float(values[b])
    # cost(a, b) = [c_fn P(a) - c_r N(a)] + [c_r N(b) + c_fp ((n - N(b)) - (n_pos - P(b)))]
    low_part = pos * c_fn
    low_part -= below * c_r
    run_min = np.minimum.accumulate(low_part)
    high = pos * c_fp
    high += below * (c_r - c_fp)
    high += run_min
    b = int(np.argmin(high))
    best = float(high[b]) + const
    # b = G (+inf, nothing predicted 1): low part over a <= G, a = G meaning "nothing is 0".
    end_low = min(float(run_min[-1]), c_fn * n_pos - c_r * n)
    if end_low + c_r * n < best:
        a = int(np.argmin(low_part)) if float(run_min[-1]) <= c_fn * n_pos - c_r * n else -1
        return (math.inf if a < 0 else float(values[a])), math.inf
    a = int(np.argmin(low_part[: b + 1]))
    return float(values[a]), float(values[b])


def threshold_for_cost(
    y_true: Any,
    y_prob: Any,
    *,
    cost_fp: float,
    cost_fn: float,
    cost_review: float | None = None,
    calibrated: bool = False,
) -> CostThresholds:
    r"""Thresholds minimising the expected cost of binary decisions (optionally with review).

    ``calibrated=True`` — the Bayes decision on calibrated :math:`p = P(y = 1)`: deciding 1 costs
    :math:`(1 - p) c_{fp}` in expectation, deciding 0 costs :math:`p c_{fn}`, so predict 1 when

    .. math:: p \ge t = \frac{c_{fp}}{c_{fp} + c_{fn}}.

    With a review option of cost :math:`c_r` (Chow's rule), review when
    :math:`\min(p c_{fn}, (1 - p) c_{fp}) > c_r`, i.e. for
    :math:`t_\ell = c_r / c_{fn} \le p < t_h = 1 - c_r / c_{fp}` (at the boundaries the two
    choices cost the same); when :math:`c_r \ge c_{fp} c_{fn} / (c_{fp} + c_{fn})` review is never
    cheaper and :math:`t_\ell = t_h = t`. ``y_true`` may then be None (no empirical figures).

    ``calibrated=False`` — the exact minimum of the empirical cost
    :math:`c_{fn} \#\{s < t_\ell, y = 1\} + c_{fp} \#\{s \ge t_h, y = 0\} + c_r \#\{t_\ell \le s < t_h\}`
    over thresholds at the distinct scores (and :math:`+\infty`, "never"). One sort and prefix
    sums: with :math:`a \le b` indexing :math:`t_\ell, t_h`, the cost is
    :math:`A(a) + B(b)` with :math:`A(a) = c_{fn} P_{<a} - c_r N_{<a}` and
    :math:`B(b) = c_r N_{<b} + c_{fp} \mathrm{Neg}_{\ge b}`, minimised over :math:`a \le b` with a
    running minimum of :math:`A` — O(n log n) overall. Ties in cost go to the lowest thresholds.

    Parameters
    ----------
    y_true : array of shape (n,)
        Labels in {0, 1} (may be None with ``calibrated=True``).
    y_prob : array of shape (n,)
        ``P(y = 1)`` (any finite score when ``calibrated=False``).
    cost_fp, cost_fn : float
        Positive costs of a false positive and a false negative.
    cost_review : float, optional
        Non-negative cost of sending an item to review.
    calibrated : bool, default False
        Trust the probabilities (Bayes rule) instead of minimising the cost on the labels.

    Returns
    -------
    CostThresholds

    References
    ----------
    Chow, C. K. (1970). On optimum recognition error and reject tradeoff. IEEE Trans. Inf. Theory
    16(1), 41-46. Elkan, C. (2001). The foundations of cost-sensitive learning. IJCAI.
    """
    c_fp = _cost(cost_fp, "cost_fp", allow_zero=False)
    c_fn = _cost(cost_fn, "cost_fn", allow_zero=False)
    c_r = None if cost_review is None else _cost(cost_review, "cost_review", allow_zero=True)
    if calibrated:
        p = check_probabilities(y_prob, "y_prob", ndim=1, min_samples=0)
        p = check_scores(p, "y_prob")
    else:
        p = check_scores(y_prob, "y_prob")
    if y_true is None and not calibrated:
        raise ConfideTypeError(
            "y_true is required unless calibrated=True: the empirical cost needs the labels."
        )
    y = None if y_true is None else check_binary(y_true, "y_true", "1 for the positive class")
    if y is not None:
        check_consistent_length(y_true=y, y_prob=p)
    if calibrated or y is None:
        t_low, t_high = _bayes(c_fp, c_fn, c_r)
    else:
        t_low, t_high = _empirical(p, y, c_fp, c_fn, c_r)
    return _summary(p, y, t_low, t_high, c_fp, c_fn, c_r, calibrated)


def _summary(
    p: np.ndarray,
    y: np.ndarray | None,
    t_low: float,
    t_high: float,
    c_fp: float,
    c_fn: float,
    c_r: float | None,
    calibrated: bool,
) -> CostThresholds:
    n = int(p.shape[0])
    pos = p >= t_high
    neg = p < t_low
    n_pos, n_neg = int(np.count_nonzero(pos)), int(np.count_nonzero(neg))
    n_rev = n - n_pos - n_neg
    model_cost = None
    if calibrated:
        q = p.astype(np.float64)
        per = np.where(pos, (1.0 - q) * c_fp, np.where(neg, q * c_fn, c_r or 0.0))
        model_cost = float(per.mean())
    fp = fn = None
    cost = fpr = fnr = None
    if y is not None:
        yb = y.astype(bool)
        fp = int(np.count_nonzero(pos & ~yb))
        fn = int(np.count_nonzero(neg & yb))
        n_one = int(np.count_nonzero(yb))
        cost = (c_fp * fp + c_fn * fn + (c_r or 0.0) * n_rev) / n
        fpr = fp / (n - n_one) if n - n_one else None
        fnr = fn / n_one if n_one else None
    return CostThresholds(
        threshold=t_high,
        threshold_low=t_low,
        cost_fp=c_fp,
        cost_fn=c_fn,
        cost_review=c_r,
        calibrated=calibrated,
        n=n,
        cost=cost,
        model_cost=model_cost,
        n_positive=n_pos,
        n_negative=n_neg,
        n_review=n_rev,
        false_positives=fp,
        false_negatives=fn,
        positive_rate=n_pos / n,
        review_rate=n_rev / n,
        false_positive_rate=fpr,
        false_negative_rate=fnr,
    )
