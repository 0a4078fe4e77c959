r"""How well a score separates in-distribution (ID) from out-of-distribution (OOD) samples.

Convention (the one of every score in :mod:`confide.monitor._ood`): **higher = more
in-distribution**, and ID samples are the *positives*. A threshold ``t`` accepts a sample as ID
when ``score >= t``; then

* TPR(t) = fraction of ID samples accepted, FPR(t) = fraction of OOD samples accepted;
* AUROC = P(score_ID > score_OOD) + 1/2 P(tie) (:func:`confide.metrics.roc_auc`);
* AUPR-In = average precision with ID positive and the score as it is; AUPR-Out = average
  precision with OOD positive and the score negated (step-wise, scikit-learn's
  ``average_precision_score``, as Hendrycks et al.'s code; OpenOOD integrates the same curve by
  trapezoids, which can differ slightly);
* FPR@95TPR = FPR at the largest threshold whose TPR is at least 0.95 (Hendrycks & Gimpel 2017;
  OpenOOD's ``fpr_recall``): the first point of the ROC curve, in decreasing threshold, with
  ``TPR >= 0.95``. No interpolation between ROC points. Thresholds are the distinct scores, so
  tied samples are accepted together: TPR may jump past 0.95 and every OOD sample tied at the
  threshold counts as a false positive. The full curve is used (OpenOOD calls scikit-learn's
  ``roc_curve`` with its default ``drop_intermediate=True``, which can skip the exact point and
  report a larger FPR; never a smaller one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from confide._validation import as_float_array, check_fraction
from confide.metrics import average_precision, roc_auc, roc_curve
from confide.monitor._estimate import json_float

__all__ = ["OODEvaluation", "evaluate_ood"]


@dataclass(frozen=True)
class OODEvaluation:
    """Separation of ID from OOD scores (ID = positive, higher score = more ID).

    Attributes
    ----------
    auroc : float
    aupr_in : float
        Average precision, ID positive.
    aupr_out : float
        Average precision, OOD positive (score negated).
    fpr_at_tpr : float
        FPR at the first ROC point with ``TPR >= tpr_level`` (FPR@95TPR by default).
    threshold : float
        The score threshold of that point (accept as ID when ``score >= threshold``).
    tpr_at_threshold : float
        The TPR actually reached there (``>= tpr_level``; above it when scores tie).
    tpr_level : float
    n_in, n_out : int
    """

    auroc: float
    aupr_in: float
    aupr_out: float
    fpr_at_tpr: float
    threshold: float
    tpr_at_threshold: float
    tpr_level: float
    n_in: int
    n_out: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "auroc": self.auroc,
            "aupr_in": self.aupr_in,
            "aupr_out": self.aupr_out,
            "fpr_at_tpr": self.fpr_at_tpr,
            "threshold": json_float(self.threshold),
            "tpr_at_threshold": self.tpr_at_threshold,
            "tpr_level": self.tpr_level,
            "n_in": self.n_in,
            "n_out": self.n_out,
        }


def evaluate_ood(scores_in: Any, scores_out: Any, *, tpr_level: float = 0.95) -> OODEvaluation:
    r"""AUROC, AUPR-In, AUPR-Out and FPR at ``tpr_level`` TPR of an OOD score.

    With ID samples as positives and ``score >= t`` accepted as ID:

    .. math:: \mathrm{FPR@TPR}_{q} = \mathrm{FPR}(t^*), \quad
        t^* = \max\{t : \mathrm{TPR}(t) \ge q\}

    over the distinct scores ``t`` (no interpolation; see the module notes for ties and for the
    difference from OpenOOD's ``drop_intermediate`` curve).

    Parameters
    ----------
    scores_in : array of shape (n_in,)
        Scores of in-distribution samples (higher = more ID).
    scores_out : array of shape (n_out,)
        Scores of OOD samples.
    tpr_level : float, default 0.95

    Returns
    -------
    OODEvaluation

    References
    ----------
    Hendrycks, D. and Gimpel, K. (2017). A baseline for detecting misclassified and
    out-of-distribution examples in neural networks. ICLR.
    Yang, J. et al. (2022). OpenOOD: benchmarking generalized out-of-distribution detection.
    NeurIPS Datasets and Benchmarks.
    """
    level = check_fraction(tpr_level, "tpr_level", low=0.0, high=1.0 + 1e-12)
    s_in = as_float_array(scores_in, "scores_in", ndim=1).astype(np.float64, copy=False)
    s_out = as_float_array(scores_out, "scores_out", ndim=1).astype(np.float64, copy=False)
    score = np.concatenate([s_in, s_out])
    is_in = np.concatenate([np.ones(s_in.shape[0], np.intp), np.zeros(s_out.shape[0], np.intp)])
    curve = roc_curve(is_in, score, drop_intermediate=False)
    j = int(np.argmax(curve.tpr >= level))
    return OODEvaluation(
        auroc=float(roc_auc(is_in, score)),
        aupr_in=float(average_precision(is_in, score)),
        aupr_out=float(average_precision(1 - is_in, -score)),
        fpr_at_tpr=float(curve.fpr[j]),
        threshold=float(curve.thresholds[j]),
        tpr_at_threshold=float(curve.tpr[j]),
        tpr_level=level,
        n_in=int(s_in.shape[0]),
        n_out=int(s_out.shape[0]),
    )
