"""simulate_active_learning / compare_strategies: schedule, t intervals, labels-to-reach, digits."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from scipy import stats

from confide.active._compare import compare_strategies, savings_against
from confide.active._results import ActiveLearningResult, LearningCurve, t_interval
from confide.active._simulate import estimator_factory, simulate_active_learning
from confide.exceptions import ConfideTypeError, ShapeError, ValidationError


class NearestCentroid:
    """A tiny duck-typed classifier: softmax of minus squared distances to class centroids."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.centroids_ = np.stack([X[y == c].mean(axis=0) for c in self.classes_])
        return self

    def predict_proba(self, X):
        d = ((X[:, None, :] - self.centroids_[None]) ** 2).sum(-1)
        z = np.exp(-(d - d.min(axis=1, keepdims=True)))
        return z / z.sum(axis=1, keepdims=True)


def _blobs(n=300, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    X = rng.normal(size=(n, 2)) + 2.5 * np.stack([np.cos(y * 2.1), np.sin(y * 2.1)], axis=1)
    return X, np.array(["a", "b", "c"])[y]


def test_t_interval_matches_scipy() -> None:
    v = [0.8, 0.82, 0.79, 0.85, 0.81]
    m, lo, hi = t_interval(v, 0.95)
    want = stats.t.interval(0.95, 4, loc=np.mean(v), scale=stats.sem(v))
    assert m == pytest.approx(np.mean(v))
    assert (lo, hi) == pytest.approx(want, rel=1e-12)
    m1, lo1, hi1 = t_interval([0.5], 0.95)
    assert m1 == 0.5 and math.isnan(lo1) and math.isnan(hi1)


def _result(curves):
    from confide.active._simulate import _summarise

    return _summarise("x", tuple(c.seed for c in curves), curves[0].n_labels, list(curves), 0.95)


def test_labels_to_reach_hand_made_curves() -> None:
    sizes = (10, 20, 30, 40)
    r = _result(
        [
            LearningCurve(0, sizes, (0.5, 0.7, 0.8, 0.9), (0.1,) * 4),
            LearningCurve(1, sizes, (0.5, 0.6, 0.75, 0.85), (0.1,) * 4),
            LearningCurve(2, sizes, (0.5, 0.6, 0.7, 0.7), (0.1,) * 4),
        ]
    )
    lab = r.labels_to_reach(0.75)
    assert lab.per_seed == (30, 30, None)
    assert lab.n_reached == 2
    assert lab.mean == pytest.approx((30 + 30 + 40) / 3)  # not reached counts as the budget
    assert lab.low < lab.mean < lab.high
    per = r.labels_to_reach([0.9, 0.6, 0.7])
    assert per.per_seed == (40, 20, 30)
    with pytest.raises(ShapeError):
        r.labels_to_reach([0.5, 0.6])
    assert r.final_accuracy == (0.9, 0.85, 0.7)
    assert r.mean_accuracy[1] == pytest.approx(np.mean([0.7, 0.6, 0.6]))
    json.dumps(r.to_dict())
    json.dumps(lab.to_dict())


def test_savings_are_paired_per_seed() -> None:
    sizes = (10, 20, 30)
    base = _result(
        [
            LearningCurve(0, sizes, (0.5, 0.6, 0.7), (0.0,) * 3),
            LearningCurve(1, sizes, (0.5, 0.65, 0.6), (0.0,) * 3),
        ]
    )
    other = _result(
        [
            LearningCurve(0, sizes, (0.5, 0.7, 0.8), (0.0,) * 3),
            LearningCurve(1, sizes, (0.5, 0.55, 0.6), (0.0,) * 3),
        ]
    )
    s = savings_against(other, base)
    # seed 0: random needs 30 for 0.7, other 20; seed 1: random reaches 0.6 at 20, other at 30
    assert s.baseline_labels.per_seed == (30, 20)
    assert s.labels.per_seed == (20, 30)
    assert s.saved_per_seed == (10, -10)
    assert s.saved_mean == 0.0


def test_simulation_with_a_factory_and_string_labels() -> None:
    X, y = _blobs()
    r = simulate_active_learning(
        NearestCentroid, X, y, "margin", budget=75, batch_size=20, initial_size=15, seeds=(0, 1)
    )
    assert isinstance(r, ActiveLearningResult)
    assert r.n_labels == (15, 35, 55, 75)
    assert len(r.curves) == 2 and all(len(c.accuracy) == 4 for c in r.curves)
    assert all(0 <= a <= 1 for c in r.curves for a in c.accuracy + c.ece)
    assert r.mean_accuracy[-1] > 0.8
    json.dumps(r.to_dict())


def test_same_seed_same_split_and_initial_set_across_strategies() -> None:
    X, y = _blobs()
    opts = {"budget": 40, "batch_size": 10, "initial_size": 10, "seeds": (3, 4)}
    runs = [
        simulate_active_learning(NearestCentroid, X, y, s, **opts)
        for s in ("random", "entropy", "bald", "kcenter")
    ]
    first = {tuple(c.accuracy[0] for c in r.curves) for r in runs}
    assert len(first) == 1
    again = simulate_active_learning(NearestCentroid, X, y, "random", **opts)
    assert again.to_dict() == runs[0].to_dict()


def test_fixed_test_set_and_get_params_cloning() -> None:
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression

    X, y = _blobs(400)
    est = LogisticRegression(C=0.5)
    make = estimator_factory(est)
    assert make() is not est and make().get_params()["C"] == 0.5
    r = simulate_active_learning(
        est,
        X[:300],
        y[:300],
        "least_confidence",
        budget=50,
        batch_size=25,
        initial_size=10,
        X_test=X[300:],
        y_test=y[300:],
        seeds=(0,),
    )
    assert r.n_labels == (10, 35, 50)
    assert not hasattr(est, "coef_")  # the given estimator is never fitted


def test_errors() -> None:
    X, y = _blobs(100)
    ok = {"budget": 30, "batch_size": 10, "initial_size": 10}
    with pytest.raises(ConfideTypeError):
        simulate_active_learning(object(), X, y, "margin", **ok)
    with pytest.raises(ValidationError, match="pool"):
        simulate_active_learning(NearestCentroid, X, y, "margin", **{**ok, "budget": 90})
    with pytest.raises(ValidationError, match="initial_size"):
        simulate_active_learning(NearestCentroid, X, y, "margin", **{**ok, "initial_size": 40})
    with pytest.raises(ValidationError):
        simulate_active_learning(NearestCentroid, X, y, "nope", **ok)
    with pytest.raises(ShapeError):
        simulate_active_learning(NearestCentroid, X, y[:50], "margin", **ok)
    with pytest.raises(ValidationError, match="X_test"):
        simulate_active_learning(NearestCentroid, X, y, "margin", X_test=X, **ok)
    with pytest.raises(ValidationError, match="seeds"):
        simulate_active_learning(NearestCentroid, X, y, "margin", seeds=(), **ok)


@pytest.mark.slow
def test_uncertainty_beats_random_on_digits() -> None:
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    threadpoolctl = pytest.importorskip("threadpoolctl")

    X, y = load_digits(return_X_y=True)
    # one BLAS thread: tiny fits on a shared machine are slower with a thread pool
    with warnings.catch_warnings(), threadpoolctl.threadpool_limits(1):
        warnings.simplefilter("ignore")
        cmp = compare_strategies(
            LogisticRegression(max_iter=200),
            X / 16.0,
            y,
            ["margin", "least_confidence"],
            budget=300,
            batch_size=20,
            initial_size=20,
            seeds=(0, 1, 2),
        )
    base = cmp.result("random")
    base_need = base.labels_to_reach(list(base.final_accuracy)).mean
    for s in cmp.savings:
        assert s.labels.mean < base_need, s.to_dict()
        assert s.saved_mean > 40
        assert s.labels.n_reached == 3
    assert cmp.result("margin").mean_accuracy[-1] > base.mean_accuracy[-1]
    json.dumps(cmp.to_dict())
