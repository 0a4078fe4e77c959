r"""Kolmogorov–Smirnov calibration error (Gupta et al. 2021).

Sort the samples by score and compare the cumulative observed and predicted frequencies:

.. math::

    \tilde h_i = \frac{1}{W} \sum_{j \le i} w_j f_j, \qquad
    h_i = \frac{1}{W} \sum_{j \le i} w_j y_j, \qquad
    \mathrm{KS} = \max_i \lvert h_i - \tilde h_i \rvert .

It is the sup-distance between the two cumulative curves, needs no bins, and is the
``sup_s |E[(y - f) 1{f <= s}]|`` of the empirical distribution.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from confide.metrics._smooth import _score_target_pairs

__all__ = ["ks_calibration_error"]


def _ks_one(score: np.ndarray, target: np.ndarray, weight: np.ndarray | None) -> float:
    order = np.argsort(score, kind="stable")
    s = score[order]
    diff = target[order] - s
    if weight is not None:
        w = weight[order]
        total = float(w.sum())
        diff = diff * w
    else:
        total = float(len(s))
    cum = np.cumsum(diff)
    # the curves are only defined after a whole tie group: compare at each group's last row
    ends = np.flatnonzero(np.append(s[1:] != s[:-1], True))
    return float(np.abs(cum[ends]).max() / total)


def ks_calibration_error(
    y_true: Any,
    y_prob: Any,
    *,
    kind: str = "top_label",
    sample_weight: Any = None,
) -> float:
    r"""Kolmogorov–Smirnov calibration error: the largest gap between cumulative curves.

    With the samples sorted by score ``f`` and ``W`` the total weight,
    ``KS = max_i |(1/W) sum_{j<=i} w_j (y_j - f_j)|``. Samples with equal scores form one step
    of both curves, so the gap is evaluated only at the last row of each group of tied scores:
    the value does not depend on the order of the rows (without this, tied rows sorted in input
    order could put the maximum inside a group, at a point that no threshold on the score
    separates). Computed with one sort and one cumulative sum, ``O(n log n)``.

    Parameters
    ----------
    y_true : array of shape (n,)
        Labels in ``0..k-1`` (or {0, 1} for 1-D ``y_prob``).
    y_prob : array of shape (n,) or (n, k)
        ``P(y = 1)`` for binary problems, else class probabilities whose rows sum to 1.
    kind : {"top_label", "binary", "classwise"}
        As in :func:`confide.metrics.ece`: the top-label confidence against correctness; ``p``
        itself against ``y`` (1-D input only); or the mean over classes ``k`` of the binary KS
        of ``p_k`` against ``[y = k]``.
    sample_weight : array of shape (n,), optional
        Integer weights give the same value as repeating rows.

    Returns
    -------
    float in [0, 1]

    References
    ----------
    Gupta, Rahimi, Ajanthan, Mensink, Sminchisescu & Hartley (2021), "Calibration of neural
    networks using splines", ICLR.
    """
    pairs, weight = _score_target_pairs(y_true, y_prob, kind, sample_weight)
    values = [_ks_one(score, target, weight) for score, target in pairs]
    return float(np.clip(np.mean(values), 0.0, 1.0))
