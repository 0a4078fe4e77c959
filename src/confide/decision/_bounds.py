r"""Exact binomial tests and Clopper-Pearson bounds on integer counts.

Every function here takes the *counts* (``errors`` out of ``n``), never a rate: the binomial
tail is evaluated at the integer ``errors`` through the regularised incomplete beta function,
so no rounding of ``n * rate`` can move a p-value across a level.

With :math:`E \sim \mathrm{Binomial}(n, \varepsilon)`,

.. math:: p(e; n, \varepsilon) = P(E \le e) = \sum_{i=0}^{e} \binom{n}{i} \varepsilon^i
    (1 - \varepsilon)^{n - i} = I_{1 - \varepsilon}(n - e, e + 1)

is the exact p-value of :math:`H_0: \text{rate} > \varepsilon` after observing ``e`` errors, and
the one-sided Clopper-Pearson upper bound at level :math:`1 - \delta` is the rate at which that
p-value equals :math:`\delta`, :math:`u = B^{-1}(1 - \delta; e + 1, n - e)` (1 when ``e = n``).
The two are dual: ``p(e; n, eps) <= delta`` exactly when ``u <= eps`` (up to the last bit of
the two special functions).

References
----------
Clopper, C. J. and Pearson, E. S. (1934). The use of confidence or fiducial limits illustrated
in the case of the binomial. Biometrika 26(4), 404-413.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from confide._validation import check_fraction
from confide.exceptions import ConfideTypeError, ValidationError

__all__ = [
    "ProportionInterval",
    "binomial_p_value",
    "clopper_pearson_interval",
    "clopper_pearson_lower",
    "clopper_pearson_upper",
    "min_samples_for_zero_errors",
]


def _counts(k: Any, n: Any, k_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer arrays ``k`` and ``n`` (broadcast), with ``0 <= k <= n``."""
    arrays = []
    for value, name in ((k, k_name), (n, "n")):
        arr = np.asarray(value)
        if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
            raise ConfideTypeError(f"{name} must hold integer counts, got {value!r}.")
        if arr.dtype.kind == "f" and (not np.isfinite(arr).all() or (arr != np.round(arr)).any()):
            raise ValidationError(
                f"{name} must hold whole numbers (counts), got {value!r}. Pass the number "
                "of samples and of errors, not rates."
            )
        arrays.append(arr.astype(np.int64))
    kk, nn = np.broadcast_arrays(*arrays)
    if (kk < 0).any() or (kk > nn).any():
        raise ValidationError(
            f"{k_name} must lie between 0 and n, got {k_name}={k!r} with n={n!r}."
        )
    return kk, nn


def _out(x: np.ndarray) -> Any:
    """A float for 0-d results, else a float64 array."""
    x = np.asarray(x, dtype=np.float64)
    return float(x) if x.ndim == 0 else x


def binomial_p_value(errors: Any, n: Any, max_error: float) -> Any:
    r"""Exact p-value of :math:`H_0`: the error rate exceeds ``max_error``.

    .. math:: p = P(\mathrm{Binomial}(n, \varepsilon) \le e) = I_{1-\varepsilon}(n - e, e + 1)

    computed as ``scipy.special.bdtr(e, n, eps)`` on the integer counts. With ``n = 0`` there is
    no evidence and ``p = 1``. The test is exact (and hence valid) for any ``n``.

    Parameters
    ----------
    errors, n : int or array of int
        Observed errors and sample sizes (broadcast together), ``0 <= errors <= n``.
    max_error : float
        The rate :math:`\varepsilon` in (0, 1).

    Returns
    -------
    float or ndarray of float64

    References
    ----------
    Clopper and Pearson (1934); Angelopoulos, A. N., Bates, S., Candès, E. J., Jordan, M. I. and
    Lei, L. (2021). Learn then test: calibrating predictive algorithms to achieve risk control.
    arXiv:2110.01052 (the binomial p-value of section 3.2).
    """
    eps = check_fraction(max_error, "max_error")
    e, nn = _counts(errors, n, "errors")
    p = special.bdtr(e, nn, eps)
    return _out(np.where(nn == 0, 1.0, p))


def clopper_pearson_upper(errors: Any, n: Any, delta: float) -> Any:
    r"""One-sided Clopper-Pearson upper confidence bound at level ``1 - delta``.

    .. math:: u = B^{-1}(1 - \delta;\ e + 1,\ n - e) \quad (e < n), \qquad u = 1 \quad (e = n)

    where :math:`B^{-1}(q; a, b)` is the Beta quantile; :math:`P(\text{rate} \le u) \ge 1 - \delta`.

    Parameters
    ----------
    errors, n : int or array of int
        Observed errors (events) and sample sizes, ``0 <= errors <= n``; ``n = 0`` gives 1.
    delta : float
        Miss probability in (0, 1).

    Returns
    -------
    float or ndarray of float64

    References
    ----------
    Clopper and Pearson (1934).
    """
    d = check_fraction(delta, "delta")
    e, nn = _counts(errors, n, "errors")
    full = e >= nn
    b = np.where(full, 1, nn - e)
    u = special.betaincinv(e + 1.0, b.astype(np.float64), 1.0 - d)
    return _out(np.where(full, 1.0, u))


def clopper_pearson_lower(successes: Any, n: Any, delta: float) -> Any:
    r"""One-sided Clopper-Pearson lower confidence bound at level ``1 - delta``.

    .. math:: \ell = B^{-1}(\delta;\ k,\ n - k + 1) \quad (k > 0), \qquad \ell = 0 \quad (k = 0)

    Parameters
    ----------
    successes, n : int or array of int
        Observed events ``k`` and sample sizes, ``0 <= k <= n``.
    delta : float
        Miss probability in (0, 1).

    Returns
    -------
    float or ndarray of float64

    References
    ----------
    Clopper and Pearson (1934).
    """
    d = check_fraction(delta, "delta")
    k, nn = _counts(successes, n, "successes")
    none = k <= 0
    a = np.where(none, 1, k).astype(np.float64)
    lo = special.betaincinv(a, (nn - k + 1).astype(np.float64), d)
    return _out(np.where(none, 0.0, lo))


@dataclass(frozen=True)
class ProportionInterval:
    """A two-sided Clopper-Pearson interval for a binomial proportion.

    Attributes
    ----------
    estimate : float
        ``k / n`` (NaN when ``n = 0``).
    low, high : float
        Bounds, each a one-sided bound at level ``1 - (1 - confidence_level) / 2``.
    k, n : int
        Events and trials.
    confidence_level : float
    """

    estimate: float
    low: float
    high: float
    k: int
    n: int
    confidence_level: float

    def to_dict(self) -> dict[str, Any]:
        """Plain Python types (NaN as the string "nan")."""
        est: float | str = self.estimate if math.isfinite(self.estimate) else "nan"
        return {
            "estimate": est,
            "low": self.low,
            "high": self.high,
            "k": self.k,
            "n": self.n,
            "confidence_level": self.confidence_level,
        }


def clopper_pearson_interval(
    k: int, n: int, *, confidence_level: float = 0.95
) -> ProportionInterval:
    r"""Two-sided exact (Clopper-Pearson) interval for a proportion ``k / n``.

    .. math:: \left[B^{-1}(\tfrac{\alpha}{2}; k, n - k + 1),\ B^{-1}(1 - \tfrac{\alpha}{2}; k + 1, n - k)\right],
        \qquad \alpha = 1 - \text{confidence\_level}

    with 0 for ``k = 0`` and 1 for ``k = n`` (the formula of ``statsmodels``'
    ``proportion_confint(method="beta")``).

    Parameters
    ----------
    k, n : int
        Events and trials, ``0 <= k <= n``.
    confidence_level : float, default 0.95

    Returns
    -------
    ProportionInterval

    References
    ----------
    Clopper and Pearson (1934).
    """
    cl = check_fraction(confidence_level, "confidence_level")
    half = (1.0 - cl) / 2.0
    low = clopper_pearson_lower(k, n, half)
    high = clopper_pearson_upper(k, n, half)
    kk, nn = int(np.asarray(k)), int(np.asarray(n))
    est = kk / nn if nn > 0 else math.nan
    return ProportionInterval(est, float(low), float(high), kk, nn, cl)


def min_samples_for_zero_errors(max_error: float, delta: float) -> int:
    r"""Smallest ``n`` at which zero errors out of ``n`` certify ``rate <= max_error``.

    .. math:: n_{\min} = \min\{n : (1 - \varepsilon)^n \le \delta\}
        = \left\lceil \frac{\ln \delta}{\ln(1 - \varepsilon)} \right\rceil

    checked with the same binomial tail as :func:`binomial_p_value` (so the two never disagree
    by a rounding). With fewer samples no outcome can reject :math:`H_0`.

    Parameters
    ----------
    max_error, delta : float
        In (0, 1).

    Returns
    -------
    int
    """
    eps = check_fraction(max_error, "max_error")
    d = check_fraction(delta, "delta")
    guess = max(1, math.ceil(math.log(d) / math.log1p(-eps)))

    def ok(m: int) -> bool:
        return bool(special.bdtr(0, m, eps) <= d)

    while guess > 1 and ok(guess - 1):
        guess -= 1
    while not ok(guess):
        guess += 1
    return guess
