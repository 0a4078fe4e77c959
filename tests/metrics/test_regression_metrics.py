"""Regression metrics against SciPy references and exact Gaussian data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.stats import norm

from confide.exceptions import NonFiniteError, ShapeError, ValidationError
from confide.metrics._regression import (
    crps_gaussian,
    gaussian_nll,
    interval_coverage,
    interval_width,
    regression_calibration_error,
)


def gaussian_data(rng: np.random.Generator, n: int):
    mu = rng.normal(size=n) * 3.0
    var = rng.uniform(0.2, 3.0, size=n)
    y = mu + np.sqrt(var) * rng.standard_normal(n)
    return y, mu, var


def crps_by_integration(y: float, mu: float, sd: float) -> float:
    """The CRPS definition, integrated numerically on both sides of the jump at y."""
    left, _ = integrate.quad(lambda x: norm.cdf(x, mu, sd) ** 2, -np.inf, y)
    right, _ = integrate.quad(lambda x: norm.sf(x, mu, sd) ** 2, y, np.inf)
    return left + right


# -- exact values -------------------------------------------------------------------------
def test_gaussian_nll_matches_scipy_logpdf(rng):
    y, mu, var = gaussian_data(rng, 500)
    expected = -np.mean(norm.logpdf(y, mu, np.sqrt(var)))
    assert gaussian_nll(y, mu, var) == pytest.approx(expected, rel=1e-12)


def test_gaussian_nll_weighted_matches_scipy(rng):
    y, mu, var = gaussian_data(rng, 300)
    w = rng.uniform(0, 2, size=300)
    expected = -np.average(norm.logpdf(y, mu, np.sqrt(var)), weights=w)
    assert gaussian_nll(y, mu, var, sample_weight=w) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("y", "mu", "var"), [(0.0, 0.0, 1.0), (2.5, -1.0, 0.3), (-4.0, 1.0, 9.0), (0.1, 0.0, 1e-4)]
)
def test_crps_matches_numerical_integration(y, mu, var):
    expected = crps_by_integration(y, mu, np.sqrt(var))
    assert crps_gaussian([y], [mu], [var]) == pytest.approx(expected, rel=1e-7, abs=1e-12)


def test_crps_known_value_and_zero_variance_limit():
    # CRPS(N(0,1), 0) = 2 phi(0) - 1/sqrt(pi) = (sqrt 2 - 1) / sqrt(pi)
    assert crps_gaussian([0.0], [0.0], [1.0]) == pytest.approx((np.sqrt(2) - 1) / np.sqrt(np.pi))
    # zero variance: the absolute error, and the limit of tiny variances
    assert crps_gaussian([3.0, -1.0], [1.0, 1.0], [0.0, 0.0]) == pytest.approx(2.0)
    assert crps_gaussian([3.0], [1.0], [1e-20]) == pytest.approx(2.0, rel=1e-9)


def test_crps_weighted_mean(rng):
    y, mu, var = gaussian_data(rng, 50)
    w = rng.integers(0, 3, size=50).astype(float)
    per = np.array([crps_gaussian([a], [b], [c]) for a, b, c in zip(y, mu, var, strict=True)])
    assert crps_gaussian(y, mu, var, sample_weight=w) == pytest.approx(np.average(per, weights=w))


@settings(max_examples=50, deadline=None)
@given(
    y=st.floats(-50, 50),
    mu=st.floats(-50, 50),
    sd=st.floats(0.01, 20),
)
def test_crps_non_negative_and_at_most_abs_error(y, mu, sd):
    # CRPS = E|X - y| - E|X - X'|/2 lies in [0, E|X - y|]; E|X - y| is a folded-normal mean.
    c = crps_gaussian([y], [mu], [sd * sd])
    assert c >= 0
    expected_abs = sd * np.sqrt(2 / np.pi) * np.exp(-((y - mu) ** 2) / (2 * sd * sd)) + abs(
        y - mu
    ) * (2 * norm.cdf(abs(y - mu) / sd) - 1)
    assert c <= expected_abs + 1e-9


def test_coverage_and_width_exact():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    lo = np.array([-1.0, 1.0, 2.5, 0.0])
    hi = np.array([1.0, 2.0, 3.0, 3.0])
    assert interval_coverage(y, lo, hi) == pytest.approx(0.75)  # bounds count as covered
    assert interval_coverage(y, lo, hi, sample_weight=[0, 0, 1, 0]) == 0.0
    assert interval_width(lo, hi) == pytest.approx((2 + 1 + 0.5 + 3) / 4)
    assert interval_width(lo, hi, sample_weight=[1, 0, 0, 1]) == pytest.approx(2.5)


def test_coverage_of_exact_gaussian_intervals_is_nominal(rng):
    y, mu, var = gaussian_data(rng, 40_000)
    for c in (0.5, 0.9, 0.99):
        z = norm.isf((1 - c) / 2)
        lo, hi = mu - z * np.sqrt(var), mu + z * np.sqrt(var)
        # 4 binomial standard errors
        assert abs(interval_coverage(y, lo, hi) - c) < 4 * np.sqrt(c * (1 - c) / y.size)
        assert interval_width(lo, hi) == pytest.approx(2 * z * np.mean(np.sqrt(var)))


# -- calibration error --------------------------------------------------------------------
def test_calibration_error_near_zero_when_well_specified(rng):
    y, mu, var = gaussian_data(rng, 40_000)
    assert regression_calibration_error(y, mu, var) < 0.006


def test_calibration_error_of_variance_times_four_matches_population_value(rng):
    y, mu, var = gaussian_data(rng, 40_000)
    levels = np.arange(1, 100) / 100
    # predicted sd is 2x the true one: P(u <= p) = Phi(2 Phi^-1(p))
    population = np.mean(np.abs(norm.cdf(2 * norm.ppf(levels)) - levels))
    got = regression_calibration_error(y, mu, 4 * var)
    assert population > 0.1
    assert got == pytest.approx(population, abs=0.006)
    # over-narrow predictions are penalised as well
    assert regression_calibration_error(y, mu, var / 4) > 0.1


def test_calibration_error_exact_small_case():
    # PITs 0.1, 0.5, 0.9 at levels 0.25, 0.5, 0.75 -> fractions 1/3, 2/3, 2/3
    u = np.array([0.1, 0.5, 0.9])
    y = norm.ppf(u)
    got = regression_calibration_error(y, np.zeros(3), np.ones(3), n_levels=3)
    expected = np.mean(np.abs(np.array([1 / 3, 2 / 3, 2 / 3]) - np.array([0.25, 0.5, 0.75])))
    assert got == pytest.approx(expected)


def test_calibration_error_weights_equal_repetition(rng):
    y, mu, var = gaussian_data(rng, 200)
    w = rng.integers(0, 4, size=200)
    weighted = regression_calibration_error(y, mu, 2 * var, sample_weight=w.astype(float))
    rep = np.repeat(np.arange(200), w)
    repeated = regression_calibration_error(y[rep], mu[rep], 2 * var[rep])
    assert weighted == pytest.approx(repeated, abs=1e-12)


# -- errors -------------------------------------------------------------------------------
def test_negative_or_zero_variance_rejected():
    with pytest.raises(ValidationError, match="variance must be non-negative"):
        crps_gaussian([0.0], [0.0], [-1.0])
    with pytest.raises(ValidationError, match="variance must be strictly positive"):
        gaussian_nll([0.0], [0.0], [0.0])
    with pytest.raises(ValidationError, match="variance must be strictly positive"):
        regression_calibration_error([0.0], [0.0], [0.0])


def test_bad_inputs_rejected():
    with pytest.raises(NonFiniteError, match="mean contains NaN"):
        gaussian_nll([0.0, 1.0], [0.0, np.nan], [1.0, 1.0])
    with pytest.raises(ShapeError, match="same number of samples"):
        crps_gaussian([0.0, 1.0], [0.0], [1.0])
    with pytest.raises(ShapeError, match="y_true must be 1-D"):
        gaussian_nll([[0.0]], [0.0], [1.0])
    with pytest.raises(ValidationError, match="lower must not exceed upper"):
        interval_coverage([0.0], [1.0], [0.0])
    with pytest.raises(ShapeError, match="same number of samples"):
        interval_width([0.0, 1.0], [1.0])
    with pytest.raises(ValidationError, match="all sample weights are 0"):
        gaussian_nll([0.0], [0.0], [1.0], sample_weight=[0.0])
    with pytest.raises(ValidationError, match="all sample weights are 0"):
        regression_calibration_error([0.0], [0.0], [1.0], sample_weight=[0.0])
    with pytest.raises(ValidationError, match="n_levels must be at least 1"):
        regression_calibration_error([0.0], [0.0], [1.0], n_levels=0)
    with pytest.raises(ShapeError, match="sample_weight has 1 entries for 2"):
        crps_gaussian([0.0, 1.0], [0.0, 0.0], [1.0, 1.0], sample_weight=[1.0])
