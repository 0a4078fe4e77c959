"""Isotonic, histogram binning, scaling-binning (+ the shared protocol of all five binary-by-nature
calibrators): against scikit-learn, by-hand values, round trips, errors and real data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.isotonic import IsotonicRegression
from tests.conftest import shared_data

from confide.calibration._base import NotFittedError, load
from confide.calibration._beta import BetaCalibration
from confide.calibration._histogram import HistogramBinning
from confide.calibration._isotonic import IsotonicCalibration
from confide.calibration._platt import PlattScaling, finish
from confide.calibration._scaling_binning import ScalingBinning
from confide.exceptions import LabelError, NonFiniteError, SchemaError, ShapeError, ValidationError
from confide.metrics import ece

ALL = [PlattScaling, IsotonicCalibration, HistogramBinning, BetaCalibration, ScalingBinning]


def _binary(rng, n=4000):
    """Over-confident binary logits: labels from sigmoid(0.5 z + 0.3)."""
    z = rng.normal(size=n) * 3.0
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(0.5 * z + 0.3)))).astype(int)
    return z, y


def _multiclass(rng, n=3000, k=4):
    z = rng.normal(size=(n, k)) * 3.0
    q = np.exp(z / 2 - (z / 2).max(1, keepdims=True))
    q /= q.sum(1, keepdims=True)
    y = (q.cumsum(1) > rng.random((n, 1))).argmax(1)
    return z, y


def _nll(p, y):
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p))


# -- isotonic ------------------------------------------------------------------------------
@pytest.mark.parametrize("weighted", [False, True])
def test_isotonic_matches_sklearn_with_ties_and_weights(rng, weighted):
    p = np.round(rng.random(3000), 2)  # many ties
    y = (rng.random(3000) < p**2).astype(int)
    w = rng.random(3000) * (rng.random(3000) > 0.1) if weighted else None  # some zero weights
    ours = IsotonicCalibration(input="probs").fit(p, y, sample_weight=w)
    ref = IsotonicRegression(out_of_bounds="clip").fit(p, y, sample_weight=w)
    t = np.concatenate([rng.random(2000), p, [0.0, 1.0]])
    np.testing.assert_allclose(ours.predict_proba(t), ref.predict(t), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.x_thresholds_[0], ref.X_thresholds_, rtol=0, atol=1e-15)


def test_isotonic_is_order_independent(rng):
    p = np.round(rng.random(2000), 1)
    y = (rng.random(2000) < p).astype(int)
    perm = rng.permutation(2000)
    a = IsotonicCalibration(input="probs").fit(p, y)
    b = IsotonicCalibration(input="probs").fit(p[perm], y[perm])
    t = rng.random(500)
    np.testing.assert_array_equal(a.predict_proba(t), b.predict_proba(t))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=4, max_size=60),
    st.integers(0, 2**31 - 1),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30),
)
def test_isotonic_output_is_monotone(scores, seed, queries):
    p = np.array(scores)
    r = np.random.default_rng(seed)
    y = (r.random(p.size) < 0.5).astype(int)
    y[0], y[1] = 0, 1
    cal = IsotonicCalibration(input="probs").fit(p, y)
    q = np.sort(np.concatenate([queries, p]))
    out = cal.predict_proba(q)
    assert np.all(np.diff(out) >= 0)
    assert np.all((out >= 0) & (out <= 1))


# -- histogram binning -----------------------------------------------------------------------
@pytest.mark.parametrize("binning", ["uniform", "quantile"])
def test_histogram_equals_per_bin_frequency(rng, binning):
    p = rng.random(2000) ** 2
    y = (rng.random(2000) < np.sqrt(p)).astype(int)
    w = rng.random(2000)
    cal = HistogramBinning(input="probs", n_bins=10, binning=binning).fit(p, y, sample_weight=w)
    if binning == "uniform":
        edges = np.arange(11) / 10
    else:  # weighted equal-mass edges by hand
        o = np.argsort(p)
        cw = np.cumsum(w[o])
        pos = [np.searchsorted(cw, r * cw[-1] / 10, side="right") for r in range(1, 10)]
        edges = np.concatenate([[0.0], p[o][pos], [1.0]])
    np.testing.assert_array_equal(cal.edges_[0], edges)
    out = cal.predict_proba(p)
    for i in range(10):
        inside = (p >= edges[i]) & ((p < edges[i + 1]) if i < 9 else (p <= 1))
        assert inside.any()
        expected = np.sum(w[inside] * y[inside]) / np.sum(w[inside])
        np.testing.assert_allclose(out[inside], expected, rtol=1e-12)
        np.testing.assert_allclose(cal.bin_values_[0, i], expected, rtol=1e-12)


def test_histogram_empty_bin_gets_centre_and_edges_go_up(rng):
    p = np.concatenate([rng.uniform(0.0, 0.2, 500), rng.uniform(0.6, 1.0, 500)])
    y = (rng.random(1000) < p).astype(int)
    cal = HistogramBinning(input="probs", n_bins=5).fit(p, y)
    assert cal.bin_weights_[0, 1] == 0 and cal.bin_weights_[0, 2] == 0
    np.testing.assert_allclose(cal.predict_proba(np.array([0.3, 0.5])), [0.3, 0.5])
    # an edge value is in the upper bin (confide's convention)
    assert cal.predict_proba(np.array([0.2]))[0] == cal.bin_values_[0, 1]


def test_histogram_matches_metric_bins(rng):
    """After histogram binning on its own uniform bins, the training-set ECE is 0."""
    p = rng.random(3000)
    y = (rng.random(3000) < p**3).astype(int)
    q = HistogramBinning(input="probs", n_bins=15).fit_predict_proba(p, y)
    assert ece(y, p, kind="binary", n_bins=15) > 0.05
    assert ece(y, q, kind="binary", n_bins=15) < 1e-12


# -- scaling-binning -------------------------------------------------------------------------
def test_scaling_binning_has_at_most_n_bins_values(rng):
    z, y = _binary(rng)
    cal = ScalingBinning(n_bins=10).fit(z, y)
    out = cal.predict_proba(rng.normal(size=5000) * 4)
    assert 1 < np.unique(out).size <= 10
    # each bin value is the mean Platt-scaled value of the second half in that bin
    perm = np.random.default_rng(0).permutation(z.size)
    second = perm[z.size // 2 :]
    g = 1 / (1 + np.exp(-(cal.a_[0] * z[second] + cal.b_[0])))
    idx = np.searchsorted(cal.edges_[0][1:-1], g, side="right")
    for i in range(10):
        np.testing.assert_allclose(cal.bin_values_[0, i], g[idx == i].mean(), rtol=1e-12)
        assert np.sum(idx == i) in (z.size // 20, z.size // 20 + 1)  # equal mass


def test_scaling_binning_seed_changes_split(rng):
    z, y = _binary(rng, 600)
    a = ScalingBinning(seed=0).fit(z, y)
    b = ScalingBinning(seed=1).fit(z, y)
    assert a.a_[0] != b.a_[0]


def test_scaling_binning_needs_two_n_bins_samples(rng):
    z, y = _binary(rng, 29)
    with pytest.raises(ValidationError, match="needs at least 30 calibration samples"):
        ScalingBinning(n_bins=15).fit(z, y)
    ScalingBinning(n_bins=14).fit(z, y)


# -- shared protocol -------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("input", ["logits", "probs"])
def test_save_load_round_trip(tmp_path, rng, cls, input):
    z, y = _binary(rng, 1000)
    zm, ym = _multiclass(rng, 1500)
    xs = (
        (z, zm)
        if input == "logits"
        else (1 / (1 + np.exp(-z)), np.exp(zm) / np.exp(zm).sum(1)[:, None])
    )
    for x, lab in zip(xs, (y, ym), strict=True):
        cal = cls(input=input).fit(x, lab)
        path = cal.save(tmp_path / f"{cls.method}.json")
        back = load(path)
        assert type(back) is cls and repr(back) == repr(cal)
        np.testing.assert_array_equal(back.predict_proba(x), cal.predict_proba(x))


@pytest.mark.parametrize("cls", ALL)
def test_malformed_params_raise_schema_error(rng, cls):
    z, y = _binary(rng, 1000)
    doc = cls().fit(z, y).to_dict()
    params = doc["payload"]["params"]
    key = next(iter(params))
    params[key] = [[1.0, 2.0, 3.0]] * 3  # wrong shape
    from confide._serialization import to_document

    bad = to_document("calibrator", doc["payload"])
    with pytest.raises(SchemaError, match="malformed"):
        load(bad)


@pytest.mark.parametrize("cls", ALL)
def test_multiclass_one_vs_rest_rows_sum_to_one(rng, cls):
    z, y = _multiclass(rng)
    out = cls().fit(z, y).predict_proba(z)
    assert out.shape == z.shape
    np.testing.assert_allclose(out.sum(1), 1.0, atol=1e-12)
    assert np.all(out >= 0)
    # better calibrated than the over-confident input, in NLL
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    rows = np.arange(len(y))
    assert -np.mean(np.log(np.maximum(out[rows, y], 1e-15))) < -np.mean(np.log(p[rows, y]))


def test_all_zero_row_falls_back_to_uniform():
    q = np.array([[0.0, 0.0, 0.0], [0.2, 0.2, 0.6], [0.5, 0.0, 0.0]])
    out = finish(q, binary=False)
    np.testing.assert_allclose(out, [[1 / 3] * 3, [0.2, 0.2, 0.6], [1.0, 0.0, 0.0]])
    # end to end: isotonic maps every score seen only on negatives of its class to 0
    p = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]] * 5)
    y = np.array([0, 1, 2] * 5)
    cal = IsotonicCalibration(input="probs").fit(p, y)
    np.testing.assert_allclose(cal.predict_proba(np.full((1, 3), 1 / 3)), [[1 / 3] * 3])
    np.testing.assert_allclose(cal.predict_proba(p[:3]), np.eye(3))


@pytest.mark.parametrize("cls", ALL)
def test_bad_input_raises(rng, cls):
    z, y = _binary(rng, 200)
    with pytest.raises(LabelError, match="only class"):
        cls().fit(z, np.zeros(200, dtype=int))
    with pytest.raises(NonFiniteError, match="NaN"):
        cls().fit(np.where(np.arange(200) == 3, np.nan, z), y)
    with pytest.raises(ValidationError, match="at least"):
        cls().fit(z[:1], y[:1])
    with pytest.raises(NotFittedError, match="not fitted"):
        cls().predict_proba(z)
    cal = cls(n_bins=5) if cls is ScalingBinning else cls()
    cal.fit(z, y)
    with pytest.raises(ShapeError, match="fitted on 1-D binary scores"):
        cal.predict_proba(rng.normal(size=(10, 3)))
    zm, ym = _multiclass(rng, 600, k=3)
    cal.fit(zm, ym)
    with pytest.raises(ShapeError, match=r"fitted on \(n, 3\) scores"):
        cal.predict_proba(rng.normal(size=(10, 4)))
    with pytest.raises(LabelError, match="outside the 3 classes"):
        cls().fit(zm, np.where(ym == 2, 5, ym))


# -- real data ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def census():
    d = np.load(shared_data("nannyml_census_employment_ma", "employment_ma_scores.npz"))
    year, y, p = d["year"], d["y_true"].astype(int), d["y_prob"]
    return (p[year == 2015], y[year == 2015]), (p[year == 2016], y[year == 2016])


@pytest.mark.parametrize("cls", ALL)
def test_census_2015_to_2016(census, cls):
    (p15, y15), (p16, y16) = census
    q16 = cls(input="probs").fit(p15, y15).predict_proba(p16)
    base_ece = ece(y16, p16, kind="binary")
    assert ece(y16, q16, kind="binary") <= 2 * base_ece
    assert _nll(q16, y16) <= _nll(p16, y16) + 0.01
