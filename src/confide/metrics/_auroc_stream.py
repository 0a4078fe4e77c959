"""Streaming AUROC with fixed-size state: per-bin positive and negative weight, mergeable exactly.

The same two functions, :func:`binned_label_weights` and :func:`auroc_from_bins`, are the kernel
of :class:`BinnedAUROC` and of ``confide.metrics.roc_auc(..., method="histogram")``, so the
one-shot and the streaming values are the same sums.

Bins are the uniform bins of :mod:`confide.metrics._binning` (``[e_b, e_{b+1})``, the last bin
closed, an edge value in the upper bin, compared in the score's precision).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Self

import numpy as np

from confide._validation import (
    check_binary_labels,
    check_consistent_length,
    check_positive_int,
    check_probabilities,
    check_sample_weight,
)
from confide.exceptions import ValidationError
from confide.metrics._accumulator import Accumulator
from confide.metrics._binning import assign_bins, uniform_edges

__all__ = ["AurocEstimate", "BinnedAUROC", "auroc_from_bins", "binned_label_weights"]


def binned_label_weights(
    y: np.ndarray, score: np.ndarray, n_bins: int, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin weight of the negatives and of the positives, ``(neg, pos)``, in float64.

    ``y`` holds 0/1 labels, ``score`` values in [0, 1] (float32 or float64; the bin is decided in
    that precision), ``weight`` optional non-negative weights. One :func:`numpy.bincount` over
    ``bin + n_bins * y``; the sums run in row order.
    """
    b = check_positive_int(n_bins, "n_bins")
    idx = assign_bins(score, uniform_edges(b))
    flat = idx + b * y.astype(np.intp, copy=False)
    counts = np.bincount(flat, weights=weight, minlength=2 * b).astype(np.float64, copy=False)
    return counts[:b], counts[b:]


def auroc_from_bins(neg: np.ndarray, pos: np.ndarray) -> tuple[float, float]:
    r"""AUROC of grouped scores and the half-weight of the pairs tied within a group.

    Groups (bins, or tie groups of distinct scores) are in increasing order of score. With
    :math:`n_b`, :math:`p_b` the negative and positive weight of group :math:`b`,
    :math:`N = \sum_b n_b`, :math:`P = \sum_b p_b`:

    .. math::

        \mathrm{AUC} = \frac{1}{PN} \sum_b p_b \Big(\sum_{c<b} n_c + \tfrac12 n_b\Big),
        \qquad s = \frac{1}{2PN} \sum_b p_b n_b .

    A positive-negative pair in the same group counts 1/2 (Mann-Whitney); ``s`` is the total
    weight of those half counts, so every ordering of the scores inside the groups gives an
    AUROC in ``[AUC - s, AUC + s]``.

    Returns
    -------
    (value, slack) : tuple of float
        NaN for both when ``P`` or ``N`` is zero (the AUROC is undefined).

    References
    ----------
    Mann, H. B. and Whitney, D. R. (1947). On a test of whether one of two random variables is
    stochastically larger than the other. Ann. Math. Statist. 18(1), 50-60.
    """
    neg = np.asarray(neg, dtype=np.float64)
    pos = np.asarray(pos, dtype=np.float64)
    total_pos = float(pos.sum())
    total_neg = float(neg.sum())
    if total_pos <= 0 or total_neg <= 0:
        return float("nan"), float("nan")
    below = np.concatenate(([0.0], np.cumsum(neg)[:-1]))
    pairs = total_pos * total_neg
    tied = float(np.dot(pos, neg))
    value = (float(np.dot(pos, below)) + 0.5 * tied) / pairs
    return value, 0.5 * tied / pairs


@dataclass(frozen=True)
class AurocEstimate:
    """AUROC from binned scores with a guaranteed bracket of the exact value.

    Attributes
    ----------
    value : float
        AUROC with pairs in the same bin counted 1/2.
    lower, upper : float
        ``value -/+ 0.5 * sum_b pos_b neg_b / (P N)`` (clipped to [0, 1]): the exact AUROC of the
        scores seen (ties counted 1/2) is guaranteed to lie in ``[lower, upper]``, whatever the
        scores inside each bin were.
    n_positive, n_negative : float
        Total weight of the positives ``P`` and negatives ``N`` (counts without weights).
    """

    value: float
    lower: float
    upper: float
    n_positive: float
    n_negative: float

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON-safe Python floats."""
        return {k: float(v) for k, v in asdict(self).items()}


class BinnedAUROC(Accumulator):
    r"""Streaming binary AUROC from per-bin positive and negative weight (Mann-Whitney with bins).

    State: two float64 arrays of ``n_bins`` entries (weight of the negatives and of the positives
    in each uniform bin of [0, 1]); memory is ``O(n_bins)`` whatever the number of samples.
    Accumulators over any split of the data merge (by addition) into the one-pass state, and
    :meth:`compute` equals ``roc_auc(y, p, method="histogram", n_bins=n_bins)`` over all the data.

    .. math::

        \mathrm{AUC} = \frac{1}{PN} \sum_b p_b \Big(\sum_{c<b} n_c + \tfrac12 n_b\Big),
        \qquad \mathrm{AUC}_{\mathrm{exact}} \in
        \Big[\mathrm{AUC} \mp \frac{1}{2PN}\sum_b p_b n_b\Big].

    Parameters
    ----------
    n_bins : int, default 4096
        Number of uniform bins over [0, 1]; the bracket narrows as the bins get finer.

    References
    ----------
    Hanley, J. A. and McNeil, B. J. (1982). The meaning and use of the area under a receiver
    operating characteristic (ROC) curve. Radiology 143(1), 29-36.
    """

    kind = "binned_auroc"

    def __init__(self, n_bins: int = 4096) -> None:
        self.n_bins = check_positive_int(n_bins, "n_bins")
        self._neg = np.zeros(self.n_bins, dtype=np.float64)
        self._pos = np.zeros(self.n_bins, dtype=np.float64)

    def _config(self) -> dict[str, Any]:
        return {"n_bins": self.n_bins}

    def _state(self) -> dict[str, np.ndarray]:
        return {"negative": self._neg, "positive": self._pos}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self._neg = np.asarray(state["negative"], dtype=np.float64)
        self._pos = np.asarray(state["positive"], dtype=np.float64)

    def update(self, y_true: Any, y_score: Any, sample_weight: Any = None) -> Self:
        """Add a batch: labels in {0, 1}, scores ``P(y = 1)`` in [0, 1], optional weights."""
        score = check_probabilities(y_score, "y_score", ndim=1, min_samples=0)
        n = check_consistent_length(y_true=y_true, y_score=score, sample_weight=sample_weight)
        y = check_binary_labels(y_true)
        if n == 0:  # an empty batch (lengths already checked) adds nothing
            return self
        w = check_sample_weight(sample_weight, n)
        neg, pos = binned_label_weights(y, score, self.n_bins, w)
        self._neg += neg
        self._pos += pos
        return self

    def compute(self) -> AurocEstimate:
        """The binned AUROC and its guaranteed bracket over all data seen."""
        total_pos = float(self._pos.sum())
        total_neg = float(self._neg.sum())
        if total_pos <= 0 or total_neg <= 0:
            missing = "positive" if total_pos <= 0 else "negative"
            raise ValidationError(
                f"the AUROC is undefined: the accumulator has seen no {missing} samples "
                f"(positive weight {total_pos}, negative weight {total_neg}). Update it with both classes."
            )
        value, slack = auroc_from_bins(self._neg, self._pos)
        return AurocEstimate(
            value=value,
            lower=max(0.0, value - slack),
            upper=min(1.0, value + slack),
            n_positive=total_pos,
            n_negative=total_neg,
        )
