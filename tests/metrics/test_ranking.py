"""roc_auc and precision_recall_f1_at, pinned against scikit-learn and a brute-force pair count."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import make_multiclass

from confide.exceptions import (
    ConfideTypeError,
    LabelError,
    NonFiniteError,
    ProbabilityError,
    ShapeError,
    ValidationError,
)
from confide.metrics._auroc_stream import BinnedAUROC
from confide.metrics._ranking import ThresholdMetrics, precision_recall_f1_at, roc_auc

skm = pytest.importorskip("sklearn.metrics")


def _binary(rng, n=3000, decimals=None, dtype=np.float64):
    y = (rng.random(n) < 0.35).astype(int)
    s = rng.normal(size=n) + 0.8 * y
    if decimals is not None:
        s = np.round(s, decimals)  # heavy ties
    return y, s.astype(dtype)


def _brute_force_auc(y, s, w=None):
    """Definition: every positive-negative pair, ties 1/2 (O(n^2), small n only)."""
    w = np.ones(len(y)) if w is None else w
    sp, sn = s[y == 1].astype(np.float64), s[y == 0].astype(np.float64)
    wp, wn = w[y == 1], w[y == 0]
    wins = (sp[:, None] > sn[None, :]) + 0.5 * (sp[:, None] == sn[None, :])
    return float(wp @ wins @ wn / (wp.sum() * wn.sum()))


# --- binary AUROC against scikit-learn -------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("decimals", [None, 1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_auc_equals_sklearn(rng, dtype, decimals, weighted):
    y, s = _binary(rng, decimals=decimals, dtype=dtype)
    w = rng.random(len(y)) * 3 if weighted else None
    got = roc_auc(y, s, sample_weight=w)
    assert isinstance(got, float)
    assert got == pytest.approx(skm.roc_auc_score(y, s, sample_weight=w), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 60),
    st.integers(0, 2**31 - 1),
    st.sampled_from([0, 1, 3]),
    st.booleans(),
)
def test_binary_auc_equals_brute_force_pair_count(n, seed, decimals, weighted):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]  # both classes present
    s = np.round(rng.normal(size=n), decimals)
    w = rng.random(n) if weighted else None
    assert roc_auc(y, s, sample_weight=w) == pytest.approx(_brute_force_auc(y, s, w), abs=1e-12)


def test_unweighted_auc_is_the_exact_fraction():
    # 2U is counted in integers: 3 wins + 1 tie out of 2 x 3 pairs = 3.5 / 6 = 7/12, rounded once.
    y = np.array([1, 0, 0, 1, 0])
    s = np.array([0.3, 0.3, 0.5, 0.9, 0.7])
    assert roc_auc(y, s) == 7 / 12
    # more positives than negatives takes the other branch of the search
    assert roc_auc(1 - y, s) == 5 / 12


def test_auc_accepts_any_real_scores_and_is_rank_invariant(rng):
    y, s = _binary(rng)
    base = roc_auc(y, s)
    assert roc_auc(y, 1000.0 * s - 7.0) == base
    assert roc_auc(y, np.exp(s)) == base
    assert roc_auc(y, -s) == pytest.approx(1.0 - base, abs=1e-15)
    assert roc_auc(y.astype(bool), s) == base


def test_zero_weight_samples_do_not_count(rng):
    y, s = _binary(rng, n=500, decimals=1)
    w = rng.random(500)
    w[::3] = 0.0
    keep = w > 0
    assert roc_auc(y, s, sample_weight=w) == pytest.approx(
        roc_auc(y[keep], s[keep], sample_weight=w[keep]), abs=1e-14
    )


def test_integer_weights_equal_repeated_rows(rng):
    y, s = _binary(rng, n=400, decimals=1)
    w = rng.integers(1, 4, 400)
    rep = roc_auc(np.repeat(y, w), np.repeat(s, w))
    assert roc_auc(y, s, sample_weight=w.astype(float)) == pytest.approx(rep, abs=1e-13)


# --- multiclass one-vs-rest ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("average", ["macro", "weighted"])
@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_ovr_equals_sklearn(rng, dtype, average, weighted):
    y, p = make_multiclass(rng, n=1500, k=4, dtype=dtype)
    p = np.round(p, 2).astype(dtype)  # ties
    p /= p.sum(1, keepdims=True)
    w = rng.random(len(y)) if weighted else None
    ref = skm.roc_auc_score(y, p, multi_class="ovr", average=average, sample_weight=w)
    assert roc_auc(y, p, average=average, sample_weight=w) == pytest.approx(ref, abs=1e-12)


def test_multiclass_per_class_equals_sklearn(rng):
    y, p = make_multiclass(rng, n=800, k=5)
    w = rng.random(800)
    got = roc_auc(y, p, average=None, sample_weight=w)
    ref = skm.roc_auc_score(y, p, multi_class="ovr", average=None, sample_weight=w)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    assert got.shape == (5,)
    assert not got.flags.writeable


def test_absent_class_is_left_out_with_a_warning(rng):
    y, p = make_multiclass(rng, n=600, k=4)
    y = np.where(y == 2, 0, y)  # class 2 never occurs
    present = [0, 1, 3]
    with pytest.warns(UserWarning, match=r"class\(es\) \[2\].*left out of the macro average"):
        macro = roc_auc(y, p)
    per = np.array([skm.roc_auc_score(y == c, p[:, c]) for c in present])
    assert macro == pytest.approx(per.mean(), abs=1e-12)
    with pytest.warns(UserWarning, match=r"\[2\].*weighted average"):
        weighted = roc_auc(y, p, average="weighted")
    prevalence = np.array([(y == c).sum() for c in present])
    assert weighted == pytest.approx(np.dot(prevalence, per) / prevalence.sum(), abs=1e-12)
    with pytest.warns(UserWarning, match=r"\[2\].*NaN in the per-class result"):
        per_class = roc_auc(y, p, average=None)
    assert np.isnan(per_class[2])
    np.testing.assert_allclose(per_class[present], per, atol=1e-12)


def test_class_with_only_zero_weight_is_absent(rng):
    y, p = make_multiclass(rng, n=600, k=3)
    w = np.where(y == 1, 0.0, 1.0)
    with pytest.warns(UserWarning, match=r"\[1\]"):
        value = roc_auc(y, p, sample_weight=w)
    keep = y != 1
    ref = np.mean([skm.roc_auc_score(y[keep] == c, p[keep, c]) for c in (0, 2)])
    assert value == pytest.approx(ref, abs=1e-12)


def test_no_usable_class_raises():
    p = np.array([[0.7, 0.3], [0.6, 0.4]])
    with pytest.raises(ValidationError, match="undefined for every class"):
        roc_auc([0, 0], p)


# --- histogram method ------------------------------------------------------------------------


def test_histogram_equals_the_streaming_accumulator(rng):
    y, s = _binary(rng, n=2000)
    p = 1 / (1 + np.exp(-s))
    w = rng.random(2000)
    est = (
        BinnedAUROC(64)
        .update(y[:700], p[:700], w[:700])
        .update(y[700:], p[700:], w[700:])
        .compute()
    )
    got = roc_auc(y, p, method="histogram", n_bins=64, sample_weight=w)
    assert got == pytest.approx(est.value, rel=1e-12)
    assert est.lower <= roc_auc(y, p, sample_weight=w) <= est.upper


def test_histogram_is_exact_when_each_bin_holds_one_score(rng):
    n_bins = 50
    idx = rng.integers(0, n_bins, 3000)
    p = (idx + 0.5) / n_bins  # one distinct score per bin: binning loses nothing
    y = (rng.random(3000) < p).astype(int)
    assert roc_auc(y, p, method="histogram", n_bins=n_bins) == pytest.approx(
        roc_auc(y, p), abs=1e-14
    )


def test_histogram_multiclass_per_class(rng):
    y, p = make_multiclass(rng, n=1000, k=3)
    per = roc_auc(y, p, method="histogram", n_bins=200, average=None)
    for c in range(3):
        ref = BinnedAUROC(200).update((y == c).astype(int), p[:, c]).compute().value
        assert per[c] == pytest.approx(ref, rel=1e-12)


def test_histogram_needs_scores_in_unit_interval():
    with pytest.raises(ProbabilityError, match=r"method='histogram' needs y_score in \[0, 1\]"):
        roc_auc([0, 1, 1], [0.2, 1.5, 0.3], method="histogram")


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("y", "s", "kwargs", "error", "match"),
    [
        ([0, 1, 1], [0.1, np.nan, 0.3], {}, NonFiniteError, "y_score contains NaN"),
        ([0, 1, 1], [0.1, np.inf, 0.3], {}, NonFiniteError, "y_score contains infinity"),
        ([0, 1, 2], [0.1, 0.2, 0.3], {}, LabelError, "must be 0 or 1"),
        ([0, 1], [0.1, 0.2, 0.3], {}, ShapeError, "same number of samples"),
        ([[0, 1], [1, 0]], [0.1, 0.2], {}, ShapeError, "y_true must be 1-D"),
        ([0, 1], np.zeros((2, 2, 2)), {}, ShapeError, "y_score must be 1-D or 2-D"),
        ([1, 1, 1], [0.1, 0.2, 0.3], {}, ValidationError, r"no negative \(0\) samples"),
        ([0, 0, 0], [0.1, 0.2, 0.3], {}, ValidationError, r"no positive \(1\) samples"),
        ([0, 1], [0.1, 0.2], {"sample_weight": [1.0, 0.0]}, ValidationError, r"no positive \(1\)"),
        ([0, 1], [0.1, 0.2], {"sample_weight": [1.0, -1.0]}, ValidationError, "non-negative"),
        ([0, 1], [0.1, 0.2], {"sample_weight": [1.0]}, ShapeError, "sample_weight has 1"),
        ([0, 1], [0.1, 0.2], {"method": "fast"}, ValidationError, "method must be one of"),
        ([0, 1], [0.1, 0.2], {"average": "micro"}, ValidationError, "average must be one of"),
        ([0, 1], [0.1, 0.2], {"method": "histogram", "n_bins": 0}, ValidationError, "n_bins"),
        ([0, 1], "ab", {}, ConfideTypeError, "y_score must be an array of numbers"),
        ([0, 2], [[0.5, 0.5], [0.2, 0.8]], {}, LabelError, r"label\(s\) \[2\] outside"),
        ([0, 1], [[0.5, 0.6], [0.2, 0.8]], {}, ProbabilityError, "must sum to 1"),
        ([], [], {}, ShapeError, "at least 1 sample"),
    ],
)
def test_bad_input_raises_named_errors(y, s, kwargs, error, match):
    with pytest.raises(error, match=match):
        roc_auc(y, s, **kwargs)


# --- precision / recall / F1 at a threshold --------------------------------------------------


@pytest.mark.parametrize("threshold", [-0.5, 0.0, 0.3, 1.2, 5.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_threshold_metrics_equal_sklearn(rng, threshold, weighted):
    y, s = _binary(rng, n=1000, decimals=1)
    w = rng.random(1000) if weighted else None
    pred = (s >= threshold).astype(int)
    got = precision_recall_f1_at(y, s, threshold, sample_weight=w)
    kw = {"sample_weight": w, "zero_division": 0.0}
    assert got.precision == pytest.approx(skm.precision_score(y, pred, **kw), abs=1e-12)
    assert got.recall == pytest.approx(skm.recall_score(y, pred, **kw), abs=1e-12)
    assert got.f1 == pytest.approx(skm.f1_score(y, pred, **kw), abs=1e-12)
    tn, fp, fn, tp = skm.confusion_matrix(y, pred, labels=[0, 1], sample_weight=w).ravel()
    np.testing.assert_allclose([got.tp, got.fp, got.fn, got.tn], [tp, fp, fn, tn], rtol=1e-12)
    assert got.threshold == threshold


def test_threshold_is_inclusive_and_zero_division_is_zero():
    y = [1, 0, 1, 0]
    s = [0.9, 0.5, 0.5, 0.1]
    at = precision_recall_f1_at(y, s, 0.5)
    assert (at.tp, at.fp, at.fn, at.tn) == (2.0, 1.0, 0.0, 1.0)  # 0.5 >= 0.5 is positive
    none = precision_recall_f1_at(y, s, 0.95)
    assert (none.precision, none.recall, none.f1) == (0.0, 0.0, 0.0)
    assert none.fn == 2.0 and none.tn == 2.0
    no_pos = precision_recall_f1_at([0, 0], [0.9, 0.1], 0.5)
    assert (no_pos.precision, no_pos.recall, no_pos.f1) == (0.0, 0.0, 0.0)
    assert no_pos.fp == 1.0


def test_threshold_compared_in_the_precision_of_the_scores():
    s32 = np.array([0.7, 0.2], dtype=np.float32)  # float32(0.7) < 0.7 in float64
    assert precision_recall_f1_at([1, 0], s32, 0.7).tp == 1.0
    # the same value held in float64 really is below 0.7
    assert precision_recall_f1_at([1, 0], s32.astype(np.float64), 0.7).tp == 0.0
    assert precision_recall_f1_at([1, 0], np.array([0.7, 0.2]), np.nextafter(0.7, 1)).tp == 0.0


def test_threshold_metrics_is_frozen_and_json_safe():
    got = precision_recall_f1_at([1, 0, 1], [0.8, 0.4, 0.3], float("-inf"))
    assert isinstance(got, ThresholdMetrics)
    assert got.recall == 1.0 and got.precision == pytest.approx(2 / 3)
    with pytest.raises(AttributeError):
        got.f1 = 0.0  # type: ignore[misc]
    doc = got.to_dict()
    assert doc["threshold"] == "-inf" and doc["tp"] == 2.0
    json.dumps(doc, allow_nan=False)
    assert all(type(v) in (float, str) for v in doc.values())


@pytest.mark.parametrize(
    ("threshold", "error", "match"),
    [
        ("0.5", ConfideTypeError, "threshold must be a number"),
        (True, ConfideTypeError, "threshold"),
        (float("nan"), ValidationError, "got NaN"),
    ],
)
def test_bad_threshold(threshold, error, match):
    with pytest.raises(error, match=match):
        precision_recall_f1_at([0, 1], [0.2, 0.8], threshold)
