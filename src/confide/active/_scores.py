"""Per-item informativeness scores for pool-based active learning (private).

Every score is float64, one value per pool item, and *higher means more worth labelling*.
Probabilities ``(n, k)`` (or binary ``(n,)``) are scored chunk by chunk of rows, so a pool of
10^6 items x 100 classes in float32 never gets a full float64 copy. Ensemble or MC-dropout
samples ``(m, n, k)`` (or binary ``(m, n)``) go through :func:`confide.scores.ensemble_uncertainty`,
the one place where the total / aleatoric / epistemic decomposition is computed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import entr

from confide._typing import FloatArray
from confide._validation import as_float_array
from confide.active._inputs import check_pool_probs
from confide.exceptions import ShapeError
from confide.scores import EnsembleUncertainty, ensemble_uncertainty

__all__ = [
    "bald_score",
    "entropy_score",
    "least_confidence_score",
    "margin_score",
    "mean_probs",
    "uncertainty_decomposition",
]

#: Elements (rows x classes) scored per chunk: bounds the float64 temporaries to ~8 MiB.
_CHUNK_ELEMENTS = 1 << 20


def _chunked(arr: np.ndarray, fn: Callable[[FloatArray], FloatArray]) -> FloatArray:
    """Apply a row-wise score to validated ``arr`` (``(n,)`` or ``(n, k)``) chunk by chunk.

    Each chunk is cast to float64 and binary ``P(y=1)`` becomes the two columns ``[1-p, p]``
    (as in :mod:`confide.scores`); the input is checked once, before, by the caller.
    """
    n = arr.shape[0]
    width = arr.shape[1] if arr.ndim == 2 else 1
    out = np.empty(n, dtype=np.float64)
    step = max(1, _CHUNK_ELEMENTS // width)
    for start in range(0, n, step):
        c = arr[start : start + step].astype(np.float64)
        out[start : start + step] = fn(np.stack([1.0 - c, c], axis=1) if c.ndim == 1 else c)
    return out


def least_confidence_score(probs: Any) -> FloatArray:
    r"""Least-confidence score: one minus the probability of the predicted class.

    .. math:: s_{\mathrm{LC}}(x) = 1 - \max_j p_j(x), \qquad \text{binary: } 1 - \max(p, 1-p).

    Parameters
    ----------
    probs : array_like, shape (n,) or (n, k)
        Binary ``P(y=1)`` or class probabilities whose rows sum to 1.

    Returns
    -------
    ndarray of float64, shape (n,)
        Values in ``[0, 1 - 1/k]``; higher means less confident (more worth labelling).

    References
    ----------
    .. [1] D. D. Lewis, W. A. Gale, "A Sequential Algorithm for Training Text Classifiers",
       SIGIR 1994. B. Settles, "Active Learning Literature Survey", 2009, sec. 3.1.
    """
    arr = check_pool_probs(probs)
    return _chunked(arr, lambda c: 1.0 - c.max(axis=1))


def margin_score(probs: Any) -> FloatArray:
    r"""Margin score: one minus the gap between the two most probable classes.

    .. math:: s_{\mathrm{M}}(x) = 1 - \bigl(p_{(1)}(x) - p_{(2)}(x)\bigr),
        \qquad \text{binary: } 1 - |2p - 1|.

    Parameters
    ----------
    probs : array_like, shape (n,) or (n, k)
        Binary ``P(y=1)`` or class probabilities whose rows sum to 1.

    Returns
    -------
    ndarray of float64, shape (n,)
        Values in ``[0, 1]``; 1 when the top two classes tie.

    References
    ----------
    .. [1] T. Scheffer, C. Decomain, S. Wrobel, "Active Hidden Markov Models for Information
       Extraction", IDA 2001.
    """
    arr = check_pool_probs(probs)
    k = 2 if arr.ndim == 1 else arr.shape[1]

    def score(c: FloatArray) -> FloatArray:
        top2 = np.partition(c, k - 2, axis=1)[:, k - 2 :]
        out: FloatArray = 1.0 - (top2[:, 1] - top2[:, 0])
        return out

    return _chunked(arr, score)


def entropy_score(probs: Any) -> FloatArray:
    r"""Predictive-entropy score (nats).

    .. math:: s_{\mathrm{H}}(x) = -\sum_j p_j(x) \log p_j(x).

    Parameters
    ----------
    probs : array_like, shape (n,) or (n, k)
        Binary ``P(y=1)`` or class probabilities whose rows sum to 1.

    Returns
    -------
    ndarray of float64, shape (n,)
        Values in ``[0, log k]``.

    References
    ----------
    .. [1] C. E. Shannon, "A Mathematical Theory of Communication", 1948;
       B. Settles, M. Craven, "An Analysis of Active Learning Strategies for Sequence
       Labeling Tasks", EMNLP 2008.
    """
    arr = check_pool_probs(probs)
    k = 2 if arr.ndim == 1 else arr.shape[1]
    return _chunked(arr, lambda c: np.clip(entr(c).sum(axis=1), 0.0, np.log(k)))


def _check_samples(samples: Any) -> np.ndarray:
    arr = as_float_array(samples, "samples", ndim=(2, 3))
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ShapeError(
            f"samples needs at least one member and one item, got shape {arr.shape} "
            "(members, items[, classes])."
        )
    return arr


def _samples_chunked(samples: np.ndarray, field: str) -> np.ndarray:
    """One field of :func:`ensemble_uncertainty`, computed chunk by chunk of items."""
    m, n = samples.shape[0], samples.shape[1]
    width = m * (samples.shape[2] if samples.ndim == 3 else 2)
    step = max(1, _CHUNK_ELEMENTS // width)
    parts = [
        np.asarray(getattr(ensemble_uncertainty(samples[:, s : s + step]), field))
        for s in range(0, n, step)
    ]
    return np.concatenate(parts, axis=0)


def mean_probs(samples: Any) -> FloatArray:
    """Member-averaged probabilities of ``samples`` ``(m, n, k)`` (or binary ``(m, n)``).

    Validated like :func:`confide.scores.ensemble_uncertainty`; returns ``(n, k)`` or ``(n,)``.
    """
    out: FloatArray = _samples_chunked(_check_samples(samples), "mean_probs")
    return out


def bald_score(samples: Any) -> FloatArray:
    r"""BALD: mutual information between the label and the model parameters.

    .. math::

        s_{\mathrm{BALD}}(x) = H\Bigl(\frac{1}{m}\sum_{i=1}^m p^{(i)}(x)\Bigr)
        - \frac{1}{m}\sum_{i=1}^m H\bigl(p^{(i)}(x)\bigr) \;\ge 0,

    the epistemic part of :func:`confide.scores.ensemble_uncertainty` (0 when every member
    agrees). ``samples`` are ensemble members or MC-dropout passes.

    Parameters
    ----------
    samples : array_like, shape (m, n, k) or (m, n)
        Probabilities from ``m`` members for ``n`` pool items (binary: ``P(y=1)``).

    Returns
    -------
    ndarray of float64, shape (n,)
        Mutual information in nats.

    References
    ----------
    .. [1] N. Houlsby, F. Huszár, Z. Ghahramani, M. Lengyel, "Bayesian Active Learning for
       Classification and Preference Learning", arXiv:1112.5745, 2011.
    .. [2] Y. Gal, R. Islam, Z. Ghahramani, "Deep Bayesian Active Learning with Image Data",
       ICML 2017.
    """
    out: FloatArray = _samples_chunked(_check_samples(samples), "epistemic")
    return out


def uncertainty_decomposition(samples: Any) -> EnsembleUncertainty:
    r"""Total, aleatoric and epistemic uncertainty per item (total = aleatoric + epistemic).

    A thin entry point to :func:`confide.scores.ensemble_uncertainty` (members on axis 0,
    nats), returning its frozen :class:`~confide.scores.EnsembleUncertainty`:

    .. math:: H(\bar p) = \tfrac{1}{m}\textstyle\sum_i H(p^{(i)}) + I(y; \theta).

    References
    ----------
    .. [1] S. Depeweg et al., "Decomposition of Uncertainty in Bayesian Deep Learning for
       Efficient and Risk-sensitive Learning", ICML 2018.
    """
    return ensemble_uncertainty(_check_samples(samples))
