"""ROC and precision-recall curves and average precision (scikit-learn's arrays and conventions).

See :mod:`confide.metrics._ranking` for the conventions shared by the ranking metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from confide._validation import as_float_array
from confide.exceptions import ValidationError
from confide.metrics._ranking_core import (
    check_average,
    check_binary_scores,
    check_multiclass_scores,
    class_weights,
    counts_at_thresholds,
    freeze_arrays,
    json_floats,
    one_vs_rest,
    single_class_message,
)

__all__ = [
    "PrecisionRecallCurve",
    "RocCurve",
    "average_precision",
    "precision_recall_curve",
    "roc_curve",
]


@dataclass(frozen=True, eq=False)
class RocCurve:
    """Points of the ROC curve, one per distinct score plus the origin.

    Attributes
    ----------
    fpr, tpr : ndarray of float64
        Increasing false- and true-positive rates of ``score >= thresholds[i]``.
    thresholds : ndarray of float64
        Decreasing; ``thresholds[0] = inf`` (nothing predicted positive, the point (0, 0)).
    """

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray

    def __post_init__(self) -> None:
        freeze_arrays(self.fpr, self.tpr, self.thresholds)

    def to_dict(self) -> dict[str, Any]:
        """Lists of floats; the infinite first threshold is the string "inf"."""
        return {f.name: json_floats(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, eq=False)
class PrecisionRecallCurve:
    """Points of the precision-recall curve, in scikit-learn's layout.

    Attributes
    ----------
    precision : ndarray of float64, shape (m + 1,)
        ``precision[i]`` of ``score >= thresholds[i]``; the last entry is 1 (no threshold).
    recall : ndarray of float64, shape (m + 1,)
        Decreasing; the last entry is 0.
    thresholds : ndarray, shape (m,)
        Increasing distinct scores, in the dtype of ``y_score``.
    """

    precision: np.ndarray
    recall: np.ndarray
    thresholds: np.ndarray

    def __post_init__(self) -> None:
        freeze_arrays(self.precision, self.recall, self.thresholds)

    def to_dict(self) -> dict[str, Any]:
        """Lists of floats."""
        return {f.name: json_floats(getattr(self, f.name)) for f in fields(self)}


def roc_curve(
    y_true: Any, y_score: Any, *, sample_weight: Any = None, drop_intermediate: bool = True
) -> RocCurve:
    r"""Receiver operating characteristic of a binary score.

    .. math:: \mathrm{TPR}(t) = \frac{\sum_i w_i [y_i = 1][s_i \ge t]}{\sum_i w_i [y_i = 1]}, \quad
        \mathrm{FPR}(t) = \frac{\sum_i w_i [y_i = 0][s_i \ge t]}{\sum_i w_i [y_i = 0]}

    at every distinct score ``t`` (samples of zero weight removed), preceded by ``t = inf``
    (the point (0, 0)): the same arrays as :func:`sklearn.metrics.roc_curve`.

    Parameters
    ----------
    y_true : array of shape (n,), labels in {0, 1}
    y_score : array of shape (n,), finite real scores
    sample_weight : array of shape (n,), optional
    drop_intermediate : bool, default True
        Drop points collinear with their neighbours (a zero second difference of both the false-
        and the true-positive weight), scikit-learn's rule; the area is unchanged.

    Returns
    -------
    RocCurve

    Raises
    ------
    ValidationError
        When ``y_true`` has only one class (one of the two rates is undefined).

    References
    ----------
    Fawcett, T. (2006). An introduction to ROC analysis. Pattern Recognit. Lett. 27(8), 861-874.
    """
    y, score, w = check_binary_scores(y_true, y_score, sample_weight)
    fps, tps, thresholds = counts_at_thresholds(y, score, w)
    if fps[-1] <= 0 or tps[-1] <= 0:
        raise ValidationError(single_class_message(y, w, "the ROC curve"))
    if drop_intermediate and fps.shape[0] > 2:
        corner = np.logical_or(np.diff(fps, 2), np.diff(tps, 2))
        keep = np.flatnonzero(np.concatenate(([True], corner, [True])))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps = np.concatenate(([0.0], fps))
    tps = np.concatenate(([0.0], tps))
    thr = np.concatenate(([np.inf], thresholds.astype(np.float64)))
    return RocCurve(fpr=fps / fps[-1], tpr=tps / tps[-1], thresholds=thr)


def _pr_arrays(
    y: np.ndarray, score: np.ndarray, w: np.ndarray | None, drop_intermediate: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fps, tps, thresholds = counts_at_thresholds(y, score, w)
    if tps[-1] <= 0:
        raise ValidationError(single_class_message(y, w, "recall"))
    if drop_intermediate and fps.shape[0] > 2:
        change = np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:]))
        keep = np.flatnonzero(np.concatenate(([True], change, [True])))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted != 0)
    recall = tps / tps[-1]
    return (
        np.concatenate((precision[::-1], [1.0])),
        np.concatenate((recall[::-1], [0.0])),
        thresholds[::-1].copy(),
    )


def precision_recall_curve(
    y_true: Any, y_score: Any, *, sample_weight: Any = None, drop_intermediate: bool = False
) -> PrecisionRecallCurve:
    r"""Precision and recall of ``score >= t`` at every distinct score ``t``.

    .. math:: \mathrm{precision}(t) = \frac{\mathrm{TP}(t)}{\mathrm{TP}(t) + \mathrm{FP}(t)},
        \quad \mathrm{recall}(t) = \frac{\mathrm{TP}(t)}{P}

    with weighted counts (zero-weight samples removed). Thresholds increase; a final point
    (recall 0, precision 1) without a threshold closes the curve: the same arrays as
    :func:`sklearn.metrics.precision_recall_curve` (thresholds in the dtype of ``y_score``).

    Parameters
    ----------
    y_true : array of shape (n,), labels in {0, 1}
    y_score : array of shape (n,), finite real scores
    sample_weight : array of shape (n,), optional
    drop_intermediate : bool, default False
        Keep only the first and last threshold of each run of equal true-positive weight.

    Returns
    -------
    PrecisionRecallCurve

    Raises
    ------
    ValidationError
        When ``y_true`` has no positive sample (recall is undefined).

    References
    ----------
    Davis, J. and Goadrich, M. (2006). The relationship between precision-recall and ROC curves.
    Proc. ICML, 233-240.
    """
    y, score, w = check_binary_scores(y_true, y_score, sample_weight)
    precision, recall, thresholds = _pr_arrays(y, score, w, drop_intermediate)
    return PrecisionRecallCurve(precision=precision, recall=recall, thresholds=thresholds)


def _binary_ap(y: np.ndarray, score: np.ndarray, w: np.ndarray | None) -> float:
    if (y.sum() if w is None else w[y == 1].sum()) <= 0:
        return float("nan")
    precision, recall, _ = _pr_arrays(y, score, w, drop_intermediate=False)
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


def average_precision(
    y_true: Any, y_score: Any, *, sample_weight: Any = None, average: str | None = "macro"
) -> float | np.ndarray:
    r"""Average precision: precision averaged over the recall steps (no interpolation).

    .. math:: \mathrm{AP} = \sum_n (R_n - R_{n-1})\, P_n

    over the distinct thresholds in decreasing order (scikit-learn's step-wise definition, equal
    to :func:`sklearn.metrics.average_precision_score`).

    Parameters
    ----------
    y_true : array of shape (n,)
        {0, 1} for 1-D ``y_score``; ``0..k-1`` for ``(n, k)`` probabilities.
    y_score : array of shape (n,) or (n, k)
        Finite real scores (1-D), or class probabilities scored one-vs-rest (2-D).
    sample_weight : array of shape (n,), optional
    average : {"macro", "weighted"} or None, default "macro"
        Multiclass only, as in :func:`roc_auc`. A class without positives has no AP: it is left
        out of the average (NaN with None) with a :class:`UserWarning`. A class without
        negatives has AP 1.

    Returns
    -------
    float, or ndarray of shape (k,) for ``average=None`` with 2-D input.

    Raises
    ------
    ValidationError
        Binary ``y_true`` without positives, or no class with positives.

    References
    ----------
    Zhu, M. (2004). Recall, precision and average precision. Technical report 09, Department of
    Statistics and Actuarial Science, University of Waterloo.
    """
    average = check_average(average)
    raw = as_float_array(y_score, "y_score", ndim=(1, 2))
    if raw.ndim == 1:
        y, score, w = check_binary_scores(y_true, raw, sample_weight)
        value = _binary_ap(y, score, w)
        if np.isnan(value):
            raise ValidationError(single_class_message(y, w, "average precision"))
        return value
    y, prob, w = check_multiclass_scores(y_true, raw, sample_weight)
    k = prob.shape[1]
    per_class = np.array([_binary_ap((y == c).astype(np.intp), prob[:, c], w) for c in range(k)])
    return one_vs_rest(
        "average precision", per_class, class_weights(y, k, w), average, "positive samples"
    )
