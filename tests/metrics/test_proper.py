"""Brier score, log loss and accuracy pinned against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import make_multiclass

from confide.exceptions import ValidationError
from confide.metrics import accuracy, brier_score, log_loss

skm = pytest.importorskip("sklearn.metrics")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multiclass_against_sklearn(rng, dtype):
    y, p = make_multiclass(rng, n=3000, k=6, dtype=dtype)
    w = rng.random(3000)
    assert brier_score(y, p) == pytest.approx(skm.brier_score_loss(y, p, labels=range(6)), rel=1e-6)
    assert brier_score(y, p, sample_weight=w) == pytest.approx(
        skm.brier_score_loss(y, p, labels=range(6), sample_weight=w), rel=1e-6
    )
    assert log_loss(y, p) == pytest.approx(skm.log_loss(y, p, labels=range(6)), rel=1e-6)
    assert log_loss(y, p, sample_weight=w) == pytest.approx(
        skm.log_loss(y, p, labels=range(6), sample_weight=w), rel=1e-6
    )
    assert accuracy(y, p) == skm.accuracy_score(y, p.argmax(1))


def test_float64_agrees_to_rounding(rng):
    y, p = make_multiclass(rng, n=3000, k=6)
    assert brier_score(y, p) == pytest.approx(
        skm.brier_score_loss(y, p, labels=range(6)), rel=1e-12
    )
    assert log_loss(y, p) == pytest.approx(skm.log_loss(y, p, labels=range(6)), rel=1e-12)


def test_binary_against_sklearn(rng):
    p = rng.random(2000)
    y = (rng.random(2000) < p).astype(int)
    assert brier_score(y, p) == pytest.approx(skm.brier_score_loss(y, p), rel=1e-12)
    assert log_loss(y, p) == pytest.approx(skm.log_loss(y, p), rel=1e-12)
    assert accuracy(y, p) == skm.accuracy_score(y, (p > 0.5).astype(int))


def test_log_loss_is_exact_unless_clipping_is_asked():
    y = np.array([0, 1])
    p = np.array([[1.0, 0.0], [1.0, 0.0]])  # the second true class has probability 0
    assert log_loss(y, p) == np.inf
    clipped = log_loss(y, p, clip=1e-15)
    assert clipped == pytest.approx(-np.log(1e-15) / 2 - np.log(1 - 1e-15) / 2, rel=1e-9)
    with pytest.raises(ValidationError, match="clip must lie"):
        log_loss(y, p, clip=0.7)


def test_brier_multiclass_range_and_perfect():
    y = np.array([0, 1, 2])
    assert brier_score(y, np.eye(3)) == 0.0
    assert brier_score(y, np.eye(3)[[1, 2, 0]]) == 2.0


def test_zero_total_weight_is_an_error():
    with pytest.raises(ValidationError, match="weights are 0"):
        brier_score(np.array([0, 1]), np.array([0.2, 0.7]), sample_weight=np.zeros(2))
