"""Decision policies: hand examples, fitted guarantees, JSON round trips, budget, cascade, evaluation."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from confide._serialization import save_json
from confide.decision._policy import (
    CascadePolicy,
    ReviewBudgetError,
    ThreeWayPolicy,
    ThresholdPolicy,
    evaluate_policy,
    load_policy,
)
from confide.decision._policy_base import policy_from_dict
from confide.decision._thresholds import InfeasibleTargetError, threshold_for_error
from confide.exceptions import SchemaError, ValidationError


def _binary(rng, n):
    p = rng.random(n)
    y = (rng.random(n) < p).astype(int)
    return y, p


def test_threshold_policy_hand_example():
    d = ThresholdPolicy(0.8).decide([0.9, 0.8, 0.5])
    assert d.actions.tolist() == ["accept", "accept", "review"]
    assert d.counts == {"accept": 2, "review": 1, "reject": 0, "fallback": 0}
    assert d.reason(0) == "confidence 0.9 >= accept threshold 0.8"
    assert d.reasons().tolist()[2] == "confidence 0.5 < accept threshold 0.8: review"
    r = ThresholdPolicy(0.8, below="reject").decide(np.array([0.1, 0.95], dtype=np.float32))
    assert r.actions.tolist() == ["reject", "accept"]
    assert d.to_dict()["actions"] == ["accept", "accept", "review"]


def test_threshold_fit_keeps_the_ltt_guarantee(rng):
    c = rng.random(4000)
    ok = rng.random(4000) < 0.5 + 0.5 * c
    pol = ThresholdPolicy.fit(ok, c, max_error=0.1, delta=0.05)
    ref = threshold_for_error(ok, c, max_error=0.1, delta=0.05)
    assert pol.threshold == ref.threshold and pol.guarantee_ == ref
    ev = evaluate_policy(pol, ok, c)
    assert ev.accept_rate == pytest.approx(ref.coverage)
    assert ev.n_errors == ref.n_errors


def test_three_way_hand_example_and_invalid_thresholds():
    d = ThreeWayPolicy(0.9, 0.2).decide([0.95, 0.9, 0.5, 0.2, 0.01])
    assert d.actions.tolist() == ["accept", "accept", "review", "reject", "reject"]
    assert "between reject threshold 0.2 and accept threshold 0.9" in d.reason(2)
    with pytest.raises(ValidationError, match="must be below"):
        ThreeWayPolicy(0.5, 0.5)


def test_three_way_fit_certifies_each_side_at_half_delta(rng):
    y, p = _binary(rng, 6000)
    pol = ThreeWayPolicy.fit(y, p, max_error=0.1, max_error_reject=0.05, delta=0.1)
    acc = threshold_for_error(y == 1, p, max_error=0.1, delta=0.05)
    rej = threshold_for_error(y == 0, 1 - p, max_error=0.05, delta=0.05)
    assert pol.accept_threshold == acc.threshold
    # the reject rule p <= r selects exactly the calibration items certified on 1 - p
    np.testing.assert_array_equal(p <= pol.reject_threshold, (1 - p) >= rej.threshold)
    ev = evaluate_policy(pol, y, p)
    assert ev.n_errors == acc.n_errors and ev.n_rejected == rej.n_accepted
    assert ev.n_reject_errors == rej.n_errors
    assert ev.review_rate == pytest.approx(pol.review_rate_)


def test_review_budget_error_suggests_a_target_that_fits(rng):
    y, p = _binary(rng, 5000)
    with pytest.raises(ReviewBudgetError) as info:
        ThreeWayPolicy.fit(y, p, max_error=0.15, delta=0.05, review_budget=0.3)
    e = info.value
    assert e.needed_review > 0.3 and e.budget == 0.3
    assert e.suggested_max_error is not None and e.suggested_max_error > 0.15
    assert str(e.suggested_max_error) in str(e)
    refit = ThreeWayPolicy.fit(
        y,
        p,
        max_error=e.suggested_max_error,
        max_error_reject=e.suggested_max_error_reject,
        delta=0.05,
        review_budget=0.3,
    )
    assert refit.review_rate_ <= 0.3
    # the previous grid point (one 1.1 step tighter) does not fit: the suggestion is the smallest
    tighter = float(f"{e.suggested_max_error / 1.1:.3g}")
    if tighter > 0.15:
        with pytest.raises((ReviewBudgetError, InfeasibleTargetError)):
            ThreeWayPolicy.fit(y, p, max_error=tighter, max_error_reject=tighter, review_budget=0.3)
    c = rng.random(3000)
    ok = rng.random(3000) < 0.5 + 0.5 * c
    with pytest.raises(ReviewBudgetError) as info2:
        ThresholdPolicy.fit(ok, c, max_error=0.1, review_budget=0.3)
    fitted = ThresholdPolicy.fit(ok, c, max_error=info2.value.suggested_max_error)
    assert 1 - fitted.guarantee_.coverage <= 0.3


@pytest.mark.parametrize(
    "make",
    [
        lambda y, p, ok, c: ThresholdPolicy.fit(ok, c, max_error=0.1),
        lambda y, p, ok, c: ThreeWayPolicy.fit(y, p, max_error=0.1),
        lambda y, p, ok, c: CascadePolicy.fit(ok, c, ok[::-1], c[::-1], max_error=0.15),
        lambda y, p, ok, c: ThreeWayPolicy(0.7, 0.3),
    ],
)
def test_save_load_round_trip(make, rng, tmp_path):
    y, p = _binary(rng, 3000)
    c = rng.random(3000)
    ok = rng.random(3000) < 0.5 + 0.5 * c
    pol = make(y, p, ok, c)
    path = pol.save(tmp_path / "policy.json")
    back = load_policy(path)
    assert type(back) is type(pol) and back == pol
    assert back.to_dict() == pol.to_dict()
    assert type(pol).from_dict(pol.to_dict()) == pol
    x = rng.random(50)
    np.testing.assert_array_equal(back.decide(x, x).codes, pol.decide(x, x).codes)


def test_wrong_kind_tampered_and_mismatched_type(tmp_path):
    pol = ThresholdPolicy(0.8)
    other = save_json(tmp_path / "cal.json", "calibrator", pol.to_dict())
    with pytest.raises(SchemaError, match="not a 'policy'"):
        load_policy(other)
    path = pol.save(tmp_path / "p.json")
    doc = json.loads(path.read_text())
    doc["payload"]["params"]["threshold"] = 0.1
    path.write_text(json.dumps(doc))
    with pytest.raises(SchemaError, match="altered"):
        load_policy(path)
    with pytest.raises(SchemaError, match="three_way"):
        ThresholdPolicy.from_dict(ThreeWayPolicy(0.9, 0.1).to_dict())
    with pytest.raises(SchemaError, match="unknown policy type"):
        policy_from_dict({"type": "magic", "params": {}})


def test_cascade_hand_example():
    pol = CascadePolicy(0.9, 0.7)
    d = pol.decide([0.95, 0.5, 0.5, 0.5], [np.nan, 0.8, 0.6, np.nan])
    assert d.actions.tolist() == ["accept", "fallback", "review", "fallback"]
    assert d.reason(1) == "confidence 0.5 < primary threshold 0.9; secondary 0.8 >= 0.7"
    assert "send to the secondary model" in d.reasons()[3]
    assert pol.decide([0.95, 0.1]).actions.tolist() == ["accept", "fallback"]


def _cascade_draw(rng, n):
    # P(wrong | c1) = 0.3 (1 - c1), P(wrong | c2) = 0.4 (1 - c2), c1, c2 ~ U(0, 1) independent
    c1, c2 = rng.random(n), rng.random(n)
    ok1 = rng.random(n) >= 0.3 * (1 - c1)
    ok2 = rng.random(n) >= 0.4 * (1 - c2)
    return ok1, c1, ok2, c2


def _population_risk(t1, t2):
    t2 = min(t2, 1.0)
    errors = 0.15 * (1 - t1) ** 2 + t1 * 0.2 * (1 - t2) ** 2
    mass = (1 - t1) + t1 * (1 - t2)
    return errors / mass


def test_cascade_guarantee_holds_in_simulation():
    rng = np.random.default_rng(2024)
    draws, delta, eps = 200, 0.1, 0.08
    bad, rates = 0, []
    for _ in range(draws):
        pol = CascadePolicy.fit(*_cascade_draw(rng, 1500), max_error=eps, delta=delta)
        bad += _population_risk(pol.t1, pol.t2) > eps
        rates.append(pol.guarantee_.auto_accept_rate)
    assert bad <= stats.binom.ppf(0.999, draws, delta)
    # the cascade beats the primary model alone (risk 0.15 (1 - t1) <= 0.08 at t1 >= 0.467)
    assert np.mean(rates) > 0.55


def test_cascade_fit_uses_the_second_model_and_fails_clearly(rng):
    ok1, c1, ok2, c2 = _cascade_draw(rng, 4000)
    pol = CascadePolicy.fit(ok1, c1, ok2, c2, max_error=0.08, delta=0.05)
    g = pol.guarantee_
    assert g.n_accepted_secondary > 0 and g.error_upper_bound <= 0.08
    ev = evaluate_policy(pol, ok1, c1, c2, outcome2=ok2)
    assert ev.n_accepted == g.n_accepted_primary + g.n_accepted_secondary
    assert ev.n_errors == g.n_errors
    with pytest.raises(InfeasibleTargetError):
        CascadePolicy.fit(ok1, c1, ok2, c2, max_error=0.001, delta=0.05)


def test_evaluate_policy_against_hand_computation():
    pol = ThresholdPolicy(0.5)
    conf = [0.9, 0.8, 0.7, 0.4, 0.3]
    correct = [1, 0, 1, 1, 0]
    ev = evaluate_policy(pol, correct, conf, cost_error=2.0, cost_review=0.5, delta=0.05)
    assert (ev.n, ev.n_accepted, ev.n_errors) == (5, 3, 1)
    assert ev.accept_rate == 0.6 and ev.review_rate == 0.4 and ev.auto_accept_rate == 0.6
    assert ev.error == pytest.approx(1 / 3)
    assert ev.error_upper_bound == pytest.approx(stats.beta.ppf(0.95, 2, 2), rel=1e-10)
    assert ev.expected_cost == pytest.approx((2.0 * 1 + 0.5 * 2) / 5)
    assert math.isnan(ev.reject_error) and ev.to_dict()["reject_error"] == "nan"
    tw = ThreeWayPolicy(0.8, 0.2)
    ev3 = evaluate_policy(tw, [1, 0, 1, 0, 1], [0.9, 0.85, 0.5, 0.1, 0.15], cost_reject=0.25)
    assert (ev3.n_accepted, ev3.n_errors, ev3.n_rejected, ev3.n_reject_errors) == (2, 1, 2, 1)
    assert ev3.expected_cost == pytest.approx((1.0 * 2 + 0.1 * 1 + 0.25 * 2) / 5)
