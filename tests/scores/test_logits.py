"""Tests of confide.scores softmax / log_softmax / sigmoid / logit."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.special as sps
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
from confide.scores import log_softmax, logit, sigmoid, softmax

Func = Callable[..., Any]
RNG = np.random.default_rng(20240601)

logit_matrices = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=8),
    elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
)


# ---------------------------------------------------------------- reference implementations


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("temperature", [1.0, 0.3, 4.0])
def test_softmax_matches_scipy(axis: int, temperature: float) -> None:
    x = RNG.normal(scale=5.0, size=(50, 7))
    got = softmax(x, temperature=temperature, axis=axis)
    np.testing.assert_allclose(got, sps.softmax(x / temperature, axis=axis), rtol=1e-12)


@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("temperature", [1.0, 0.3, 4.0])
def test_log_softmax_matches_scipy(axis: int, temperature: float) -> None:
    x = RNG.normal(scale=5.0, size=(50, 7))
    got = log_softmax(x, temperature=temperature, axis=axis)
    np.testing.assert_allclose(
        got, sps.log_softmax(x / temperature, axis=axis), rtol=1e-12, atol=1e-12
    )


def test_softmax_1d_is_a_single_row() -> None:
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(softmax(x), sps.softmax(x), rtol=1e-14)
    np.testing.assert_allclose(log_softmax(x), sps.log_softmax(x), rtol=1e-14)
    np.testing.assert_allclose(softmax(x), softmax(x[None, :])[0], rtol=0, atol=0)


def test_softmax_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    x = RNG.normal(scale=10.0, size=(40, 5))
    ref = torch.softmax(torch.from_numpy(x) / 2.0, dim=-1).numpy()
    np.testing.assert_allclose(softmax(x, temperature=2.0), ref, rtol=1e-12, atol=1e-300)
    ref_log = torch.log_softmax(torch.from_numpy(x), dim=0).numpy()
    np.testing.assert_allclose(log_softmax(x, axis=0), ref_log, rtol=1e-12, atol=1e-12)


def test_sigmoid_matches_expit() -> None:
    x = np.concatenate([RNG.normal(scale=20.0, size=200), [0.0, 700.0, -700.0, 1e4, -1e4]])
    np.testing.assert_allclose(sigmoid(x), sps.expit(x), rtol=1e-14, atol=0)
    np.testing.assert_allclose(sigmoid(x, temperature=3.0), sps.expit(x / 3.0), rtol=1e-14)


def test_sigmoid_2d_is_elementwise() -> None:
    x = RNG.normal(size=(6, 3))
    np.testing.assert_allclose(sigmoid(x), sps.expit(x), rtol=1e-14)
    assert sigmoid(x).shape == (6, 3)


def test_sigmoid_equals_two_class_softmax() -> None:
    z = RNG.normal(scale=4.0, size=100)
    two = softmax(np.column_stack([np.zeros_like(z), z]))
    np.testing.assert_allclose(sigmoid(z), two[:, 1], rtol=1e-13)


def test_logit_matches_scipy_and_inverts_sigmoid() -> None:
    p = RNG.uniform(1e-6, 1 - 1e-6, size=300)
    np.testing.assert_allclose(logit(p), sps.logit(p), rtol=1e-9)
    # sigmoid(x) near 1 holds 1 - p only to ~eps absolute, so the round trip is checked where
    # that loss is small (x <= 15); on the negative side it is exact to rounding.
    x = RNG.uniform(-30.0, 15.0, size=300)
    np.testing.assert_allclose(logit(sigmoid(x)), x, rtol=1e-8, atol=1e-8)


def test_logit_is_accurate_near_zero_and_one() -> None:
    # log(p) - log1p(-p): log-odds of tiny p is log(p) to full precision.
    assert logit([1e-300])[0] == pytest.approx(np.log(1e-300), rel=1e-15)
    assert logit([0.5])[0] == 0.0
    assert logit([0.75])[0] == pytest.approx(np.log(3.0), rel=1e-15)


def test_logit_relative_accuracy_against_mpmath() -> None:
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    p = np.concatenate(
        [
            0.5 + np.array([1e-12, -1e-12, 1e-8, -3e-5]),  # log-odds near 0
            RNG.uniform(0.2, 0.8, size=200),
            [1e-300, 1e-10, 0.25, 0.75, 0.9999999, 1 - 2**-52],
        ]
    )
    got = logit(p)
    ref = np.array([float(mpmath.log(mpmath.mpf(v) / (1 - mpmath.mpf(v)))) for v in p])
    np.testing.assert_allclose(got, ref, rtol=8 * np.finfo(float).eps, atol=0)


def test_logit_of_0_and_1_is_infinite_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = logit([0.0, 1.0])
    assert out[0] == -np.inf
    assert out[1] == np.inf


def test_logit_eps_clips() -> None:
    out = logit([0.0, 1.0, 0.5], eps=1e-3)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, [np.log(1e-3 / 0.999), np.log(0.999 / 1e-3), 0.0], atol=1e-12)


# --------------------------------------------------------------------------- stability


def test_extreme_logits_do_not_overflow() -> None:
    x = np.array([[1e4, -1e4], [-1e4, 1e4], [1e4, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = softmax(x)
        lp = log_softmax(x)
        s = sigmoid(np.array([1e4, -1e4]))
    np.testing.assert_array_equal(p, [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    np.testing.assert_allclose(lp, [[0.0, -2e4], [-2e4, 0.0], [-np.log(2), -np.log(2)]])
    np.testing.assert_array_equal(s, [1.0, 0.0])


def test_tiny_temperature_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = softmax([1.0, 2.0, 2.0], temperature=1e-310)
        s = sigmoid([-1.0, 1.0], temperature=1e-310)
    np.testing.assert_array_equal(p, [0.0, 0.5, 0.5])
    np.testing.assert_array_equal(s, [0.0, 1.0])


@pytest.mark.parametrize(
    ("func", "ref"),
    [
        (softmax, lambda x: sps.softmax(x, axis=-1)),
        (log_softmax, lambda x: sps.log_softmax(x, axis=-1)),
        (sigmoid, sps.expit),
    ],
)
def test_float32_in_float64_out(func: Func, ref: Func) -> None:
    x32 = np.array([[0.0, 1e-3, 2.5], [3.0, -1.0, 0.1]], dtype=np.float32)
    got = func(x32)
    assert got.dtype == np.float64
    # Exactly the float64 computation on the same values ...
    np.testing.assert_array_equal(got, func(x32.astype(np.float64)))
    # ... and not a float32 computation cast up afterwards (float32 rounding is ~1e-8).
    np.testing.assert_allclose(got, ref(x32.astype(np.float64)), rtol=1e-14)


def test_logit_float32_in_float64_out() -> None:
    p32 = np.array([0.1, 0.5, 0.9], dtype=np.float32)
    got = logit(p32)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, logit(p32.astype(np.float64)))


def test_integer_logits_accepted() -> None:
    np.testing.assert_allclose(softmax([[0, 0]]), [[0.5, 0.5]])


# --------------------------------------------------------------------------- invariants


@given(logit_matrices)
def test_softmax_rows_sum_to_one(x: np.ndarray) -> None:
    p = softmax(x)
    assert ((p >= 0) & (p <= 1)).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-12)


@given(logit_matrices, st.floats(-1e3, 1e3))
def test_softmax_invariant_to_a_constant_per_row(x: np.ndarray, c: float) -> None:
    shifts = c * np.linspace(-1.0, 1.0, x.shape[0])[:, None]
    np.testing.assert_allclose(softmax(x + shifts), softmax(x), rtol=1e-9, atol=1e-12)


@given(logit_matrices, st.floats(0.05, 20.0))
def test_log_softmax_is_log_of_softmax(x: np.ndarray, t: float) -> None:
    p = softmax(x, temperature=t)
    lp = log_softmax(x, temperature=t)
    assert (lp <= 0).all()
    big = p > 1e-200
    np.testing.assert_allclose(lp[big], np.log(p[big]), rtol=1e-9, atol=1e-12)


@given(logit_matrices)
def test_sigmoid_in_unit_interval_and_symmetric(x: np.ndarray) -> None:
    s = sigmoid(x)
    assert ((s >= 0) & (s <= 1)).all()
    np.testing.assert_allclose(s + sigmoid(-x), 1.0, atol=1e-15)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("func", [softmax, log_softmax, sigmoid])
def test_nan_logits_rejected(func: Func) -> None:
    with pytest.raises(NonFiniteError, match="logits contains NaN"):
        func([[0.0, np.nan]])


@pytest.mark.parametrize("func", [softmax, log_softmax, sigmoid])
def test_infinite_logits_rejected(func: Func) -> None:
    with pytest.raises(NonFiniteError, match="logits contains infinity"):
        func([[0.0, np.inf]])


@pytest.mark.parametrize("func", [softmax, log_softmax, sigmoid])
def test_wrong_ndim_rejected(func: Func) -> None:
    with pytest.raises(ShapeError, match="logits must be 1-D or 2-D, got 3-D"):
        func(np.zeros((2, 2, 2)))


@pytest.mark.parametrize("func", [softmax, log_softmax, sigmoid])
@pytest.mark.parametrize("temperature", [0.0, -1.0, np.inf, np.nan])
def test_bad_temperature_rejected(func: Func, temperature: float) -> None:
    with pytest.raises(ValidationError, match="temperature must be a finite number > 0"):
        func([[0.0, 1.0]], temperature=temperature)


def test_non_numeric_temperature_rejected() -> None:
    with pytest.raises(ConfideTypeError, match="temperature must be a real number"):
        softmax([0.0, 1.0], temperature="1")  # type: ignore[arg-type]


def test_string_logits_rejected() -> None:
    with pytest.raises(ConfideTypeError, match="logits must be an array of numbers"):
        softmax("1, 2")


def test_axis_out_of_range_rejected() -> None:
    with pytest.raises(ShapeError, match="axis=2 is out of range for a 2-D array"):
        softmax([[0.0, 1.0]], axis=2)
    with pytest.raises(ShapeError, match="axis=1 is out of range for a 1-D array"):
        log_softmax([0.0, 1.0], axis=1)


def test_no_classes_rejected() -> None:
    with pytest.raises(ShapeError, match="no classes along axis"):
        softmax(np.zeros((3, 0)))


def test_empty_rejected() -> None:
    with pytest.raises(ShapeError, match="at least 1 sample"):
        softmax(np.zeros(0))


def test_logit_out_of_range_rejected() -> None:
    with pytest.raises(ProbabilityError, match=r"p must hold probabilities in \[0, 1\]"):
        logit([0.5, 1.5])
    with pytest.raises(ProbabilityError, match=r"in \[0, 1\]"):
        logit([-0.1])


def test_logit_2d_rows_need_not_sum_to_one() -> None:
    out = logit([[0.9, 0.9]])
    np.testing.assert_allclose(out, [[np.log(9.0), np.log(9.0)]], rtol=1e-14)


def test_logit_nan_rejected() -> None:
    with pytest.raises(NonFiniteError, match="p contains NaN"):
        logit([np.nan])


@pytest.mark.parametrize("eps", [0.0, 0.5, -1e-3, 0.7])
def test_logit_bad_eps_rejected(eps: float) -> None:
    with pytest.raises(ValidationError, match=r"eps must lie strictly between 0\.0 and 0\.5"):
        logit([0.5], eps=eps)
