"""ECE family pinned against torchmetrics and netcal, with the cases where they differ."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from tests.conftest import make_multiclass

from confide.exceptions import (
    LabelError,
    NonFiniteError,
    ProbabilityError,
    ShapeError,
    ValidationError,
)
from confide.metrics import ace, debiased_ece, ece, mce

torch = pytest.importorskip("torch")
tmf = pytest.importorskip("torchmetrics.functional.classification")


def _netcal_ece(n_bins, p, y):
    netcal = pytest.importorskip("netcal.metrics")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return netcal.ECE(n_bins).measure(p, y)


def _reference_top_label_ece(y, p, n_bins, norm="l1"):
    """Plain loop-free restatement of the definition, in float64, for cross-checks."""
    conf = p.max(1).astype(np.float64)
    correct = (p.argmax(1) == y).astype(float)
    edges = np.arange(n_bins + 1) / n_bins
    idx = np.clip(np.searchsorted(edges.astype(p.dtype), p.max(1), side="right") - 1, 0, n_bins - 1)
    out = []
    for b in range(n_bins):
        m = idx == b
        if m.any():
            out.append((m.mean(), correct[m].mean() - conf[m].mean()))
    w, g = np.array(out).T
    if norm == "l1":
        return float(np.dot(w, np.abs(g)))
    if norm == "l2":
        return float(np.sqrt(np.dot(w, g * g)))
    return float(np.abs(g).max())


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
@pytest.mark.parametrize("n_bins", [10, 15])
def test_top_label_matches_torchmetrics_and_netcal(rng, norm, n_bins):
    y, p = make_multiclass(rng, n=5000, k=10)
    ours = ece(y, p, n_bins=n_bins, norm=norm)
    theirs = tmf.multiclass_calibration_error(
        torch.tensor(p), torch.tensor(y), num_classes=10, n_bins=n_bins, norm=norm
    ).item()
    assert ours == pytest.approx(theirs, rel=1e-6)
    assert ours == pytest.approx(_reference_top_label_ece(y, p, n_bins, norm), rel=1e-12)
    if norm == "l1":
        assert ours == pytest.approx(_netcal_ece(n_bins, p, y), rel=1e-12)


def test_binary_kind_matches_torchmetrics(rng):
    p = rng.random(4000)
    y = (rng.random(4000) < p**1.5).astype(int)
    theirs = tmf.binary_calibration_error(torch.tensor(p), torch.tensor(y), n_bins=15).item()
    assert ece(y, p, kind="binary") == pytest.approx(theirs, rel=1e-9)


def test_edge_value_goes_up_where_netcal_puts_it_down():
    # 0.6 equals the edge 3/5. confide: bins {0.6, 0.6} and {0.7}. netcal's linspace edge is
    # 0.6000000000000001, so it files 0.6 into the bin below and gets a different value.
    p = np.array([0.6, 0.6, 0.7])
    y = np.array([1, 1, 0])
    ours = ece(y, p, kind="binary", n_bins=5)
    # by hand: bin [0.6, 0.8) holds all three: conf 0.6333, acc 0.6667 -> |gap| = 0.0333
    assert ours == pytest.approx(abs(2 / 3 - (0.6 + 0.6 + 0.7) / 3), rel=1e-12)
    assert _netcal_ece(5, p, y) == pytest.approx(0.5, rel=1e-12)


def test_one_goes_in_the_last_bin_where_torchmetrics_adds_a_bin():
    p = np.array([1.0, 1.0, 0.95])
    y = np.array([1, 0, 1])
    # one bin [0.9, 1]: conf 0.98333, acc 0.66667
    assert ece(y, p, kind="binary", n_bins=10) == pytest.approx(
        (1.0 + 1.0 + 0.95) / 3 - 2 / 3, rel=1e-12
    )
    theirs = tmf.binary_calibration_error(torch.tensor(p), torch.tensor(y), n_bins=10).item()
    assert theirs == pytest.approx(
        2 / 3 * 0.5 + 1 / 3 * 0.05, rel=1e-9
    )  # 1.0 alone in an extra bin


def test_float32_is_accumulated_in_float64(rng):
    # 2e6 confidences in float32: confide's sums are float64, torchmetrics' are float32.
    n = 2_000_000
    p = rng.random(n).astype(np.float32)
    y = (rng.random(n) < p).astype(np.int64)
    ours = ece(y, p, kind="binary")
    exact = _reference_binary_float64(y, p, 15)
    assert ours == pytest.approx(exact, rel=1e-12)
    theirs = tmf.binary_calibration_error(torch.tensor(p), torch.tensor(y), n_bins=15).item()
    assert abs(theirs - exact) > abs(ours - exact)


def _reference_binary_float64(y, p, n_bins):
    edges = (np.arange(n_bins + 1) / n_bins).astype(p.dtype)
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)
    cnt = np.bincount(idx, minlength=n_bins)
    s = np.bincount(idx, weights=p.astype(np.float64), minlength=n_bins)
    t = np.bincount(idx, weights=y.astype(np.float64), minlength=n_bins)
    return float(np.abs(s - t).sum() / cnt.sum())


def test_classwise_is_mean_of_binary_per_class(rng):
    y, p = make_multiclass(rng, n=3000, k=4)
    per_class = [ece((y == k).astype(int), p[:, k], kind="binary") for k in range(4)]
    assert ece(y, p, kind="classwise") == pytest.approx(np.mean(per_class), rel=1e-12)


def test_binary_top_label_uses_max_of_p_and_one_minus_p(rng):
    p = rng.random(1000)
    y = rng.integers(0, 2, 1000)
    two_col = np.column_stack([1 - p, p])
    assert ece(y, p) == pytest.approx(ece(y, two_col), rel=1e-12)
    assert ece(y, p, kind="classwise") == pytest.approx(
        ece(y, two_col, kind="classwise"), rel=1e-12
    )


def test_tie_at_one_half_predicts_class_zero():
    p = np.array([0.5, 0.5])
    assert ece(np.array([0, 0]), p) == pytest.approx(0.5)  # right both times, confidence 0.5
    assert ece(np.array([1, 1]), p) == pytest.approx(0.5)  # wrong both times


def test_sample_weight_equals_repeated_rows(rng):
    y, p = make_multiclass(rng, n=300, k=3)
    w = rng.integers(0, 4, 300)
    rep_y, rep_p = np.repeat(y, w), np.repeat(p, w, axis=0)
    for fn, kw in [
        (ece, {}),
        (ece, {"binning": "quantile"}),
        (ece, {"kind": "classwise"}),
        (mce, {}),
        (ace, {}),
    ]:
        assert fn(y, p, sample_weight=w, **kw) == pytest.approx(fn(rep_y, rep_p, **kw), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64, st.tuples(st.integers(1, 40), st.integers(2, 5)), elements=st.floats(0.01, 1)
    ),
    st.integers(1, 30),
    st.sampled_from(["uniform", "quantile"]),
    st.sampled_from(["l1", "l2", "max"]),
    st.sampled_from(["top_label", "classwise"]),
    st.randoms(),
)
def test_ece_in_unit_interval_and_row_order_free(raw, n_bins, binning, norm, kind, random):
    p = raw / raw.sum(1, keepdims=True)
    y = np.array([random.randrange(p.shape[1]) for _ in range(p.shape[0])])
    value = ece(y, p, n_bins=n_bins, binning=binning, norm=norm, kind=kind)
    assert 0.0 <= value <= 1.0
    perm = np.array(random.sample(range(len(y)), len(y)))
    permuted = ece(y[perm], p[perm], n_bins=n_bins, binning=binning, norm=norm, kind=kind)
    assert permuted == pytest.approx(value, rel=1e-12, abs=1e-15)


def test_norm_ordering(rng):
    y, p = make_multiclass(rng)
    assert ece(y, p, norm="l1") <= ece(y, p, norm="l2") <= mce(y, p)


def test_debiased_ece_matches_formula_and_removes_bias(rng):
    # Perfectly calibrated data: plug-in L2 ECE is biased upward, the debiased one is near 0.
    est_plugin, est_debiased = [], []
    for _ in range(20):
        p = rng.random(500)
        y = (rng.random(500) < p).astype(int)
        est_plugin.append(ece(y, p, kind="binary", norm="l2", binning="quantile") ** 2)
        est_debiased.append(debiased_ece(y, p, kind="binary", squared=True))
    assert np.mean(est_plugin) > 5 * abs(np.mean(est_debiased))
    # by hand on a small example: two bins of 4
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9])
    y = np.array([0, 0, 1, 1, 1, 1, 1, 0])
    a1, c1, a2, c2 = 0.5, 0.25, 0.75, 0.75
    hand = 0.5 * ((a1 - c1) ** 2 - a1 * (1 - a1) / 3) + 0.5 * ((a2 - c2) ** 2 - a2 * (1 - a2) / 3)
    assert debiased_ece(y, p, kind="binary", n_bins=2, squared=True) == pytest.approx(
        hand, rel=1e-12
    )
    assert debiased_ece(y, p, kind="binary", n_bins=2) == 0.0  # negative estimate clipped


def test_debiased_ece_needs_two_per_bin():
    with pytest.raises(ValidationError, match="at least 2 samples"):
        debiased_ece(np.array([0, 1, 1]), np.array([0.1, 0.5, 0.9]), kind="binary", n_bins=3)


def test_ace_equals_classwise_quantile_ece(rng):
    y, p = make_multiclass(rng)
    assert ace(y, p) == pytest.approx(ece(y, p, binning="quantile", kind="classwise"), rel=1e-12)


@pytest.mark.parametrize(
    ("y", "p", "exc", "match"),
    [
        ([0, 1], [[0.5, 0.5], [np.nan, 1.0]], NonFiniteError, "NaN"),
        ([0, 1], [[0.5, 0.6], [0.2, 0.8]], ProbabilityError, "sum to 1"),
        ([0, 1], [[1.5, -0.5], [0.2, 0.8]], ProbabilityError, r"\[0, 1\]"),
        ([0, 3], [[0.5, 0.5], [0.2, 0.8]], LabelError, r"outside the 2 classes"),
        ([0, 1, 1], [[0.5, 0.5], [0.2, 0.8]], ShapeError, "same number of samples"),
        ([0, 2], [0.5, 0.2], LabelError, "must be 0 or 1"),
        ([0, 1], [[[0.5]]], ShapeError, "1-D or 2-D"),
    ],
)
def test_bad_input_is_named(y, p, exc, match):
    with pytest.raises(exc, match=match):
        ece(np.array(y), np.array(p))


def test_bad_options_are_named(rng):
    y, p = make_multiclass(rng, n=20)
    with pytest.raises(ValidationError, match="kind='binary'"):
        ece(y, p, kind="binary")
    with pytest.raises(ValidationError, match="norm must be one of"):
        ece(y, p, norm="l3")
    with pytest.raises(ValidationError, match="n_bins must be at least 1"):
        ece(y, p, n_bins=0)
    with pytest.raises(TypeError, match="n_bins must be an integer"):
        ece(y, p, n_bins=2.5)
    with pytest.raises(ValueError, match="binning must be one of"):
        ece(y, p, binning="log")
