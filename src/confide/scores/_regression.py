"""Uncertainty of Gaussian regressors: prediction intervals and ensemble moments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

from confide._typing import ArrayLike, FloatArray
from confide._validation import as_float_array, check_fraction
from confide.exceptions import ShapeError, ValidationError
from confide.scores._common import check_axis, readonly

__all__ = [
    "GaussianEnsembleMoments",
    "PredictionInterval",
    "gaussian_interval",
    "gaussian_mixture_moments",
]


@dataclass(frozen=True, eq=False)
class PredictionInterval:
    """A central prediction interval per sample.

    Attributes
    ----------
    lower, upper : ndarray of float64
        Interval bounds, same shape as the predicted means (read-only).
    confidence_level : float
        Nominal probability that the interval holds the target, e.g. 0.9.
    """

    lower: FloatArray
    upper: FloatArray
    confidence_level: float

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as JSON-safe Python lists and floats."""
        return {
            "lower": self.lower.tolist(),
            "upper": self.upper.tolist(),
            "confidence_level": float(self.confidence_level),
        }


def _check_mean_variance(
    mean: ArrayLike,
    variance: ArrayLike,
    mean_name: str,
    var_name: str,
    ndim: tuple[int, ...],
    min_samples: int,
    hint: str,
) -> tuple[FloatArray, FloatArray]:
    arrays = []
    for value, name in ((mean, mean_name), (variance, var_name)):
        arr = as_float_array(value, name, min_samples=min_samples)
        if arr.ndim not in ndim:
            want = " or ".join(f"{d}-D" for d in ndim)
            raise ShapeError(
                f"{name} must be {want}, got {arr.ndim}-D with shape {arr.shape}.{hint}"
            )
        arrays.append(arr.astype(np.float64, copy=False))
    mu, var = arrays
    if mu.shape != var.shape:
        raise ShapeError(
            f"{mean_name} and {var_name} must have the same shape, got {mu.shape} and {var.shape}."
        )
    neg = var < 0
    if neg.any():
        first = tuple(int(i) for i in np.argwhere(neg)[0])
        where = first[0] if len(first) == 1 else first
        raise ValidationError(
            f"{var_name} must be non-negative: {int(neg.sum())} negative value(s), the first at "
            f"index {where}: {float(var[first])!r}. Pass variances (squared standard "
            "deviations), not log-variances."
        )
    return mu, var


def gaussian_interval(
    mean: ArrayLike, variance: ArrayLike, *, confidence_level: float = 0.9
) -> PredictionInterval:
    r"""Central prediction interval of a Gaussian predictive distribution.

    .. math::

        [\mu - z\,\sigma,\ \mu + z\,\sigma], \qquad
        z = \Phi^{-1}\!\left(\frac{1 + c}{2}\right), \quad \sigma = \sqrt{\sigma^2},

    where :math:`\Phi^{-1}` is the standard normal quantile function
    (:func:`scipy.stats.norm.ppf`) and :math:`c` the confidence level; e.g. ``c = 0.9`` gives
    ``z ≈ 1.645``. A zero variance gives the point interval ``[mu, mu]``.

    Parameters
    ----------
    mean : array_like, shape (n,) or (n, d)
        Predicted means.
    variance : array_like, same shape as ``mean``
        Predicted variances, finite and >= 0.
    confidence_level : float, default 0.9
        Strictly between 0 and 1.

    Returns
    -------
    PredictionInterval
        ``lower`` and ``upper`` (float64, shape of ``mean``) and the ``confidence_level``.

    Raises
    ------
    confide.exceptions.ValidationError
        If a variance is negative or ``confidence_level`` is not strictly between 0 and 1.
    confide.exceptions.ShapeError
        If ``mean`` and ``variance`` differ in shape or are not 1-D or 2-D.
    confide.exceptions.NonFiniteError
        If either holds NaN or an infinity.

    References
    ----------
    .. [1] G. Casella, R. L. Berger, "Statistical Inference", 2nd ed., Duxbury, 2002, §9.2.
    """
    mu, var = _check_mean_variance(
        mean, variance, "mean", "variance", (1, 2), 1, " Pass one value per sample (and output)."
    )
    c = check_fraction(confidence_level, "confidence_level")
    # isf((1 - c) / 2) == ppf((1 + c) / 2), without losing digits when c is close to 1.
    z = float(norm.isf((1.0 - c) / 2.0))
    half = z * np.sqrt(var)
    return PredictionInterval(
        lower=readonly(mu - half), upper=readonly(mu + half), confidence_level=c
    )


@dataclass(frozen=True, eq=False)
class GaussianEnsembleMoments:
    """Mean and variance of an equally weighted mixture of Gaussian predictions, per sample.

    ``total = aleatoric + epistemic``. The arrays are float64, shape (n,), read-only.

    Attributes
    ----------
    mean : ndarray
        Mixture mean: the average of the members' means.
    total : ndarray
        Mixture (total predictive) variance.
    aleatoric : ndarray
        Average of the members' variances (data noise).
    epistemic : ndarray
        Variance of the members' means around the mixture mean (model disagreement).
    """

    mean: FloatArray
    total: FloatArray
    aleatoric: FloatArray
    epistemic: FloatArray

    def interval(self, confidence_level: float = 0.9) -> PredictionInterval:
        """Gaussian interval with the mixture's mean and total variance (moment matching)."""
        return gaussian_interval(self.mean, self.total, confidence_level=confidence_level)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as JSON-safe lists of Python floats."""
        return {
            "mean": self.mean.tolist(),
            "total": self.total.tolist(),
            "aleatoric": self.aleatoric.tolist(),
            "epistemic": self.epistemic.tolist(),
        }


def gaussian_mixture_moments(
    means: ArrayLike, variances: ArrayLike, *, axis: int = 0
) -> GaussianEnsembleMoments:
    r"""Moments of an ensemble of Gaussian regressors, split into aleatoric and epistemic parts.

    With member predictions :math:`\mathcal N(\mu_i, \sigma_i^2)`, :math:`i = 1..m`, for one
    sample, the equally weighted mixture has

    .. math::

        \mu_* = \frac{1}{m} \sum_i \mu_i, \qquad
        \sigma_*^2 = \underbrace{\frac{1}{m} \sum_i \sigma_i^2}_{\text{aleatoric}}
                   + \underbrace{\frac{1}{m} \sum_i (\mu_i - \mu_*)^2}_{\text{epistemic}} .

    The epistemic term is the population variance of the means (divisor ``m``), which makes
    ``total`` the exact variance of the mixture; it is computed around :math:`\mu_*` (two
    passes), not as :math:`E[\mu^2] - \mu_*^2`, to avoid cancellation.

    Parameters
    ----------
    means : array_like, shape (m, n)
        Each member's predicted mean for each sample.
    variances : array_like, shape (m, n)
        Each member's predicted variance, finite and >= 0.
    axis : int, default 0
        The member axis (``axis=1`` for ``(n, m)`` arrays).

    Returns
    -------
    GaussianEnsembleMoments
        ``mean``, ``total``, ``aleatoric`` and ``epistemic``, each of shape (n,).

    Raises
    ------
    confide.exceptions.ValidationError
        If a variance is negative.
    confide.exceptions.ShapeError
        If the arrays are not 2-D, differ in shape, are empty, or ``axis`` is out of range.
    confide.exceptions.NonFiniteError
        If either holds NaN or an infinity.

    References
    ----------
    .. [1] B. Lakshminarayanan, A. Pritzel, C. Blundell, "Simple and Scalable Predictive
       Uncertainty Estimation using Deep Ensembles", NeurIPS 2017, §2.4.
    """
    mu, var = _check_mean_variance(
        means,
        variances,
        "means",
        "variances",
        (2,),
        0,
        " Pass (members, samples) arrays, e.g. np.stack of the members' predictions.",
    )
    ax = check_axis(axis, 2)
    mu = np.moveaxis(mu, ax, 0)
    var = np.moveaxis(var, ax, 0)
    if mu.shape[0] == 0 or mu.shape[1] == 0:
        raise ShapeError(
            f"means needs at least one member and one sample, got shape {mu.shape} "
            f"with the members on axis {axis}."
        )
    center = mu.mean(axis=0)
    aleatoric = var.mean(axis=0)
    epistemic = ((mu - center) ** 2).mean(axis=0)
    return GaussianEnsembleMoments(
        mean=readonly(center),
        total=readonly(aleatoric + epistemic),
        aleatoric=readonly(aleatoric),
        epistemic=readonly(epistemic),
    )
