"""select(): ties, labelled items never returned, seeded random, k-center against brute force."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from confide.active._scores import margin_score
from confide.active._select import STRATEGIES, Selection, select, top_k
from confide.exceptions import ConfideTypeError, NonFiniteError, ShapeError, ValidationError


def _pool(rng: np.random.Generator, n: int = 60, k: int = 4):
    probs = rng.dirichlet(np.ones(k), size=n)
    samples = rng.dirichlet(np.ones(k), size=(3, n))
    feats = rng.normal(size=(n, 3))
    return probs, samples, feats


def brute_kcenter(X, labelled, k, w=None):
    """Farthest-first by explicit pairwise distances (the definition, no shortcuts)."""
    n = X.shape[0]
    w = np.ones(n) if w is None else w
    centres = list(labelled)
    picks = []
    for _ in range(k):
        best, best_s = -1, -np.inf
        for i in range(n):
            if i in centres:
                continue
            if centres:
                d = cdist(X[[i]], X[centres]).min()
            else:
                d = np.linalg.norm(X[i] - X.mean(axis=0))
            if w[i] * d > best_s + 1e-12:
                best, best_s = i, w[i] * d
        picks.append(best)
        centres.append(best)
    return picks


def test_top_k_orders_by_score_then_index() -> None:
    s = np.array([0.5, 0.9, 0.5, 0.9, 0.1, 0.5])
    idx, sc = top_k(s, np.arange(6), 4)
    assert idx.tolist() == [1, 3, 0, 2]
    assert sc.tolist() == [0.9, 0.9, 0.5, 0.5]
    idx, _ = top_k(s, np.array([0, 2, 4, 5]), 2)
    assert idx.tolist() == [0, 2]


def test_uncertainty_selection_is_top_k_of_the_score(rng: np.random.Generator) -> None:
    probs, *_ = _pool(rng, n=500)
    sel = select("margin", 10, probs=probs)
    want = np.argsort(-margin_score(probs), kind="stable")[:10]
    assert sel.indices.tolist() == want.tolist()
    np.testing.assert_array_equal(sel.scores, margin_score(probs)[want])


def test_ties_go_to_the_lowest_index() -> None:
    probs = np.tile([0.5, 0.3, 0.2], (10, 1))
    for s in ("least_confidence", "margin", "entropy"):
        assert select(s, 3, probs=probs).indices.tolist() == [0, 1, 2]
    mask = np.zeros(10, bool)
    mask[[0, 2]] = True
    assert select("margin", 3, probs=probs, labeled_mask=mask).indices.tolist() == [1, 3, 4]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_never_returns_labelled_items(strategy: str, rng: np.random.Generator) -> None:
    probs, samples, feats = _pool(rng)
    mask = rng.random(60) < 0.6
    n_free = int((~mask).sum())
    sel = select(
        strategy, n_free, probs=probs, samples=samples, features=feats, labeled_mask=mask, seed=3
    )
    assert not mask[sel.indices].any()
    assert sorted(sel.indices.tolist()) == np.flatnonzero(~mask).tolist()
    assert sel.strategy == strategy
    json.dumps(sel.to_dict())


def test_random_is_reproducible(rng: np.random.Generator) -> None:
    probs, *_ = _pool(rng, n=1000)
    a = select("random", 20, probs=probs, seed=7)
    b = select("random", 20, probs=probs, seed=7)
    c = select("random", 20, probs=probs, seed=8)
    assert a.indices.tolist() == b.indices.tolist()
    assert a.indices.tolist() != c.indices.tolist()
    assert len(set(a.indices.tolist())) == 20


@pytest.mark.parametrize("n_labelled", [0, 1, 5, 30])  # 30 of 40: the copied-subset path
def test_kcenter_is_farthest_first(n_labelled: int) -> None:
    rng = np.random.default_rng(n_labelled)
    X = rng.normal(size=(40, 4))
    mask = np.zeros(40, bool)
    mask[rng.choice(40, n_labelled, replace=False)] = True
    sel = select("kcenter", min(8, 40 - n_labelled), features=X, labeled_mask=mask)
    assert sel.indices.tolist() == brute_kcenter(X, np.flatnonzero(mask).tolist(), sel.indices.size)
    if n_labelled:  # the score of the first pick is its distance to the labelled set
        first = sel.indices[0]
        assert sel.scores[0] == pytest.approx(cdist(X[[first]], X[mask]).min(), rel=1e-9)


@pytest.mark.parametrize("n_labelled", [0, 3])
def test_kcenter_ties_on_a_grid_go_to_the_lowest_index(n_labelled: int) -> None:
    # integer features (like one-hot columns) give many exactly tied distances
    rng = np.random.default_rng(n_labelled)
    X = rng.integers(0, 3, size=(60, 5)) * 0.1 + 1.3  # not exact in binary: rounding differs
    mask = np.zeros(60, bool)
    mask[:n_labelled] = True
    sel = select("kcenter", 12, features=X, labeled_mask=mask)
    assert sel.indices.tolist() == brute_kcenter(X, list(range(n_labelled)), 12)


def test_weighted_kcenter_matches_brute_force(rng: np.random.Generator) -> None:
    probs, _, X = _pool(rng, n=40)
    mask = np.zeros(40, bool)
    mask[[3, 17]] = True
    sel = select("weighted_kcenter", 6, probs=probs, features=X, labeled_mask=mask)
    assert sel.indices.tolist() == brute_kcenter(X, [3, 17], 6, w=margin_score(probs))


def test_margin_kcenter_picks_among_the_most_uncertain(rng: np.random.Generator) -> None:
    probs, _, X = _pool(rng, n=200)
    sel = select("margin_kcenter", 5, probs=probs, features=X, prefilter=3)
    top15 = np.argsort(-margin_score(probs), kind="stable")[:15]
    assert set(sel.indices.tolist()) <= set(top15.tolist())
    assert len(set(sel.indices.tolist())) == 5


def test_kcenter_spreads_over_clusters() -> None:
    # three tight clusters: three picks hit three different clusters
    X = np.concatenate([np.zeros((10, 2)), np.full((10, 2), 10.0), [[0, 10]] * 10]) + 0.01 * (
        np.arange(30)[:, None] % 3
    )
    picks = select("kcenter", 3, features=X).indices
    assert len(set((picks // 10).tolist())) == 3


def test_selection_is_frozen(rng: np.random.Generator) -> None:
    probs, *_ = _pool(rng)
    sel = select("entropy", 3, probs=probs)
    assert isinstance(sel, Selection)
    with pytest.raises(AttributeError):
        sel.strategy = "x"  # type: ignore[misc]
    with pytest.raises(ValueError):
        sel.indices[0] = 1


def test_errors(rng: np.random.Generator) -> None:
    probs, samples, X = _pool(rng)
    with pytest.raises(ValidationError, match="strategy"):
        select("nope", 3, probs=probs)
    with pytest.raises(ValidationError, match="unlabelled"):
        select("margin", 61, probs=probs)
    with pytest.raises(ValidationError, match="samples"):
        select("bald", 3, probs=probs)
    with pytest.raises(ValidationError, match="features"):
        select("kcenter", 3, probs=probs)
    with pytest.raises(ValidationError, match="pool"):
        select("margin", 3)
    with pytest.raises(ValidationError, match="same pool"):
        select("weighted_kcenter", 3, probs=probs, features=X[:50])
    with pytest.raises(ConfideTypeError):
        select("margin", 3, probs=probs, labeled_mask=np.zeros(60, int))
    with pytest.raises(ShapeError):
        select("margin", 3, probs=probs, labeled_mask=np.zeros(59, bool))
    with pytest.raises(NonFiniteError):
        select("kcenter", 3, features=np.where(X > 2, np.nan, X))
    with pytest.raises(ConfideTypeError):
        select("margin", 2.0, probs=probs)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        select("margin", 0, probs=probs)
    # only samples: probability strategies use the member mean
    a = select("entropy", 5, samples=samples)
    b = select("entropy", 5, probs=samples.mean(axis=0))
    assert a.indices.tolist() == b.indices.tolist()


def test_large_pool_is_vectorised() -> None:
    rng = np.random.default_rng(0)
    p = rng.random((50_000, 20), dtype=np.float32)
    p /= p.sum(axis=1, keepdims=True)
    for s in ("least_confidence", "margin", "entropy"):
        sel = select(s, 100, probs=p)
        assert sel.indices.shape == (100,)
        assert np.all(np.diff(sel.scores) <= 0)
