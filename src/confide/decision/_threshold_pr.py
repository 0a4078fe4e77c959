r"""Operating points on the precision-recall curve: a precision or recall target, or maximum F1.

A threshold :math:`t` predicts 1 for every score :math:`\ge t`; the candidates are the distinct
scores, so tied items are always accepted together — the convention of scikit-learn's
``precision_recall_curve``, whose precision and recall are reproduced exactly at every threshold
(:math:`\mathrm{TP}/(\mathrm{TP} + \mathrm{FP})` and :math:`\mathrm{TP}/P` in float64). One sort
of the scores and one of the positives' scores, then counting by binary search: O(n log n).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from confide.decision._bounds import clopper_pearson_upper
from confide.decision._threshold_common import as_dict, check_level, check_pair
from confide.decision._threshold_ltt import InfeasibleTargetError, SortedScores, learn_then_test
from confide.exceptions import LabelError

__all__ = ["OperatingPoint", "threshold_for_precision", "threshold_for_recall", "threshold_max_f1"]


@dataclass(frozen=True)
class OperatingPoint:
    """A threshold on a binary score and its precision and recall on the data given.

    Attributes
    ----------
    threshold : float
        Predict 1 when the score is ``>= threshold``.
    criterion : str
        ``"precision"``, ``"recall"`` or ``"max_f1"``.
    target : float or None
        The precision or recall asked for.
    delta : float or None
        For a certified precision: the allowed probability of missing it.
    n, n_positive_labels : int
        Samples and samples with ``y = 1``.
    n_predicted_positive, true_positives, false_positives : int
        At ``threshold``.
    precision, recall, f1 : float
        At ``threshold`` (empirical).
    precision_lower_bound : float or None
        With ``delta``: the one-sided Clopper-Pearson ``1 - delta`` lower bound on precision.
    """

    threshold: float
    criterion: str
    target: float | None
    delta: float | None
    n: int
    n_positive_labels: int
    n_predicted_positive: int
    true_positives: int
    false_positives: int
    precision: float
    recall: float
    f1: float
    precision_lower_bound: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain Python types."""
        return as_dict(self)


@dataclass(frozen=True)
class _Curve:
    """Counts at every distinct score, thresholds increasing (the scores' dtype)."""

    thresholds: np.ndarray
    n_ge: np.ndarray
    tp: np.ndarray
    n: int
    n_pos: int

    @classmethod
    def build(cls, y: np.ndarray, s: np.ndarray) -> _Curve:
        data = SortedScores.build(s, y)
        values, starts, pos_below = data.groups()
        n, n_pos = data.n, int(data.flagged.shape[0])
        n_ge = starts
        np.subtract(n, starts, out=n_ge)
        tp = pos_below
        np.subtract(n_pos, pos_below, out=tp)
        return cls(values, n_ge, tp, n, n_pos)

    @property
    def precision(self) -> np.ndarray:
        return self.tp / self.n_ge

    @property
    def recall(self) -> np.ndarray:
        return self.tp / self.n_pos

    def point(
        self, i: int, criterion: str, target: float | None, delta: float | None = None
    ) -> OperatingPoint:
        tp, n_ge = int(self.tp[i]), int(self.n_ge[i])
        fp = n_ge - tp
        bound = None if delta is None else 1.0 - float(clopper_pearson_upper(fp, n_ge, delta))
        return OperatingPoint(
            threshold=float(self.thresholds[i]),
            criterion=criterion,
            target=target,
            delta=delta,
            n=self.n,
            n_positive_labels=self.n_pos,
            n_predicted_positive=n_ge,
            true_positives=tp,
            false_positives=fp,
            precision=tp / n_ge,
            recall=tp / self.n_pos if self.n_pos else 0.0,
            f1=2 * tp / (n_ge + self.n_pos),
            precision_lower_bound=bound,
        )


def _need_positives(curve: _Curve, caller: str) -> None:
    if curve.n_pos == 0:
        raise LabelError(
            f"{caller}: y_true has no positive (y = 1) sample, so recall is undefined. "
            "Calibrate on data that contain both classes."
        )


def threshold_for_precision(
    y_true: Any,
    y_prob: Any,
    *,
    min_precision: float,
    delta: float | None = None,
    grid: Any = None,
) -> OperatingPoint:
    r"""The threshold with the highest recall whose precision is at least ``min_precision``.

    ``delta=None``: empirical — among the distinct scores with
    :math:`\mathrm{TP}/(\mathrm{TP}+\mathrm{FP}) \ge` ``min_precision``, the one with the largest
    recall (the highest such threshold on ties, which has the largest precision).

    ``delta`` given: certified — the Learn-then-Test threshold of
    :func:`~confide.decision._thresholds.threshold_for_error` with "error" meaning a negative among
    predicted positives (precision :math:`= 1 -` that error), so that
    :math:`P(\mathrm{precision}(\hat t) \ge \text{min\_precision}) \ge 1 - \delta` on the data
    distribution; ``grid`` is as there (50 quantiles of the scores by default).

    Parameters
    ----------
    y_true : array of shape (n,)
        Labels in {0, 1}.
    y_prob : array of shape (n,)
        Scores, higher meaning more likely positive.
    min_precision : float
        In (0, 1] (in (0, 1) with ``delta``).
    delta : float, optional
        Allowed probability of missing ``min_precision`` on new data.
    grid : None, int or array
        Candidate thresholds of the certified version.

    Returns
    -------
    OperatingPoint

    Raises
    ------
    InfeasibleTargetError
        No threshold reaches (or certifies) ``min_precision``; the message gives the best value.

    References
    ----------
    Angelopoulos, A. N., Bates, S., Candès, E. J., Jordan, M. I. and Lei, L. (2021). Learn then
    test: calibrating predictive algorithms to achieve risk control. arXiv:2110.01052.
    """
    y, s = check_pair(y_true, y_prob, "y_true", "y_prob", "1 for the positive class")
    if delta is not None:
        target = check_level(min_precision, "min_precision")
        d = check_level(delta, "delta")
        out = learn_then_test(
            SortedScores.build(s, 1 - y),
            1.0 - target,
            d,
            grid,
            what="share of negatives among predicted positives (1 - precision)",
            caller="threshold_for_precision",
        )
        curve = _Curve.build(y, s)
        t = float(out.thresholds[out.index])
        # The lowest distinct score >= t makes the same decisions on these data; report t itself.
        i = int(np.searchsorted(curve.thresholds, np.array([t]), side="left")[0])
        return replace(curve.point(i, "precision", target, d), threshold=t)
    target = check_level(min_precision, "min_precision", allow_one=True)
    curve = _Curve.build(y, s)
    precision = curve.precision
    feasible = precision >= target
    if not feasible.any():
        best = int(np.argmax(precision))
        raise InfeasibleTargetError(
            f"threshold_for_precision: no threshold reaches precision {target!r}; the highest "
            f"precision on these data is {precision[best]:.6g} (threshold "
            f"{curve.thresholds[best]:.6g}, {curve.n_ge[best]} predicted positive).",
            best_bound=float(precision[best]),
            best_threshold=float(curve.thresholds[best]),
        )
    tp_max = curve.tp[feasible].max()
    i = int(np.flatnonzero(feasible & (curve.tp == tp_max))[-1])
    return curve.point(i, "precision", target)


def threshold_for_recall(y_true: Any, y_prob: Any, *, min_recall: float) -> OperatingPoint:
    r"""The threshold with the highest precision whose recall is at least ``min_recall``.

    Among the distinct scores with :math:`\mathrm{TP}/P \ge` ``min_recall``, the one with the
    largest precision (the lowest such threshold on ties, which has the largest recall). Always
    feasible: the lowest score has recall 1.

    Parameters
    ----------
    y_true : array of shape (n,)
        Labels in {0, 1}, with at least one positive.
    y_prob : array of shape (n,)
        Scores, higher meaning more likely positive.
    min_recall : float
        In (0, 1].

    Returns
    -------
    OperatingPoint

    References
    ----------
    Davis, J. and Goadrich, M. (2006). The relationship between precision-recall and ROC
    curves. ICML.
    """
    y, s = check_pair(y_true, y_prob, "y_true", "y_prob", "1 for the positive class")
    target = check_level(min_recall, "min_recall", allow_one=True)
    curve = _Curve.build(y, s)
    _need_positives(curve, "threshold_for_recall")
    feasible = curve.recall >= target
    precision = np.where(feasible, curve.precision, -1.0)
    i = int(np.flatnonzero(precision == precision.max())[0])
    return curve.point(i, "recall", target)


def threshold_max_f1(y_true: Any, y_prob: Any) -> OperatingPoint:
    r"""The threshold maximising :math:`F_1 = 2\,\mathrm{TP} / (2\,\mathrm{TP} + \mathrm{FP} + \mathrm{FN})`.

    Written :math:`2\,\mathrm{TP} / (n_{\ge t} + P)` on the integer counts; the highest threshold
    wins ties.

    Parameters
    ----------
    y_true : array of shape (n,)
        Labels in {0, 1}, with at least one positive.
    y_prob : array of shape (n,)
        Scores, higher meaning more likely positive.

    Returns
    -------
    OperatingPoint

    References
    ----------
    Lipton, Z. C., Elkan, C. and Naryanaswamy, B. (2014). Optimal thresholding of classifiers to
    maximize F1 measure. ECML PKDD.
    """
    y, s = check_pair(y_true, y_prob, "y_true", "y_prob", "1 for the positive class")
    curve = _Curve.build(y, s)
    _need_positives(curve, "threshold_max_f1")
    f1 = curve.tp / (curve.n_ge + curve.n_pos)  # F1 / 2, same maximiser
    last = f1.shape[0] - 1 - int(np.argmax(f1[::-1]))  # the highest threshold on ties
    return curve.point(last, "max_f1", None)
