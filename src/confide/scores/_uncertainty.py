"""Per-sample confidence and uncertainty scores of a classifier.

Probability inputs follow the package convention: a 1-D array is binary, ``p[i] = P(y_i=1)``,
treated as the two classes ``[1 - p, p]``; a 2-D ``(n, k)`` array has rows that sum to 1.
The predicted class is ``argmax`` with ties going to the lowest index; the scores below depend
only on the sorted probabilities of a row, so a tie changes the class but never the score.
Every score is float64, one value per sample.
"""

from __future__ import annotations

import math

import numpy as np

from confide._typing import ArrayLike, FloatArray
from confide._validation import as_float_array, check_probabilities
from confide.exceptions import ShapeError
from confide.scores._common import (
    as_class_probs,
    check_log_base,
    check_temperature,
    row_entropy,
)

__all__ = ["energy", "entropy", "margin", "max_prob"]


def max_prob(probs: ArrayLike) -> FloatArray:
    r"""Top-label confidence: the probability of the predicted class (maximum softmax probability).

    .. math::

        \operatorname{conf}(p) = \max_j p_j, \qquad
        \text{binary: } \max(p, 1 - p).

    Parameters
    ----------
    probs : array_like, shape (n,) or (n, k)
        Binary ``P(y=1)`` (1-D) or class probabilities with rows summing to 1 (2-D, ``k >= 2``).

    Returns
    -------
    ndarray of float64, shape (n,)
        Values in ``[1/k, 1]``; higher means more confident.

    Raises
    ------
    confide.exceptions.ProbabilityError
        If a value lies outside ``[0, 1]`` or a row does not sum to 1.
    confide.exceptions.NonFiniteError, confide.exceptions.ShapeError
        For NaN/infinite values, the wrong number of dimensions, or fewer than 2 columns.

    References
    ----------
    .. [1] D. Hendrycks, K. Gimpel, "A Baseline for Detecting Misclassified and
       Out-of-Distribution Examples in Neural Networks", ICLR 2017.
    """
    p = as_class_probs(probs)
    out: FloatArray = p.max(axis=1)
    return out


def margin(probs: ArrayLike) -> FloatArray:
    r"""Margin between the two most probable classes.

    .. math::

        \operatorname{margin}(p) = p_{(1)} - p_{(2)}, \qquad
        \text{binary: } |2p - 1|,

    where :math:`p_{(1)} \ge p_{(2)}` are the two largest probabilities of the row. A tie
    between the top two classes gives 0.

    Parameters
    ----------
    probs : array_like, shape (n,) or (n, k)
        Binary ``P(y=1)`` (1-D) or class probabilities with rows summing to 1 (2-D, ``k >= 2``).

    Returns
    -------
    ndarray of float64, shape (n,)
        Values in ``[0, 1]``; higher means more confident.

    Raises
    ------
    confide.exceptions.ProbabilityError, confide.exceptions.NonFiniteError,
    confide.exceptions.ShapeError
        As for :func:`max_prob`.

    References
    ----------
    .. [1] T. Scheffer, C. Decomain, S. Wrobel, "Active Hidden Markov Models for Information
       Extraction", IDA 2001 (margin sampling).
    """
    arr = check_probabilities(probs, "probs", ndim=(1, 2))
    if arr.ndim == 1:
        out: FloatArray = np.abs(2.0 * arr.astype(np.float64) - 1.0)
        return out
    p = as_class_probs(arr)
    k = p.shape[1]
    top2 = np.partition(p, k - 2, axis=1)[:, k - 2 :]
    out = top2[:, 1] - top2[:, 0]
    return out


def entropy(probs: ArrayLike, *, normalize: bool = False, base: float = math.e) -> FloatArray:
    r"""Shannon entropy of each row of probabilities (predictive entropy).

    .. math::

        H(p) = -\sum_{j=1}^{k} p_j \log_b p_j, \qquad 0 \log 0 = 0,

    and with ``normalize=True`` :math:`H(p) / \log k \in [0, 1]` (0 for a one-hot row, 1 for
    the uniform row), which does not depend on the base ``b``. Results are clipped to
    ``[0, log_b k]`` to remove rounding only.

    Parameters
    ----------
    probs : array_like, shape (n,) or (n, k)
        Binary ``P(y=1)`` (1-D, treated as two classes ``[1 - p, p]``) or class probabilities
        with rows summing to 1 (2-D, ``k >= 2``).
    normalize : bool, default False
        Divide by ``log k`` so that the result lies in ``[0, 1]``.
    base : float, default e
        Base of the logarithm (> 1): ``e`` gives nats, ``2`` gives bits. Ignored when
        ``normalize=True``.

    Returns
    -------
    ndarray of float64, shape (n,)
        Entropy per sample; higher means *less* confident.

    Raises
    ------
    confide.exceptions.ProbabilityError, confide.exceptions.NonFiniteError,
    confide.exceptions.ShapeError
        As for :func:`max_prob`.
    confide.exceptions.ValidationError
        If ``base`` is not a finite number > 1.

    References
    ----------
    .. [1] C. E. Shannon, "A Mathematical Theory of Communication", Bell System Technical
       Journal 27, 1948.
    """
    log_base = check_log_base(base)
    p = as_class_probs(probs)
    if normalize:
        return row_entropy(p, math.log(p.shape[1]))
    return row_entropy(p, log_base)


def energy(logits: ArrayLike, *, temperature: float = 1.0) -> FloatArray:
    r"""Free energy of each row of logits (energy-based out-of-distribution score).

    .. math::

        E(x; T) = -T \log \sum_{j=1}^{k} \exp(x_j / T)
                = -\left(m + T \log \sum_j \exp\!\left(\frac{x_j - m}{T}\right)\right),
        \qquad m = \max_j x_j .

    **Sign:** *lower* energy means *more* in-distribution (more confident). To use it as a
    confidence score where higher is better, take ``-energy(logits)``. Computed with the
    maximum subtracted, so logits of ``±1e4`` do not overflow.

    Parameters
    ----------
    logits : array_like, shape (n, k)
        Finite logits, one row per sample. A single row must be passed as ``(1, k)``; a binary
        model with one logit ``z`` per sample is the two-class row ``[0, z]``.
    temperature : float, default 1.0
        Finite ``T > 0`` (Liu et al. use ``T = 1``).

    Returns
    -------
    ndarray of float64, shape (n,)
        Energy per sample.

    Raises
    ------
    confide.exceptions.ShapeError
        If ``logits`` is not 2-D or has no columns.
    confide.exceptions.NonFiniteError
        If ``logits`` holds NaN or an infinity.
    confide.exceptions.ValidationError
        If ``temperature`` is not a finite number > 0.

    References
    ----------
    .. [1] W. Liu, X. Wang, J. Owens, Y. Li, "Energy-based Out-of-distribution Detection",
       NeurIPS 2020.
    """
    x = as_float_array(logits, "logits", ndim=(1, 2)).astype(np.float64, copy=False)
    if x.ndim == 1:
        raise ShapeError(
            f"energy needs logits as an (n, k) array, got 1-D with shape {x.shape}. Pass a "
            "single row as logits[None, :]; for a binary model with one logit z per sample "
            "pass np.column_stack([np.zeros_like(z), z])."
        )
    if x.shape[1] == 0:
        raise ShapeError(f"logits has no columns (shape {x.shape}); pass at least one logit.")
    t = check_temperature(temperature)
    m = x.max(axis=1)
    with np.errstate(over="ignore", under="ignore"):
        z = (x - m[:, None]) / t
        s = np.exp(z).sum(axis=1)
    out: FloatArray = -(m + t * np.log(s))
    return out
