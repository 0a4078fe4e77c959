"""One entry point for every query strategy: ``select(strategy, k, ...)`` (private)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from confide._typing import FloatArray, IntArray
from confide._validation import check_choice, check_positive_int
from confide.active._inputs import (
    candidate_indices,
    check_features,
    check_k,
    check_labeled_mask,
    check_pool_probs,
    readonly,
)
from confide.active._kcenter import kcenter_core
from confide.active._scores import (
    bald_score,
    entropy_score,
    least_confidence_score,
    margin_score,
    mean_probs,
)
from confide.exceptions import ValidationError

__all__ = ["STRATEGIES", "UNCERTAINTY_STRATEGIES", "Selection", "select", "top_k"]

#: Strategies that rank items by a per-item uncertainty score.
UNCERTAINTY_STRATEGIES = ("least_confidence", "margin", "entropy", "bald")
#: Every strategy :func:`select` knows.
STRATEGIES = (
    "random",
    *UNCERTAINTY_STRATEGIES,
    "kcenter",
    "weighted_kcenter",
    "margin_kcenter",
)
_SCORERS = {
    "least_confidence": least_confidence_score,
    "margin": margin_score,
    "entropy": entropy_score,
}


@dataclass(frozen=True, eq=False)
class Selection:
    """Pool items chosen for labelling, in selection order.

    Attributes
    ----------
    indices : ndarray of intp, shape (k,)
        Row indices into the pool, best first (never an item marked as labelled).
    scores : ndarray of float64, shape (k,)
        The strategy's score of each pick when it was chosen (higher = more informative;
        for ``random`` the uniform draw, for the k-center strategies the (weighted) distance
        to the nearest labelled or already-picked item).
    strategy : str
        Name of the strategy.
    """

    indices: IntArray
    scores: FloatArray
    strategy: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe dict: indices as ints, scores as floats."""
        return {
            "strategy": self.strategy,
            "indices": [int(i) for i in self.indices],
            "scores": [float(s) for s in self.scores],
        }


def top_k(scores: FloatArray, candidates: IntArray, k: int) -> tuple[IntArray, FloatArray]:
    """The ``k`` candidates of highest score, best first, ties to the lowest index.

    ``O(n)`` with :func:`numpy.argpartition`; only the ``k`` winners are sorted.
    """
    s = scores[candidates]
    n = s.shape[0]
    if k < n:
        kth = s[np.argpartition(s, n - k)[n - k]]  # the k-th largest value
        above = np.flatnonzero(s > kth)
        ties = np.flatnonzero(s == kth)[: k - above.shape[0]]
        chosen = np.concatenate([above, ties])
    else:
        chosen = np.arange(n)
    order = np.lexsort((candidates[chosen], -s[chosen]))
    picked = chosen[order]
    out_idx: IntArray = candidates[picked]
    out_s: FloatArray = s[picked].astype(np.float64)
    return out_idx, out_s


def _pool_size(probs: Any, samples: Any, features: Any) -> tuple[Any, Any, Any, int]:
    sizes: dict[str, int] = {}
    if probs is not None:
        probs = check_pool_probs(probs)
        sizes["probs"] = probs.shape[0]
    if samples is not None:
        samples = np.asarray(samples)
        if samples.ndim in (2, 3):
            sizes["samples (axis 1)"] = samples.shape[1]
    if features is not None:
        features = check_features(features, None)
        sizes["features"] = features.shape[0]
    if not sizes:
        raise ValidationError(
            "select needs the pool: pass probs=, samples= or features= (one row per item)."
        )
    if len(set(sizes.values())) > 1:
        desc = ", ".join(f"{k} has {v}" for k, v in sizes.items())
        raise ValidationError(f"probs, samples and features must describe the same pool: {desc}.")
    return probs, samples, features, next(iter(sizes.values()))


def _uncertainty(name: str, probs: Any, samples: Any) -> FloatArray:
    if name == "bald":
        if samples is None:
            raise ValidationError(
                "strategy 'bald' needs samples= of shape (members, items, classes): ensemble "
                "members or MC-dropout passes. With one model's probs use 'entropy' or 'margin'."
            )
        return bald_score(samples)
    if probs is None:
        if samples is None:
            raise ValidationError(
                f"strategy {name!r} needs probs= (items, classes) or samples= "
                "(members, items, classes)."
            )
        probs = mean_probs(samples)
    return _SCORERS[name](probs)


def select(
    strategy: str,
    k: int,
    *,
    probs: Any = None,
    samples: Any = None,
    features: Any = None,
    labeled_mask: Any = None,
    seed: int | np.random.Generator | None = None,
    uncertainty: str = "margin",
    prefilter: int = 10,
) -> Selection:
    r"""Choose ``k`` unlabelled pool items to label next.

    Strategies (higher score = picked first; ties to the lowest pool index):

    * ``"random"``: uniform without replacement, reproducible with ``seed`` (the baseline).
    * ``"least_confidence"`` :math:`1 - \max_j p_j`, ``"margin"`` :math:`1 - (p_{(1)} - p_{(2)})`,
      ``"entropy"`` :math:`-\sum_j p_j \log p_j`: on ``probs``, or on the member mean of
      ``samples`` when only those are given.
    * ``"bald"``: mutual information :math:`H(\bar p) - \overline{H(p^{(i)})}` on ``samples``.
    * ``"kcenter"``: greedy k-center on ``features`` (Sener & Savarese, 2018): each pick is the
      item farthest from every labelled and already-picked item.
    * ``"weighted_kcenter"``: each pick maximises ``u_i * d_i``, the ``uncertainty`` score
      times the distance to the nearest labelled/picked item: uncertain *and* not redundant.
    * ``"margin_kcenter"``: the ``prefilter * k`` items of highest ``uncertainty`` score, then
      greedy k-center among them (the margin-then-diversity scheme of Cluster-Margin,
      Citovsky et al. 2021, with k-center in place of clustering).

    Parameters
    ----------
    strategy : str
        One of :data:`STRATEGIES`.
    k : int
        Number of items to select, at most the number of unlabelled items.
    probs : array_like, shape (n,) or (n, k_classes), optional
        The current model's probabilities on the pool.
    samples : array_like, shape (m, n, k_classes) or (m, n), optional
        Ensemble / MC-dropout probabilities on the pool (members on axis 0).
    features : array_like, shape (n, d), optional
        Features or embeddings for the k-center strategies (Euclidean distance).
    labeled_mask : array_like of bool, shape (n,), optional
        True for items already labelled: never returned, and the centres of k-center.
    seed : int or Generator, optional
        Seed of ``"random"`` (ignored by the deterministic strategies).
    uncertainty : {"least_confidence", "margin", "entropy", "bald"}, default "margin"
        Score used by ``weighted_kcenter`` and ``margin_kcenter``.
    prefilter : int, default 10
        ``margin_kcenter`` keeps the ``prefilter * k`` most uncertain items.

    Returns
    -------
    Selection
        ``indices`` (best first), ``scores`` and ``strategy``.

    Raises
    ------
    confide.exceptions.ValidationError
        Unknown strategy, missing input for the strategy, inconsistent pool sizes, or
        ``k`` larger than the number of unlabelled items (plus the input checks' errors:
        NaN, shapes, probabilities not summing to 1).

    References
    ----------
    .. [1] B. Settles, "Active Learning Literature Survey", University of Wisconsin-Madison
       CS Tech. Report 1648, 2009.
    .. [2] O. Sener, S. Savarese, "Active Learning for Convolutional Neural Networks: A Core-Set
       Approach", ICLR 2018.
    .. [3] G. Citovsky et al., "Batch Active Learning at Scale", NeurIPS 2021.
    .. [4] F. Zhdanov, "Diverse mini-batch Active Learning", arXiv:1901.05954, 2019.
    """
    check_choice(strategy, "strategy", STRATEGIES)
    check_choice(uncertainty, "uncertainty", UNCERTAINTY_STRATEGIES)
    probs, samples, features, n = _pool_size(probs, samples, features)
    mask = check_labeled_mask(labeled_mask, n)
    cand = candidate_indices(mask)
    k = check_k(k, cand.shape[0])
    if strategy == "random":
        rng = np.random.default_rng(seed)
        draws = np.zeros(n)
        draws[cand] = rng.random(cand.shape[0])
        idx, sc = top_k(draws, cand, k)
    elif strategy in UNCERTAINTY_STRATEGIES:
        idx, sc = top_k(_uncertainty(strategy, probs, samples), cand, k)
    else:
        if features is None:
            raise ValidationError(
                f"strategy {strategy!r} needs features= (items, dims): the inputs or "
                "embeddings whose Euclidean distances define redundancy."
            )
        centres = np.flatnonzero(mask)
        weights = None
        if strategy != "kcenter":
            weights = _uncertainty(uncertainty, probs, samples)
        if strategy == "margin_kcenter":
            assert weights is not None
            m = min(cand.shape[0], k * check_positive_int(prefilter, "prefilter"))
            cand = np.sort(top_k(weights, cand, m)[0])
            weights = None
        idx, sc = kcenter_core(features, cand, centres, k, weights)
    return Selection(indices=readonly(idx), scores=readonly(sc), strategy=strategy)
