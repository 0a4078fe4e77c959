"""Discrimination: AUROC, ROC and precision-recall curves, average precision, metrics at a threshold.

Conventions (scikit-learn's, pinned in ``tests/metrics/test_ranking*.py``):

* ``y_true`` holds 0/1 labels for 1-D ``y_score``; ``y_score`` is any finite real score, higher
  meaning "more likely positive". A sample is predicted positive at threshold ``t`` iff
  ``score >= t``.
* Ties count 1/2 in the AUROC (Mann-Whitney); curves have one point per distinct score.
* 2-D ``y_score`` of shape ``(n, k)`` holds class probabilities; multiclass metrics are
  one-vs-rest: class ``c`` against the rest, scored by column ``c``.
* A class whose one-vs-rest problem is undefined (no positive weight, or for the AUROC no
  negative weight either) is left out of the ``"macro"`` and ``"weighted"`` averages and is NaN
  with ``average=None``; a :class:`UserWarning` names it. If no class is usable the call raises
  :class:`~confide.exceptions.ValidationError`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from confide._validation import as_float_array, check_choice, check_positive_int
from confide.exceptions import ConfideTypeError, ValidationError
from confide.metrics._auroc_stream import auroc_from_bins, binned_label_weights
from confide.metrics._ranking_core import (
    check_average,
    check_binary_scores,
    check_multiclass_scores,
    class_weights,
    exact_auroc,
    json_floats,
    one_vs_rest,
    require_scores_in_unit_interval,
    single_class_message,
)
from confide.metrics._ranking_curves import (
    PrecisionRecallCurve,
    RocCurve,
    average_precision,
    precision_recall_curve,
    roc_curve,
)

__all__ = [
    "PrecisionRecallCurve",
    "RocCurve",
    "ThresholdMetrics",
    "average_precision",
    "precision_recall_curve",
    "precision_recall_f1_at",
    "roc_auc",
    "roc_curve",
]


@dataclass(frozen=True)
class ThresholdMetrics:
    """Confusion counts and rates of ``score >= threshold`` (weights summed, float).

    Attributes
    ----------
    threshold, precision, recall, f1, tp, fp, fn, tn : float
    """

    threshold: float
    precision: float
    recall: float
    f1: float
    tp: float
    fp: float
    fn: float
    tn: float

    def to_dict(self) -> dict[str, Any]:
        """The fields as Python floats (an infinite threshold as the string "inf" or "-inf")."""
        names = [f.name for f in fields(self)]
        values = json_floats(np.array([getattr(self, k) for k in names], dtype=np.float64))
        return dict(zip(names, values, strict=True))


def roc_auc(
    y_true: Any,
    y_score: Any,
    *,
    sample_weight: Any = None,
    average: str | None = "macro",
    method: str = "exact",
    n_bins: int = 4096,
) -> float | np.ndarray:
    r"""Area under the ROC curve: the probability that a positive outranks a negative.

    .. math:: \mathrm{AUC} = \frac{\sum_{i:y_i=1}\sum_{j:y_j=0} w_i w_j
        \big([s_i > s_j] + \tfrac12 [s_i = s_j]\big)}{\sum_{i:y_i=1} w_i \sum_{j:y_j=0} w_j}

    Ties count 1/2 (Mann-Whitney), which equals the trapezoidal area under :func:`roc_curve`.

    Parameters
    ----------
    y_true : array of shape (n,)
        {0, 1} for 1-D ``y_score``; ``0..k-1`` for ``(n, k)`` ``y_score``.
    y_score : array of shape (n,) or (n, k)
        1-D: any finite real score of the positive class (``method="exact"``) or a probability in
        [0, 1] (``method="histogram"``). 2-D: class probabilities (rows sum to 1), scored
        one-vs-rest.
    sample_weight : array of shape (n,), optional
    average : {"macro", "weighted"} or None, default "macro"
        Multiclass only (ignored for 1-D input): the mean over classes, the mean weighted by class
        prevalence (total weight of each class in ``y_true``), or None for the per-class array.
    method : {"exact", "histogram"}, default "exact"
        ``"histogram"`` bins the scores in ``n_bins`` uniform bins of [0, 1] and counts pairs in
        the same bin 1/2: the kernel of :class:`~confide.metrics.BinnedAUROC`, whose ``compute``
        gives the same value and a bracket of the exact one.
    n_bins : int, default 4096
        Bins of ``method="histogram"``.

    Returns
    -------
    float, or ndarray of shape (k,) for ``average=None`` with 2-D input.

    Raises
    ------
    ValidationError
        Binary ``y_true`` with a single class (the AUROC is undefined), or no usable class in the
        multiclass case. A multiclass class with no positive or no negative sample is left out of
        the average (NaN with ``average=None``) with a :class:`UserWarning` naming it.

    Notes
    -----
    The exact binary computation sorts the two classes apart with :func:`numpy.sort` and counts
    with :func:`numpy.searchsorted` (no argsort without weights), in exact integer arithmetic.

    References
    ----------
    Hanley, J. A. and McNeil, B. J. (1982). The meaning and use of the area under a receiver
    operating characteristic (ROC) curve. Radiology 143(1), 29-36.
    Fawcett, T. (2006). An introduction to ROC analysis. Pattern Recognit. Lett. 27(8), 861-874.
    """
    check_choice(method, "method", ("exact", "histogram"))
    average = check_average(average)
    if method == "histogram":
        n_bins = check_positive_int(n_bins, "n_bins")
    raw = as_float_array(y_score, "y_score", ndim=(1, 2))
    if raw.ndim == 1:
        y, score, w = check_binary_scores(y_true, raw, sample_weight)
        value = _binary_auroc(y, score, w, method, n_bins)
        if np.isnan(value):
            raise ValidationError(single_class_message(y, w, "the AUROC"))
        return value
    y, prob, w = check_multiclass_scores(y_true, raw, sample_weight)
    k = prob.shape[1]
    per_class = np.array(
        [_binary_auroc((y == c).astype(np.intp), prob[:, c], w, method, n_bins) for c in range(k)]
    )
    return one_vs_rest(
        "AUROC", per_class, class_weights(y, k, w), average, "both positive and negative samples"
    )


def _binary_auroc(
    y: np.ndarray, score: np.ndarray, w: np.ndarray | None, method: str, n_bins: int
) -> float:
    if method == "exact":
        return exact_auroc(y, np.ascontiguousarray(score), w)
    require_scores_in_unit_interval(score, "method='histogram'")
    neg, pos = binned_label_weights(y, score, n_bins, w)
    return auroc_from_bins(neg, pos)[0]


def precision_recall_f1_at(
    y_true: Any, y_score: Any, threshold: float, *, sample_weight: Any = None
) -> ThresholdMetrics:
    r"""Precision, recall and F1 of the decision ``score >= threshold``.

    .. math:: \mathrm{precision} = \frac{TP}{TP + FP}, \quad \mathrm{recall} = \frac{TP}{TP + FN},
        \quad F_1 = \frac{2\,TP}{2\,TP + FP + FN}

    with weighted counts. A ratio whose denominator is zero is 0.0 (scikit-learn's
    ``zero_division=0.0``): precision when nothing is predicted positive, recall when ``y_true``
    has no positives, F1 when both hold. The comparison ``score >= threshold`` is made in the
    precision of ``y_score`` (the threshold is rounded to float32 for float32 scores), the
    convention of :mod:`confide.metrics._binning`.

    Parameters
    ----------
    y_true : array of shape (n,), labels in {0, 1}
    y_score : array of shape (n,), finite real scores
    threshold : float
        Predicted positive iff ``score >= threshold`` (``-inf`` and ``inf`` allowed).
    sample_weight : array of shape (n,), optional

    Returns
    -------
    ThresholdMetrics

    References
    ----------
    van Rijsbergen, C. J. (1979). Information Retrieval, 2nd ed., ch. 7. Butterworths.
    """
    if isinstance(threshold, bool) or not isinstance(
        threshold, int | float | np.integer | np.floating
    ):
        raise ConfideTypeError(f"threshold must be a number, got {threshold!r}.")
    if np.isnan(threshold):
        raise ValidationError("threshold must be a number, got NaN.")
    y, score, w = check_binary_scores(y_true, y_score, sample_weight)
    with np.errstate(over="ignore"):  # a threshold beyond float32's range rounds to +-inf
        t = score.dtype.type(threshold)
    pred = score >= t
    is_pos = y == 1
    weights = np.ones(y.shape[0]) if w is None else w
    tp = float(weights[pred & is_pos].sum())
    fp = float(weights[pred & ~is_pos].sum())
    fn = float(weights[~pred & is_pos].sum())
    tn = float(weights[~pred & ~is_pos].sum())

    def ratio(num: float, den: float) -> float:
        return num / den if den > 0 else 0.0

    return ThresholdMetrics(
        threshold=float(threshold),
        precision=ratio(tp, tp + fp),
        recall=ratio(tp, tp + fn),
        f1=ratio(2 * tp, 2 * tp + fp + fn),
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
    )
