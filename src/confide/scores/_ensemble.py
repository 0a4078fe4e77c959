"""Uncertainty of an ensemble of classifiers, split into aleatoric and epistemic parts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from confide._typing import ArrayLike, FloatArray
from confide._validation import as_float_array, default_sum_tolerance
from confide.exceptions import ProbabilityError, ShapeError
from confide.scores._common import check_axis, check_log_base, readonly, row_entropy

__all__ = ["EnsembleUncertainty", "ensemble_uncertainty"]


@dataclass(frozen=True, eq=False)
class EnsembleUncertainty:
    """Predictive uncertainty of an ensemble, decomposed per sample.

    ``total = aleatoric + epistemic`` (up to rounding). The arrays are float64 and read-only.

    Attributes
    ----------
    mean_probs : ndarray, shape (n, k) or (n,)
        Ensemble-averaged probabilities; ``(n,)`` holding ``P(y=1)`` for binary input.
    total : ndarray, shape (n,)
        Entropy of the mean prediction (total predictive uncertainty).
    aleatoric : ndarray, shape (n,)
        Mean of the members' entropies (expected data uncertainty).
    epistemic : ndarray, shape (n,)
        Mutual information between the prediction and the member, ``total - aleatoric``
        (the BALD score), clipped at 0 to remove rounding only.
    """

    mean_probs: FloatArray
    total: FloatArray
    aleatoric: FloatArray
    epistemic: FloatArray

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as JSON-safe nested lists of Python floats."""
        return {
            "mean_probs": self.mean_probs.tolist(),
            "total": self.total.tolist(),
            "aleatoric": self.aleatoric.tolist(),
            "epistemic": self.epistemic.tolist(),
        }


def _check_member_probs(member_probs: ArrayLike, axis: int) -> tuple[FloatArray, bool]:
    """Return the probabilities as float64 ``(m, n, k)`` and whether the input was binary."""
    arr = as_float_array(member_probs, "member_probs", min_samples=0)
    if arr.ndim not in (2, 3):
        raise ShapeError(
            f"member_probs must be 3-D (members, samples, classes) or, for binary P(y=1), "
            f"2-D (members, samples); got {arr.ndim}-D with shape {arr.shape}."
        )
    ax = check_axis(axis, arr.ndim)
    if arr.ndim == 3 and ax == 2:
        raise ShapeError(
            f"axis={axis} points at the last axis, which holds the classes; the member axis "
            "must be 0 or 1 for a 3-D member_probs."
        )
    p = np.moveaxis(arr, ax, 0).astype(np.float64)
    if p.shape[0] == 0 or p.shape[1] == 0:
        raise ShapeError(
            f"member_probs needs at least one member and one sample, got {p.shape[0]} member(s) "
            f"and {p.shape[1]} sample(s) (shape {arr.shape}, member axis {axis})."
        )
    if p.ndim == 3 and p.shape[2] < 2:
        raise ShapeError(
            f"member_probs must have at least 2 classes on its last axis, got shape {arr.shape}. "
            "For binary problems pass P(y=1) as a 2-D (members, samples) array."
        )
    out = (p < 0) | (p > 1)
    if out.any():
        first = tuple(int(i) for i in np.argwhere(out)[0])
        raise ProbabilityError(
            f"member_probs must hold probabilities in [0, 1]: {int(out.sum())} value(s) outside, "
            f"the first at member {first[0]}, sample {first[1]}: {float(p[first])!r}. "
            "If these are logits, apply confide.scores.softmax / sigmoid first."
        )
    if p.ndim == 2:
        return np.stack([1.0 - p, p], axis=-1), True
    tol = default_sum_tolerance(arr.dtype, p.shape[2])
    sums = p.sum(axis=2)
    dev = np.abs(sums - 1.0)
    bad = dev > tol
    if bad.any():
        i, j = (int(v) for v in np.unravel_index(np.argmax(dev), dev.shape))
        raise ProbabilityError(
            f"each row of member_probs must sum to 1 over the classes (tolerance {tol:.1e}): "
            f"{int(bad.sum())} row(s) do not, the worst is member {i}, sample {j} summing to "
            f"{float(sums[i, j])!r}. Normalise the rows, or apply softmax to logits."
        )
    return p, False


def ensemble_uncertainty(
    member_probs: ArrayLike, *, axis: int = 0, base: float = math.e
) -> EnsembleUncertainty:
    r"""Total, aleatoric and epistemic uncertainty of an ensemble's predictions.

    With member predictions :math:`p^{(1)}, \dots, p^{(m)}` for one sample and
    :math:`\bar p = \frac{1}{m} \sum_i p^{(i)}`:

    .. math::

        \underbrace{H(\bar p)}_{\text{total}}
        = \underbrace{\frac{1}{m} \sum_{i=1}^{m} H(p^{(i)})}_{\text{aleatoric}}
        + \underbrace{I(y; \theta)}_{\text{epistemic}},
        \qquad H(p) = -\sum_j p_j \log_b p_j .

    The epistemic part is the mutual information between the label and the ensemble member
    (the BALD score of Houlsby et al.); it is >= 0 by Jensen's inequality and is 0 when all
    members agree. Members are weighted equally.

    Parameters
    ----------
    member_probs : array_like, shape (m, n, k) or (m, n)
        Probabilities from ``m`` members for ``n`` samples. 3-D: ``k >= 2`` classes on the last
        axis, each row summing to 1. 2-D: binary ``P(y=1)``.
    axis : int, default 0
        The member axis. For 3-D input it cannot be the last (class) axis; e.g. ``axis=1`` for
        an ``(n, m, k)`` array.
    base : float, default e
        Base of the logarithm (> 1): ``e`` gives nats, ``2`` gives bits.

    Returns
    -------
    EnsembleUncertainty
        ``mean_probs`` (``(n, k)``, or ``(n,)`` for binary input) and the per-sample
        ``total``, ``aleatoric`` and ``epistemic`` uncertainties.

    Raises
    ------
    confide.exceptions.ProbabilityError
        If a value lies outside ``[0, 1]`` or a member's row does not sum to 1.
    confide.exceptions.NonFiniteError
        If ``member_probs`` holds NaN or an infinity.
    confide.exceptions.ShapeError
        If ``member_probs`` is not 2-D or 3-D, is empty, has fewer than 2 classes, or
        ``axis`` is out of range or the class axis.
    confide.exceptions.ValidationError
        If ``base`` is not a finite number > 1.

    References
    ----------
    .. [1] N. Houlsby, F. Huszár, Z. Ghahramani, M. Lengyel, "Bayesian Active Learning for
       Classification and Preference Learning", arXiv:1112.5745, 2011.
    .. [2] S. Depeweg, J. M. Hernández-Lobato, F. Doshi-Velez, S. Udluft, "Decomposition of
       Uncertainty in Bayesian Deep Learning for Efficient and Risk-sensitive Learning",
       ICML 2018.
    """
    log_base = check_log_base(base)
    p, binary = _check_member_probs(member_probs, axis)
    mean = p.mean(axis=0)
    total = row_entropy(mean, log_base)
    aleatoric = row_entropy(p, log_base).mean(axis=0)
    epistemic = np.maximum(total - aleatoric, 0.0)
    return EnsembleUncertainty(
        mean_probs=readonly(mean[:, 1].copy() if binary else mean),
        total=readonly(total),
        aleatoric=readonly(aleatoric),
        epistemic=readonly(epistemic),
    )
