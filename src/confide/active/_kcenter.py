"""Farthest-first (k-center greedy) batch selection, optionally weighted by uncertainty (private)."""

from __future__ import annotations

import numpy as np

from confide._typing import FloatArray, IntArray

__all__ = ["kcenter_core"]

#: Entries of a (candidates x centres) distance block computed at once (~32 MiB of float64).
_BLOCK = 1 << 22


def _min_sq_dist(xc: FloatArray, centres: FloatArray) -> FloatArray:
    """Squared Euclidean distance of each row of ``xc`` to its nearest row of ``centres``.

    ``min_c(|c|^2 - 2 x.c) + |x|^2`` in blocks of rows (``|x|^2`` is constant along a row, so it
    is added after the minimum), clipped at 0 (rounding only).
    """
    out = np.full(xc.shape[0], np.inf)
    if centres.shape[0] == 0:
        return out
    sq_c = np.einsum("ij,ij->i", centres, centres)
    d = xc.shape[1]
    # [x, 1] @ [-2c, |c|^2]^T gives |c|^2 - 2 x.c straight from the matrix product
    caug = np.ascontiguousarray(np.hstack([-2.0 * centres, sq_c[:, None]]).T)
    step = max(1, _BLOCK // centres.shape[0])
    for s in range(0, xc.shape[0], step):  # a loop over blocks of rows
        block = xc[s : s + step]
        baug = np.empty((block.shape[0], d + 1))
        baug[:, :d] = block
        baug[:, d] = 1.0
        out[s : s + step] = (baug @ caug).min(axis=1) + np.einsum("ij,ij->i", block, block)
    np.maximum(out, 0.0, out=out)
    return out


def _sq_dist_to(xc: FloatArray, sq_x: FloatArray, point: FloatArray) -> FloatArray:
    """``|x - c|^2`` for every row, as ``|x|^2 + |c|^2 - 2 x.c`` (one matrix-vector product)."""
    out: FloatArray = sq_x + float(point @ point) - 2.0 * (xc @ point)
    return out


def kcenter_core(
    features: FloatArray,
    candidates: IntArray,
    centres: IntArray,
    k: int,
    weights: FloatArray | None = None,
) -> tuple[IntArray, FloatArray]:
    r"""Greedy k-center picks among ``candidates`` given already-labelled ``centres``.

    Each pick maximises :math:`w_i \, d_i` with :math:`d_i = \min_{c \in C} \lVert x_i - x_c\rVert_2`
    over the current centres :math:`C` (``w = 1`` when ``weights`` is None), then joins ``C``;
    ties (equal up to the rounding of the distance expansion) go to the lowest index. With no
    centres, the first pick maximises ``w_i`` times the distance to the candidates' mean. Cost: one ``O(n d)`` matrix-vector update per pick;
    distances use ``|x|^2 + |c|^2 - 2 x.c`` (clipped at 0). When most rows are candidates the
    features are used in place (no copy) and the other rows are excluded by their score.

    Returns the picked pool indices (in pick order) and the score each had when picked.
    """
    n = features.shape[0]
    in_place = 2 * candidates.shape[0] >= n
    if in_place:  # work on every row; rows that are not candidates can never win
        xc, rows = features, np.arange(n)
        excluded = np.ones(n, dtype=bool)
        excluded[candidates] = False
    else:
        xc, rows = np.ascontiguousarray(features[candidates]), candidates
        excluded = np.zeros(candidates.shape[0], dtype=bool)
    sq_x = np.einsum("ij,ij->i", xc, xc)
    # rounding of |x|^2 + |c|^2 - 2 x.c, so that tied distances stay tied (lowest index wins)
    tol = 1e-10 * (1.0 + float(sq_x.max()))
    w = None if weights is None else weights[rows]
    if centres.shape[0] == 0:
        d2 = np.maximum(_sq_dist_to(xc, sq_x, xc.mean(axis=0)), 0.0)  # nothing excluded
    else:
        d2 = _min_sq_dist(xc, features[centres])
    d2[excluded] = -np.inf
    picks = np.empty(k, dtype=np.intp)
    scores = np.empty(k, dtype=np.float64)
    for t in range(k):  # a loop over the k picks, each an O(n d) vectorised update
        if w is None:  # distance is monotone in its square: no square root over the pool
            j = int(np.argmax(d2 >= d2.max() - tol))  # ties (up to rounding): lowest index
            score_j = float(np.sqrt(max(d2[j], 0.0)))
        else:
            score = w * np.sqrt(np.maximum(d2, 0.0))
            score[d2 < 0] = -np.inf  # picked or excluded
            top = score.max()
            j = int(np.argmax(score >= top - 1e-9 * abs(top)))
            score_j = float(score[j])
        picks[t] = rows[j]
        scores[t] = score_j
        new = np.maximum(_sq_dist_to(xc, sq_x, xc[j]), 0.0)
        if t == 0 and centres.shape[0] == 0:
            new[excluded] = -np.inf
            d2 = new
        else:
            np.minimum(d2, new, out=d2)
        d2[j] = -np.inf
    return picks, scores
