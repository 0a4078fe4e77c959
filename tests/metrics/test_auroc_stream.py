"""BinnedAUROC: fixed-size state, exact merges, and a bracket that always holds the exact AUROC."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confide.exceptions import (
    LabelError,
    ProbabilityError,
    SchemaError,
    ShapeError,
    ValidationError,
)
from confide.metrics._auroc_stream import AurocEstimate, BinnedAUROC, auroc_from_bins
from confide.metrics._binning import assign_bins, uniform_edges
from confide.metrics._ranking import roc_auc


def _data(rng, n=2000, decimals=None, dtype=np.float64):
    y = (rng.random(n) < 0.4).astype(int)
    p = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.2 * y)))
    if decimals is not None:
        p = np.round(p, decimals)
    return y, p.astype(dtype)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**31 - 1),
    st.sampled_from([1, 2, 7, 50, 4096]),
    st.sampled_from([None, 1, 2]),
    st.booleans(),
)
def test_exact_auroc_lies_within_the_bracket(seed, n_bins, decimals, weighted):
    rng = np.random.default_rng(seed)
    y, p = _data(rng, n=300, decimals=decimals)
    y[:2] = [0, 1]
    w = rng.random(300) if weighted else None
    est = BinnedAUROC(n_bins).update(y, p, w).compute()
    exact = roc_auc(y, p, sample_weight=w)
    assert est.lower - 1e-12 <= exact <= est.upper + 1e-12
    assert 0.0 <= est.lower <= est.value <= est.upper <= 1.0


def test_bracket_is_attained_in_the_worst_case():
    # one bin: every pair is tied, the value is 1/2 and the bracket is all of [0, 1]
    y = np.array([0, 1, 0, 1])
    est = BinnedAUROC(1).update(y, [0.1, 0.9, 0.2, 0.8]).compute()
    assert (est.value, est.lower, est.upper) == (0.5, 0.0, 1.0)
    assert roc_auc(y, [0.1, 0.9, 0.2, 0.8]) == est.upper  # the exact value sits on the bound


def test_hand_computed_two_bins():
    # bins [0, .5) and [.5, 1]: negatives 2 | 1, positives 1 | 2 (P = N = 3)
    y = np.array([0, 0, 1, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.9])
    est = BinnedAUROC(2).update(y, p).compute()
    # sum_b pos_b (neg below + neg_b / 2) = 1 * (0 + 1) + 2 * (2 + 0.5) = 6 -> 6/9
    assert est.value == pytest.approx(6 / 9, abs=1e-15)
    # half the tied pairs: (1*2 + 2*1) / 2 / 9
    assert est.upper - est.value == pytest.approx(2 / 9, abs=1e-15)
    assert (est.n_positive, est.n_negative) == (3.0, 3.0)
    assert est.lower <= roc_auc(y, p) <= est.upper


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 500), min_size=0, max_size=6),
    st.integers(0, 2**31 - 1),
    st.booleans(),
)
def test_any_split_merged_equals_one_pass(cuts, seed, weighted):
    rng = np.random.default_rng(seed)
    y, p = _data(rng, n=500, decimals=2)
    y[:2] = [0, 1]
    w = rng.random(500) if weighted else None
    bounds = [0, *sorted(cuts), 500]
    total = BinnedAUROC(64)
    for a, b in itertools.pairwise(bounds):
        part = BinnedAUROC(64).update(y[a:b], p[a:b], None if w is None else w[a:b])
        total = total + part
    one = BinnedAUROC(64).update(y, p, w)
    np.testing.assert_allclose(total._pos, one._pos, rtol=1e-12)
    np.testing.assert_allclose(total._neg, one._neg, rtol=1e-12)
    got, ref = total.compute(), one.compute()
    for field in ("value", "lower", "upper", "n_positive", "n_negative"):
        assert getattr(got, field) == pytest.approx(getattr(ref, field), rel=1e-12)


def test_compute_equals_the_histogram_method_and_state_uses_the_bin_convention(rng):
    y, p = _data(rng, dtype=np.float32)
    w = rng.random(len(y))
    acc = BinnedAUROC(100).update(y, p, w)
    assert acc.compute().value == roc_auc(y, p, method="histogram", n_bins=100, sample_weight=w)
    idx = assign_bins(p, uniform_edges(100))  # float32 edges, edge values in the upper bin
    np.testing.assert_allclose(
        acc._pos, np.bincount(idx[y == 1], w[y == 1], minlength=100), rtol=1e-12
    )
    np.testing.assert_allclose(
        acc._neg, np.bincount(idx[y == 0], w[y == 0], minlength=100), rtol=1e-12
    )


def test_edge_values_go_to_the_upper_bin():
    acc = BinnedAUROC(4).update([1, 0, 1], [0.25, 0.0, 1.0])
    np.testing.assert_array_equal(acc._pos, [0, 1, 0, 1])
    np.testing.assert_array_equal(acc._neg, [1, 0, 0, 0])


def test_round_trip_through_json(rng):
    y, p = _data(rng)
    acc = BinnedAUROC(32).update(y, p)
    doc = json.loads(json.dumps(acc.to_dict()))
    assert doc["kind"] == "binned_auroc"
    back = BinnedAUROC.from_dict(doc)
    assert back.n_bins == 32
    np.testing.assert_array_equal(back._pos, acc._pos)
    np.testing.assert_array_equal(back._neg, acc._neg)
    assert back.compute() == acc.compute()
    doc["payload"]["state"]["positive"][0] += 1.0
    with pytest.raises(SchemaError, match="altered"):
        BinnedAUROC.from_dict(doc)


def test_estimate_is_frozen_and_json_safe(rng):
    y, p = _data(rng, n=200)
    est = BinnedAUROC(16).update(y, p).compute()
    assert isinstance(est, AurocEstimate)
    with pytest.raises(AttributeError):
        est.value = 0.0  # type: ignore[misc]
    doc = est.to_dict()
    assert set(doc) == {"value", "lower", "upper", "n_positive", "n_negative"}
    assert all(type(v) is float for v in doc.values())
    json.dumps(doc, allow_nan=False)


def test_mismatched_bins_refuse_to_merge(rng):
    y, p = _data(rng, n=100)
    a = BinnedAUROC(16).update(y, p)
    b = BinnedAUROC(32).update(y, p)
    with pytest.raises(ValidationError, match="different settings"):
        a.merge(b)
    with pytest.raises(ValidationError, match="different settings"):
        _ = a + b
    doc = b.to_dict()
    doc_16 = BinnedAUROC(16).to_dict()
    doc_16["payload"]["state"] = doc["payload"]["state"]
    with pytest.raises(SchemaError):  # the checksum no longer matches the edited state
        BinnedAUROC.from_dict(doc_16)


def test_memory_is_the_state_arrays_only(rng):
    acc = BinnedAUROC(256)
    for _ in range(5):
        y, p = _data(rng, n=20_000)
        acc.update(y, p)
    assert set(vars(acc)) == {"n_bins", "_neg", "_pos"}
    assert acc._neg.shape == acc._pos.shape == (256,)
    assert acc._neg.dtype == acc._pos.dtype == np.float64
    assert acc.compute().n_positive + acc.compute().n_negative == 100_000


def test_empty_batches_are_accepted_but_compute_needs_both_classes():
    acc = (
        BinnedAUROC(8).update([], []).update([], [], [])
    )  # an empty shard, with or without weights
    with pytest.raises(ShapeError, match="same number of samples"):
        acc.update([], [], [1.0])
    with pytest.raises(ValidationError, match="no positive samples"):
        acc.compute()
    acc.update([0, 0], [0.2, 0.3])
    with pytest.raises(ValidationError, match="no positive samples"):
        acc.compute()
    with pytest.raises(ValidationError, match="no negative samples"):
        BinnedAUROC(8).update([1], [0.3]).compute()


@pytest.mark.parametrize(
    ("y", "p", "w", "error", "match"),
    [
        ([0, 1], [0.2, 1.2], None, ProbabilityError, "y_score must hold probabilities"),
        ([0, 1], [[0.2, 0.8], [0.5, 0.5]], None, ShapeError, "y_score must be 1-D"),
        ([0, 2], [0.2, 0.3], None, LabelError, "must be 0 or 1"),
        ([0, 1, 1], [0.2, 0.3], None, ShapeError, "same number of samples"),
        ([0, 1], [0.2, np.nan], None, ValidationError, "NaN"),
        ([0, 1], [0.2, 0.3], [1.0, -2.0], ValidationError, "non-negative"),
    ],
)
def test_update_rejects_bad_input(y, p, w, error, match):
    acc = BinnedAUROC(8)
    with pytest.raises(error, match=match):
        acc.update(y, p, w)
    assert acc._pos.sum() == acc._neg.sum() == 0  # a rejected batch leaves no trace


def test_bad_n_bins():
    with pytest.raises(ValidationError, match="n_bins must be at least 1"):
        BinnedAUROC(0)


def test_kernel_returns_nan_without_both_classes():
    value, slack = auroc_from_bins(np.zeros(3), np.ones(3))
    assert np.isnan(value) and np.isnan(slack)
