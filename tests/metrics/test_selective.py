"""Risk-coverage curve, AURC and E-AURC: hand-computed cases, references, row-order invariance."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import make_multiclass

from confide.exceptions import (
    LabelError,
    NonFiniteError,
    ProbabilityError,
    ShapeError,
    ValidationError,
)
from confide.metrics._selective import (
    RiskCoverageCurve,
    _harmonic_diff,
    aurc,
    e_aurc,
    risk_coverage_curve,
)

# Hand example: confidences 0.9 | 0.8 0.8 | 0.6 with errors 0 | 1 0 | 1 (binary, all predict 1).
HAND_P = np.array([0.9, 0.8, 0.8, 0.6])
HAND_Y = np.array([1, 0, 1, 0])


def _naive_aurc(conf, err):
    """Usual definition for distinct confidences: mean of cumulative error rates (cumsum)."""
    order = np.argsort(-conf, kind="stable")
    return float(np.mean(np.cumsum(err[order]) / np.arange(1, len(err) + 1)))


def _naive_oracle(err):
    n = len(err)
    return float(np.mean(np.cumsum(np.sort(err)) / np.arange(1, n + 1)))


def _all_tie_orders_aurc(conf, err):
    """Average of the naive AURC over every ordering consistent with the confidences (tiny n)."""
    values = []
    for perm in itertools.permutations(range(len(conf))):
        c = conf[list(perm)]
        if np.all(np.diff(c) <= 0):
            values.append(np.mean(np.cumsum(err[list(perm)]) / np.arange(1, len(c) + 1)))
    return float(np.mean(values))


def _outputs(y, p, w=None, conf=None):
    curve = risk_coverage_curve(y, p, sample_weight=w, confidence=conf)
    return (
        curve,
        aurc(y, p, sample_weight=w, confidence=conf),
        e_aurc(y, p, sample_weight=w, confidence=conf),
    )


# --- hand-computed ---------------------------------------------------------------------------


def test_hand_computed_example_with_a_tie():
    curve, area, excess = _outputs(HAND_Y, HAND_P)
    np.testing.assert_array_equal(curve.thresholds, [0.9, 0.8, 0.6])
    np.testing.assert_allclose(curve.coverage, [0.25, 0.75, 1.0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(curve.risk, [0.0, 1 / 3, 0.5], rtol=0, atol=1e-15)
    # positions 1..4: 0, (0 + 1/2)/2, 1/3, 2/4 -> 13/48; oracle (1/3 + 2/4)/4 = 5/24
    assert area == pytest.approx(13 / 48, abs=1e-15)
    assert excess == pytest.approx(13 / 48 - 5 / 24, abs=1e-15)
    assert area == pytest.approx(
        _all_tie_orders_aurc(HAND_P, (HAND_Y == 0).astype(float)), abs=1e-15
    )


def test_multiclass_top_label_with_argmax_ties():
    p = np.array([[0.5, 0.5, 0.0], [0.2, 0.7, 0.1], [0.1, 0.3, 0.6]])
    y = np.array([1, 1, 2])  # row 0 predicts class 0 (lowest index on ties): an error
    curve = risk_coverage_curve(y, p)
    np.testing.assert_array_equal(curve.thresholds, [0.7, 0.6, 0.5])
    np.testing.assert_allclose(curve.risk, [0.0, 0.0, 1 / 3])
    assert aurc(y, p) == pytest.approx((0 + 0 + 1 / 3) / 3)
    assert e_aurc(y, p) == pytest.approx(0.0, abs=1e-15)  # the error is ranked last


def test_binary_half_predicts_class_zero():
    # p = 0.5 predicts class 0 with confidence 0.5: wrong for y = 1
    curve = risk_coverage_curve([1, 1], [0.5, 0.9])
    np.testing.assert_allclose(curve.risk, [0.0, 0.5])
    np.testing.assert_array_equal(curve.thresholds, [0.9, 0.5])


def test_explicit_confidence_reorders():
    # same predictions, ranked by an external score that puts the error first
    conf = np.array([0.1, 0.2, 0.3, 0.9])
    curve = risk_coverage_curve(HAND_Y, HAND_P, confidence=conf)
    np.testing.assert_array_equal(curve.thresholds, [0.9, 0.3, 0.2, 0.1])
    np.testing.assert_allclose(curve.risk, [1.0, 0.5, 2 / 3, 0.5])
    err = (HAND_Y == 0).astype(float)
    assert aurc(HAND_Y, HAND_P, confidence=conf) == pytest.approx(_naive_aurc(conf, err), abs=1e-15)


def test_no_errors_and_all_errors():
    y = np.array([0, 1, 2])
    p = np.eye(3)[y] * 0.8 + 0.2 / 3
    assert aurc(y, p) == 0.0 and e_aurc(y, p) == 0.0
    wrong = (y + 1) % 3
    assert aurc(wrong, p) == 1.0 and e_aurc(wrong, p) == 0.0


# --- references ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_no_ties_equals_the_cumsum_reference(rng, dtype):
    y, p = make_multiclass(rng, n=3000, k=5, dtype=dtype)
    _, first = np.unique(p.max(1), return_index=True)  # keep one row per confidence: no ties
    y, p = y[first], p[first]
    n = len(y)
    conf = p.max(1)
    err = (p.argmax(1) != y).astype(float)
    assert aurc(y, p) == pytest.approx(_naive_aurc(conf, err), rel=1e-13)
    assert e_aurc(y, p) == pytest.approx(_naive_aurc(conf, err) - _naive_oracle(err), rel=1e-12)
    curve = risk_coverage_curve(y, p)
    order = np.argsort(-conf.astype(np.float64), kind="stable")
    np.testing.assert_allclose(curve.risk, np.cumsum(err[order]) / np.arange(1, n + 1), rtol=1e-14)
    np.testing.assert_allclose(curve.coverage, np.arange(1, n + 1) / n, rtol=1e-14)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 7), st.integers(0, 2**31 - 1), st.sampled_from([0, 1]))
def test_ties_equal_the_average_over_all_orderings(n, seed, decimals):
    rng = np.random.default_rng(seed)
    conf = np.round(rng.random(n), decimals)
    y = rng.integers(0, 2, n)
    p = np.full(n, 0.9)  # every prediction is 1: errors where y = 0
    err = (y == 0).astype(float)
    assert aurc(y, p, confidence=conf) == pytest.approx(_all_tie_orders_aurc(conf, err), abs=1e-14)


def test_oracle_confidence_has_zero_excess(rng):
    y, p = make_multiclass(rng, n=1000, k=4)
    correct = (p.argmax(1) == y).astype(float)
    assert e_aurc(y, p, confidence=correct) == pytest.approx(0.0, abs=1e-15)
    r = 1 - correct.mean()
    # the continuous approximation of Geifman et al. is close to the exact discrete oracle
    oracle = aurc(y, p, confidence=correct)
    assert oracle == pytest.approx(r + (1 - r) * np.log(1 - r), rel=0.02)
    assert oracle == pytest.approx(_naive_oracle(1 - correct), abs=1e-15)
    assert e_aurc(y, p, confidence=-correct) > 0.3  # errors first: far from the oracle


# --- weights ---------------------------------------------------------------------------------


def test_unit_weights_equal_no_weights(rng):
    y, p = make_multiclass(rng, n=2000, k=3)
    p = np.round(p, 2)
    p /= p.sum(1, keepdims=True)
    ones = np.ones(2000)
    c0, a0, e0 = _outputs(y, p)
    c1, a1, e1 = _outputs(y, p, ones)
    assert a1 == pytest.approx(a0, rel=1e-13)
    assert e1 == pytest.approx(e0, rel=1e-12)
    np.testing.assert_allclose(c1.risk, c0.risk, rtol=1e-14)
    np.testing.assert_allclose(c1.coverage, c0.coverage, rtol=1e-14)


def test_integer_weights_equal_repeated_rows(rng):
    y, p = make_multiclass(rng, n=600, k=3)
    p = np.round(p, 1)
    p /= p.sum(1, keepdims=True)
    w = rng.integers(0, 4, 600)
    ry, rp = np.repeat(y, w), np.repeat(p, w, axis=0)
    c_w, a_w, e_w = _outputs(y, p, w.astype(float))
    c_r, a_r, e_r = _outputs(ry, rp)
    assert a_w == pytest.approx(a_r, rel=1e-12)
    assert e_w == pytest.approx(e_r, rel=1e-11)
    np.testing.assert_allclose(c_w.risk, c_r.risk, rtol=1e-13)
    np.testing.assert_array_equal(c_w.thresholds, c_r.thresholds)  # zero weights drop out


def test_harmonic_difference_is_the_harmonic_sum():
    a = np.array([0.0, 3.0, 31.0, 40.0, 1e6])
    m = np.array([1.0, 5.0, 2.0, 100.0, 3.0])
    ref = [sum(1 / (ai + j) for j in range(1, int(mi) + 1)) for ai, mi in zip(a, m, strict=True)]
    np.testing.assert_allclose(_harmonic_diff(a, m), ref, rtol=1e-14)
    # tiny increments keep their relative accuracy: psi'(x) m for m -> 0
    got = _harmonic_diff(np.array([1e6]), np.array([1e-9]))[0]
    assert got == pytest.approx(1e-9 / (1e6 + 1), rel=1e-9)


# --- row order -------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 80),
    st.integers(2, 4),
    st.integers(0, 2**31 - 1),
    st.sampled_from([0, 1, 2]),
    st.booleans(),
)
def test_permuting_rows_changes_nothing(n, k, seed, decimals, weighted):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(k), n)
    p = np.round(p, decimals) + 1e-3  # heavy ties in the confidence
    p /= p.sum(1, keepdims=True)
    y = rng.integers(0, k, n)
    w = np.round(rng.random(n), 1) if weighted else None
    if w is not None and w.sum() == 0:
        w[0] = 1.0
    perm = rng.permutation(n)
    c0, a0, e0 = _outputs(y, p, w)
    c1, a1, e1 = _outputs(y[perm], p[perm], None if w is None else w[perm])
    assert a0 == a1 and e0 == e1
    for name in ("coverage", "risk", "thresholds"):
        np.testing.assert_array_equal(getattr(c0, name), getattr(c1, name))
    assert c0.thresholds.size == np.unique(p.max(1)[w > 0] if w is not None else p.max(1)).size


# --- results and errors ----------------------------------------------------------------------


def test_curve_is_frozen_and_json_safe(rng):
    y, p = make_multiclass(rng, n=100, k=3)
    curve = risk_coverage_curve(y, p)
    assert isinstance(curve, RiskCoverageCurve)
    assert curve.coverage[-1] == 1.0
    assert curve.risk[-1] == pytest.approx(np.mean(p.argmax(1) != y))
    with pytest.raises(ValueError, match="read-only"):
        curve.risk[0] = 1.0
    doc = curve.to_dict()
    assert doc["risk"] == curve.risk.tolist()
    json.dumps(doc, allow_nan=False)


@pytest.mark.parametrize("func", [risk_coverage_curve, aurc, e_aurc])
@pytest.mark.parametrize(
    ("y", "p", "kwargs", "error", "match"),
    [
        ([0, 1], [0.2, np.nan], {}, NonFiniteError, "y_prob contains NaN"),
        ([0, 1], [0.2, 1.3], {}, ProbabilityError, "y_prob must hold probabilities"),
        ([0, 2], [0.2, 0.3], {}, LabelError, "must be 0 or 1"),
        ([0, 1, 1], [0.2, 0.3], {}, ShapeError, "same number of samples"),
        ([0, 1], [0.2, 0.3], {"confidence": [0.1]}, ShapeError, "confidence has 1"),
        (
            [0, 1],
            [0.2, 0.3],
            {"confidence": [0.1, np.nan]},
            NonFiniteError,
            "confidence contains NaN",
        ),
        ([0, 1], [0.2, 0.3], {"confidence": [[0.1, 0.2]]}, ShapeError, "confidence must be 1-D"),
        (
            [0, 1],
            [0.2, 0.3],
            {"sample_weight": [0.0, 0.0]},
            ValidationError,
            "every sample_weight is zero",
        ),
        ([0, 1], [0.2, 0.3], {"sample_weight": [1.0, -1.0]}, ValidationError, "non-negative"),
        ([0, 3], [[0.2, 0.8], [0.5, 0.5]], {}, LabelError, r"label\(s\) \[3\] outside"),
    ],
)
def test_bad_input(func, y, p, kwargs, error, match):
    with pytest.raises(error, match=match):
        func(y, p, **kwargs)
