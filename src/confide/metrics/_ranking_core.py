"""Kernels of the ranking metrics: input checks, exact AUROC, counts at every threshold.

Kept apart from :mod:`confide.metrics._ranking` (the public functions) so that each stays short.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from confide._validation import (
    as_float_array,
    check_binary_labels,
    check_choice,
    check_consistent_length,
    check_labels,
    check_probabilities,
    check_sample_weight,
)
from confide.exceptions import ProbabilityError, ValidationError

__all__ = [
    "AVERAGES",
    "check_average",
    "check_binary_scores",
    "check_multiclass_scores",
    "class_weights",
    "counts_at_thresholds",
    "exact_auroc",
    "freeze_arrays",
    "json_floats",
    "one_vs_rest",
    "require_scores_in_unit_interval",
    "single_class_message",
]

AVERAGES = ("macro", "weighted")


def json_floats(a: np.ndarray) -> list[Any]:
    """Floats as a JSON-safe list; non-finite values become "inf", "-inf" or "nan".

    The same convention as the documents of :mod:`confide._serialization`.
    """
    out: list[Any] = []
    for v in np.asarray(a, dtype=np.float64).tolist():
        if math.isfinite(v):
            out.append(v)
        else:
            out.append("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
    return out


def check_binary_scores(
    y_true: Any, y_score: Any, sample_weight: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Labels in {0, 1} (``intp``), finite 1-D real scores (float32/float64), optional weights."""
    score = as_float_array(y_score, "y_score", ndim=1)
    n = check_consistent_length(y_true=y_true, y_score=score, sample_weight=sample_weight)
    y = check_binary_labels(y_true)
    w = check_sample_weight(sample_weight, n)
    return y, score, w


def check_multiclass_scores(
    y_true: Any, y_score: Any, sample_weight: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Labels in ``0..k-1``, ``(n, k)`` probabilities with rows summing to 1, optional weights."""
    prob = check_probabilities(y_score, "y_score", ndim=2)
    n = check_consistent_length(y_true=y_true, y_score=prob, sample_weight=sample_weight)
    y = check_labels(y_true, prob.shape[1])
    w = check_sample_weight(sample_weight, n)
    return y, prob, w


def require_scores_in_unit_interval(score: np.ndarray, why: str) -> None:
    """Raise :class:`ProbabilityError` naming ``why`` when a score lies outside [0, 1]."""
    bad = (score < 0) | (score > 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ProbabilityError(
            f"{why} needs y_score in [0, 1]: {int(bad.sum())} value(s) outside, the first at index "
            f"{i} ({float(score[i])!r}). Use method='exact' for arbitrary real scores."
        )


def exact_auroc(y: np.ndarray, score: np.ndarray, weight: np.ndarray | None) -> float:
    r"""Exact (Mann-Whitney) AUROC of one binary problem; NaN when a class has no weight.

    .. math:: \mathrm{AUC} = \frac{\sum_{i:y_i=1}\sum_{j:y_j=0} w_i w_j
        \big([s_i > s_j] + \tfrac12 [s_i = s_j]\big)}{\sum_{i:y_i=1} w_i \sum_{j:y_j=0} w_j}

    Without weights the two classes are sorted apart with :func:`numpy.sort` (no argsort) and the
    smaller class is located in the larger with two :func:`numpy.searchsorted` calls; ``2U`` is an
    exact integer, so the result is the correctly rounded ratio. With weights the negatives are
    argsorted and their cumulative weight read at the positions of the (sorted) positives.
    """
    is_pos = y == 1
    pos_s = score[is_pos]
    neg_s = score[~is_pos]
    if weight is None:
        n_pos, n_neg = pos_s.shape[0], neg_s.shape[0]
        if n_pos == 0 or n_neg == 0:
            return float("nan")
        # Search the smaller class (sorted, for cache-friendly binary searches) in the larger one.
        if n_pos <= n_neg:
            ref, query = np.sort(neg_s), np.sort(pos_s)
        else:
            ref, query = np.sort(pos_s), np.sort(neg_s)
        left = int(np.searchsorted(ref, query, side="left").sum(dtype=np.int64))
        right = int(np.searchsorted(ref, query, side="right").sum(dtype=np.int64))
        # left + right = 2 * (#ref < q) + #ref == q, summed over the queries.
        two_u = left + right if n_pos <= n_neg else 2 * n_pos * n_neg - left - right
        return two_u / (2 * n_pos * n_neg)  # Python ints: correctly rounded
    pos_w = weight[is_pos]
    neg_w = weight[~is_pos]
    total_pos = float(pos_w.sum())
    total_neg = float(neg_w.sum())
    if total_pos <= 0 or total_neg <= 0:
        return float("nan")
    order = np.argsort(neg_s)
    ref = neg_s[order]
    cum = np.concatenate(([0.0], np.cumsum(neg_w[order])))
    q_order = np.argsort(pos_s)  # sorted queries: binary searches that stay in cache
    query = pos_s[q_order]
    left_i = np.searchsorted(ref, query, side="left")
    right_i = np.searchsorted(ref, query, side="right")
    u = 0.5 * float(np.dot(pos_w[q_order], cum[left_i] + cum[right_i]))
    return u / (total_pos * float(cum[-1]))


def counts_at_thresholds(
    y: np.ndarray, score: np.ndarray, weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fps, tps, thresholds)``: weight predicted positive (``score >= t``) at each distinct t.

    Thresholds are the distinct scores in decreasing order (zero-weight samples removed first),
    ``fps``/``tps`` the cumulative negative/positive weight at or above each, in float64:
    the arrays of scikit-learn's ``confusion_matrix_at_thresholds``. Without weights they are exact
    counts from two :func:`numpy.sort` calls; with weights the cumulative sums run in the order of
    a stable descending sort, as scikit-learn's do, so the sums are the same floating-point sums.
    """
    if weight is not None:
        keep = weight != 0
        if not keep.all():
            y, score, weight = y[keep], score[keep], weight[keep]
        if y.shape[0] == 0:
            raise ValidationError("every sample_weight is zero: there is nothing to rank.")
        order = np.argsort(-score, kind="stable")
        s = score[order]
        yy = y[order].astype(np.float64)
        ww = weight[order]
        ends = np.append(np.flatnonzero(np.diff(s)), s.shape[0] - 1)
        tps = np.cumsum(yy * ww)[ends]
        fps = np.cumsum((1.0 - yy) * ww)[ends]
        return fps, tps, s[ends]
    n = score.shape[0]
    s_all = np.sort(score)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(s_all)) + 1))
    thresholds = s_all[starts][::-1]
    at_or_above = n - starts[::-1]
    pos_sorted = np.sort(score[y == 1])
    tps_i = pos_sorted.shape[0] - np.searchsorted(pos_sorted, thresholds, side="left")
    fps = (at_or_above - tps_i).astype(np.float64)
    return fps, tps_i.astype(np.float64), thresholds


def freeze_arrays(*arrays: np.ndarray) -> None:
    """Make the arrays of a frozen result read-only, so the result cannot change in place."""
    for a in arrays:
        a.setflags(write=False)


def check_average(average: str | None) -> str | None:
    """Check ``average`` of the multiclass metrics: "macro", "weighted" or None."""
    if average is None:
        return None
    return check_choice(average, "average", AVERAGES)


def one_vs_rest(
    metric: str,
    per_class: np.ndarray,
    prevalence: np.ndarray,
    average: str | None,
    need: str,
) -> float | np.ndarray:
    r"""Average one-vs-rest values, leaving undefined (NaN) classes out with a warning.

    ``"macro"``: :math:`\frac{1}{|K|}\sum_{c \in K} v_c`; ``"weighted"``:
    :math:`\sum_{c \in K} \pi_c v_c / \sum_{c \in K} \pi_c` with :math:`\pi_c` the weight of
    class ``c`` in ``y_true`` and ``K`` the classes where ``v_c`` is defined (scikit-learn's
    ``_average_binary_score``, restricted to ``K``).
    """
    undefined = np.flatnonzero(np.isnan(per_class))
    if undefined.size == per_class.size:
        raise ValidationError(
            f"{metric} is undefined for every class: no class has {need} (with non-zero weight) "
            "in y_true, so no one-vs-rest problem can be scored."
        )
    if undefined.size:
        action = (
            "NaN in the per-class result"
            if average is None
            else f"left out of the {average} average"
        )
        warnings.warn(
            f"{metric}: class(es) {undefined.tolist()} lack {need} in y_true, so their "
            f"one-vs-rest {metric} is undefined; they are {action}.",
            UserWarning,
            stacklevel=3,
        )
    if average is None:
        per_class.setflags(write=False)
        return per_class
    ok = ~np.isnan(per_class)
    if average == "macro":
        return float(np.mean(per_class[ok]))
    weights = prevalence[ok]
    return float(np.dot(weights, per_class[ok]) / weights.sum())


def class_weights(y: np.ndarray, k: int, w: np.ndarray | None) -> np.ndarray:
    """Total weight of each class ``0..k-1`` in ``y`` (its prevalence, unnormalised)."""
    return np.bincount(y, weights=w, minlength=k).astype(np.float64, copy=False)


def single_class_message(y: np.ndarray, w: np.ndarray | None, what: str) -> str:
    """The error message of a binary problem with one class missing (by weight)."""
    pos = float(y.sum()) if w is None else float(w[y == 1].sum())
    neg = float((1 - y).sum()) if w is None else float(w[y == 0].sum())
    missing = "positive (1)" if pos <= 0 else "negative (0)"
    return (
        f"{what} is undefined: y_true has no {missing} samples with non-zero weight "
        f"(weight of positives {pos}, of negatives {neg}). It needs both classes."
    )
