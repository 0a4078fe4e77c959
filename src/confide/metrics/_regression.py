"""Scores for probabilistic regression: interval coverage and width, Gaussian NLL, CRPS, calibration.

Every function takes one target per sample: 1-D arrays of equal length, ``(y_true, mean,
variance)`` or ``(y_true, lower, upper)``, and an optional non-negative ``sample_weight``.
The result is a weighted mean over samples, computed in float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtr
from scipy.stats import norm

from confide._validation import (
    as_float_array,
    check_consistent_length,
    check_positive_int,
    check_sample_weight,
)
from confide.exceptions import ValidationError

__all__ = [
    "crps_gaussian",
    "gaussian_nll",
    "interval_coverage",
    "interval_width",
    "regression_calibration_error",
]

_LOG_2PI = float(np.log(2.0 * np.pi))
_INV_SQRT_PI = float(1.0 / np.sqrt(np.pi))


def _vector(x: Any, name: str) -> np.ndarray:
    return as_float_array(x, name, ndim=1).astype(np.float64, copy=False)


def _weighted_mean(values: np.ndarray, w: np.ndarray | None) -> float:
    if w is None:
        return float(np.mean(values, dtype=np.float64))
    total = float(w.sum())
    if total <= 0:
        raise ValidationError("all sample weights are 0: nothing to average.")
    return float(np.dot(w, values) / total)


def _check_variance(var: np.ndarray, name: str, *, positive: bool) -> None:
    bad = var <= 0 if positive else var < 0
    if bad.any():
        i = int(np.argmax(bad))
        need = "strictly positive" if positive else "non-negative"
        extra = (
            " A zero variance gives this score no finite value; add a small floor, "
            "e.g. np.maximum(variance, 1e-12)."
            if positive
            else ""
        )
        raise ValidationError(
            f"{name} must be {need}: {int(bad.sum())} value(s) are not, the first at index {i}: "
            f"{float(var[i])!r}. Pass variances (squared standard deviations), not "
            f"log-variances or standard deviations.{extra}"
        )


def _check_gaussian(
    y_true: Any,
    mean: Any,
    variance: Any,
    sample_weight: Any,
    *,
    positive: bool,
    y_name: str = "y_true",
    min_samples: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate ``(y, mean, variance, weight)``: 1-D float64, same length, variance >= 0 (or > 0)."""
    y = _vector(y_true, y_name)
    mu = _vector(mean, "mean")
    var = _vector(variance, "variance")
    n = check_consistent_length(**{y_name: y, "mean": mu, "variance": var})
    if n < min_samples:
        raise ValidationError(f"this needs at least {min_samples} samples, got {n}.")
    _check_variance(var, "variance", positive=positive)
    w = check_sample_weight(sample_weight, n)
    return y, mu, var, w


def interval_coverage(y_true: Any, lower: Any, upper: Any, *, sample_weight: Any = None) -> float:
    r"""Fraction of targets inside their prediction interval (PICP).

    .. math::

        \mathrm{coverage} = \frac{\sum_i w_i\,[\ell_i \le y_i \le u_i]}{\sum_i w_i},

    with closed intervals (a target on a bound counts as covered) and :math:`w_i = 1` by
    default. For a well-calibrated central interval of level :math:`c` the expected coverage
    is :math:`c`.

    Parameters
    ----------
    y_true : array_like, shape (n,)
        Observed targets.
    lower, upper : array_like, shape (n,)
        Interval bounds with ``lower <= upper``.
    sample_weight : array_like, shape (n,), optional
        Non-negative weights.

    Returns
    -------
    float
        Coverage in [0, 1].

    Raises
    ------
    confide.exceptions.ValidationError
        If some ``lower > upper``, or every weight is 0.
    confide.exceptions.ShapeError
        If the arrays are not 1-D or differ in length.
    confide.exceptions.NonFiniteError
        If an input holds NaN or an infinity.

    References
    ----------
    .. [1] A. Khosravi, S. Nahavandi, D. Creighton, A. F. Atiya, "Comprehensive Review of
       Neural Network-Based Prediction Intervals and New Advances", IEEE Trans. Neural
       Networks 22(9), 2011 (PICP).
    """
    y = _vector(y_true, "y_true")
    lo, hi = _check_bounds(lower, upper)
    n = check_consistent_length(y_true=y, lower=lo, upper=hi)
    w = check_sample_weight(sample_weight, n)
    inside = ((lo <= y) & (y <= hi)).astype(np.float64)
    return _weighted_mean(inside, w)


def _check_bounds(lower: Any, upper: Any) -> tuple[np.ndarray, np.ndarray]:
    lo = _vector(lower, "lower")
    hi = _vector(upper, "upper")
    check_consistent_length(lower=lo, upper=hi)
    bad = lo > hi
    if bad.any():
        i = int(np.argmax(bad))
        raise ValidationError(
            f"lower must not exceed upper: {int(bad.sum())} interval(s) are reversed, the first "
            f"at index {i} ({float(lo[i])!r} > {float(hi[i])!r}). Check the argument order."
        )
    return lo, hi


def interval_width(lower: Any, upper: Any, *, sample_weight: Any = None) -> float:
    r"""Mean width of the prediction intervals (MPIW).

    .. math::

        \mathrm{width} = \frac{\sum_i w_i\,(u_i - \ell_i)}{\sum_i w_i}.

    Report it next to :func:`interval_coverage`: wide intervals buy coverage cheaply.

    Parameters
    ----------
    lower, upper : array_like, shape (n,)
        Interval bounds with ``lower <= upper``.
    sample_weight : array_like, shape (n,), optional
        Non-negative weights.

    Returns
    -------
    float
        Mean width, >= 0, in the units of the target.

    Raises
    ------
    confide.exceptions.ValidationError
        If some ``lower > upper``, or every weight is 0.
    confide.exceptions.ShapeError
        If the arrays are not 1-D or differ in length.

    References
    ----------
    .. [1] A. Khosravi et al., IEEE Trans. Neural Networks 22(9), 2011 (MPIW).
    """
    lo, hi = _check_bounds(lower, upper)
    w = check_sample_weight(sample_weight, lo.shape[0])
    return _weighted_mean(hi - lo, w)


def gaussian_nll(y_true: Any, mean: Any, variance: Any, *, sample_weight: Any = None) -> float:
    r"""Mean negative log-likelihood of the targets under Gaussian predictions.

    .. math::

        \mathrm{NLL} = \frac{1}{\sum_i w_i} \sum_i w_i \left[ \tfrac12 \log(2\pi\sigma_i^2)
        + \frac{(y_i - \mu_i)^2}{2\sigma_i^2} \right],

    the exact value, constant :math:`\tfrac12\log 2\pi` included (it equals
    ``-norm.logpdf(y, mean, sqrt(variance))`` averaged). Lower is better; it is a strictly
    proper scoring rule.

    Parameters
    ----------
    y_true : array_like, shape (n,)
        Observed targets.
    mean : array_like, shape (n,)
        Predicted means :math:`\mu_i`.
    variance : array_like, shape (n,)
        Predicted variances :math:`\sigma_i^2`, strictly positive.
    sample_weight : array_like, shape (n,), optional
        Non-negative weights.

    Returns
    -------
    float
        Mean NLL in nats.

    Raises
    ------
    confide.exceptions.ValidationError
        If a variance is <= 0 or every weight is 0.
    confide.exceptions.ShapeError
        If the arrays are not 1-D or differ in length.
    confide.exceptions.NonFiniteError
        If an input holds NaN or an infinity.

    References
    ----------
    .. [1] T. Gneiting, A. E. Raftery, "Strictly Proper Scoring Rules, Prediction, and
       Estimation", JASA 102(477), 2007, §4.1 (logarithmic score).
    """
    y, mu, var, w = _check_gaussian(y_true, mean, variance, sample_weight, positive=True)
    r = y - mu
    per = 0.5 * (_LOG_2PI + np.log(var) + r * r / var)
    return _weighted_mean(per, w)


def crps_gaussian(y_true: Any, mean: Any, variance: Any, *, sample_weight: Any = None) -> float:
    r"""Mean continuous ranked probability score of Gaussian predictions (closed form).

    The CRPS of a predictive CDF :math:`F` at :math:`y` is
    :math:`\int_{-\infty}^{\infty} (F(x) - [y \le x])^2\,dx`. For
    :math:`F = \mathcal N(\mu, \sigma^2)` and :math:`z = (y - \mu)/\sigma`:

    .. math::

        \mathrm{CRPS} = \sigma \left[ z\,(2\Phi(z) - 1) + 2\varphi(z) - \frac{1}{\sqrt\pi} \right],

    where :math:`\Phi, \varphi` are the standard normal CDF and density. A zero variance
    gives the absolute error :math:`|y - \mu|` (the limit). The result is the weighted mean
    over samples, in the units of the target; lower is better.

    Parameters
    ----------
    y_true : array_like, shape (n,)
        Observed targets.
    mean : array_like, shape (n,)
        Predicted means.
    variance : array_like, shape (n,)
        Predicted variances, >= 0.
    sample_weight : array_like, shape (n,), optional
        Non-negative weights.

    Returns
    -------
    float
        Mean CRPS, >= 0.

    Raises
    ------
    confide.exceptions.ValidationError
        If a variance is negative or every weight is 0.
    confide.exceptions.ShapeError
        If the arrays are not 1-D or differ in length.
    confide.exceptions.NonFiniteError
        If an input holds NaN or an infinity.

    References
    ----------
    .. [1] T. Gneiting, A. E. Raftery, "Strictly Proper Scoring Rules, Prediction, and
       Estimation", JASA 102(477), 2007, eq. (21).
    """
    y, mu, var, w = _check_gaussian(y_true, mean, variance, sample_weight, positive=False)
    sigma = np.sqrt(var)
    r = y - mu
    per = np.abs(r)
    pos = sigma > 0
    if pos.any():
        s = sigma[pos]
        z = r[pos] / s
        per[pos] = s * (z * (2.0 * ndtr(z) - 1.0) + 2.0 * norm.pdf(z) - _INV_SQRT_PI)
    return _weighted_mean(per, w)


def regression_calibration_error(
    y_true: Any,
    mean: Any,
    variance: Any,
    *,
    n_levels: int = 99,
    sample_weight: Any = None,
) -> float:
    r"""Miscalibration area of Gaussian predictions: mean gap between quantile levels and hits.

    Each sample's probability integral transform (PIT) is
    :math:`u_i = F_i(y_i) = \Phi\big((y_i - \mu_i)/\sigma_i\big)`, and
    :math:`y_i \le F_i^{-1}(p) \iff u_i \le p`. At the levels
    :math:`p_j = j / (m + 1)`, :math:`j = 1, \dots, m` (``m = n_levels``; the default 99 gives
    0.01, 0.02, ..., 0.99), the observed fraction is
    :math:`\hat p_j = \sum_i w_i [u_i \le p_j] / \sum_i w_i`, and

    .. math::

        \mathrm{error} = \frac{1}{m} \sum_{j=1}^{m} \left| \hat p_j - p_j \right| .

    This is a Riemann-sum approximation of the area between the calibration
    curve :math:`p \mapsto \hat p(p)` and the diagonal, in [0, 0.5]; 0 means perfectly
    calibrated quantiles (up to sampling noise, about :math:`0.8\sqrt{p(1-p)/n}` per level).
    Over-wide predictions (variance too large) and over-narrow ones both increase it.

    Parameters
    ----------
    y_true : array_like, shape (n,)
        Observed targets.
    mean : array_like, shape (n,)
        Predicted means.
    variance : array_like, shape (n,)
        Predicted variances, strictly positive.
    n_levels : int, default 99
        Number :math:`m` of equally spaced quantile levels in (0, 1).
    sample_weight : array_like, shape (n,), optional
        Non-negative weights.

    Returns
    -------
    float
        Miscalibration area in [0, 0.5].

    Raises
    ------
    confide.exceptions.ValidationError
        If a variance is <= 0, ``n_levels < 1``, or every weight is 0.
    confide.exceptions.ShapeError
        If the arrays are not 1-D or differ in length.
    confide.exceptions.NonFiniteError
        If an input holds NaN or an infinity.

    References
    ----------
    .. [1] V. Kuleshov, N. Fenner, S. Ermon, "Accurate Uncertainties for Deep Learning Using
       Calibrated Regression", ICML 2018, §3.5 (calibration error).
    .. [2] K. Tran, W. Neiswanger, J. Yoon, Q. Zhang, E. Xing, Z. W. Ulissi, "Methods for
       comparing uncertainty quantifications for material property predictions", Machine
       Learning: Science and Technology 1(2), 2020 (miscalibration area).
    """
    m = check_positive_int(n_levels, "n_levels")
    y, mu, var, w = _check_gaussian(y_true, mean, variance, sample_weight, positive=True)
    u = ndtr((y - mu) / np.sqrt(var))
    levels = np.arange(1, m + 1, dtype=np.float64) / (m + 1)
    order = np.argsort(u, kind="stable")
    u_sorted = u[order]
    cum = np.arange(1, u.shape[0] + 1, dtype=np.float64) if w is None else np.cumsum(w[order])
    total = float(cum[-1])
    if total <= 0:
        raise ValidationError("all sample weights are 0: nothing to average.")
    # number (weight) of u_i <= p_j: the prefix up to the last sorted u_i <= p_j
    k = np.searchsorted(u_sorted, levels, side="right")
    hits = np.where(k > 0, cum[np.maximum(k - 1, 0)], 0.0) / total
    return float(np.mean(np.abs(hits - levels)))
