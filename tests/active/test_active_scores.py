"""Query-strategy scores: exact values on hand-computed arrays, BALD, decomposition, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from confide.active import _scores
from confide.active._scores import (
    bald_score,
    entropy_score,
    least_confidence_score,
    margin_score,
    mean_probs,
    uncertainty_decomposition,
)
from confide.exceptions import NonFiniteError, ProbabilityError, ShapeError
from confide.scores import ensemble_uncertainty, entropy, margin, max_prob

P = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2], [1 / 3, 1 / 3, 1 / 3], [0.0, 1.0, 0.0]])


def _h(*p: float) -> float:
    return -sum(q * math.log(q) for q in p if q > 0)


def test_least_confidence_exact() -> None:
    np.testing.assert_allclose(least_confidence_score(P), [0.3, 0.6, 2 / 3, 0.0], atol=1e-15)
    np.testing.assert_allclose(least_confidence_score([0.9, 0.5, 0.2]), [0.1, 0.5, 0.2])


def test_margin_exact() -> None:
    np.testing.assert_allclose(margin_score(P), [0.5, 1.0, 1.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(margin_score([0.9, 0.5, 0.2]), [0.2, 1.0, 0.4], atol=1e-15)


def test_entropy_exact() -> None:
    want = [_h(0.7, 0.2, 0.1), _h(0.4, 0.4, 0.2), math.log(3), 0.0]
    np.testing.assert_allclose(entropy_score(P), want, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(entropy_score([0.9]), [_h(0.9, 0.1)], rtol=1e-14)


def test_scores_agree_with_confide_scores(rng: np.random.Generator) -> None:
    for p in (rng.dirichlet(np.ones(7), size=300), rng.random(300)):
        np.testing.assert_allclose(least_confidence_score(p), 1 - max_prob(p), atol=1e-15)
        np.testing.assert_allclose(margin_score(p), 1 - margin(p), atol=1e-15)
        np.testing.assert_allclose(entropy_score(p), entropy(p), rtol=1e-13, atol=1e-15)


def test_bald_exact_for_disagreeing_members() -> None:
    s = np.array([[[0.9, 0.1], [0.5, 0.5]], [[0.1, 0.9], [0.5, 0.5]]])
    np.testing.assert_allclose(bald_score(s), [math.log(2) - _h(0.9, 0.1), 0.0], atol=1e-15)
    # binary (m, n) input gives the same
    np.testing.assert_allclose(bald_score([[0.1, 0.5], [0.9, 0.5]]), bald_score(s), atol=1e-15)


def test_bald_is_zero_for_identical_members(rng: np.random.Generator) -> None:
    p = rng.dirichlet(np.ones(6), size=50)
    assert np.all(bald_score(np.stack([p, p])) == 0.0)  # the mean of two equal rows is exact
    s = np.broadcast_to(p, (7, 50, 6))  # a mean of 7 rounds: zero up to rounding
    assert np.all(np.abs(bald_score(s)) <= 1e-15)


def test_decomposition_identity_and_reuse(rng: np.random.Generator) -> None:
    s = rng.dirichlet(np.ones(4) * 0.5, size=(5, 200))
    d = uncertainty_decomposition(s)
    np.testing.assert_allclose(d.total, d.aleatoric + d.epistemic, rtol=0, atol=1e-12)
    assert np.all(d.epistemic >= 0)
    np.testing.assert_array_equal(d.epistemic, bald_score(s))
    np.testing.assert_array_equal(d.total, ensemble_uncertainty(s).total)
    np.testing.assert_array_equal(mean_probs(s), s.mean(axis=0))
    assert d.to_dict()["total"] == d.total.tolist()


def test_chunked_scores_equal_one_pass(rng: np.random.Generator, monkeypatch) -> None:
    p = rng.dirichlet(np.ones(5), size=333).astype(np.float32)
    s = rng.dirichlet(np.ones(5), size=(3, 333))
    whole = [f(p) for f in (least_confidence_score, margin_score, entropy_score)] + [bald_score(s)]
    monkeypatch.setattr(_scores, "_CHUNK_ELEMENTS", 64)
    chunked = [f(p) for f in (least_confidence_score, margin_score, entropy_score)]
    chunked.append(bald_score(s))
    for a, b in zip(whole, chunked, strict=True):
        assert a.dtype == np.float64
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "fn", [least_confidence_score, margin_score, entropy_score], ids=lambda f: f.__name__
)
def test_bad_probabilities_raise(fn) -> None:
    with pytest.raises(NonFiniteError):
        fn([[0.5, np.nan], [0.5, 0.5]])
    with pytest.raises(ShapeError):
        fn(np.full((2, 2, 2), 0.5))
    with pytest.raises(ShapeError):
        fn(np.ones((3, 1)))
    with pytest.raises(ProbabilityError):
        fn([[0.5, 0.6]])


def test_bad_samples_raise() -> None:
    with pytest.raises(ShapeError):
        bald_score([0.5, 0.5])
    with pytest.raises(NonFiniteError):
        bald_score([[[0.5, np.nan]]])
    with pytest.raises(ProbabilityError):
        bald_score([[[0.5, 0.6]]])
