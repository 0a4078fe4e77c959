"""Canonical forms of classification inputs shared by every metric.

Shapes (see ``docs/conventions.md``):

* ``y_prob`` 1-D: binary, ``p[i] = P(y_i = 1)``; ``y_true`` in {0, 1}.
* ``y_prob`` 2-D ``(n, k)``: ``k`` classes, rows sum to 1; ``y_true`` in ``0..k-1``.

The predicted class is ``argmax`` with ties going to the lowest index. For binary input that
means class 1 only when ``p > 0.5`` (at ``p = 0.5`` the two-column argmax picks class 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from confide._validation import (
    check_binary_labels,
    check_consistent_length,
    check_labels,
    check_probabilities,
    check_sample_weight,
)

__all__ = ["Classification", "check_classification", "top_label"]


@dataclass(frozen=True)
class Classification:
    """Validated labels and probabilities (``prob`` keeps float32 if it came as float32)."""

    y: np.ndarray
    prob: np.ndarray
    weight: np.ndarray | None

    @property
    def binary(self) -> bool:
        return self.prob.ndim == 1

    @property
    def n_classes(self) -> int:
        return 2 if self.prob.ndim == 1 else int(self.prob.shape[1])

    def class_scores(self, k: int) -> np.ndarray:
        """Probability of class ``k`` for every sample, in the input dtype.

        For binary input class 0 gets ``1 - p`` computed in that dtype, as :func:`top_label` does.
        """
        if self.binary:
            return self.prob if k == 1 else self.prob.dtype.type(1) - self.prob
        return self.prob[:, k]


def check_classification(
    y_true: Any,
    y_prob: Any,
    sample_weight: Any = None,
    *,
    sum_tolerance: float | None = None,
    allow_empty: bool = False,
) -> Classification:
    """Validate ``(y_true, y_prob, sample_weight)`` together and return them canonically."""
    prob = check_probabilities(
        y_prob, "y_prob", sum_tolerance=sum_tolerance, min_samples=0 if allow_empty else 1
    )
    n = check_consistent_length(y_true=y_true, y_prob=prob, sample_weight=sample_weight)
    y = check_binary_labels(y_true) if prob.ndim == 1 else check_labels(y_true, prob.shape[1])
    w = check_sample_weight(sample_weight, n)
    return Classification(y=y, prob=prob, weight=w)


def top_label(prob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(confidence, predicted_class)`` of the top label (NumPy reference path).

    ``confidence`` keeps the input dtype: it is an element of ``prob`` (or ``1 - p`` for binary),
    so the bin it falls in is decided in the caller's precision.
    """
    if prob.ndim == 1:
        pred = (prob > 0.5).astype(np.intp)
        conf = np.where(pred == 1, prob, prob.dtype.type(1) - prob)
        return conf, pred
    pred = np.argmax(prob, axis=1)
    conf = np.take_along_axis(prob, pred[:, None], axis=1)[:, 0]
    return conf, pred
