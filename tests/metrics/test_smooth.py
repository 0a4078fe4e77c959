"""Smooth ECE: the paper's integral, its fixed point, analytic values and relplot's numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import make_multiclass, shared_data

from confide.exceptions import (
    ConfideTypeError,
    LabelError,
    NonFiniteError,
    ShapeError,
    ValidationError,
)
from confide.metrics._smooth import SmoothECE, smooth_ece, smooth_ece_details


def _direct_smece(f, y, sigma, w=None, n_grid=20001):
    """The paper's integral by brute force: exact reflected kernel at every sample, O(n * T)."""
    f = np.asarray(f, float)
    w = np.ones_like(f) if w is None else np.asarray(w, float)
    r = w * (np.asarray(y, float) - f) / w.sum()
    t = np.linspace(0.0, 1.0, n_grid)
    g = np.zeros_like(t)
    m_max = int(np.ceil((9 * sigma + 1) / 2))
    for m in range(-m_max, m_max + 1):
        for sign in (1.0, -1.0):
            z = (t[:, None] - sign * f[None, :] + 2.0 * m) / sigma
            g += np.exp(-0.5 * z * z) @ r
    g /= sigma * np.sqrt(2.0 * np.pi)
    a = np.abs(g)
    return float((a.sum() - 0.5 * (a[0] + a[-1])) / (n_grid - 1))


def _bernoulli(rng, q):
    return (rng.random(q.shape) < q).astype(np.intp)


def _three_class_top_label(rng, n):
    """Top-label confidence c ~ U(0.4, 1), correct with probability c**2 (analytic gap 0.18)."""
    c = rng.uniform(0.4, 1.0, n)
    pred = rng.integers(0, 3, n)
    p = np.repeat(((1.0 - c) / 2.0)[:, None], 3, axis=1)
    p[np.arange(n), pred] = c
    other = (pred + rng.integers(1, 3, n)) % 3
    y = np.where(rng.random(n) < c**2, pred, other)
    return y, p


# --- the definition ----------------------------------------------------------------------------


@pytest.mark.parametrize("sigma", [0.01, 0.05, 0.3, 0.8])
def test_grid_computation_matches_direct_integral(rng, sigma):
    f = rng.uniform(size=150)
    y = _bernoulli(rng, 1.0 - f)  # residuals change sign: the kernel's shape matters
    # masses on both ends, with non-zero residuals, must keep their whole kernel mass
    f[:4], y[:4] = [0.0, 1.0, 1.0, 0.0], [1, 0, 0, 1]
    w = rng.uniform(0.2, 3.0, size=150)
    ours = smooth_ece(y, f, kind="binary", sigma=sigma, sample_weight=w)
    assert ours == pytest.approx(_direct_smece(f, y, sigma, w), abs=2e-6)


def test_value_is_continuous_at_the_ends(rng):
    f = rng.uniform(0.5, 1.0, 600)
    y = _bernoulli(rng, f**2)
    f[:200] = 1.0
    y[:200] = _bernoulli(rng, np.full(200, 0.9))
    at_one = smooth_ece(y, f, kind="binary", sigma=0.05)
    g = f.copy()
    g[:200] = 1.0 - 1e-9
    assert smooth_ece(y, g, kind="binary", sigma=0.05) == pytest.approx(at_one, abs=1e-7)
    g[:200] = 0.998  # two cells of relplot's grid away, where relplot's value jumps
    assert smooth_ece(y, g, kind="binary", sigma=0.05) == pytest.approx(at_one, abs=1e-3)
    assert at_one == pytest.approx(_direct_smece(f, y, 0.05, n_grid=10001), abs=1e-5)


def test_non_increasing_in_sigma(rng):
    f = rng.beta(4, 1.5, 4000)
    y = _bernoulli(rng, np.clip(f + 0.15 * np.sin(9 * f), 0, 1))
    sigmas = np.geomspace(0.005, 0.8, 25)
    values = np.array([smooth_ece(y, f, kind="binary", sigma=s) for s in sigmas])
    assert np.all(np.diff(values) <= 1e-7)
    assert values[0] > values[-1] + 0.01


def test_fixed_point(rng):
    f = rng.uniform(size=5000)
    y = _bernoulli(rng, np.clip(f + 0.1 * np.sin(8 * f), 0, 1))
    d = smooth_ece_details(y, f, kind="binary")
    assert d.sigma == pytest.approx(d.value, abs=1e-6)
    assert smooth_ece(y, f, kind="binary", sigma=d.sigma) == pytest.approx(d.value, abs=1e-12)
    # a bandwidth below the fixed point gives a larger value than itself, above it a smaller one
    assert smooth_ece(y, f, kind="binary", sigma=0.8 * d.sigma) > 0.8 * d.sigma
    assert smooth_ece(y, f, kind="binary", sigma=1.25 * d.sigma) < 1.25 * d.sigma


def test_zero_residuals_hit_the_bandwidth_floor():
    y = np.array([0, 1, 1, 0])
    p = np.array([0.0, 1.0, 1.0, 0.0])
    d = smooth_ece_details(y, p, kind="binary")
    assert d.value == pytest.approx(0.0, abs=1e-12)
    assert d.sigma == pytest.approx(1e-3)


# --- analytic values -----------------------------------------------------------------------------


def test_perfect_calibration_is_near_zero(rng):
    f = rng.uniform(size=100_000)
    y = _bernoulli(rng, f)
    assert smooth_ece(y, f, kind="binary") < 0.01


def test_squared_miscalibration_binary(rng):
    # E[y | f] = f**2 < f: the smoothed residual never changes sign, and the reflected kernel keeps
    # mass, so smECE_sigma = E[f - f**2] = 1/6 for every sigma (and the fixed point is 1/6).
    f = rng.uniform(size=100_000)
    y = _bernoulli(rng, f**2)
    se = np.sqrt(np.var(y - f) / len(f))
    assert smooth_ece(y, f, kind="binary") == pytest.approx(1 / 6, abs=5 * se)
    assert smooth_ece(y, f, kind="binary", sigma=0.05) == pytest.approx(1 / 6, abs=5 * se)


def test_squared_miscalibration_top_label(rng):
    # c ~ U(0.4, 1), correct w.p. c**2: E[c - c**2] = 0.108 / 0.6 = 0.18
    y, p = _three_class_top_label(rng, 60_000)
    assert smooth_ece(y, p) == pytest.approx(0.18, abs=0.01)
    # the same data read with kind="classwise" is a different quantity
    assert abs(smooth_ece(y, p, kind="classwise") - 0.18) > 0.02


# --- kinds -----------------------------------------------------------------------------------------


def test_top_label_is_binary_of_confidence_and_correctness(rng):
    y, p = make_multiclass(rng, n=3000, k=4)
    conf, correct = p.max(1), (p.argmax(1) == y).astype(int)
    assert smooth_ece(y, p) == pytest.approx(smooth_ece(correct, conf, kind="binary"), abs=1e-12)
    # 1-D binary input: top-label confidence max(p, 1 - p), not p
    f = rng.uniform(size=3000)
    yb = _bernoulli(rng, f**2)
    conf_b = np.maximum(f, 1 - f)
    correct_b = ((f > 0.5) == yb).astype(int)
    top = smooth_ece(yb, f, kind="top_label")
    assert top == pytest.approx(smooth_ece(correct_b, conf_b, kind="binary"), abs=1e-12)
    assert abs(top - smooth_ece(yb, f, kind="binary")) > 0.01


def test_classwise_is_mean_of_one_vs_rest(rng):
    y, p = make_multiclass(rng, n=3000, k=4)
    per_class = [smooth_ece((y == k).astype(int), p[:, k], kind="binary") for k in range(4)]
    assert smooth_ece(y, p, kind="classwise") == pytest.approx(np.mean(per_class), abs=1e-12)
    fixed = [smooth_ece((y == k).astype(int), p[:, k], kind="binary", sigma=0.07) for k in range(4)]
    assert smooth_ece(y, p, kind="classwise", sigma=0.07) == pytest.approx(
        np.mean(fixed), abs=1e-12
    )


def test_classwise_of_binary_input_equals_binary(rng):
    # the kernel is symmetric under t -> 1 - t, so class 0 (1 - p against 1 - y) gives the same
    f = rng.uniform(size=2000)
    y = _bernoulli(rng, f**2)
    assert smooth_ece(y, f, kind="classwise") == pytest.approx(
        smooth_ece(y, f, kind="binary"), abs=1e-9
    )


# --- invariances and range ------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=1, max_value=60).flatmap(
        lambda n: st.tuples(
            st.lists(st.sampled_from([0.0, 0.2, 0.5, 0.7, 1.0]), min_size=n, max_size=n),
            st.lists(st.integers(0, 1), min_size=n, max_size=n),
            st.permutations(list(range(n))),
        )
    ),
    st.sampled_from([None, 0.1]),
)
def test_row_permutation_invariance(data, sigma):
    f, y, perm = (np.array(a) for a in data)
    a = smooth_ece(y, f, kind="binary", sigma=sigma)
    b = smooth_ece(y[perm], f[perm], kind="binary", sigma=sigma)
    assert a == pytest.approx(b, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=1, max_value=40).flatmap(
        lambda n: st.tuples(
            st.lists(st.floats(0, 1), min_size=n, max_size=n),
            st.lists(st.integers(0, 1), min_size=n, max_size=n),
        )
    ),
    st.sampled_from(["binary", "top_label", "classwise"]),
)
def test_values_in_unit_interval(data, kind):
    f, y = (np.array(a) for a in data)
    v = smooth_ece(y, f, kind=kind)
    assert 0.0 <= v <= 1.0


def test_extreme_miscalibration_is_at_most_one():
    y = np.array([0, 1] * 50)
    p = np.array([1.0, 0.0] * 50)
    assert 0.95 < smooth_ece(y, p, kind="binary", sigma=0.01) <= 1.0
    assert 0.0 < smooth_ece(y, p, kind="binary") <= 1.0


def test_integer_weights_equal_repeated_rows(rng):
    y, p = make_multiclass(rng, n=400, k=3)
    w = rng.integers(0, 4, size=400)
    rep = np.repeat(np.arange(400), w)
    for sigma in (None, 0.05):
        for kind in ("top_label", "classwise"):
            a = smooth_ece(y, p, kind=kind, sigma=sigma, sample_weight=w)
            b = smooth_ece(y[rep], p[rep], kind=kind, sigma=sigma)
            assert a == pytest.approx(b, abs=1e-9)


def test_float32_input_gives_float64_result(rng):
    y, p = make_multiclass(rng, n=2000, k=5)
    a = smooth_ece(y, p.astype(np.float32))
    assert isinstance(a, float)
    assert a == pytest.approx(smooth_ece(y, p.astype(np.float32).astype(np.float64)), abs=1e-12)


# --- details ---------------------------------------------------------------------------------------


def test_details_curves(rng):
    f = rng.uniform(0.1, 0.9, size=50_000)
    y = _bernoulli(rng, f**2)
    d = smooth_ece_details(y, f, kind="binary")
    assert isinstance(d, SmoothECE)
    assert d.value == smooth_ece(y, f, kind="binary")
    h = d.grid[1] - d.grid[0]
    assert d.grid[0] == 0.0
    assert d.grid[-1] == 1.0
    assert h <= d.sigma / 64
    trap = np.full(d.grid.size, h)
    trap[[0, -1]] = h / 2
    assert float(trap @ d.density) == pytest.approx(1.0, abs=1e-12)
    ok = np.isfinite(d.smoothed_residual)
    assert float(trap[ok] @ (np.abs(d.smoothed_residual[ok]) * d.density[ok])) == pytest.approx(
        d.value, abs=1e-9
    )
    # the smoothed curve follows E[y | f = t] = t**2 where the scores are dense
    inside = (d.grid > 0.2) & (d.grid < 0.8)
    assert np.max(np.abs(d.calibration_curve[inside] - d.grid[inside] ** 2)) < 0.04
    out = json.loads(json.dumps(d.to_dict()))
    assert set(out) == {"value", "sigma", "grid", "smoothed_residual", "density"}
    assert len(out["grid"]) == d.grid.size


def test_details_nan_where_no_data():
    y = np.array([1, 0, 1, 1])
    p = np.array([0.7, 0.72, 0.69, 0.71])
    d = smooth_ece_details(y, p, kind="binary", sigma=0.01)
    assert np.isnan(d.smoothed_residual[0])
    assert np.isfinite(d.smoothed_residual[np.argmin(np.abs(d.grid - 0.7))])
    assert d.to_dict()["smoothed_residual"][0] is None
    assert np.all(d.density >= 0)


def test_details_refuses_classwise(rng):
    y, p = make_multiclass(rng, n=100, k=3)
    with pytest.raises(ValidationError, match="kind must be one of"):
        smooth_ece_details(y, p, kind="classwise")


# --- bad input -------------------------------------------------------------------------------------


def test_bad_inputs():
    y = np.array([0, 1, 1])
    p = np.array([0.2, 0.8, 0.6])
    with pytest.raises(NonFiniteError, match="NaN"):
        smooth_ece(y, np.array([0.2, np.nan, 0.6]), kind="binary")
    with pytest.raises(ShapeError, match="1-D or 2-D"):
        smooth_ece(y, np.zeros((3, 2, 2)))
    with pytest.raises(ShapeError, match="same number of samples"):
        smooth_ece(np.array([0, 1]), p, kind="binary")
    with pytest.raises(LabelError, match="must be 0 or 1"):
        smooth_ece(np.array([0, 2, 1]), p, kind="binary")
    with pytest.raises(LabelError, match=r"outside the 2 classes"):
        smooth_ece(np.array([0, 2, 1]), np.array([[0.5, 0.5]] * 3))
    with pytest.raises(ValidationError, match="kind='binary' measures P"):
        smooth_ece(y, np.array([[0.5, 0.5]] * 3), kind="binary")
    with pytest.raises(ValidationError, match="kind must be one of"):
        smooth_ece(y, p, kind="multiclass")
    for bad in (0.0, -0.1, 5e-5, float("inf"), float("nan")):
        with pytest.raises(ValidationError, match=r"finite bandwidth of at least 0\.0001"):
            smooth_ece(y, p, kind="binary", sigma=bad)
    assert smooth_ece(y, p, kind="binary", sigma=1e-4) >= 0.0
    with pytest.raises(ConfideTypeError, match="sigma must be a positive number"):
        smooth_ece(y, p, kind="binary", sigma="auto")
    with pytest.raises(ValidationError, match="all weights are 0"):
        smooth_ece(y, p, kind="binary", sample_weight=[0, 0, 0])
    with pytest.raises(ValidationError, match="non-negative"):
        smooth_ece(y, p, kind="binary", sample_weight=[1, -1, 1])


# --- relplot (the authors' implementation) -----------------------------------------------------------


def _relplot_data_sets():
    rng = np.random.default_rng(2023)
    n = 20_000
    f = rng.uniform(0.001, 0.999, n)
    yield "calibrated", f, _bernoulli(rng, f)
    yield "squared", f, _bernoulli(rng, f**2)
    g = np.clip(rng.beta(5, 1.5, n), 0.001, 0.999)
    yield "over-confident beta", g, _bernoulli(rng, g**1.6)
    yield "wiggly", f, _bernoulli(rng, np.clip(f + 0.1 * np.sin(8 * f), 0, 1))
    yield "small n", f[:300], _bernoulli(rng, f[:300] ** 2)
    y, p = make_multiclass(rng, n=n, k=10)
    conf, correct = p.max(1), (p.argmax(1) == y).astype(np.intp)
    keep = conf <= 0.999
    yield "softmax top-label", conf[keep], correct[keep]


@pytest.mark.parametrize(("name", "f", "y"), list(_relplot_data_sets()))
def test_agrees_with_relplot(name, f, y):
    relplot = pytest.importorskip("relplot")
    assert f.min() >= 0.001
    assert f.max() <= 0.999  # away from relplot's end cells (see smooth_ece's notes)
    theirs, their_sigma = relplot.smECE(f.astype(float), y.astype(float), return_width=True)
    d = smooth_ece_details(y, f, kind="binary")
    assert d.value == pytest.approx(theirs, abs=1e-3), name
    assert d.sigma == pytest.approx(their_sigma, abs=2e-3), name
    for sigma in (0.03, 0.1):
        theirs = relplot.smECE_sigma(f.astype(float), y.astype(float), sigma)
        ours = smooth_ece(y, f, kind="binary", sigma=sigma)
        assert ours == pytest.approx(theirs, abs=1e-3), (name, sigma)


@pytest.mark.shared_data
@pytest.mark.parametrize("model", ["lenet-5-cifar-10", "lenet-5-cifar-100"])
def test_agrees_with_relplot_on_real_outputs(model):
    relplot = pytest.importorskip("relplot")
    d = np.load(shared_data("netcal_cifar_probs", f"{model}.npz"))
    p = d["predictions"].astype(np.float64)
    p /= p.sum(1, keepdims=True)
    y = d["ground_truth"]
    conf, correct = p.max(1), (p.argmax(1) == y).astype(float)
    assert np.mean(conf > 0.999) < 0.01  # few confidences in relplot's end cell
    assert smooth_ece(y, p) == pytest.approx(relplot.smECE(conf, correct), abs=1e-3)
