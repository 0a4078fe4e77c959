"""Turning logits into probabilities and back: softmax, log-softmax, sigmoid, logit.

Every function validates its input (finite numbers, 1-D or 2-D), computes in float64 and
returns float64, whatever the input dtype: float32 logits are first cast to float64, so the
result equals the float64 computation on the same values exactly.
"""

from __future__ import annotations

import numpy as np

from confide._typing import ArrayLike, FloatArray
from confide._validation import as_float_array, check_fraction, check_probabilities
from confide.exceptions import ShapeError
from confide.scores._common import check_axis, check_temperature

__all__ = ["log_softmax", "logit", "sigmoid", "softmax"]


def _shifted_logits(logits: ArrayLike, temperature: float, axis: int) -> tuple[FloatArray, int]:
    """Validate and return ``(x - max(x)) / T`` in float64 (every entry <= 0) and the axis."""
    x = as_float_array(logits, "logits", ndim=(1, 2)).astype(np.float64, copy=False)
    t = check_temperature(temperature)
    ax = check_axis(axis, x.ndim)
    if x.shape[ax] == 0:
        raise ShapeError(
            f"logits has no classes along axis {axis} (shape {x.shape}); "
            "pass at least one logit per row."
        )
    # x - max cannot be NaN (max - max = 0 exactly); it may overflow to -inf for spreads
    # above ~1.8e308, and dividing by a tiny T may too. exp(-inf) = 0 is then the right answer.
    with np.errstate(over="ignore"):
        z: FloatArray = (x - x.max(axis=ax, keepdims=True)) / t
    return z, ax


def softmax(logits: ArrayLike, *, temperature: float = 1.0, axis: int = -1) -> FloatArray:
    r"""Softmax of logits along ``axis``, with optional temperature scaling.

    .. math::

        \operatorname{softmax}(x)_j = \frac{\exp(x_j / T)}{\sum_i \exp(x_i / T)}
                                    = \frac{\exp((x_j - m) / T)}{\sum_i \exp((x_i - m) / T)},
        \qquad m = \max_i x_i .

    The maximum is subtracted first, so no exponential overflows: logits of ``1e4`` and
    ``-1e4`` give exact 0s and 1s without warnings.

    Parameters
    ----------
    logits : array_like, shape (k,) or (n, k)
        Finite logits. A 1-D array is a *single row* of ``k`` logits (not ``n`` binary
        logits: for those use :func:`sigmoid`).
    temperature : float, default 1.0
        Finite ``T > 0``. ``T > 1`` flattens the distribution, ``T < 1`` sharpens it
        (temperature scaling, Guo et al. 2017).
    axis : int, default -1
        The class axis.

    Returns
    -------
    ndarray of float64, same shape as ``logits``
        Probabilities that sum to 1 along ``axis``. float32 input is computed and returned in
        float64.

    Raises
    ------
    confide.exceptions.NonFiniteError
        If ``logits`` holds NaN or an infinity.
    confide.exceptions.ShapeError
        If ``logits`` is not 1-D or 2-D, or ``axis`` is out of range.
    confide.exceptions.ValidationError
        If ``temperature`` is not a finite number > 0.

    References
    ----------
    .. [1] J. S. Bridle, "Probabilistic interpretation of feedforward classification network
       outputs, with relationships to statistical pattern recognition", Neurocomputing, 1990.
    .. [2] I. Goodfellow, Y. Bengio, A. Courville, "Deep Learning", MIT Press, 2016, §4.1
       (numerically stable softmax).
    .. [3] C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger, "On Calibration of Modern Neural
       Networks", ICML 2017 (temperature scaling).

    Examples
    --------
    >>> softmax([0.0, 0.0]).tolist()
    [0.5, 0.5]
    """
    z, ax = _shifted_logits(logits, temperature, axis)
    with np.errstate(under="ignore"):
        e = np.exp(z)
    out: FloatArray = e / e.sum(axis=ax, keepdims=True)
    return out


def log_softmax(logits: ArrayLike, *, temperature: float = 1.0, axis: int = -1) -> FloatArray:
    r"""Logarithm of :func:`softmax`, computed without forming the probabilities.

    .. math::

        \log \operatorname{softmax}(x)_j = \frac{x_j - m}{T}
            - \log \sum_i \exp\!\left(\frac{x_i - m}{T}\right), \qquad m = \max_i x_i .

    The sum is at least 1, so its logarithm never underflows; entries stay finite where
    ``log(softmax)`` would give ``-inf`` (e.g. ``-2e4`` for logits ``[1e4, -1e4]``).

    Parameters
    ----------
    logits : array_like, shape (k,) or (n, k)
        Finite logits; a 1-D array is a single row.
    temperature : float, default 1.0
        Finite ``T > 0``.
    axis : int, default -1
        The class axis.

    Returns
    -------
    ndarray of float64, same shape as ``logits``
        Log-probabilities (all <= 0). float32 input is computed and returned in float64.

    Raises
    ------
    confide.exceptions.NonFiniteError, confide.exceptions.ShapeError,
    confide.exceptions.ValidationError
        As for :func:`softmax`.

    References
    ----------
    .. [1] I. Goodfellow, Y. Bengio, A. Courville, "Deep Learning", MIT Press, 2016, §4.1.
    """
    z, ax = _shifted_logits(logits, temperature, axis)
    with np.errstate(under="ignore"):
        lse = np.log(np.exp(z).sum(axis=ax, keepdims=True))
    out: FloatArray = z - lse
    return out


def sigmoid(logits: ArrayLike, *, temperature: float = 1.0) -> FloatArray:
    r"""Logistic sigmoid of logits, elementwise, with optional temperature scaling.

    .. math::

        \sigma(x) = \frac{1}{1 + e^{-x/T}} =
        \begin{cases}
            1 / (1 + e^{-|z|}) & z \ge 0 \\
            e^{-|z|} / (1 + e^{-|z|}) & z < 0
        \end{cases}, \qquad z = x / T .

    Only ``exp(-|z|) <= 1`` is ever computed, so nothing overflows for large ``|x|``
    (``sigmoid(-1e4)`` is 0 and ``sigmoid(1e4)`` is 1, without warnings).

    Parameters
    ----------
    logits : array_like, shape (n,) or (n, k)
        Finite logits, e.g. the log-odds of ``P(y=1)`` for a binary model, or one column per
        label for a multi-label model.
    temperature : float, default 1.0
        Finite ``T > 0``.

    Returns
    -------
    ndarray of float64, same shape as ``logits``
        Values in ``[0, 1]``. float32 input is computed and returned in float64.

    Raises
    ------
    confide.exceptions.NonFiniteError, confide.exceptions.ShapeError,
    confide.exceptions.ValidationError
        For NaN/infinite logits, an array that is not 1-D or 2-D, or a bad temperature.

    References
    ----------
    .. [1] J. Berkson, "Application of the logistic function to bio-assay", JASA 39, 1944.
    """
    x = as_float_array(logits, "logits", ndim=(1, 2)).astype(np.float64, copy=False)
    t = check_temperature(temperature)
    with np.errstate(over="ignore", under="ignore"):
        z = x / t
        e = np.exp(-np.abs(z))
    out: FloatArray = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out


def logit(p: ArrayLike, *, eps: float | None = None) -> FloatArray:
    r"""Log-odds of probabilities, elementwise: the inverse of :func:`sigmoid`.

    .. math::

        \operatorname{logit}(p) = \log \frac{p}{1 - p} = \log p - \log(1 - p),

    computed as :math:`2 \operatorname{artanh}(2p - 1)` for :math:`|p - 1/2| \le 1/4` and as
    ``log(p) - log1p(-p)`` elsewhere, which keeps a few-ulp relative accuracy everywhere in
    ``[0, 1]`` (also near 1/2, where the log-odds are close to 0). ``p = 0`` gives
    ``-inf`` and ``p = 1`` gives ``+inf`` (without warnings) unless ``eps`` is given, in which
    case ``p`` is first clipped to ``[eps, 1 - eps]``.

    Parameters
    ----------
    p : array_like, shape (n,) or (n, k)
        Probabilities in ``[0, 1]``, elementwise (2-D rows need not sum to 1).
    eps : float, optional
        Clip ``p`` to ``[eps, 1 - eps]`` first; must lie strictly between 0 and 0.5.

    Returns
    -------
    ndarray of float64, same shape as ``p``
        Log-odds. float32 input is computed and returned in float64.

    Raises
    ------
    confide.exceptions.ProbabilityError
        If a value lies outside ``[0, 1]``.
    confide.exceptions.NonFiniteError, confide.exceptions.ShapeError
        For NaN/infinite values or an array that is not 1-D or 2-D.
    confide.exceptions.ValidationError
        If ``eps`` is not strictly between 0 and 0.5.

    References
    ----------
    .. [1] J. Berkson, "Application of the logistic function to bio-assay", JASA 39, 1944.
    """
    # Elementwise: any row sums are allowed, only the [0, 1] range is checked.
    arr = check_probabilities(p, "p", ndim=(1, 2), sum_tolerance=np.inf)
    x = arr.astype(np.float64, copy=False)
    if eps is not None:
        e = check_fraction(eps, "eps", low=0.0, high=0.5)
        x = np.clip(x, e, 1.0 - e)
    with np.errstate(divide="ignore"):
        # Near 1/2, 2p - 1 is exact and arctanh keeps full relative accuracy; elsewhere
        # log(p) - log1p(-p) has no cancellation (|logit| > log 3).
        out: FloatArray = np.where(
            np.abs(x - 0.5) <= 0.25, 2.0 * np.arctanh(2.0 * x - 1.0), np.log(x) - np.log1p(-x)
        )
    return out
