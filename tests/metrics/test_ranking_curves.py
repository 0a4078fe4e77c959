"""roc_curve, precision_recall_curve and average_precision: scikit-learn's arrays, bit for bit."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import make_multiclass

from confide.exceptions import LabelError, NonFiniteError, ShapeError, ValidationError
from confide.metrics._ranking import (
    PrecisionRecallCurve,
    RocCurve,
    average_precision,
    precision_recall_curve,
    roc_auc,
    roc_curve,
)

skm = pytest.importorskip("sklearn.metrics")


def _binary(rng, n=2000, decimals=None, dtype=np.float64):
    y = (rng.random(n) < 0.3).astype(int)
    s = rng.normal(size=n) + y
    if decimals is not None:
        s = np.round(s, decimals)
    return y, s.astype(dtype)


def _assert_same_arrays(got, ref):
    for a, b in zip(got, ref, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


CASES = [
    pytest.param(dtype, decimals, weighted, id=f"{dtype.__name__}-dec{decimals}-w{int(weighted)}")
    for dtype in (np.float64, np.float32)
    for decimals in (None, 1)
    for weighted in (False, True)
]


@pytest.mark.parametrize(("dtype", "decimals", "weighted"), CASES)
@pytest.mark.parametrize("drop", [True, False])
def test_roc_curve_equals_sklearn(rng, dtype, decimals, weighted, drop):
    y, s = _binary(rng, decimals=decimals, dtype=dtype)
    w = rng.random(len(y)) if weighted else None
    got = roc_curve(y, s, sample_weight=w, drop_intermediate=drop)
    ref = skm.roc_curve(y, s, sample_weight=w, drop_intermediate=drop)
    _assert_same_arrays((got.fpr, got.tpr, got.thresholds), ref)
    assert got.thresholds[0] == np.inf
    # the area under the curve is the AUROC
    assert np.trapezoid(got.tpr, got.fpr) == pytest.approx(
        roc_auc(y, s, sample_weight=w), abs=1e-12
    )


@pytest.mark.parametrize(("dtype", "decimals", "weighted"), CASES)
@pytest.mark.parametrize("drop", [True, False])
def test_precision_recall_curve_equals_sklearn(rng, dtype, decimals, weighted, drop):
    y, s = _binary(rng, decimals=decimals, dtype=dtype)
    w = rng.random(len(y)) if weighted else None
    got = precision_recall_curve(y, s, sample_weight=w, drop_intermediate=drop)
    ref = skm.precision_recall_curve(y, s, sample_weight=w, drop_intermediate=drop)
    _assert_same_arrays((got.precision, got.recall, got.thresholds), ref)
    assert got.thresholds.dtype == dtype  # thresholds keep the scores' dtype, as in sklearn
    assert got.precision[-1] == 1.0 and got.recall[-1] == 0.0


def test_default_drop_intermediate_matches_sklearn_defaults(rng):
    y, s = _binary(rng, n=300, decimals=1)
    _assert_same_arrays(
        (lambda c: (c.fpr, c.tpr, c.thresholds))(roc_curve(y, s)), skm.roc_curve(y, s)
    )
    _assert_same_arrays(
        (lambda c: (c.precision, c.recall, c.thresholds))(precision_recall_curve(y, s)),
        skm.precision_recall_curve(y, s),
    )


def test_zero_weight_scores_are_not_thresholds():
    y = np.array([0, 1, 0, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8])
    curve = roc_curve(y, s, sample_weight=[1, 1, 0, 1], drop_intermediate=False)
    np.testing.assert_array_equal(curve.thresholds, [np.inf, 0.8, 0.4, 0.1])
    ref = skm.roc_curve(y, s, sample_weight=[1, 1, 0, 1], drop_intermediate=False)
    _assert_same_arrays((curve.fpr, curve.tpr, curve.thresholds), ref)


def test_hand_computed_roc_curve():
    # sklearn's docstring example with pos_label=2 mapped to 1
    curve = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    np.testing.assert_array_equal(curve.fpr, [0.0, 0.0, 0.5, 0.5, 1.0])
    np.testing.assert_array_equal(curve.tpr, [0.0, 0.5, 0.5, 1.0, 1.0])
    np.testing.assert_array_equal(curve.thresholds, [np.inf, 0.8, 0.4, 0.35, 0.1])


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 40), st.integers(0, 2**31 - 1), st.booleans(), st.booleans())
def test_curves_equal_sklearn_on_small_random_input(n, seed, weighted, drop):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    s = np.round(rng.random(n), 1)
    w = rng.random(n) if weighted else None
    roc = roc_curve(y, s, sample_weight=w, drop_intermediate=drop)
    _assert_same_arrays(
        (roc.fpr, roc.tpr, roc.thresholds),
        skm.roc_curve(y, s, sample_weight=w, drop_intermediate=drop),
    )
    pr = precision_recall_curve(y, s, sample_weight=w, drop_intermediate=drop)
    _assert_same_arrays(
        (pr.precision, pr.recall, pr.thresholds),
        skm.precision_recall_curve(y, s, sample_weight=w, drop_intermediate=drop),
    )


def test_curves_are_frozen_and_json_safe(rng):
    y, s = _binary(rng, n=50, decimals=1)
    roc = roc_curve(y, s)
    assert isinstance(roc, RocCurve)
    with pytest.raises(AttributeError):
        roc.fpr = roc.tpr  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        roc.fpr[0] = 0.5
    doc = roc.to_dict()
    assert doc["thresholds"][0] == "inf"
    assert doc["fpr"] == roc.fpr.tolist()
    json.dumps(doc, allow_nan=False)
    pr = precision_recall_curve(y, s.astype(np.float32))
    assert isinstance(pr, PrecisionRecallCurve)
    pdoc = pr.to_dict()
    assert pdoc["thresholds"] == pr.thresholds.astype(float).tolist()
    assert all(type(v) is float for v in pdoc["precision"])
    json.dumps(pdoc, allow_nan=False)


def test_pr_curve_without_negatives_has_precision_one():
    pr = precision_recall_curve([1, 1, 1], [0.2, 0.5, 0.9])
    np.testing.assert_array_equal(pr.precision, [1.0, 1.0, 1.0, 1.0])
    assert average_precision([1, 1, 1], [0.2, 0.5, 0.9]) == 1.0


# --- average precision -----------------------------------------------------------------------


@pytest.mark.parametrize(("dtype", "decimals", "weighted"), CASES)
def test_average_precision_equals_sklearn(rng, dtype, decimals, weighted):
    y, s = _binary(rng, decimals=decimals, dtype=dtype)
    w = rng.random(len(y)) if weighted else None
    got = average_precision(y, s, sample_weight=w)
    assert isinstance(got, float)
    assert got == pytest.approx(skm.average_precision_score(y, s, sample_weight=w), abs=1e-12)


def test_average_precision_hand_computed():
    # thresholds 0.8 (P=1, R=1/2), 0.4 (P=2/3, R=1/2), 0.35 (P=1/2, R=1/2)... sklearn's example
    assert average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.8333333333)
    # a perfect ranking has AP 1, the reversed one averages 1/3 and 2/4 over its two steps
    assert average_precision([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert average_precision([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4]) == pytest.approx(
        0.5 * (1 / 3) + 0.5 * (2 / 4)
    )


@pytest.mark.parametrize("average", ["macro", "weighted", None])
@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_average_precision_equals_sklearn(rng, average, weighted):
    y, p = make_multiclass(rng, n=1200, k=4)
    w = rng.random(len(y)) if weighted else None
    got = average_precision(y, p, average=average, sample_weight=w)
    ref = skm.average_precision_score(y, p, average=average, sample_weight=w)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


def test_multiclass_average_precision_leaves_out_a_class_without_positives(rng):
    y, p = make_multiclass(rng, n=800, k=3)
    y = np.where(y == 1, 0, y)
    with pytest.warns(UserWarning, match=r"average precision: class\(es\) \[1\] lack positive"):
        got = average_precision(y, p)
    ref = np.mean([skm.average_precision_score(y == c, p[:, c]) for c in (0, 2)])
    assert got == pytest.approx(ref, abs=1e-12)
    # with 2-D input every sample is a positive of some class, so only zero weights leave none
    with pytest.raises(ValidationError, match="average precision is undefined for every class"):
        average_precision([0, 1], [[0.6, 0.4], [0.3, 0.7]], sample_weight=[0.0, 0.0])


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("func", [roc_curve, precision_recall_curve, average_precision])
@pytest.mark.parametrize(
    ("y", "s", "error", "match"),
    [
        ([0, 1, 1], [0.1, np.nan, 0.3], NonFiniteError, "y_score contains NaN"),
        ([0, 1, 3], [0.1, 0.2, 0.3], LabelError, "must be 0 or 1"),
        ([0, 1, 1], [0.1, 0.2], ShapeError, "same number of samples"),
        ([0, 0, 0], [0.1, 0.2, 0.3], ValidationError, r"no positive \(1\) samples"),
    ],
)
def test_bad_input(func, y, s, error, match):
    with pytest.raises(error, match=match):
        func(y, s)


def test_curves_need_one_dimensional_scores():
    with pytest.raises(ShapeError, match="y_score must be 1-D"):
        roc_curve([0, 1], [[0.1, 0.9], [0.2, 0.8]])
    with pytest.raises(ShapeError, match="y_score must be 1-D"):
        precision_recall_curve([0, 1], [[0.1, 0.9], [0.2, 0.8]])


def test_roc_curve_needs_negatives_and_all_zero_weights_are_refused():
    with pytest.raises(
        ValidationError, match=r"the ROC curve is undefined: y_true has no negative"
    ):
        roc_curve([1, 1], [0.2, 0.4])
    with pytest.raises(ValidationError, match="every sample_weight is zero"):
        roc_curve([0, 1], [0.2, 0.4], sample_weight=[0.0, 0.0])
