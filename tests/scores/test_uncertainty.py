"""Tests of confide.scores max_prob / margin / entropy / energy."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.special as sps
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from confide.exceptions import (
    ConfideTypeError,
    NonFiniteError,
    ProbabilityError,
    ShapeError,
    ValidationError,
)
from confide.scores import energy, entropy, margin, max_prob

Func = Callable[..., Any]
RNG = np.random.default_rng(7)
PROB_SCORES = [max_prob, margin, entropy]


def _dirichlet(n: int, k: int, alpha: float = 1.0) -> np.ndarray:
    return RNG.dirichlet(np.full(k, alpha), size=n)


@st.composite
def prob_matrices(draw: st.DrawFn) -> np.ndarray:
    """(n, k) probability rows, including exact zeros and one-hot rows."""
    w = draw(
        hnp.arrays(
            np.float64,
            hnp.array_shapes(min_dims=2, max_dims=2, min_side=2, max_side=8),
            elements=st.one_of(st.just(0.0), st.floats(1e-12, 10.0)),
        )
    )
    w[:, 0] += w.sum(axis=1) == 0  # an all-zero row becomes one-hot
    return w / w.sum(axis=1, keepdims=True)


binary_probs = hnp.arrays(
    np.float64, st.integers(1, 30), elements=st.floats(0.0, 1.0, allow_nan=False)
)


# --------------------------------------------------------------------------- max_prob


def test_max_prob_multiclass() -> None:
    p = _dirichlet(100, 5)
    np.testing.assert_array_equal(max_prob(p), p[np.arange(100), p.argmax(axis=1)])


def test_max_prob_binary() -> None:
    np.testing.assert_allclose(max_prob([0.2, 0.5, 0.9, 0.0, 1.0]), [0.8, 0.5, 0.9, 1.0, 1.0])


def test_max_prob_tie() -> None:
    np.testing.assert_array_equal(max_prob([[0.4, 0.4, 0.2]]), [0.4])


# --------------------------------------------------------------------------- margin


def test_margin_multiclass() -> None:
    p = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3], [0.0, 1.0, 0.0]])
    np.testing.assert_allclose(margin(p), [0.3, 0.2, 1.0], atol=1e-15)


def test_margin_matches_sort() -> None:
    p = _dirichlet(200, 6, alpha=0.5)
    srt = np.sort(p, axis=1)
    np.testing.assert_array_equal(margin(p), srt[:, -1] - srt[:, -2])


def test_margin_binary() -> None:
    p = np.array([0.2, 0.5, 0.9, 0.0, 1.0])
    np.testing.assert_allclose(margin(p), [0.6, 0.0, 0.8, 1.0, 1.0], atol=1e-15)


def test_margin_tie_is_zero() -> None:
    np.testing.assert_array_equal(margin([[0.4, 0.2, 0.4], [0.25, 0.25, 0.5]]), [0.0, 0.25])


def test_margin_two_classes_equals_binary() -> None:
    p = RNG.uniform(size=50)
    np.testing.assert_allclose(margin(np.column_stack([1 - p, p])), margin(p), atol=1e-15)


# --------------------------------------------------------------------------- entropy


@pytest.mark.parametrize("base", [math.e, 2.0, 10.0])
def test_entropy_matches_scipy(base: float) -> None:
    p = _dirichlet(100, 4, alpha=0.3)
    ref = scipy.stats.entropy(p, base=base, axis=1)
    np.testing.assert_allclose(entropy(p, base=base), ref, rtol=1e-12, atol=1e-15)


def test_entropy_binary_is_two_classes() -> None:
    p = RNG.uniform(size=50)
    ref = scipy.stats.entropy(np.column_stack([1 - p, p]), axis=1)
    np.testing.assert_allclose(entropy(p), ref, rtol=1e-12)


def test_entropy_zero_log_zero_is_zero() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = entropy([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
        hb = entropy([0.0, 1.0])
    np.testing.assert_allclose(h, [0.0, math.log(2)], rtol=1e-15)
    np.testing.assert_array_equal(hb, [0.0, 0.0])


def test_entropy_normalize() -> None:
    p = np.array([[0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0]])
    np.testing.assert_allclose(entropy(p, normalize=True), [1.0, 0.0, 0.5], rtol=1e-15)
    np.testing.assert_allclose(entropy([0.5, 0.0], normalize=True), [1.0, 0.0], rtol=1e-15)


def test_normalized_entropy_does_not_depend_on_base() -> None:
    p = _dirichlet(20, 3)
    np.testing.assert_allclose(
        entropy(p, normalize=True, base=2.0), entropy(p, normalize=True), rtol=1e-15
    )
    np.testing.assert_allclose(entropy(p, normalize=True), entropy(p) / math.log(3), rtol=1e-14)


# --------------------------------------------------------------------------- energy


@pytest.mark.parametrize("temperature", [1.0, 0.5, 10.0])
def test_energy_matches_logsumexp(temperature: float) -> None:
    x = RNG.normal(scale=5.0, size=(100, 10))
    ref = -temperature * sps.logsumexp(x / temperature, axis=1)
    np.testing.assert_allclose(energy(x, temperature=temperature), ref, rtol=1e-13)


def test_energy_sign_lower_for_larger_logits() -> None:
    # Larger logits (a more confident, more in-distribution sample) give lower energy.
    x = RNG.normal(size=(10, 4))
    np.testing.assert_allclose(energy(x + 5.0), energy(x) - 5.0, rtol=1e-13)
    assert energy([[10.0, 0.0, 0.0]])[0] < energy([[0.0, 0.0, 0.0]])[0]


def test_energy_extreme_logits() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = energy([[1e4, -1e4], [-1e4, -1e4], [1e4, 1e4]])
    np.testing.assert_allclose(e, [-1e4, 1e4 - math.log(2), -1e4 - math.log(2)], rtol=1e-15)


def test_energy_float32_in_float64_out() -> None:
    x32 = np.array([[0.0, 1e-3, 2.5]], dtype=np.float32)
    got = energy(x32)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, energy(x32.astype(np.float64)))


def test_energy_rejects_1d() -> None:
    with pytest.raises(ShapeError, match=r"energy needs logits as an \(n, k\) array, got 1-D"):
        energy([1.0, 2.0])


def test_energy_rejects_nan_and_bad_temperature() -> None:
    with pytest.raises(NonFiniteError, match="logits contains NaN"):
        energy([[np.nan, 1.0]])
    with pytest.raises(ValidationError, match="temperature must be a finite number > 0"):
        energy([[0.0, 1.0]], temperature=-2.0)


# --------------------------------------------------------------------------- invariants


@given(prob_matrices())
def test_entropy_bounds(p: np.ndarray) -> None:
    k = p.shape[1]
    h = entropy(p)
    assert ((h >= 0) & (h <= math.log(k))).all()
    hn = entropy(p, normalize=True)
    assert ((hn >= 0) & (hn <= 1)).all()
    np.testing.assert_allclose(h, scipy.stats.entropy(p, axis=1), rtol=1e-9, atol=1e-12)


@given(prob_matrices())
def test_margin_and_max_prob_bounds(p: np.ndarray) -> None:
    k = p.shape[1]
    m = margin(p)
    c = max_prob(p)
    assert ((m >= 0) & (m <= 1)).all()
    assert (c >= 1.0 / k - 1e-12).all()
    assert (c <= 1).all()
    assert (m <= c).all()


@given(binary_probs)
def test_binary_score_bounds(p: np.ndarray) -> None:
    m = margin(p)
    assert ((m >= 0) & (m <= 1)).all()
    assert ((max_prob(p) >= 0.5) & (max_prob(p) <= 1)).all()
    hn = entropy(p, normalize=True)
    assert ((hn >= 0) & (hn <= 1)).all()


@pytest.mark.parametrize("func", PROB_SCORES)
def test_float32_probs_give_float64(func: Func) -> None:
    p32 = np.array([[0.1, 0.7, 0.2], [0.3, 0.3, 0.4]], dtype=np.float32)
    got = func(p32)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, func(p32.astype(np.float64)))


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("func", PROB_SCORES)
def test_rows_not_summing_to_one_rejected(func: Func) -> None:
    with pytest.raises(ProbabilityError, match="each row of probs must sum to 1"):
        func([[0.5, 0.6], [0.5, 0.5]])


@pytest.mark.parametrize("func", PROB_SCORES)
def test_out_of_range_rejected(func: Func) -> None:
    with pytest.raises(ProbabilityError, match=r"probs must hold probabilities in \[0, 1\]"):
        func([0.5, 1.2])


@pytest.mark.parametrize("func", PROB_SCORES)
@pytest.mark.parametrize(("bad", "word"), [(np.nan, "NaN"), (np.inf, "infinity")])
def test_nonfinite_probs_rejected(func: Func, bad: float, word: str) -> None:
    with pytest.raises(NonFiniteError, match=f"probs contains {word}"):
        func([0.5, bad])


@pytest.mark.parametrize("func", PROB_SCORES)
def test_wrong_ndim_rejected(func: Func) -> None:
    with pytest.raises(ShapeError, match="probs must be 1-D or 2-D, got 3-D"):
        func(np.full((2, 2, 2), 0.5))


@pytest.mark.parametrize("func", PROB_SCORES)
def test_single_column_rejected(func: Func) -> None:
    with pytest.raises(ShapeError, match="at least 2 columns"):
        func(np.ones((4, 1)))


@pytest.mark.parametrize("base", [1.0, 0.5, 0.0, -2.0, np.inf, np.nan])
def test_bad_base_rejected(base: float) -> None:
    with pytest.raises(ValidationError, match="base must be a finite number > 1"):
        entropy([0.5], base=base)


def test_non_numeric_base_rejected() -> None:
    with pytest.raises(ConfideTypeError, match="base must be a real number"):
        entropy([0.5], base="2")  # type: ignore[arg-type]
