"""Binned calibration errors: ECE (L1, L2, max), MCE, ACE and the debiased ECE.

Every function here reduces the data to per-bin sums (:mod:`confide.metrics._binning`) and
finishes from those sums, so the one-shot functions and the streaming accumulators share one
kernel. ``kind`` chooses what is being calibrated, and is never guessed from the labels:

* ``"top_label"``: the confidence ``max_k p_k`` of the predicted class against whether the
  prediction was right (Guo et al. 2017). For 1-D binary input that is ``max(p, 1 - p)``.
* ``"binary"``: 1-D input only; ``p = P(y = 1)`` itself against ``y``.
* ``"classwise"``: the mean over classes ``k`` of the binary error of ``p_k`` against
  ``[y = k]`` (Kull et al. 2019, "classwise-ECE").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from confide._validation import check_choice, check_positive_int
from confide.exceptions import ValidationError
from confide.metrics._binning import BinStats, assign_bins, bin_edges, bin_sums, uniform_edges
from confide.metrics._inputs import Classification, check_classification, top_label
from confide.metrics._kernels import top_label_bin_sums

__all__ = [
    "ace",
    "binned_stats",
    "debiased_ece",
    "debiased_from_stats",
    "ece",
    "gap_from_stats",
    "mce",
]

KINDS = ("top_label", "binary", "classwise")
NORMS = ("l1", "l2", "max")


def _check_kind(kind: str, data: Classification) -> None:
    check_choice(kind, "kind", KINDS)
    if kind == "binary" and not data.binary:
        raise ValidationError(
            f"kind='binary' measures P(y=1) of 1-D binary input, but y_prob has shape "
            f"{data.prob.shape}. Use kind='top_label' or kind='classwise' for k classes."
        )


def binned_stats(data: Classification, kind: str, n_bins: int, binning: str) -> list[BinStats]:
    """Per-bin sums for each (score, target) problem that ``kind`` defines."""
    _check_kind(kind, data)
    check_positive_int(n_bins, "n_bins")
    w = data.weight
    if kind == "top_label":
        if binning == "uniform" and data.prob.ndim == 2:
            edges = uniform_edges(n_bins)
            count, s, t = top_label_bin_sums(data.prob, data.y, edges, w)
            return [BinStats(edges, count, s, t)]
        conf, pred = top_label(data.prob)
        return [_stats(conf, pred == data.y, n_bins, binning, w)]
    if kind == "binary":
        return [_stats(data.prob, data.y, n_bins, binning, w)]
    return [
        _stats(data.class_scores(k), data.y == k, n_bins, binning, w) for k in range(data.n_classes)
    ]


def _stats(
    score: np.ndarray, target: np.ndarray, n_bins: int, binning: str, w: np.ndarray | None
) -> BinStats:
    edges = bin_edges(score, n_bins, binning, w)
    idx = assign_bins(score, edges)
    count, s, t = bin_sums(idx, score, target, n_bins, w)
    return BinStats(edges, count, s, t)


def gap_from_stats(stats: BinStats, norm: str) -> float:
    """Calibration error of one problem from its bin sums.

    With ``n_b`` the weight in bin ``b``, ``N`` the total and ``conf_b``/``acc_b`` the bin means:

    * ``l1``: ``sum_b (n_b / N) |acc_b - conf_b|``
    * ``l2``: ``sqrt(sum_b (n_b / N) (acc_b - conf_b)^2)``
    * ``max``: ``max_b |acc_b - conf_b|`` over non-empty bins (the MCE).
    """
    total = stats.total
    if total <= 0:
        raise ValidationError("cannot measure calibration on zero samples (all weights are 0).")
    diff = np.abs(stats.sum_target - stats.sum_score)
    if norm == "l1":
        return float(min(diff.sum() / total, 1.0))
    nonempty = stats.count > 0
    gap = diff[nonempty] / stats.count[nonempty]
    if norm == "l2":
        return float(np.sqrt(np.dot(stats.count[nonempty], gap * gap) / total))
    return float(gap.max())


def _mean_gap(stats: list[BinStats], norm: str) -> float:
    return float(np.mean([gap_from_stats(s, norm) for s in stats]))


def ece(
    y_true: Any,
    y_prob: Any,
    *,
    n_bins: int = 15,
    binning: str = "uniform",
    norm: str = "l1",
    kind: str = "top_label",
    sample_weight: Any = None,
) -> float:
    r"""Expected calibration error.

    .. math:: \mathrm{ECE} = \sum_{b=1}^{B} \frac{n_b}{N}\,\lvert \mathrm{acc}_b - \mathrm{conf}_b \rvert

    with bins ``[e_b, e_{b+1})`` (the last closed; an edge value goes to the upper bin, decided in
    the input's precision) and sums in float64. ``norm="l2"`` gives the root-mean-square error,
    ``norm="max"`` the maximum calibration error. For ``kind="classwise"`` the value is the mean of
    the per-class errors.

    Parameters
    ----------
    y_true : array of shape (n,)
        Labels in ``0..k-1`` (or {0, 1} for 1-D ``y_prob``).
    y_prob : array of shape (n,) or (n, k)
        ``P(y = 1)`` for binary problems, else class probabilities whose rows sum to 1.
    n_bins : int, default 15
    binning : {"uniform", "quantile"}
        Equal-width bins, or equal-mass bins from the weighted quantiles of the scores.
    norm : {"l1", "l2", "max"}
    kind : {"top_label", "binary", "classwise"}
    sample_weight : array of shape (n,), optional

    Returns
    -------
    float in [0, 1]

    References
    ----------
    Naeini, Cooper & Hauskrecht (2015), "Obtaining well calibrated probabilities using Bayesian
    binning", AAAI. Guo, Pleiss, Sun & Weinberger (2017), "On calibration of modern neural
    networks", ICML. Kull et al. (2019), "Beyond temperature scaling", NeurIPS (classwise-ECE).

    Notes
    -----
    torchmetrics compares confidences with the edges in float32 and files 1.0 into an extra bin
    beyond the last edge; netcal and scikit-learn's ``calibration_curve`` put an edge value in the
    lower bin. On data with no value on an edge the three agree with confide to rounding.
    """
    check_choice(norm, "norm", NORMS)
    data = check_classification(y_true, y_prob, sample_weight)
    return _mean_gap(binned_stats(data, kind, n_bins, binning), norm)


def mce(
    y_true: Any,
    y_prob: Any,
    *,
    n_bins: int = 15,
    binning: str = "uniform",
    kind: str = "top_label",
    sample_weight: Any = None,
) -> float:
    r"""Maximum calibration error, :math:`\max_b \lvert \mathrm{acc}_b - \mathrm{conf}_b \rvert`.

    Same as ``ece(..., norm="max")``; see :func:`ece` for the bins and ``kind``.

    References
    ----------
    Naeini, Cooper & Hauskrecht (2015), AAAI.
    """
    return ece(
        y_true,
        y_prob,
        n_bins=n_bins,
        binning=binning,
        norm="max",
        kind=kind,
        sample_weight=sample_weight,
    )


def ace(
    y_true: Any,
    y_prob: Any,
    *,
    n_bins: int = 15,
    kind: str = "classwise",
    sample_weight: Any = None,
) -> float:
    r"""Adaptive calibration error: classwise ECE over equal-mass bins (Nixon et al. 2019).

    .. math:: \mathrm{ACE} = \frac{1}{K} \sum_{k=1}^{K} \sum_{r=1}^{R} \frac{n_{kr}}{N}
              \lvert \mathrm{acc}(r, k) - \mathrm{conf}(r, k) \rvert

    Nixon et al. weight every range by ``1/R``; with equal-mass ranges that is the same as
    ``n_kr / N``. confide weights by the bin's mass so that tied scores (kept in one bin, see
    :func:`confide.metrics.quantile_edges`) cannot make the value depend on row order.

    References
    ----------
    Nixon, Dusenberry, Zhang, Jerfel & Tran (2019), "Measuring calibration in deep learning",
    CVPR Workshops.
    """
    return ece(
        y_true,
        y_prob,
        n_bins=n_bins,
        binning="quantile",
        norm="l1",
        kind=kind,
        sample_weight=sample_weight,
    )


def debiased_ece(
    y_true: Any,
    y_prob: Any,
    *,
    n_bins: int = 15,
    binning: str = "quantile",
    kind: str = "top_label",
    squared: bool = False,
    sample_weight: Any = None,
) -> float:
    r"""Debiased estimate of the L2 calibration error (Kumar, Liang & Ma 2019).

    The plug-in squared error over-estimates: each bin's squared gap carries the variance of
    the bin's accuracy. The debiased estimator subtracts it,

    .. math:: \widehat{\mathrm{ECE}^2} = \sum_b \frac{n_b}{N}\left[(\mathrm{acc}_b - \mathrm{conf}_b)^2
              - \frac{\mathrm{acc}_b (1 - \mathrm{acc}_b)}{n_b - 1}\right],

    and the result is :math:`\sqrt{\max(\widehat{\mathrm{ECE}^2}, 0)}` (or the signed squared
    estimate itself with ``squared=True``). Equal-mass bins are the default, as in the paper.
    Every non-empty bin needs at least 2 samples (weights count as repetitions).

    References
    ----------
    Kumar, Liang & Ma (2019), "Verified uncertainty calibration", NeurIPS.
    """
    data = check_classification(y_true, y_prob, sample_weight)
    return debiased_from_stats(binned_stats(data, kind, n_bins, binning), squared=squared)


def debiased_from_stats(stats: list[BinStats], *, squared: bool = False) -> float:
    """The debiased L2 estimate of :func:`debiased_ece` from per-bin sums (mean over problems)."""
    values = []
    for s in stats:
        nonempty = s.count > 0
        n = s.count[nonempty]
        if (n < 2).any():
            raise ValidationError(
                f"debiased_ece needs at least 2 samples in every non-empty bin; {int((n < 2).sum())} "
                f"bin(s) have fewer with n_bins={s.n_bins}. Use fewer bins or more data."
            )
        acc = s.sum_target[nonempty] / n
        conf = s.sum_score[nonempty] / n
        terms = (acc - conf) ** 2 - acc * (1.0 - acc) / (n - 1.0)
        values.append(float(np.dot(n, terms) / s.total))
    sq = float(np.mean(values))
    return sq if squared else float(np.sqrt(max(sq, 0.0)))
