"""Tests of the white-box LLM scores: hand-computed values, batch = singles, [0, 1] bounds."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confide.exceptions import ValidationError
from confide.scores.llm._parse import parse_logprobs
from confide.scores.llm._whitebox import (
    SCORE_NAMES,
    entropy_confidence,
    margin_confidence,
    min_token_probability,
    sequence_probability,
    whitebox_scores,
)

LN = math.log


def entry(p: float | None, tops: list[float]) -> dict[str, Any]:
    return {
        "token": "t",
        "logprob": None if p is None else LN(p),
        "bytes": None,
        "top_logprobs": [
            {"token": f"a{i}", "logprob": LN(q), "bytes": None} for i, q in enumerate(tops)
        ],
    }


def h(*ps: float) -> float:
    return -sum(p * LN(p) for p in ps if p > 0)


# Tokens 0.5 and 0.8 (and a null one), top lists [0.5, 0.3] and [0.8].
EXAMPLE = {"content": [entry(0.5, [0.5, 0.3]), entry(0.8, [0.8]), entry(None, [])]}


def test_sequence_and_min_probability_by_hand() -> None:
    assert sequence_probability(EXAMPLE) == pytest.approx(math.sqrt(0.5 * 0.8), abs=1e-15)
    assert min_token_probability(EXAMPLE) == pytest.approx(0.5, abs=1e-15)


def test_entropy_confidence_by_hand() -> None:
    # K = 2 -> 3 buckets; the residual mass goes in the "other" bucket.
    h1 = h(0.5, 0.3, 0.2)
    h2 = h(0.8, 0.0, 0.2)
    want = 1.0 - (h1 + h2) / 2.0 / LN(3)
    assert entropy_confidence(EXAMPLE) == pytest.approx(want, abs=1e-14)
    # with top_k=5 requested, the normalisation is log(6)
    want5 = 1.0 - (h1 + h2) / 2.0 / LN(6)
    assert entropy_confidence(EXAMPLE, top_k=5) == pytest.approx(want5, abs=1e-14)


def test_margin_by_hand() -> None:
    assert margin_confidence(EXAMPLE) == pytest.approx(((0.5 - 0.3) + (0.8 - 0.0)) / 2, abs=1e-14)


def test_top_mass_above_one_is_rescaled() -> None:
    lp = {"content": [entry(0.7, [0.7, 0.4])]}
    p = np.array([0.7, 0.4]) / 1.1
    assert entropy_confidence(lp) == pytest.approx(1.0 - h(*p) / LN(3), abs=1e-14)


def test_certain_and_uniform_extremes() -> None:
    certain = {"content": [entry(1.0, [1.0, 0.0 + 1e-300])] * 3}
    assert entropy_confidence(certain) == pytest.approx(1.0, abs=1e-12)
    assert sequence_probability(certain) == 1.0
    uniform = {"content": [entry(1 / 3, [1 / 3, 1 / 3])]}  # 3 equal buckets: maximal entropy
    assert entropy_confidence(uniform) == pytest.approx(0.0, abs=1e-14)
    assert margin_confidence(uniform) == pytest.approx(0.0, abs=1e-15)


def test_sentinel_token_means_probability_zero() -> None:
    content = [
        entry(0.9, [0.9]),
        {"token": "x", "logprob": -9999.0, "bytes": None, "top_logprobs": []},
    ]
    assert sequence_probability(content) == 0.0
    assert min_token_probability(content) == 0.0
    # the sentinel position has no alternatives: the top-based scores use the first one only
    assert margin_confidence(content) == pytest.approx(0.9)


def test_undefined_scores_raise_for_one_and_are_nan_in_a_batch() -> None:
    no_top = {"content": [entry(0.5, [])]}
    with pytest.raises(ValidationError, match="top_logprobs=k"):
        entropy_confidence(no_top)
    with pytest.raises(ValidationError, match="top_logprobs"):
        margin_confidence(no_top)
    empty = {"content": []}
    with pytest.raises(ValidationError, match="no token with a known logprob"):
        sequence_probability(empty)
    only_null = {"content": [entry(None, [])]}
    with pytest.raises(ValidationError):
        min_token_probability(only_null)
    res = whitebox_scores([EXAMPLE, no_top, empty, only_null])
    m = res.as_matrix()
    assert m.shape == (4, 4)
    assert np.isfinite(m[0]).all()
    assert np.isnan(m[1, 2:]).all() and np.isfinite(m[1, :2]).all()
    assert np.isnan(m[2]).all() and np.isnan(m[3]).all()
    np.testing.assert_array_equal(res.n_tokens, [2, 1, 0, 0])
    d = res.to_dict()
    assert d["entropy_confidence"][1] is None
    assert set(d) == {*SCORE_NAMES, "n_tokens"}


def test_batch_equals_singles_on_mixed_widths() -> None:
    rng = np.random.default_rng(0)
    gens = []
    for n_tok, k in [(5, 3), (1, 1), (7, 5), (3, 0), (4, 2)]:
        content = []
        for _ in range(n_tok):
            p = rng.dirichlet(np.ones(k + 2))
            tops = sorted(p[:k], reverse=True)
            content.append(entry(float(p[0]), [float(q) for q in tops]))
        gens.append({"choices": [{"logprobs": {"content": content}}]})
    res = whitebox_scores(gens)
    for i, g in enumerate(gens):
        assert res.sequence_probability[i] == pytest.approx(sequence_probability(g), abs=1e-15)
        assert res.min_token_probability[i] == pytest.approx(min_token_probability(g), abs=1e-15)
        if i == 3:
            assert np.isnan(res.entropy_confidence[i])
            continue
        assert res.entropy_confidence[i] == pytest.approx(entropy_confidence(g), abs=1e-14)
        assert res.margin_confidence[i] == pytest.approx(margin_confidence(g), abs=1e-14)


def test_legacy_first_null_token_is_skipped() -> None:
    legacy = {
        "tokens": ["A", "B", "C"],
        "token_logprobs": [None, LN(0.5), LN(0.2)],
        "top_logprobs": [None, {"B": LN(0.5), "X": LN(0.5)}, {"C": LN(0.2), "Y": LN(0.7)}],
        "text_offset": [0, 1, 2],
    }
    assert sequence_probability(legacy) == pytest.approx(math.sqrt(0.1), abs=1e-15)
    assert min_token_probability(legacy) == pytest.approx(0.2, abs=1e-15)
    assert margin_confidence(legacy) == pytest.approx((0.0 + 0.5) / 2, abs=1e-14)


def test_a_single_response_is_not_a_batch() -> None:
    with pytest.raises(ValidationError, match="wrap it in a list"):
        whitebox_scores(EXAMPLE)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="wrap it in a list"):
        whitebox_scores(EXAMPLE["content"])


def test_positions_with_only_sentinel_alternatives_are_skipped() -> None:
    sentinel_only = {
        "token": "x",
        "logprob": LN(0.5),
        "bytes": None,
        "top_logprobs": [{"token": "x", "logprob": -9999.0, "bytes": None}],
    }
    content = [entry(0.5, [0.5, 0.3]), sentinel_only]
    h1 = h(0.5, 0.3, 0.2)
    assert entropy_confidence(content) == pytest.approx(1.0 - h1 / LN(3), abs=1e-14)
    assert margin_confidence(content) == pytest.approx(0.2, abs=1e-14)
    with pytest.raises(ValidationError):
        entropy_confidence([sentinel_only])


@st.composite
def generations(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 6))
    k = draw(st.integers(0, 4))
    lp = st.one_of(
        st.floats(-30.0, 0.0),
        st.just(-9999.0),
        st.just(0.0),
    )
    content = []
    for _ in range(n):
        tops = draw(st.lists(lp, min_size=0, max_size=k))
        content.append(
            {
                "token": "t",
                "logprob": draw(st.one_of(lp, st.none())),
                "bytes": None,
                "top_logprobs": [
                    {"token": str(j), "logprob": v, "bytes": None} for j, v in enumerate(tops)
                ],
            }
        )
    return {"content": content}


@settings(max_examples=100, deadline=None)
@given(st.lists(generations(), min_size=1, max_size=4))
def test_every_score_lies_in_unit_interval(gens: list[dict[str, Any]]) -> None:
    m = whitebox_scores(gens).as_matrix()
    finite = m[~np.isnan(m)]
    assert ((finite >= 0.0) & (finite <= 1.0)).all()
    # a score is NaN only when undefined
    for i, g in enumerate(gens):
        t = parse_logprobs(g)
        assert np.isnan(m[i, 0]) == (not t.known.any())
        assert np.isnan(m[i, 2]) == (not np.isfinite(t.top_logprobs).any())
