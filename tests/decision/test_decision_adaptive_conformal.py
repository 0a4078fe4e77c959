"""Adaptive conformal inference: a hand trace, Gibbs & Candès' bound, drift, state round trips."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confide._serialization import to_document
from confide.decision._adaptive_conformal import AdaptiveConformalInference, AdaptiveConformalRun
from confide.decision._conformal_regression import SplitConformalRegressor
from confide.decision._conformal_scores import conformal_quantile
from confide.exceptions import ConfideTypeError, NonFiniteError, SchemaError, ValidationError


def test_a_hand_traced_stream():
    aci = AdaptiveConformalInference(0.5, gamma=0.1, window=3)
    assert aci.threshold() == math.inf  # nothing seen yet: everything is covered
    run = aci.run([1.0, 2.0, 0.5, 3.0, 1.5])
    # t=1 q=inf (empty) covered; t=2 held [1], rank ceil(2*0.45)=1, q=1 < 2 missed;
    # t=3 held [1,2], rank ceil(3*0.5)=2, q=2 covers 0.5; t=4 held [.5,1,2], rank ceil(4*.45)=2,
    # q=1 < 3 missed, 1.0 leaves; t=5 held [.5,2,3], rank ceil(4*.5)=2, q=2 covers 1.5
    np.testing.assert_array_equal(run.covered, [True, False, True, False, True])
    np.testing.assert_array_equal(run.thresholds, [math.inf, 1.0, 2.0, 1.0, 2.0])
    np.testing.assert_allclose(run.alphas, [0.5, 0.55, 0.5, 0.55, 0.5])
    assert aci.alpha_t == pytest.approx(0.55)
    assert (aci.n_steps, aci.n_errors, aci.miscoverage) == (5, 2, 0.4)
    assert aci.to_dict()["payload"]["scores"] == [0.5, 3.0, 1.5]  # oldest first
    assert run.miscoverage == pytest.approx(0.4)
    assert run.bound == pytest.approx((0.5 + 0.1) / (0.1 * 5))
    d = json.loads(json.dumps(run.to_dict()))
    assert d["thresholds"][0] == "inf" and d["covered"] == [True, False, True, False, True]
    assert isinstance(run, AdaptiveConformalRun)


def test_thresholds_at_the_extremes_of_alpha():
    aci = AdaptiveConformalInference(0.9, gamma=0.5, window=10)
    aci.run(np.arange(10.0))
    aci.alpha_t = -0.01  # asks for more than full coverage: the whole line
    assert aci.threshold() == math.inf and aci.update(1e300)
    aci.alpha_t = 1.0  # asks for no coverage: the empty set
    assert aci.threshold() == -math.inf and not aci.update(-1e300)


def test_update_and_run_agree():
    rng = np.random.default_rng(0)
    scores = rng.exponential(size=3000)
    one = AdaptiveConformalInference(0.8, gamma=0.02, window=200)
    covered = [one.update(s) for s in scores]
    run = AdaptiveConformalInference(0.8, gamma=0.02, window=200).run(scores)
    np.testing.assert_array_equal(run.covered, covered)


def test_miscoverage_is_pinned_under_a_shift_where_split_conformal_fails():
    rng = np.random.default_rng(1)
    before, after = 5000, 15000
    scores = np.abs(rng.normal(size=before + after))
    scores[before:] *= 3.0  # the model's errors triple in size
    level, gamma = 0.9, 0.005
    aci = AdaptiveConformalInference(level, gamma=gamma, window=500)
    run = aci.run(scores)
    # Gibbs & Candès, Proposition 4.1: |mean err - alpha| <= (max(a1, 1 - a1) + gamma) / (gamma T)
    bound = (max(0.1, 0.9) + gamma) / (gamma * len(scores))
    assert run.bound == pytest.approx(bound) and bound < 0.01
    assert abs(run.miscoverage - 0.1) <= bound
    # it holds at every prefix, too
    t = np.arange(1, len(scores) + 1)
    miss = np.cumsum(~run.covered) / t
    assert np.all(np.abs(miss - 0.1) <= (0.9 + gamma) / (gamma * t) + 1e-12)
    # and after the shift ACI is back at the level, while a fixed split-conformal threshold
    # computed on the first 1000 scores covers well under half of the new ones
    fixed = conformal_quantile(scores[:1000], level)
    assert abs(np.mean(scores[1000:before] <= fixed) - level) < 0.02
    assert np.mean(scores[before:] <= fixed) < 0.5
    assert abs(np.mean(run.covered[before + 2000 :]) - level) < 0.02
    # the same with a regressor's residuals: SplitConformalRegressor holds the fixed width
    y_pred = np.zeros(len(scores))
    split = SplitConformalRegressor(level).fit(y_pred[:1000], scores[:1000])
    assert split.quantile_ == fixed


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 400),
    level=st.floats(0.05, 0.95),
    gamma=st.floats(0.001, 0.5),
    alpha_init=st.floats(0.01, 0.99),
    window=st.integers(1, 60),
    pattern=st.sampled_from(["iid", "trend", "switch", "adversarial"]),
)
def test_the_bound_holds_for_any_sequence(seed, n, level, gamma, alpha_init, window, pattern):
    rng = np.random.default_rng(seed)
    if pattern == "iid":
        scores = rng.normal(size=n)
    elif pattern == "trend":
        scores = np.linspace(0, 10, n) + rng.normal(size=n)
    elif pattern == "switch":
        scores = np.where(np.arange(n) % 50 < 25, 0.0, 100.0) + rng.random(n)
    else:
        scores = rng.choice([0.0, 1.0, 1e6, -1e6], size=n)
    aci = AdaptiveConformalInference(level, gamma=gamma, window=window, alpha_init=alpha_init)
    run = aci.run(scores)
    t = np.arange(1, n + 1)
    miss = np.cumsum(~run.covered) / t
    bound = (max(alpha_init, 1 - alpha_init) + gamma) / (gamma * t)
    assert np.all(np.abs(miss - (1 - level)) <= bound * (1 + 1e-9))
    # the lemma behind it: alpha_t never leaves [-gamma, 1 + gamma]
    assert run.alphas.min() >= -gamma * (1 + 1e-9) and run.alphas.max() <= 1 + gamma * (1 + 1e-9)
    assert aci.miscoverage_bound() == pytest.approx(bound[-1])


def test_state_round_trips_mid_stream(tmp_path):
    rng = np.random.default_rng(2)
    scores = rng.gamma(2.0, size=2000)
    a = AdaptiveConformalInference(0.9, gamma=0.01, window=300, alpha_init=0.2)
    a.run(scores[:1234])
    path = a.save(tmp_path / "aci.json")
    assert json.loads(path.read_text())["kind"] == "adaptive_conformal_inference"
    b = AdaptiveConformalInference.load(path)
    c = AdaptiveConformalInference.from_dict(a.to_dict())
    assert repr(b) == repr(a)
    assert (b.alpha_t, b.n_steps, b.n_errors) == (a.alpha_t, a.n_steps, a.n_errors)
    rest_a, rest_b, rest_c = a.run(scores[1234:]), b.run(scores[1234:]), c.run(scores[1234:])
    np.testing.assert_array_equal(rest_a.covered, rest_b.covered)
    np.testing.assert_array_equal(rest_a.thresholds, rest_c.thresholds)
    assert a.alpha_t == b.alpha_t
    # a short stream (window not yet full) too
    d = AdaptiveConformalInference(window=50)
    d.run(scores[:7])
    e = AdaptiveConformalInference.from_dict(d.to_dict())
    np.testing.assert_array_equal(d.run(scores[7:200]).covered, e.run(scores[7:200]).covered)
    d.reset()
    assert (d.n_steps, d.alpha_t, d.threshold()) == (0, 0.1, math.inf)


def test_bad_input_and_other_kinds(tmp_path):
    with pytest.raises(ValidationError, match="gamma"):
        AdaptiveConformalInference(gamma=0.0)
    with pytest.raises(ValidationError, match="gamma"):
        AdaptiveConformalInference(gamma=math.inf)
    with pytest.raises(ValidationError, match="window must be at least 1"):
        AdaptiveConformalInference(window=0)
    with pytest.raises(ConfideTypeError, match="window must be an integer"):
        AdaptiveConformalInference(window=10.5)
    with pytest.raises(ValidationError, match="confidence_level"):
        AdaptiveConformalInference(1.2)
    with pytest.raises(ValidationError, match="alpha_init"):
        AdaptiveConformalInference(alpha_init=1.0)
    aci = AdaptiveConformalInference()
    with pytest.raises(NonFiniteError):
        aci.update(math.nan)
    with pytest.raises(NonFiniteError):
        aci.run([0.1, math.inf])
    assert aci.n_steps == 0 and math.isnan(aci.miscoverage)
    other = SplitConformalRegressor().fit(np.zeros(20), np.arange(20.0)).save(tmp_path / "r.json")
    with pytest.raises(SchemaError, match="not a 'adaptive_conformal_inference'"):
        AdaptiveConformalInference.load(other)
    doc = aci.to_dict()
    doc["payload"]["scores"] = [1.0] * 2000  # more than the window of 1000
    with pytest.raises(SchemaError, match="malformed"):
        AdaptiveConformalInference.from_dict(to_document(doc["kind"], doc["payload"]))
