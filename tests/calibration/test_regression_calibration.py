"""Gaussian variance scaling and isotonic quantile recalibration of regressors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import norm

from confide.calibration._base import NotFittedError
from confide.calibration._regression import (
    GaussianVarianceScaling,
    IsotonicQuantileRecalibration,
)
from confide.exceptions import NonFiniteError, SchemaError, ShapeError, ValidationError
from confide.metrics._regression import (
    gaussian_nll,
    interval_coverage,
    regression_calibration_error,
)
from confide.scores._regression import gaussian_interval


def misspecified(rng: np.random.Generator, n: int, factor: float = 3.0):
    """A model whose predicted variance is ``1/factor`` of the truth (over-confident)."""
    mu = rng.normal(size=n) * 2.0
    true_var = rng.uniform(0.3, 2.0, size=n)
    y = mu + np.sqrt(true_var) * rng.standard_normal(n)
    return mu, true_var / factor, y


def heavy_tailed(rng: np.random.Generator, n: int):
    """Student-t(3) noise predicted as Gaussian with the wrong scale: no single scale fixes it."""
    mu = rng.normal(size=n)
    sd = rng.uniform(0.5, 1.5, size=n)
    y = mu + sd * rng.standard_t(3, size=n)
    return mu, sd**2, y


# -- GaussianVarianceScaling ----------------------------------------------------------------
def test_variance_scaling_recovers_true_factor(rng):
    mu, var, y = misspecified(rng, 20_000, factor=3.0)
    cal = GaussianVarianceScaling().fit(mu, var, y)
    assert cal.variance_scale_ == pytest.approx(3.0, rel=0.03)
    assert cal.scale_ == pytest.approx(np.sqrt(cal.variance_scale_))
    assert cal.n_samples_ == 20_000


def test_variance_scaling_is_the_exact_nll_optimum_and_lowers_nll(rng):
    mu, var, y = misspecified(rng, 5000, factor=0.25)  # under-confident this time
    cal = GaussianVarianceScaling().fit(mu, var, y)
    s2 = cal.variance_scale_
    best = gaussian_nll(y, mu, s2 * var)
    assert best < gaussian_nll(y, mu, var) - 0.1
    for step in (0.99, 1.01):  # a closed-form optimum: any other scale is worse
        assert gaussian_nll(y, mu, s2 * step * var) > best
    # held-out data: lower NLL and near-zero calibration error
    mu2, var2, y2 = misspecified(rng, 5000, factor=0.25)
    assert gaussian_nll(y2, mu2, cal.predict_variance(var2)) < gaussian_nll(y2, mu2, var2)
    assert regression_calibration_error(y2, mu2, cal.predict_variance(var2)) < 0.015


def test_variance_scaling_weighted_equals_repetition(rng):
    mu, var, y = misspecified(rng, 300)
    w = rng.integers(0, 4, size=300)
    rep = np.repeat(np.arange(300), w)
    a = GaussianVarianceScaling().fit(mu, var, y, sample_weight=w.astype(float))
    b = GaussianVarianceScaling().fit(mu[rep], var[rep], y[rep])
    assert a.variance_scale_ == pytest.approx(b.variance_scale_, rel=1e-12)


def test_variance_scaling_interval_and_quantile(rng):
    mu, var, y = misspecified(rng, 1000)
    cal = GaussianVarianceScaling().fit(mu, var, y)
    iv = cal.predict_interval(mu, var, confidence_level=0.8)
    ref = gaussian_interval(mu, cal.predict_variance(var), confidence_level=0.8)
    np.testing.assert_allclose(iv.lower, ref.lower, rtol=1e-12)
    np.testing.assert_allclose(iv.upper, ref.upper, rtol=1e-12)
    assert iv.confidence_level == 0.8
    q = cal.predict_quantile(mu, var, 0.975)
    np.testing.assert_allclose(q, mu + cal.scale_ * np.sqrt(var) * norm.ppf(0.975), rtol=1e-12)


# -- IsotonicQuantileRecalibration ----------------------------------------------------------
@pytest.mark.parametrize("make", ["over_confident", "under_confident", "heavy_tailed"])
def test_isotonic_brings_held_out_coverage_to_nominal(rng, make):
    n = 20_000
    if make == "heavy_tailed":
        mu, var, y = heavy_tailed(rng, 2 * n)
    else:
        mu, var, y = misspecified(rng, 2 * n, factor=3.0 if make == "over_confident" else 0.3)
    fit, test = slice(0, n), slice(n, 2 * n)
    raw = gaussian_interval(mu[test], var[test], confidence_level=0.9)
    raw_cov = interval_coverage(y[test], raw.lower, raw.upper)
    assert abs(raw_cov - 0.9) > 0.04  # the model really is miscalibrated
    cal = IsotonicQuantileRecalibration().fit(mu[fit], var[fit], y[fit])
    for c in (0.5, 0.9, 0.95):
        iv = cal.predict_interval(mu[test], var[test], confidence_level=c)
        assert abs(interval_coverage(y[test], iv.lower, iv.upper) - c) < 0.02
    # the recalibrated CDF levels of held-out targets are close to uniform
    u = cal.predict_cdf(mu[test], var[test], y[test])
    levels = np.arange(1, 100) / 100
    gap = np.mean(np.abs((u[:, None] <= levels).mean(axis=0) - levels))
    assert gap < 0.01


def test_isotonic_map_is_monotone_and_inverts(rng):
    mu, var, y = misspecified(rng, 500)
    cal = IsotonicQuantileRecalibration().fit(mu, var, y)
    x, r = cal.cdf_knots_, cal.calibrated_knots_
    assert x[0] == 0.0 and x[-1] == 1.0 and r[0] == 0.0 and r[-1] == 1.0
    assert (np.diff(x) > 0).all() and (np.diff(r) >= 0).all()
    for tau in (0.01, 0.3, 0.5, 0.77, 0.999):
        p = cal.inverse_level(tau)
        assert np.interp(p, x, r) == pytest.approx(tau, abs=1e-12)
    # quantiles increase with the level, and the quantile's CDF level is the level
    q = [cal.predict_quantile(mu[:5], var[:5], t) for t in (0.1, 0.5, 0.9)]
    assert (q[0] < q[1]).all() and (q[1] < q[2]).all()
    np.testing.assert_allclose(cal.predict_cdf(mu[:5], var[:5], q[2]), 0.9, atol=1e-9)


def test_isotonic_well_specified_map_is_near_identity(rng):
    mu = rng.normal(size=5000)
    var = rng.uniform(0.5, 2, size=5000)
    y = mu + np.sqrt(var) * rng.standard_normal(5000)
    cal = IsotonicQuantileRecalibration().fit(mu, var, y)
    grid = np.linspace(0.05, 0.95, 19)
    np.testing.assert_allclose([cal.inverse_level(t) for t in grid], grid, atol=0.03)


def test_isotonic_weights_equal_repetition(rng):
    mu, var, y = misspecified(rng, 200)
    w = rng.integers(0, 4, size=200)
    rep = np.repeat(np.arange(200), w)
    a = IsotonicQuantileRecalibration().fit(mu, var, y, sample_weight=w.astype(float))
    b = IsotonicQuantileRecalibration().fit(mu[rep], var[rep], y[rep])
    np.testing.assert_allclose(a.cdf_knots_, b.cdf_knots_)
    np.testing.assert_allclose(a.calibrated_knots_, b.calibrated_knots_, atol=1e-12)


def test_isotonic_zero_variance_prediction_is_a_point_mass(rng):
    mu, var, y = misspecified(rng, 100)
    cal = IsotonicQuantileRecalibration().fit(mu, var, y)
    np.testing.assert_array_equal(cal.predict_quantile([1.5], [0.0], 0.9), [1.5])
    np.testing.assert_array_equal(cal.predict_cdf([0.0, 0.0], [0.0, 0.0], [-1.0, 1.0]), [0, 1])


# -- save / load ----------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [GaussianVarianceScaling, IsotonicQuantileRecalibration])
def test_save_load_round_trip(rng, tmp_path, cls):
    mu, var, y = misspecified(rng, 400)
    cal = cls().fit(mu, var, y)
    path = cal.save(tmp_path / "cal.json")
    doc = json.loads(path.read_text())
    assert doc["kind"] == "regression_calibrator" and doc["payload"]["method"] == cls.method
    back = cls.load(path)
    assert back.n_samples_ == 400
    for level in (0.05, 0.5, 0.93):
        np.testing.assert_array_equal(
            back.predict_quantile(mu, var, level), cal.predict_quantile(mu, var, level)
        )
    assert cls.from_dict(cal.to_dict()).n_samples_ == 400


def test_load_rejects_other_method_and_tampering(rng, tmp_path):
    mu, var, y = misspecified(rng, 100)
    path = GaussianVarianceScaling().fit(mu, var, y).save(tmp_path / "s.json")
    with pytest.raises(SchemaError, match="not a 'isotonic_quantile'"):
        IsotonicQuantileRecalibration.load(path)
    doc = json.loads(path.read_text())
    doc["payload"]["params"]["variance_scale"] = 2.0
    path.write_text(json.dumps(doc))
    with pytest.raises(SchemaError, match="altered"):
        GaussianVarianceScaling.load(path)


def test_load_rejects_malformed_params(tmp_path):
    from confide._serialization import save_json

    bad = {"method": "isotonic_quantile", "n_samples": 3, "params": {"cdf_knots": [0.0, 1.0]}}
    save_json(tmp_path / "b.json", "regression_calibrator", bad)
    with pytest.raises(SchemaError, match="malformed"):
        IsotonicQuantileRecalibration.load(tmp_path / "b.json")
    bad = {"method": "gaussian_variance_scaling", "n_samples": 3, "params": {"variance_scale": -1}}
    save_json(tmp_path / "c.json", "regression_calibrator", bad)
    with pytest.raises(SchemaError, match="variance_scale must be finite and > 0"):
        GaussianVarianceScaling.load(tmp_path / "c.json")


# -- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [GaussianVarianceScaling, IsotonicQuantileRecalibration])
def test_fit_errors(cls):
    mu, var, y = np.zeros(20), np.ones(20), np.linspace(-1, 1, 20)
    with pytest.raises(ValidationError, match="variance must be strictly positive"):
        cls().fit(mu, np.r_[var[:-1], -1.0], y)
    with pytest.raises(ValidationError, match="variance must be strictly positive"):
        cls().fit(mu, np.r_[var[:-1], 0.0], y)
    with pytest.raises(NonFiniteError, match="y contains NaN"):
        cls().fit(mu, var, np.r_[y[:-1], np.nan])
    with pytest.raises(ShapeError, match="y has 19"):
        cls().fit(mu, var, y[:-1])
    with pytest.raises(ValidationError, match="needs at least"):
        cls().fit(mu[:1], var[:1], y[:1])
    with pytest.raises(ValidationError, match="all sample weights are 0"):
        cls().fit(mu, var, y, sample_weight=np.zeros(20))
    with pytest.raises(NotFittedError, match="not fitted yet"):
        cls().predict_quantile(mu, var, 0.5)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        cls().save("never-written.json")


def test_predict_errors(rng):
    mu, var, y = misspecified(rng, 100)
    for cal in (
        GaussianVarianceScaling().fit(mu, var, y),
        IsotonicQuantileRecalibration().fit(mu, var, y),
    ):
        with pytest.raises(ValidationError, match="variance must be non-negative"):
            cal.predict_quantile([0.0], [-1.0], 0.5)
        with pytest.raises(ShapeError, match="same length"):
            cal.predict_quantile([0.0, 1.0], [1.0], 0.5)
        with pytest.raises(ValidationError, match="level must lie strictly between"):
            cal.predict_quantile([0.0], [1.0], 1.0)
        with pytest.raises(ValidationError, match="confidence_level must lie strictly"):
            cal.predict_interval([0.0], [1.0], confidence_level=0.0)


def test_variance_scaling_rejects_perfect_predictions():
    with pytest.raises(ValidationError, match="every calibration residual"):
        GaussianVarianceScaling().fit([1.0, 2.0], [1.0, 1.0], [1.0, 2.0])
