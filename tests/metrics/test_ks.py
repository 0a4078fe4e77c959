"""KS calibration error: the definition, ties, analytic values and invariances."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import make_multiclass

from confide.exceptions import LabelError, NonFiniteError, ShapeError, ValidationError
from confide.metrics._ks import ks_calibration_error


def _loop_ks(f, y, w=None):
    """Restatement of Gupta et al.: gap of the cumulative curves at every distinct score."""
    f, y = np.asarray(f, float), np.asarray(y, float)
    w = np.ones_like(f) if w is None else np.asarray(w, float)
    best = 0.0
    for s in np.unique(f):
        m = f <= s
        best = max(best, abs(float(np.sum(w[m] * (y[m] - f[m])))) / float(w.sum()))
    return best


def _bernoulli(rng, q):
    return (rng.random(q.shape) < q).astype(np.intp)


def test_matches_loop_definition(rng):
    f = np.round(rng.uniform(size=500), 2)  # many ties
    y = _bernoulli(rng, f**2)
    w = rng.uniform(0.1, 2.0, size=500)
    assert ks_calibration_error(y, f, kind="binary") == pytest.approx(_loop_ks(f, y), abs=1e-12)
    assert ks_calibration_error(y, f, kind="binary", sample_weight=w) == pytest.approx(
        _loop_ks(f, y, w), abs=1e-12
    )


def test_ties_are_one_step():
    # without grouping, the tied pair at 0.5 sorted as (y=0, y=1) would peak inside the group
    f = np.array([0.1, 0.5, 0.5])
    y_a = np.array([0, 0, 1])
    y_b = np.array([0, 1, 0])
    expected = 0.1 / 3  # after 0.1: -0.1; after the group: -0.1 - 0.5 + 0.5 (not -0.6 or +0.4)
    assert ks_calibration_error(y_a, f, kind="binary") == pytest.approx(expected, abs=1e-15)
    assert ks_calibration_error(y_b, f, kind="binary") == pytest.approx(expected, abs=1e-15)


def test_perfect_calibration_is_near_zero(rng):
    f = rng.uniform(size=200_000)
    y = _bernoulli(rng, f)
    # sup of a martingale with variance at most 1/(4n): a few times 0.0011
    assert ks_calibration_error(y, f, kind="binary") < 0.005


def test_squared_miscalibration_binary(rng):
    # f ~ U(0, 1), E[y | f] = f**2: the gap E[(y - f) 1{f <= s}] = s**3/3 - s**2/2 peaks at s = 1
    f = rng.uniform(size=200_000)
    y = _bernoulli(rng, f**2)
    se = np.sqrt(np.var(y - f) / len(f))
    assert ks_calibration_error(y, f, kind="binary") == pytest.approx(1 / 6, abs=5 * se)


def test_interior_peak(rng):
    # E[y | f] = f + 0.1 sin(2 pi f): gap(s) = 0.1 (1 - cos 2 pi s) / (2 pi), largest at s = 1/2
    # (0.1 / pi), back to 0 at s = 1, so the total alone would miss it
    f = rng.uniform(size=200_000)
    y = _bernoulli(rng, f + 0.1 * np.sin(2 * np.pi * f))
    assert ks_calibration_error(y, f, kind="binary") == pytest.approx(0.1 / np.pi, abs=0.004)


def test_squared_miscalibration_top_label(rng):
    # three classes, top-label confidence c ~ U(0.4, 1), correct w.p. c**2: KS = E[c - c**2] = 0.18
    n = 200_000
    c = rng.uniform(0.4, 1.0, n)
    pred = rng.integers(0, 3, n)
    p = np.repeat(((1.0 - c) / 2.0)[:, None], 3, axis=1)
    p[np.arange(n), pred] = c
    y = np.where(rng.random(n) < c**2, pred, (pred + rng.integers(1, 3, n)) % 3)
    assert ks_calibration_error(y, p) == pytest.approx(0.18, abs=0.005)
    assert abs(ks_calibration_error(y, p, kind="classwise") - 0.18) > 0.02


def test_top_label_and_classwise(rng):
    y, p = make_multiclass(rng, n=3000, k=4)
    conf, correct = p.max(1), (p.argmax(1) == y).astype(int)
    assert ks_calibration_error(y, p) == pytest.approx(_loop_ks(conf, correct), abs=1e-12)
    per_class = [_loop_ks(p[:, k], y == k) for k in range(4)]
    assert ks_calibration_error(y, p, kind="classwise") == pytest.approx(
        np.mean(per_class), abs=1e-12
    )
    f = rng.uniform(size=3000)
    yb = _bernoulli(rng, f**2)
    top = ks_calibration_error(yb, f)  # 1-D: confidence max(p, 1 - p) of the predicted class
    assert top == pytest.approx(_loop_ks(np.maximum(f, 1 - f), (f > 0.5) == yb), abs=1e-12)
    assert abs(top - ks_calibration_error(yb, f, kind="binary")) > 0.01
    both = [_loop_ks(1 - f, yb == 0), _loop_ks(f, yb == 1)]
    assert ks_calibration_error(yb, f, kind="classwise") == pytest.approx(np.mean(both), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=1, max_value=60).flatmap(
        lambda n: st.tuples(
            st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), min_size=n, max_size=n),
            st.lists(st.integers(0, 1), min_size=n, max_size=n),
            st.lists(st.integers(0, 3), min_size=n, max_size=n),
            st.permutations(list(range(n))),
        )
    )
)
def test_row_permutation_invariance(data):
    f, y, w, perm = (np.array(a) for a in data)
    a = ks_calibration_error(y, f, kind="binary")
    assert a == pytest.approx(ks_calibration_error(y[perm], f[perm], kind="binary"), abs=1e-12)
    if w.sum() > 0:
        b = ks_calibration_error(y, f, kind="binary", sample_weight=w)
        c = ks_calibration_error(y[perm], f[perm], kind="binary", sample_weight=w[perm])
        assert b == pytest.approx(c, abs=1e-12)


@settings(max_examples=60, deadline=None)
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
    assert 0.0 <= ks_calibration_error(y, f, kind=kind) <= 1.0


def test_extremes():
    assert ks_calibration_error([0, 1] * 5, [1.0, 0.0] * 5, kind="binary") == pytest.approx(0.5)
    assert ks_calibration_error([1] * 5, [0.0] * 5, kind="binary") == pytest.approx(1.0)
    assert ks_calibration_error([0, 1, 1, 0], [0.0, 1.0, 1.0, 0.0], kind="binary") == 0.0


def test_integer_weights_equal_repeated_rows(rng):
    y, p = make_multiclass(rng, n=500, k=3)
    w = rng.integers(0, 4, size=500)
    rep = np.repeat(np.arange(500), w)
    for kind in ("top_label", "classwise"):
        a = ks_calibration_error(y, p, kind=kind, sample_weight=w)
        assert a == pytest.approx(ks_calibration_error(y[rep], p[rep], kind=kind), abs=1e-12)


def test_bad_inputs():
    y = np.array([0, 1, 1])
    p = np.array([0.2, 0.8, 0.6])
    with pytest.raises(NonFiniteError, match="NaN"):
        ks_calibration_error(y, np.array([0.2, np.nan, 0.6]), kind="binary")
    with pytest.raises(ShapeError, match="1-D or 2-D"):
        ks_calibration_error(y, np.zeros((3, 2, 2)))
    with pytest.raises(ShapeError, match="same number of samples"):
        ks_calibration_error(np.array([0, 1]), p, kind="binary")
    with pytest.raises(LabelError, match="must be 0 or 1"):
        ks_calibration_error(np.array([0, 2, 1]), p, kind="binary")
    with pytest.raises(LabelError, match="outside the 2 classes"):
        ks_calibration_error(np.array([0, 2, 1]), np.array([[0.5, 0.5]] * 3))
    with pytest.raises(ValidationError, match="kind='binary' measures P"):
        ks_calibration_error(y, np.array([[0.5, 0.5]] * 3), kind="binary")
    with pytest.raises(ValidationError, match="kind must be one of"):
        ks_calibration_error(y, p, kind="multiclass")
    with pytest.raises(ValidationError, match="all weights are 0"):
        ks_calibration_error(y, p, kind="binary", sample_weight=[0, 0, 0])
