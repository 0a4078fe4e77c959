"""Tests of confide.scores gaussian_interval / gaussian_mixture_moments."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from confide.exceptions import NonFiniteError, ShapeError, ValidationError
from confide.scores import (
    GaussianEnsembleMoments,
    PredictionInterval,
    gaussian_interval,
    gaussian_mixture_moments,
)

RNG = np.random.default_rng(3)


# --------------------------------------------------------------------------- gaussian_interval


@pytest.mark.parametrize("level", [0.5, 0.8, 0.9, 0.95, 0.99, 0.999999])
def test_interval_matches_scipy(level: float) -> None:
    mean = RNG.normal(scale=10.0, size=50)
    var = RNG.uniform(0.01, 5.0, size=50)
    res = gaussian_interval(mean, var, confidence_level=level)
    lo, hi = scipy.stats.norm.interval(level, loc=mean, scale=np.sqrt(var))
    # scipy evaluates ppf((1 + c) / 2), which loses ~1e-11 relative when c is near 1.
    rtol = 1e-12 if level < 0.999 else 1e-9
    np.testing.assert_allclose(res.lower, lo, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(res.upper, hi, rtol=rtol, atol=1e-12)
    assert res.confidence_level == level


@pytest.mark.parametrize("level", [0.9, 0.999999, 1 - 1e-12])
def test_interval_tail_probability_is_accurate(level: float) -> None:
    z = gaussian_interval([0.0], [1.0], confidence_level=level).upper[0]
    assert 2 * scipy.stats.norm.sf(z) == pytest.approx(1 - level, rel=1e-12, abs=0)


def test_interval_known_value() -> None:
    res = gaussian_interval([0.0, 10.0], [1.0, 4.0], confidence_level=0.95)
    np.testing.assert_allclose(res.upper, [1.959963984540054, 10 + 2 * 1.959963984540054])
    np.testing.assert_allclose(res.lower, [-1.959963984540054, 10 - 2 * 1.959963984540054])


def test_interval_default_level_is_0_9() -> None:
    res = gaussian_interval([0.0], [1.0])
    assert res.confidence_level == 0.9
    np.testing.assert_allclose(res.upper, [scipy.stats.norm.ppf(0.95)], rtol=1e-14)


def test_zero_variance_gives_point_interval() -> None:
    res = gaussian_interval([1.5, -2.0], [0.0, 0.0])
    np.testing.assert_array_equal(res.lower, [1.5, -2.0])
    np.testing.assert_array_equal(res.upper, [1.5, -2.0])


def test_interval_coverage_by_simulation() -> None:
    n = 200_000
    mean = RNG.normal(size=n)
    var = RNG.uniform(0.1, 3.0, size=n)
    y = RNG.normal(mean, np.sqrt(var))
    res = gaussian_interval(mean, var, confidence_level=0.9)
    coverage = np.mean((res.lower <= y) & (y <= res.upper))
    assert abs(coverage - 0.9) < 0.005  # binomial s.e. is 0.00067


def test_interval_2d_and_float32() -> None:
    mean = RNG.normal(size=(5, 3)).astype(np.float32)
    var = RNG.uniform(0.5, 2.0, size=(5, 3)).astype(np.float32)
    res = gaussian_interval(mean, var)
    assert res.lower.shape == (5, 3)
    assert res.lower.dtype == np.float64
    ref = gaussian_interval(mean.astype(np.float64), var.astype(np.float64))
    np.testing.assert_array_equal(res.upper, ref.upper)


def test_interval_frozen_and_json() -> None:
    res = gaussian_interval([0.0, 1.0], [1.0, 2.0])
    assert isinstance(res, PredictionInterval)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.confidence_level = 0.5  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        res.lower[0] = 3.0
    d = json.loads(json.dumps(res.to_dict()))
    assert d["confidence_level"] == 0.9
    np.testing.assert_array_equal(d["lower"], res.lower)
    np.testing.assert_array_equal(d["upper"], res.upper)


def test_negative_variance_rejected() -> None:
    with pytest.raises(ValidationError, match=r"variance must be non-negative.*index 1: -0\.5"):
        gaussian_interval([0.0, 0.0], [1.0, -0.5])


def test_shape_mismatch_rejected() -> None:
    with pytest.raises(ShapeError, match=r"mean and variance must have the same shape"):
        gaussian_interval([0.0, 1.0], [1.0, 1.0, 1.0])


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, -0.1, 90])
def test_bad_confidence_level_rejected(level: float) -> None:
    with pytest.raises(ValidationError, match="confidence_level must lie strictly between 0"):
        gaussian_interval([0.0], [1.0], confidence_level=level)


def test_nonfinite_rejected() -> None:
    with pytest.raises(NonFiniteError, match="mean contains NaN"):
        gaussian_interval([np.nan], [1.0])
    with pytest.raises(NonFiniteError, match="variance contains infinity"):
        gaussian_interval([0.0], [np.inf])


def test_interval_wrong_ndim_rejected() -> None:
    with pytest.raises(ShapeError, match="mean must be 1-D or 2-D, got 0-D"):
        gaussian_interval(0.0, 1.0)


# --------------------------------------------------------------------------- mixture moments


def test_moments_match_numpy() -> None:
    means = RNG.normal(size=(5, 30))
    variances = RNG.uniform(0.1, 2.0, size=(5, 30))
    res = gaussian_mixture_moments(means, variances)
    np.testing.assert_allclose(res.mean, means.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(res.aleatoric, variances.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(res.epistemic, np.var(means, axis=0), rtol=1e-12)
    # Exact mixture variance: E[sigma^2 + mu^2] - (E[mu])^2.
    exact = (variances + means**2).mean(axis=0) - means.mean(axis=0) ** 2
    np.testing.assert_allclose(res.total, exact, rtol=1e-10)


def test_moments_by_simulation() -> None:
    means = np.array([[0.0], [3.0], [-1.0]])
    variances = np.array([[1.0], [0.25], [2.0]])
    comp = RNG.integers(0, 3, size=400_000)
    y = RNG.normal(means[comp, 0], np.sqrt(variances[comp, 0]))
    res = gaussian_mixture_moments(means, variances)
    assert res.mean[0] == pytest.approx(y.mean(), abs=0.01)
    assert res.total[0] == pytest.approx(y.var(), rel=0.01)


def test_known_values() -> None:
    res = gaussian_mixture_moments([[0.0, 1.0], [2.0, 1.0]], [[1.0, 1.0], [3.0, 1.0]])
    np.testing.assert_array_equal(res.mean, [1.0, 1.0])
    np.testing.assert_array_equal(res.aleatoric, [2.0, 1.0])
    np.testing.assert_array_equal(res.epistemic, [1.0, 0.0])
    np.testing.assert_array_equal(res.total, [3.0, 1.0])


def test_single_member_has_no_epistemic() -> None:
    res = gaussian_mixture_moments([[1.0, 2.0]], [[0.5, 0.7]])
    np.testing.assert_array_equal(res.epistemic, [0.0, 0.0])
    np.testing.assert_array_equal(res.total, [0.5, 0.7])


def test_epistemic_has_no_cancellation() -> None:
    means = 1e8 + np.array([[0.0], [1e-4]])
    res = gaussian_mixture_moments(means, np.zeros_like(means))
    d = means[1, 0] - means[0, 0]  # exact (Sterbenz); about 1e-4
    assert res.epistemic[0] == pytest.approx((d / 2) ** 2, rel=1e-6, abs=0)


def test_moments_member_axis() -> None:
    means = RNG.normal(size=(4, 7))
    variances = RNG.uniform(size=(4, 7))
    a = gaussian_mixture_moments(means, variances)
    b = gaussian_mixture_moments(means.T, variances.T, axis=1)
    np.testing.assert_array_equal(a.total, b.total)
    np.testing.assert_array_equal(a.mean, b.mean)


def test_moments_interval_and_json() -> None:
    means = RNG.normal(size=(3, 4))
    variances = RNG.uniform(size=(3, 4))
    res = gaussian_mixture_moments(means, variances)
    assert isinstance(res, GaussianEnsembleMoments)
    iv = res.interval(0.8)
    ref = gaussian_interval(res.mean, res.total, confidence_level=0.8)
    np.testing.assert_array_equal(iv.lower, ref.lower)
    np.testing.assert_array_equal(iv.upper, ref.upper)
    d = json.loads(json.dumps(res.to_dict()))
    assert set(d) == {"mean", "total", "aleatoric", "epistemic"}
    np.testing.assert_array_equal(d["total"], res.total)
    with pytest.raises(ValueError, match="read-only"):
        res.total[0] = 0.0


@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 6)),
        elements=st.floats(-1e6, 1e6),
    ),
    st.data(),
)
def test_moments_invariants(means: np.ndarray, data: st.DataObject) -> None:
    variances = data.draw(hnp.arrays(np.float64, means.shape, elements=st.floats(0.0, 1e6)))
    res = gaussian_mixture_moments(means, variances)
    assert (res.epistemic >= 0).all()
    assert (res.total >= res.aleatoric).all()
    np.testing.assert_allclose(res.total, res.aleatoric + res.epistemic, rtol=1e-15)
    assert (res.mean >= means.min(axis=0) - 1e-9).all()
    assert (res.mean <= means.max(axis=0) + 1e-9).all()


def test_moments_negative_variance_rejected() -> None:
    with pytest.raises(ValidationError, match=r"variances must be non-negative.*index \(1, 0\)"):
        gaussian_mixture_moments([[0.0], [1.0]], [[1.0], [-1.0]])


def test_moments_wrong_ndim_rejected() -> None:
    with pytest.raises(ShapeError, match=r"means must be 2-D, got 1-D.*\(members, samples\)"):
        gaussian_mixture_moments([0.0, 1.0], [1.0, 1.0])


def test_moments_shape_mismatch_rejected() -> None:
    with pytest.raises(ShapeError, match="means and variances must have the same shape"):
        gaussian_mixture_moments(np.zeros((2, 3)), np.ones((3, 2)))


def test_moments_empty_rejected() -> None:
    with pytest.raises(ShapeError, match="at least one member and one sample"):
        gaussian_mixture_moments(np.zeros((0, 3)), np.ones((0, 3)))


def test_moments_nonfinite_rejected() -> None:
    with pytest.raises(NonFiniteError, match="means contains infinity"):
        gaussian_mixture_moments([[np.inf]], [[1.0]])
