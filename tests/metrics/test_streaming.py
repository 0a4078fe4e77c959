"""Accumulators: fixed-size state; any split of the data, merged, equals the one-shot value."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import make_multiclass

from confide.exceptions import SchemaError, ValidationError
from confide.metrics import (
    CalibrationAccumulator,
    accuracy,
    brier_score,
    debiased_ece,
    ece,
    log_loss,
    reliability_diagram,
)


def _one_shot(y, p, **kw):
    return {
        "ece": ece(y, p, **kw),
        "ece_l2": ece(y, p, norm="l2", **kw),
        "mce": ece(y, p, norm="max", **kw),
        "classwise_ece": ece(y, p, kind="classwise", **kw),
        "brier_score": brier_score(y, p, **kw),
        "log_loss": log_loss(y, p, **kw),
        "accuracy": accuracy(y, p, **kw),
    }


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 400), min_size=0, max_size=5), st.integers(0, 2**31 - 1))
def test_any_split_merged_equals_one_shot(cuts, seed):
    rng = np.random.default_rng(seed)
    y, p = make_multiclass(rng, n=400, k=4)
    bounds = [0, *sorted(cuts), 400]
    parts = []
    for a, b in itertools.pairwise(bounds):
        parts.append(CalibrationAccumulator(4).update(y[a:b], p[a:b]))
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    got = total.compute().to_dict()
    for key, value in _one_shot(y, p).items():
        assert got[key] == pytest.approx(value, rel=1e-12), key
    assert got["n_samples"] == 400


def test_binary_accumulator_and_weights(rng):
    p = rng.random(1000)
    y = (rng.random(1000) < p).astype(int)
    w = rng.random(1000)
    acc = (
        CalibrationAccumulator(binary=True)
        .update(y[:300], p[:300], w[:300])
        .update(y[300:], p[300:], w[300:])
    )
    assert acc.ece(kind="binary") == pytest.approx(
        ece(y, p, kind="binary", sample_weight=w), rel=1e-12
    )
    assert acc.ece() == pytest.approx(ece(y, p, sample_weight=w), rel=1e-12)
    assert acc.compute().brier_score == pytest.approx(brier_score(y, p, sample_weight=w), rel=1e-12)
    diag = acc.reliability_diagram(kind="binary")
    ref = reliability_diagram(y, p, kind="binary", sample_weight=w)
    np.testing.assert_allclose(diag.accuracy, ref.accuracy, rtol=1e-12)


def test_state_is_fixed_size(rng):
    acc = CalibrationAccumulator(10, n_bins=15)
    sizes = []
    for _ in range(3):
        y, p = make_multiclass(rng, n=5000, k=10)
        acc.update(y, p)
        sizes.append(sum(v.nbytes for v in acc._state().values()))
    assert sizes[0] == sizes[-1] == 8 * (3 * 15 + 3 * 10 * 15 + 3)


def test_json_round_trip_then_merge(rng):
    y, p = make_multiclass(rng, n=1000, k=3)
    a = CalibrationAccumulator(3).update(y[:500], p[:500])
    b = CalibrationAccumulator(3).update(y[500:], p[500:])
    text = json.dumps(a.to_dict())
    restored = CalibrationAccumulator.from_dict(json.loads(text))
    assert restored.merge(b).ece() == pytest.approx(ece(y, p), rel=1e-12)


def test_infinite_log_loss_survives_json():
    acc = CalibrationAccumulator(2).update(np.array([1]), np.array([[1.0, 0.0]]))
    restored = CalibrationAccumulator.from_dict(json.loads(json.dumps(acc.to_dict())))
    assert restored.compute().log_loss == np.inf


def test_tampered_or_foreign_state_is_refused(rng):
    y, p = make_multiclass(rng, n=100, k=3)
    doc = CalibrationAccumulator(3).update(y, p).to_dict()
    doc["payload"]["state"]["totals"][0] = 5.0
    with pytest.raises(SchemaError, match="altered"):
        CalibrationAccumulator.from_dict(doc)
    doc = CalibrationAccumulator(3).to_dict()
    doc["schema"] = 99
    with pytest.raises(SchemaError, match="schema version 99"):
        CalibrationAccumulator.from_dict(doc)
    with pytest.raises(SchemaError, match="not a 'calibration_accumulator'"):
        CalibrationAccumulator.from_dict({**doc, "schema": 1, "kind": "policy"})


def test_mismatched_merge_and_batches_are_refused(rng):
    with pytest.raises(ValidationError, match="different settings"):
        CalibrationAccumulator(3).merge(CalibrationAccumulator(3, n_bins=10))
    y, p = make_multiclass(rng, n=10, k=4)
    with pytest.raises(ValidationError, match=r"takes \(n, 3\) probabilities"):
        CalibrationAccumulator(3).update(y, p)
    with pytest.raises(ValidationError, match="no samples yet"):
        CalibrationAccumulator(3).compute()


def test_debiased_ece_streams_with_uniform_bins(rng):
    y, p = make_multiclass(rng, n=20000, k=3)
    acc = CalibrationAccumulator(3).update(y[:7000], p[:7000]).update(y[7000:], p[7000:])
    for kind in ("top_label", "classwise"):
        expected = debiased_ece(y, p, kind=kind, binning="uniform", squared=True)
        assert acc.debiased_ece(kind=kind, squared=True) == pytest.approx(expected, rel=1e-9)
