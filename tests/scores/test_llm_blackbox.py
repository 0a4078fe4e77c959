"""Tests of the black-box (sampling-consistency) LLM scores with toy comparison functions."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confide.exceptions import ConfideTypeError, NonFiniteError, ShapeError, ValidationError
from confide.scores.llm._blackbox import (
    consistency_scores,
    exact_match_rate,
    normalize_answer,
    pairwise_similarity,
    semantic_agreement,
)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (" Paris. ", "paris"),
        ("PARIS!", "paris"),
        ("U.S.A.", "usa"),
        ("  New   York\n", "new york"),
        ("Straße", "strasse"),  # casefold, not lower
        ("\u00bfQu\u00e9?", "qué"),
        ("ﬁve", "five"),  # NFKC ligature
    ],
)
def test_normalize_answer(text: str, want: str) -> None:
    assert normalize_answer(text) == want


def test_exact_match_rate() -> None:
    samples = ["Paris", "paris.", "Lyon", " PARIS ", "Nice"]
    assert exact_match_rate(samples) == pytest.approx(3 / 5)
    assert exact_match_rate(samples, answer="Lyon") == pytest.approx(1 / 5)
    assert exact_match_rate(samples, answer="Berlin") == 0.0
    assert exact_match_rate(samples, normalize=str) == pytest.approx(1 / 5)  # all distinct
    assert exact_match_rate(["a", "a"]) == 1.0


def test_too_few_or_wrong_samples() -> None:
    with pytest.raises(ShapeError, match="at least 2"):
        exact_match_rate(["only one"])
    with pytest.raises(ConfideTypeError, match="single str"):
        semantic_agreement("Paris")
    with pytest.raises(ConfideTypeError, match=r"samples\[1\]"):
        exact_match_rate(["a", 3])  # type: ignore[list-item]


# A toy embedding: fixed vectors per word.
VECS = {"a": [1.0, 0.0], "b": [0.0, 1.0], "c": [-1.0, 0.0], "d": [1.0, 1.0]}


def toy_embed(texts: list[str]) -> np.ndarray:
    return np.array([VECS[t] for t in texts])


def test_pairwise_similarity_by_hand() -> None:
    # cos(a,b)=0 -> 0.5, cos(a,c)=-1 -> 0, cos(b,c)=0 -> 0.5: mean 1/3
    assert pairwise_similarity(["a", "b", "c"], embed=toy_embed) == pytest.approx(1 / 3, abs=1e-15)
    # cos(a,d)=1/sqrt2
    want = (1 + 1 / math.sqrt(2)) / 2
    assert pairwise_similarity(["a", "d"], embed=toy_embed) == pytest.approx(want, abs=1e-15)
    assert pairwise_similarity(["a", "a", "a"], embed=toy_embed) == pytest.approx(1.0, abs=1e-15)
    assert pairwise_similarity(["a", "c"], embed=toy_embed) == pytest.approx(0.0, abs=1e-15)


def test_pairwise_similarity_errors() -> None:
    with pytest.raises(ShapeError, match="one embedding per sample"):
        pairwise_similarity(["a", "b"], embed=lambda t: np.ones((3, 2)))
    with pytest.raises(ValidationError, match="zero vector"):
        pairwise_similarity(["a", "b"], embed=lambda t: np.array([[1.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(NonFiniteError):
        pairwise_similarity(["a", "b"], embed=lambda t: np.array([[1.0, np.nan], [0.0, 1.0]]))


def same_number(a: str, b: str) -> bool:
    """Toy equivalence: the same number in any spelling."""
    words = {"four": 4.0, "4": 4.0, "4.0": 4.0, "five": 5.0, "5": 5.0, "3": 3.0}
    return words[a] == words[b]


def test_semantic_agreement_by_hand() -> None:
    samples = ["five", "4", "four", "4.0", "5", "3"]
    res = semantic_agreement(samples, equivalent=same_number)
    np.testing.assert_array_equal(res.cluster_ids, [0, 1, 1, 1, 0, 2])
    assert res.n_clusters == 3
    assert res.answer == "4" and res.answer_index == 1
    assert res.share == pytest.approx(3 / 6)
    p = np.array([2, 3, 1]) / 6
    se = -(p * np.log(p)).sum()
    assert res.semantic_entropy == pytest.approx(se, abs=1e-15)
    assert res.confidence == pytest.approx(1 - se / math.log(6), abs=1e-15)
    assert json.loads(json.dumps(res.to_dict())) == res.to_dict()


def test_semantic_agreement_extremes_ties_and_default() -> None:
    all_same = semantic_agreement(["4", "four", "4.0"], equivalent=same_number)
    assert all_same.confidence == 1.0 and all_same.share == 1.0 and all_same.semantic_entropy == 0.0
    all_diff = semantic_agreement(["3", "4", "5"], equivalent=same_number)
    assert all_diff.confidence == pytest.approx(0.0, abs=1e-15)
    tie = semantic_agreement(["5", "4", "four", "five"], equivalent=same_number)
    assert tie.answer == "5"  # tied classes: the first seen wins
    # default equivalence: normalised exact match, agreeing with exact_match_rate
    samples = ["Paris", "paris.", "Lyon", " PARIS ", "Nice"]
    res = semantic_agreement(samples)
    assert res.answer == "Paris"
    assert res.share == pytest.approx(exact_match_rate(samples))


def test_semantic_agreement_weights() -> None:
    res = semantic_agreement(
        ["five", "4", "four"], equivalent=same_number, weights=[0.9, 0.05, 0.05]
    )
    assert res.answer == "five"
    assert res.share == pytest.approx(0.9)
    assert res.semantic_entropy == pytest.approx(-(0.9 * math.log(0.9) + 0.1 * math.log(0.1)))
    with pytest.raises(ShapeError):
        semantic_agreement(["a", "b"], weights=[1.0])
    with pytest.raises(ValidationError, match="non-negative"):
        semantic_agreement(["a", "b"], weights=[1.0, -1.0])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d", "A.", " b "]), min_size=2, max_size=12))
def test_consistency_scores_lie_in_unit_interval(samples: list[str]) -> None:
    for v in (
        exact_match_rate(samples),
        pairwise_similarity(samples, embed=lambda t: toy_embed([normalize_answer(s) for s in t])),
        semantic_agreement(samples).confidence,
        semantic_agreement(samples).share,
    ):
        assert 0.0 <= v <= 1.0
    res = semantic_agreement(samples)
    assert res.n_clusters == len({normalize_answer(s) for s in samples})


def test_consistency_scores_batch_equals_singles() -> None:
    prompts = [["a", "a", "b"], ["a", "c"], ["d", "d", "d", "b"]]
    res = consistency_scores(prompts, embed=toy_embed)
    for i, s in enumerate(prompts):
        assert res.exact_match[i] == exact_match_rate(s)
        assert res.similarity[i] == pairwise_similarity(s, embed=toy_embed)
        sem = semantic_agreement(s)
        assert res.semantic_share[i] == sem.share
        assert res.semantic_confidence[i] == sem.confidence
        assert res.answers[i] == sem.answer
    assert res.answers == ("a", "a", "d")
    assert res.as_matrix().shape == (3, 4)
    no_embed = consistency_scores(prompts, equivalent=lambda a, b: True)
    assert np.isnan(no_embed.similarity).all()
    np.testing.assert_array_equal(no_embed.semantic_confidence, [1.0, 1.0, 1.0])
    d = no_embed.to_dict()
    assert d["similarity"] == [None, None, None]
    assert json.loads(json.dumps(d)) == d
    with pytest.raises(ConfideTypeError, match="wrap its samples"):
        consistency_scores(["a", "b"])  # type: ignore[list-item]
