"""Bootstrap intervals: seeded, weights-as-repetitions, coverage close to nominal."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import make_multiclass

from confide.exceptions import ValidationError
from confide.metrics import accuracy, bootstrap_ci, brier_score, ece


def test_seeded_and_reproducible(rng):
    y, p = make_multiclass(rng, n=500, k=3)
    a = bootstrap_ci(ece, y, p, n_resamples=100, seed=7)
    b = bootstrap_ci(ece, y, p, n_resamples=100, seed=7)
    c = bootstrap_ci(ece, y, p, n_resamples=100, seed=8)
    assert a == b
    assert a != c
    assert a.low <= a.estimate <= a.high
    assert a.estimate == ece(y, p)


def test_matches_explicit_index_resampling(rng):
    # The weights trick must equal resampling rows with the same draws.
    y, p = make_multiclass(rng, n=200, k=3)
    ci = bootstrap_ci(brier_score, y, p, n_resamples=50, seed=3, confidence_level=0.9)
    draws = np.random.default_rng(3)
    values = []
    for _ in range(50):
        idx = draws.integers(0, 200, size=200)
        values.append(brier_score(y[idx], p[idx]))
    lo, hi = np.quantile(values, [0.05, 0.95])
    assert ci.low == pytest.approx(lo, rel=1e-12)
    assert ci.high == pytest.approx(hi, rel=1e-12)
    assert ci.standard_error == pytest.approx(np.std(values, ddof=1), rel=1e-10)


def test_basic_interval_reflects_percentiles(rng):
    y, p = make_multiclass(rng, n=300, k=3)
    pc = bootstrap_ci(ece, y, p, n_resamples=80, seed=1)
    basic = bootstrap_ci(ece, y, p, n_resamples=80, seed=1, method="basic")
    assert basic.low == pytest.approx(2 * pc.estimate - pc.high)
    assert basic.high == pytest.approx(2 * pc.estimate - pc.low)


def test_accuracy_interval_covers_truth_about_95_percent():
    # Accuracy of a Bernoulli(0.8) classifier: 200 data sets of 400; coverage near 0.95.
    rng = np.random.default_rng(0)
    hits = 0
    trials = 200
    for t in range(trials):
        correct = rng.random(400) < 0.8
        y = np.where(correct, 1, 0)
        p = np.full(400, 0.9)  # always predicts class 1
        ci = bootstrap_ci(accuracy, y, p, n_resamples=200, seed=t)
        hits += ci.low <= 0.8 <= ci.high
    assert 0.90 <= hits / trials <= 0.99


def test_bad_arguments():
    y, p = np.array([0, 1, 1]), np.array([0.2, 0.7, 0.9])
    with pytest.raises(ValidationError, match="confidence_level must lie strictly between"):
        bootstrap_ci(ece, y, p, confidence_level=1.5)
    with pytest.raises(ValidationError, match="n_resamples must be at least 10"):
        bootstrap_ci(ece, y, p, n_resamples=5)
    with pytest.raises(ValidationError, match="same number of samples"):
        bootstrap_ci(ece, y, p[:2])


def test_undefined_resamples_are_reported():
    def needs_two_classes(y_true, y_prob, sample_weight=None):
        present = (
            np.unique(y_true[sample_weight > 0]) if sample_weight is not None else np.unique(y_true)
        )
        if len(present) < 2:
            raise ValueError("one class")
        return 0.0

    y = np.array([0] * 30 + [1])
    p = np.full(31, 0.5)
    with pytest.raises(ValidationError, match="undefined on"):
        bootstrap_ci(needs_two_classes, y, p, n_resamples=50)
