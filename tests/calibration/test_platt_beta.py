"""Platt scaling and beta calibration: exact optima, scikit-learn's sigmoid fit, known parameters."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit, log_expit
from sklearn.calibration import _sigmoid_calibration
from sklearn.linear_model import LogisticRegression

from confide.calibration._beta import BetaCalibration
from confide.calibration._platt import PlattScaling
from confide.exceptions import ValidationError


def _platt_objective(a, b, s, t, w):
    eta = a * s + b
    return float(np.sum(w * (np.logaddexp(0, eta) - t * eta)))


def _smoothed(y, w):
    pos, neg = np.sum(w * y), np.sum(w * (1 - y))
    return np.where(y == 1, (pos + 1) / (pos + 2), 1 / (neg + 2))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("scale", [1.0, 40.0])  # 40: sklearn rescales scores above 30
def test_platt_matches_sklearn_sigmoid(rng, weighted, scale):
    n = 3000
    s = rng.normal(size=n) * scale
    y = (rng.random(n) < expit(0.7 * s / scale - 0.4)).astype(int)
    w = rng.random(n) * 3 if weighted else None
    big_a, big_b = _sigmoid_calibration(s, y, w)
    cal = PlattScaling(target_smoothing=True).fit(s, y, sample_weight=w)
    a, b = cal.a_[0], cal.b_[0]
    ww = np.ones(n) if w is None else w
    t = _smoothed(y, ww)
    ours, theirs = _platt_objective(a, b, s, t, ww), _platt_objective(-big_a, -big_b, s, t, ww)
    close = abs(a + big_a) <= 1e-6 * max(1, abs(a)) and abs(b + big_b) <= 1e-6 * max(1, abs(b))
    assert close or ours < theirs
    assert ours <= theirs + 1e-9 * abs(theirs)
    np.testing.assert_allclose(cal.predict_proba(s), 1 / (1 + np.exp(big_a * s + big_b)), atol=1e-5)


def test_platt_is_the_exact_optimum(rng):
    s = rng.normal(size=2000) * 2
    y = (rng.random(2000) < expit(1.5 * s + 0.5)).astype(int)
    cal = PlattScaling().fit(s, y)
    ref = minimize(
        lambda th: _platt_objective(th[0], th[1], s, y, np.full(2000, 1 / 2000)),
        [1.0, 0.0],
        method="BFGS",
        options={"gtol": 1e-12},
    )
    np.testing.assert_allclose([cal.a_[0], cal.b_[0]], ref.x, atol=1e-5)
    # unpenalised sklearn LogisticRegression on the same single feature
    lr = LogisticRegression(C=np.inf, tol=1e-12, max_iter=1000).fit(s[:, None], y)
    np.testing.assert_allclose(
        [cal.a_[0], cal.b_[0]], [lr.coef_[0, 0], lr.intercept_[0]], atol=1e-6
    )
    # gradient at the optimum is zero to rounding
    p = expit(cal.a_[0] * s + cal.b_[0])
    assert abs(np.mean(p - y)) < 1e-12 and abs(np.mean((p - y) * s)) < 1e-12
    assert cal.nll_[0] == pytest.approx(ref.fun, rel=1e-10)


def test_platt_on_probs_uses_logit(rng):
    z = rng.normal(size=1000) * 2
    y = (rng.random(1000) < expit(0.5 * z)).astype(int)
    a = PlattScaling().fit(z, y)
    b = PlattScaling(input="probs").fit(expit(z), y)
    np.testing.assert_allclose([b.a_[0], b.b_[0]], [a.a_[0], a.b_[0]], rtol=1e-8)


def test_platt_separable_without_smoothing_raises(rng):
    s = np.linspace(-3, 3, 200)
    y = (s > 0).astype(int)
    with pytest.raises(ValidationError, match="perfectly separated"):
        PlattScaling().fit(s, y)
    out = PlattScaling(target_smoothing=True).fit(s, y).predict_proba(s)
    assert np.all(np.isfinite(out)) and out[0] < 0.05 and out[-1] > 0.95


# -- beta -------------------------------------------------------------------------------------
def _beta_data(rng, n, a, b, c):
    p = rng.beta(2, 2, size=n)
    eta = a * np.log(p) - b * np.log1p(-p) + c
    return p, (rng.random(n) < expit(eta)).astype(int)


@pytest.mark.parametrize(("a", "b", "c"), [(2.0, 0.5, 0.3), (0.6, 1.8, -0.4)])
def test_beta_recovers_known_parameters(rng, a, b, c):
    p, y = _beta_data(rng, 200_000, a, b, c)
    cal = BetaCalibration(input="probs").fit(p, y)
    np.testing.assert_allclose([cal.a_[0], cal.b_[0], cal.c_[0]], [a, b, c], atol=0.08)


def test_beta_is_exact_logistic_fit(rng):
    p, y = _beta_data(rng, 5000, 1.5, 0.8, 0.1)
    cal = BetaCalibration(input="probs").fit(p, y)
    feats = np.column_stack([np.log(p), -np.log1p(-p)])
    lr = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(feats, y)
    np.testing.assert_allclose([cal.a_[0], cal.b_[0]], lr.coef_[0], atol=1e-5)
    np.testing.assert_allclose(cal.c_[0], lr.intercept_[0], atol=1e-5)


def test_beta_identity_on_calibrated_data(rng):
    p = rng.beta(2, 3, size=100_000)
    y = (rng.random(p.size) < p).astype(int)
    cal = BetaCalibration(input="probs").fit(p, y)
    np.testing.assert_allclose([cal.a_[0], cal.b_[0], cal.c_[0]], [1, 1, 0], atol=0.1)
    q = cal.predict_proba(p)

    def nll(r):
        return -np.mean(y * np.log(r) + (1 - y) * np.log1p(-r))

    assert nll(q) <= nll(p)  # the identity is in the model family: the fit cannot be worse
    assert cal.nll_[0] == pytest.approx(nll(q), rel=1e-10)


def test_beta_constraint_drops_negative_feature(rng):
    # labels that *decrease* with ln p near 0 but increase overall: unconstrained a < 0
    p = rng.beta(1, 1, size=50_000)
    y = (rng.random(p.size) < expit(-0.8 * np.log(p) - 2.0 * np.log1p(-p) - 1)).astype(int)
    feats = np.column_stack([np.log(p), -np.log1p(-p)])
    lr = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(feats, y)
    assert lr.coef_[0, 0] < 0
    cal = BetaCalibration(input="probs").fit(p, y)
    assert cal.a_[0] == 0.0 and cal.b_[0] > 0
    lr1 = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(feats[:, 1:], y)
    np.testing.assert_allclose(
        [cal.b_[0], cal.c_[0]], [lr1.coef_[0, 0], lr1.intercept_[0]], atol=1e-5
    )


def test_beta_logits_match_probs(rng):
    z = rng.normal(size=3000) * 2
    y = (rng.random(3000) < expit(0.4 * z + 0.2)).astype(int)
    a = BetaCalibration().fit(z, y)
    b = BetaCalibration(input="probs").fit(expit(z), y)
    np.testing.assert_allclose(a.predict_proba(z), b.predict_proba(expit(z)), atol=1e-9)
    # extreme logits stay finite (features from log_expit, no rounding to 0/1)
    out = a.predict_proba(np.array([-800.0, 800.0]))
    assert np.all(np.isfinite(out)) and out[0] < 1e-3 and out[1] > 1 - 1e-3
    assert np.isfinite(log_expit(-800.0))


@pytest.mark.parametrize("cls", [PlattScaling, BetaCalibration])
def test_multiclass_extreme_logits_stay_exact(rng, cls):
    """One-vs-rest features come from the logits: exact even where softmax rounds to 1."""
    z = rng.normal(size=(2000, 3)) * 3
    y = (z + rng.gumbel(size=z.shape)).argmax(1)
    cal = cls().fit(z, y)
    far = np.array([[60.0, 0.0, -5.0], [0.0, 0.0, 0.0], [-700.0, 700.0, 0.0]])
    out = cal.predict_proba(far)
    assert np.all(np.isfinite(out)) and np.allclose(out.sum(1), 1)
    assert out[0, 0] > 0.9 and out[2, 1] > 0.9
    # the top class's one-vs-rest logit is 60 − logsumexp(0, −5), not a rounded 1 − p
    from confide.calibration._platt import ovr_logits

    s = ovr_logits(cal, far)
    np.testing.assert_allclose(s[0, 0], 60 - np.logaddexp(0, -5), rtol=1e-14)
    np.testing.assert_allclose(s[1], np.log(1 / 3) - np.log(2 / 3), rtol=1e-14)
