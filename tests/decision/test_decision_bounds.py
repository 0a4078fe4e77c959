"""Exact binomial p-values and Clopper-Pearson bounds, against hand values and scipy.stats."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from confide.decision._bounds import (
    binomial_p_value,
    clopper_pearson_interval,
    clopper_pearson_lower,
    clopper_pearson_upper,
    min_samples_for_zero_errors,
)
from confide.exceptions import ConfideTypeError, ValidationError


def _binom_cdf_exact(e: int, n: int, eps: Fraction) -> float:
    """P(Bin(n, eps) <= e) in exact rational arithmetic."""
    return float(sum(math.comb(n, i) * eps**i * (1 - eps) ** (n - i) for i in range(e + 1)))


@pytest.mark.parametrize(
    ("e", "n", "eps"),
    [
        (0, 10, "0.1"),
        (2, 20, "0.1"),
        (3, 30, "0.3"),
        (19, 90, "0.3"),
        (5, 5, "0.5"),
        (7, 40, "0.05"),
    ],
)
def test_p_value_is_the_exact_binomial_tail(e, n, eps):
    expected = _binom_cdf_exact(e, n, Fraction(eps))
    got = binomial_p_value(e, n, float(eps))
    assert got == pytest.approx(expected, rel=1e-12)
    assert got == pytest.approx(stats.binom.cdf(e, n, float(eps)), rel=1e-12)


def test_p_value_hand_values():
    assert binomial_p_value(0, 10, 0.1) == pytest.approx(0.9**10, rel=1e-14)  # 0.3486784401
    assert binomial_p_value(0, 0, 0.1) == 1.0  # no evidence
    assert binomial_p_value(4, 4, 0.2) == pytest.approx(1.0)


def test_p_value_vectorised_matches_scipy():
    rng = np.random.default_rng(0)
    n = rng.integers(1, 500, 200)
    e = (rng.random(200) * (n + 1)).astype(int)
    got = binomial_p_value(e, n, 0.07)
    np.testing.assert_allclose(got, stats.binom.cdf(e, n, 0.07), rtol=1e-11, atol=1e-300)


def test_p_value_uses_integer_counts_not_rounded_rates():
    # 21 errors out of 285: the rate 1 - 264/285 times 285 is 21.000000000000004 in floating
    # point, and a ceil of it would test 22 errors (MAPIE's p-value here is 0.1155, ours 0.0792).
    rate = 1 - 264 / 285
    assert math.ceil(285 * rate) == 22
    assert binomial_p_value(21, 285, 0.1) == pytest.approx(stats.binom.cdf(21, 285, 0.1), rel=1e-12)
    assert binomial_p_value(21, 285, 0.1) < 0.1 < stats.binom.cdf(22, 285, 0.1)


@pytest.mark.parametrize(
    ("e", "n", "delta"), [(0, 10, 0.05), (3, 30, 0.1), (19, 90, 0.1), (1, 2, 0.2)]
)
def test_upper_bound_matches_beta_quantile(e, n, delta):
    assert clopper_pearson_upper(e, n, delta) == pytest.approx(
        stats.beta.ppf(1 - delta, e + 1, n - e), rel=1e-12
    )


def test_upper_bound_closed_forms():
    # zero errors: (1 - u)^n = delta  =>  u = 1 - delta^(1/n)
    assert clopper_pearson_upper(0, 10, 0.05) == pytest.approx(1 - 0.05**0.1, rel=1e-13)
    assert clopper_pearson_upper(0, 10, 0.05) == pytest.approx(0.2588655, abs=1e-7)
    assert clopper_pearson_upper(10, 10, 0.05) == 1.0
    assert clopper_pearson_upper(0, 0, 0.05) == 1.0
    # all successes: lower bound l^n = delta
    assert clopper_pearson_lower(10, 10, 0.05) == pytest.approx(0.05**0.1, rel=1e-13)
    assert clopper_pearson_lower(0, 10, 0.05) == 0.0


def test_interval_is_statsmodels_beta_formula():
    # statsmodels.stats.proportion.proportion_confint(k, n, alpha, method="beta"):
    # lower = beta.ppf(alpha/2, k, n-k+1), upper = beta.isf(alpha/2, k+1, n-k), 0 / 1 at the ends.
    for k, n in [(0, 12), (3, 12), (12, 12), (45, 100), (1, 1)]:
        alpha = 0.1
        low = 0.0 if k == 0 else stats.beta.ppf(alpha / 2, k, n - k + 1)
        high = 1.0 if k == n else stats.beta.isf(alpha / 2, k + 1, n - k)
        ci = clopper_pearson_interval(k, n, confidence_level=0.9)
        assert ci.low == pytest.approx(low, rel=1e-12, abs=1e-300)
        assert ci.high == pytest.approx(high, rel=1e-12)
        assert ci.estimate == k / n
        assert ci.to_dict()["k"] == k
    assert clopper_pearson_interval(0, 0).to_dict()["estimate"] == "nan"


def test_test_and_bound_are_dual():
    rng = np.random.default_rng(1)
    n = rng.integers(1, 300, 500)
    e = (rng.random(500) * (n + 1)).astype(int)
    eps, delta = 0.12, 0.1
    p = binomial_p_value(e, n, eps)
    u = clopper_pearson_upper(e, n, delta)
    near = np.abs(u - eps) < 1e-9
    np.testing.assert_array_equal((p <= delta)[~near], (u <= eps)[~near])
    assert (p <= delta).any() and (p > delta).any()


@pytest.mark.parametrize(
    ("eps", "delta", "expected"),
    [(0.1, 0.05, 29), (0.5, 0.25, 2), (0.01, 0.05, 299), (0.2, 0.1, 11)],
)
def test_min_samples_for_zero_errors(eps, delta, expected):
    # 0.9^28 = 0.0523 > 0.05 >= 0.9^29 = 0.0471; 0.5^2 = 0.25 exactly; 0.99^298 = 0.05004.
    n = min_samples_for_zero_errors(eps, delta)
    assert n == expected
    assert (1 - eps) ** n <= delta < (1 - eps) ** (n - 1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: binomial_p_value(3, 2, 0.1), "errors must lie between 0 and n"),
        (lambda: binomial_p_value(-1, 2, 0.1), "errors must lie between 0 and n"),
        (lambda: binomial_p_value(1.5, 2, 0.1), "whole numbers"),
        (lambda: binomial_p_value(1, 2, 1.0), "max_error must lie strictly between 0"),
        (lambda: clopper_pearson_upper(1, 2, 0.0), "delta must lie strictly between 0"),
        (lambda: clopper_pearson_lower(1, 2, 1.5), "delta must lie strictly between 0"),
        (lambda: min_samples_for_zero_errors(0.0, 0.1), "max_error must lie strictly"),
    ],
)
def test_bad_inputs(call, message):
    with pytest.raises(ValidationError, match=message):
        call()


def test_counts_must_be_numbers():
    with pytest.raises(ConfideTypeError, match="integer counts"):
        binomial_p_value(True, 2, 0.1)
    with pytest.raises(ConfideTypeError, match="integer counts"):
        clopper_pearson_upper("3", 10, 0.1)
