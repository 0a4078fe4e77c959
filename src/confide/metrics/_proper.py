"""Proper scoring rules and accuracy: Brier score, log loss, top-label accuracy."""

from __future__ import annotations

from typing import Any

import numpy as np

from confide.exceptions import ValidationError
from confide.metrics._inputs import Classification, check_classification, top_label
from confide.metrics._kernels import brier_sum

__all__ = ["accuracy", "brier_score", "log_loss", "true_class_probability"]


def _mean(values: np.ndarray, w: np.ndarray | None) -> float:
    if w is None:
        return float(np.sum(values, dtype=np.float64) / values.shape[0])
    total = float(w.sum())
    if total <= 0:
        raise ValidationError("all sample weights are 0: nothing to average.")
    return float(np.dot(w, values) / total)


def true_class_probability(data: Classification) -> np.ndarray:
    """``p_{y_i}`` for every sample, float64 (binary: ``p`` where ``y = 1`` else ``1 - p``)."""
    if data.binary:
        p = data.prob.astype(np.float64)
        return np.where(data.y == 1, p, 1.0 - p)
    return np.take_along_axis(data.prob, data.y[:, None], axis=1)[:, 0].astype(np.float64)


def _brier(data: Classification) -> float:
    if data.binary:
        d = data.prob.astype(np.float64) - data.y
        return _mean(d * d, data.weight)
    if data.weight is None:
        return brier_sum(data.prob, data.y) / data.y.shape[0]
    sq = np.einsum("ij,ij->i", data.prob, data.prob, dtype=np.float64)
    per_row = sq - 2.0 * true_class_probability(data) + 1.0
    return _mean(per_row, data.weight)


def brier_score(y_true: Any, y_prob: Any, *, sample_weight: Any = None) -> float:
    r"""Brier score, the mean squared error of the probabilities.

    Binary 1-D input: :math:`\frac{1}{N}\sum_i (p_i - y_i)^2`, in [0, 1].
    Multiclass: :math:`\frac{1}{N}\sum_i \sum_k (p_{ik} - [y_i = k])^2`, in [0, 2] (Brier's
    original definition). This is scikit-learn's ``brier_score_loss`` with its default
    ``scale_by_half="auto"``.

    References
    ----------
    Brier (1950), "Verification of forecasts expressed in terms of probability",
    Monthly Weather Review 78(1).
    """
    return _brier(check_classification(y_true, y_prob, sample_weight))


def _log_loss(data: Classification, clip: float | None) -> float:
    py = true_class_probability(data)
    if clip is not None:
        if not 0.0 < clip < 0.5:
            raise ValidationError(f"clip must lie in (0, 0.5), got {clip!r}.")
        py = np.clip(py, clip, 1.0 - clip)
    with np.errstate(divide="ignore"):
        nll = -np.log(py)
    return _mean(nll, data.weight)


def log_loss(
    y_true: Any, y_prob: Any, *, sample_weight: Any = None, clip: float | None = None
) -> float:
    r"""Negative log-likelihood of the true class, :math:`-\frac{1}{N}\sum_i \log p_{i, y_i}`.

    Exact by default: a true class given probability 0 is an infinite loss, and the result is
    ``inf``. Pass ``clip=eps`` to bound each true-class probability to ``[eps, 1 - eps]`` first.
    scikit-learn's ``log_loss`` always clips at the dtype's machine epsilon; on data with no
    zero (or one) probabilities the two agree.

    References
    ----------
    Good (1952), "Rational decisions", JRSS B 14(1).
    """
    return _log_loss(check_classification(y_true, y_prob, sample_weight), clip)


def _accuracy(data: Classification) -> float:
    _, pred = top_label(data.prob)
    return _mean((pred == data.y).astype(np.float64), data.weight)


def accuracy(y_true: Any, y_prob: Any, *, sample_weight: Any = None) -> float:
    """Top-label accuracy: the share of samples whose ``argmax`` class (lowest index on ties) is right.

    For binary 1-D input the prediction is class 1 when ``p > 0.5``.
    """
    return _accuracy(check_classification(y_true, y_prob, sample_weight))
