"""Split conformal regression and CQR: exact quantiles, coverage, MAPIE/crepes equality, JSON."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from scipy.stats import norm

from confide.decision._conformal_classification import ConformalClassifier
from confide.decision._conformal_regression import (
    ConformalizedQuantileRegressor,
    SplitConformalRegressor,
)
from confide.decision._conformal_scores import NotFittedError
from confide.exceptions import NonFiniteError, SchemaError, ShapeError, ValidationError

LEVEL = 0.9


def _heteroscedastic(rng, n):
    """y = sin(2 pi x) + sigma(x) * eps with sigma from 0.1 to 1.1: (mean, sigma, y)."""
    x = rng.random(n)
    mean = np.sin(2 * np.pi * x)
    sigma = 0.1 + x
    return mean, sigma, mean + sigma * rng.normal(size=n)


# -- exact, by hand -------------------------------------------------------------------------
def test_split_conformal_by_hand():
    y_pred = np.zeros(9)
    y_true = np.array([0.3, -0.1, 0.5, -0.9, 0.2, 0.7, -0.4, 0.6, -0.8])
    reg = SplitConformalRegressor(LEVEL).fit(y_pred, y_true)
    assert reg.quantile_ == 0.9  # ceil(10 * 0.9) = 9th smallest |residual| = the largest
    assert (reg.n_calibration_, reg.normalized_) == (9, False)
    np.testing.assert_allclose(reg.predict_interval([1.0, -2.0]), [[0.1, 1.9], [-2.9, -1.1]])
    reg8 = SplitConformalRegressor(0.8).fit(y_pred, y_true)
    assert reg8.quantile_ == 0.8  # ceil(8.0) = 8th smallest
    with pytest.raises(ValidationError, match="at least 9 samples") as err:
        SplitConformalRegressor(LEVEL).fit(y_pred[:8], y_true[:8])
    assert "Add 1 more" in str(err.value)


def test_normalised_split_conformal_by_hand():
    y_pred = np.zeros(9)
    y_true = np.array([0.3, -0.1, 0.5, -0.9, 0.2, 0.7, -0.4, 0.6, -0.8])
    scale = np.array([1, 1, 1, 3, 1, 1, 1, 1, 2], dtype=float)  # |r| / scale: 0.7 is the largest
    reg = SplitConformalRegressor(LEVEL).fit(y_pred, y_true, scale=scale)
    assert reg.quantile_ == 0.7 and reg.normalized_
    np.testing.assert_allclose(
        reg.predict_interval([0.0, 1.0], [1.0, 2.0]), [[-0.7, 0.7], [-0.4, 2.4]]
    )


def test_cqr_by_hand():
    lower = np.full(9, -1.0)
    upper = np.full(9, 1.0)
    y = np.array([0.0, 1.5, -1.2, 0.5, 0.9, -0.95, 2.0, 0.1, -0.3])
    # E = max(lower - y, y - upper): the largest is 1.0 (y = 2.0)
    cqr = ConformalizedQuantileRegressor(LEVEL).fit(lower, upper, y)
    assert cqr.quantile_ == 1.0
    np.testing.assert_array_equal(cqr.quantiles_, [1.0, 1.0])
    np.testing.assert_array_equal(cqr.predict_interval([0.0], [0.5]), [[-1.0, 1.5]])
    cqr5 = ConformalizedQuantileRegressor(0.5).fit(lower, upper, y)
    e = np.sort(np.maximum(lower - y, y - upper))
    assert cqr5.quantile_ == e[4] < 0  # ceil(5.0) = 5th smallest: a band too wide shrinks


def test_asymmetric_cqr_corrects_each_side_at_half_the_miscoverage():
    rng = np.random.default_rng(0)
    lower, upper = np.full(19, -1.0), np.full(19, 1.0)
    y = rng.normal(size=19) * 1.5
    cqr = ConformalizedQuantileRegressor(LEVEL, symmetric=False).fit(lower, upper, y)
    # each side at level 0.95: ceil(20 * 0.95) = 19th of 19, the largest
    assert cqr.quantile_ is None
    np.testing.assert_array_equal(cqr.quantiles_, [np.max(lower - y), np.max(y - upper)])
    with pytest.raises(ValidationError, match="at least 19 samples"):
        ConformalizedQuantileRegressor(LEVEL, symmetric=False).fit(lower[:18], upper[:18], y[:18])
    ConformalizedQuantileRegressor(LEVEL).fit(lower[:9], upper[:9], y[:9])  # symmetric needs 9


# -- coverage on synthetic heteroscedastic data -------------------------------------------
@pytest.mark.parametrize("method", ["absolute", "normalised", "cqr", "cqr asymmetric"])
def test_coverage_on_heteroscedastic_data(method):
    rng = np.random.default_rng(1)
    n_cal, n_test, reps = 200, 500, 200
    covered, low_noise, high_noise = [], [], []
    for _ in range(reps):
        mean, sigma, y = _heteroscedastic(rng, n_cal + n_test)
        cal, test = slice(0, n_cal), slice(n_cal, None)
        pred = mean + 0.05  # a slightly biased model
        if method == "absolute":
            iv = SplitConformalRegressor(LEVEL).fit(pred[cal], y[cal]).predict_interval(pred[test])
        elif method == "normalised":
            reg = SplitConformalRegressor(LEVEL).fit(pred[cal], y[cal], scale=sigma[cal])
            iv = reg.predict_interval(pred[test], sigma[test])
        else:
            # quantile predictions 30% too narrow: CQR widens them back
            z = norm.ppf(0.95) * 0.7
            lo, hi = pred - z * sigma, pred + z * sigma
            cqr = ConformalizedQuantileRegressor(LEVEL, symmetric=method == "cqr")
            iv = cqr.fit(lo[cal], hi[cal], y[cal]).predict_interval(lo[test], hi[test])
        inside = (iv[:, 0] <= y[test]) & (y[test] <= iv[:, 1])
        covered.append(inside.mean())
        low_noise.append(inside[sigma[test] < 0.4].mean())
        high_noise.append(inside[sigma[test] > 0.8].mean())
    mean_cov = float(np.mean(covered))
    bound = 1 / (n_cal + 1) if method != "cqr asymmetric" else 2 / (n_cal + 1)
    assert LEVEL - 0.006 <= mean_cov <= LEVEL + bound + 0.006  # sd of the mean < 0.002
    if method == "absolute":  # one width for all: over-covers calm x, under-covers noisy x
        assert np.mean(low_noise) > 0.98 and np.mean(high_noise) < 0.8
    elif method == "normalised":  # widths in proportion to sigma: the level wherever x is
        assert abs(np.mean(low_noise) - LEVEL) < 0.02 and abs(np.mean(high_noise) - LEVEL) < 0.02
    else:  # CQR adds a constant to adaptive bands: far closer to the level than one width
        assert np.mean(low_noise) < 0.98 and np.mean(high_noise) > 0.82


def test_cqr_shrinks_bands_that_are_too_wide():
    rng = np.random.default_rng(2)
    mean, sigma, y = _heteroscedastic(rng, 4000)
    z = norm.ppf(0.95) * 2.0
    lo, hi = mean - z * sigma, mean + z * sigma
    cqr = ConformalizedQuantileRegressor(LEVEL).fit(lo[:2000], hi[:2000], y[:2000])
    assert cqr.quantile_ < 0
    iv = cqr.predict_interval(lo[2000:], hi[2000:])
    assert (iv[:, 1] - iv[:, 0] < hi[2000:] - lo[2000:]).all()
    assert abs(np.mean((iv[:, 0] <= y[2000:]) & (y[2000:] <= iv[:, 1])) - LEVEL) < 0.02


# -- references -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def diabetes():
    sk_datasets = pytest.importorskip("sklearn.datasets")
    sk_linear = pytest.importorskip("sklearn.linear_model")
    from sklearn.model_selection import train_test_split

    X, y = sk_datasets.load_diabetes(return_X_y=True)
    X_tr, X_rest, y_tr, y_rest = train_test_split(X, y, train_size=200, random_state=0)
    point = sk_linear.LinearRegression().fit(X_tr, y_tr)
    quantiles = [
        sk_linear.QuantileRegressor(quantile=q, alpha=0.0, solver="highs").fit(X_tr, y_tr)
        for q in (0.05, 0.95, 0.5)  # MAPIE's prefit order: lower, upper, median
    ]
    return X_rest, y_rest, point, quantiles


def _diabetes_splits(n, reps=100, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(reps):
        idx = rng.permutation(n)
        yield idx[: n // 2], idx[n // 2 :]


def test_equal_to_mapie_on_diabetes(diabetes):
    mapie_regression = pytest.importorskip("mapie.regression")
    X, y, point, (q_lo, q_hi, q_med) = diabetes
    for cal, test in list(_diabetes_splits(len(y), reps=5)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = mapie_regression.SplitConformalRegressor(
                point, confidence_level=LEVEL, prefit=True
            ).conformalize(X[cal], y[cal])
            _, iv_theirs = theirs.predict_interval(X[test])
        ours = SplitConformalRegressor(LEVEL).fit(point.predict(X[cal]), y[cal])
        np.testing.assert_array_equal(
            ours.predict_interval(point.predict(X[test])), iv_theirs[:, :, 0]
        )
        for symmetric in (True, False):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cqr_theirs = mapie_regression.ConformalizedQuantileRegressor(
                    [q_lo, q_hi, q_med], confidence_level=LEVEL, prefit=True
                ).conformalize(X[cal], y[cal])
                _, iv_theirs = cqr_theirs.predict_interval(X[test], symmetric_correction=symmetric)
            cqr = ConformalizedQuantileRegressor(LEVEL, symmetric=symmetric)
            cqr.fit(q_lo.predict(X[cal]), q_hi.predict(X[cal]), y[cal])
            iv = cqr.predict_interval(q_lo.predict(X[test]), q_hi.predict(X[test]))
            np.testing.assert_array_equal(iv, iv_theirs[:, :, 0])


def test_coverage_on_diabetes_over_100_splits(diabetes):
    X, y, point, (q_lo, q_hi, _) = diabetes
    pred, lo, hi = point.predict(X), q_lo.predict(X), q_hi.predict(X)
    cov = {"split": [], "cqr": [], "cqr asymmetric": []}
    for cal, test in _diabetes_splits(len(y)):
        iv = SplitConformalRegressor(LEVEL).fit(pred[cal], y[cal]).predict_interval(pred[test])
        cov["split"].append(np.mean((iv[:, 0] <= y[test]) & (y[test] <= iv[:, 1])))
        for name, sym in (("cqr", True), ("cqr asymmetric", False)):
            cqr = ConformalizedQuantileRegressor(LEVEL, symmetric=sym).fit(lo[cal], hi[cal], y[cal])
            iv = cqr.predict_interval(lo[test], hi[test])
            cov[name].append(np.mean((iv[:, 0] <= y[test]) & (y[test] <= iv[:, 1])))
    for name, values in cov.items():
        # 121 calibration samples: E[coverage] in [0.9, 0.9 + 2/122]; sd of the mean ~0.004
        assert LEVEL - 0.015 < np.mean(values) < LEVEL + 2 / 122 + 0.015, name


def test_normalised_equals_crepes():
    crepes = pytest.importorskip("crepes")
    rng = np.random.default_rng(3)
    mean, sigma, y = _heteroscedastic(rng, 1000)
    for n_cal in (300, 501):  # (n + 1) * 0.1 not an integer: the two rules coincide
        cal, test = slice(0, n_cal), slice(n_cal, None)
        theirs = crepes.ConformalRegressor().fit(y[cal] - mean[cal], sigmas=sigma[cal])
        iv_theirs = theirs.predict_int(mean[test], sigmas=sigma[test], confidence=LEVEL)
        ours = SplitConformalRegressor(LEVEL).fit(mean[cal], y[cal], scale=sigma[cal])
        np.testing.assert_allclose(
            ours.predict_interval(mean[test], sigma[test]), iv_theirs, rtol=0, atol=1e-12
        )
        plain = crepes.ConformalRegressor().fit(y[cal] - mean[cal])
        np.testing.assert_array_equal(
            SplitConformalRegressor(LEVEL).fit(mean[cal], y[cal]).predict_interval(mean[test]),
            plain.predict_int(mean[test], confidence=LEVEL),
        )


# -- bad input and storage ------------------------------------------------------------------
def test_bad_input_raises_clear_errors():
    y = np.arange(20.0)
    with pytest.raises(NotFittedError, match="not fitted"):
        SplitConformalRegressor().predict_interval(y)
    with pytest.raises(NotFittedError, match="not fitted"):
        ConformalizedQuantileRegressor().predict_interval(y, y)
    with pytest.raises(ShapeError, match="same number of samples"):
        SplitConformalRegressor().fit(y, y[:-1])
    with pytest.raises(NonFiniteError):
        SplitConformalRegressor().fit(y, np.r_[y[:-1], np.nan])
    with pytest.raises(ValidationError, match="scale must be > 0"):
        SplitConformalRegressor().fit(y, y, scale=np.r_[0.0, np.ones(19)])
    with pytest.raises(ShapeError):
        SplitConformalRegressor().fit(y, y, scale=np.ones(3))
    with pytest.raises(ValidationError, match="confidence_level"):
        SplitConformalRegressor(1.0)
    with pytest.raises(ValidationError, match="confidence_level"):
        ConformalizedQuantileRegressor(0.0)
    plain = SplitConformalRegressor().fit(y, y + 1)
    with pytest.raises(ValidationError, match="fitted without a scale"):
        plain.predict_interval(y, np.ones(20))
    normed = SplitConformalRegressor().fit(y, y + 1, scale=np.ones(20))
    with pytest.raises(ValidationError, match="pass the scale"):
        normed.predict_interval(y)
    with pytest.raises(ShapeError, match="1-D"):
        ConformalizedQuantileRegressor().fit(y[:, None], y, y)


def test_save_and_load(tmp_path):
    rng = np.random.default_rng(4)
    mean, sigma, y = _heteroscedastic(rng, 400)
    band = (mean - sigma, mean + sigma)
    fitted = [
        (SplitConformalRegressor(0.8).fit(mean, y), (mean,)),
        (SplitConformalRegressor(0.95).fit(mean, y, scale=sigma), (mean, sigma)),
        (ConformalizedQuantileRegressor(0.9).fit(*band, y), band),
        (ConformalizedQuantileRegressor(0.9, symmetric=False).fit(*band, y), band),
    ]
    for reg, pred_args in fitted:
        path = reg.save(tmp_path / "reg.json")
        back = type(reg).load(path)
        assert json.loads(path.read_text())["kind"] == reg._kind
        assert repr(back) == repr(reg)
        expected = reg.predict_interval(*pred_args)
        np.testing.assert_array_equal(back.predict_interval(*pred_args), expected)
        twin = type(reg).from_dict(reg.to_dict())
        np.testing.assert_array_equal(twin.predict_interval(*pred_args), expected)
    with pytest.raises(SchemaError, match="not a 'split_conformal_regressor'"):
        SplitConformalRegressor.load(path)  # the last one saved was a CQR
    rng2 = np.random.default_rng(5)
    probs = rng2.dirichlet(np.ones(3), size=50)
    other = ConformalClassifier().fit(probs, rng2.integers(0, 3, 50)).save(tmp_path / "c.json")
    with pytest.raises(SchemaError, match="not a 'conformalized_quantile_regressor'"):
        ConformalizedQuantileRegressor.load(other)
    with pytest.raises(NotFittedError):
        SplitConformalRegressor().save(tmp_path / "x.json")
