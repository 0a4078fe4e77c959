"""ATC (Garg et al. 2022): the threshold rule, scores, chunks, the concept-shift blind spot."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import entropy

from confide.exceptions import NonFiniteError, SchemaError, ShapeError, ValidationError
from confide.monitor._atc import ATC, atc_scores
from confide.monitor._cbpe_run import NotFittedError


def _softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def _calibrated(rng, n, k=4, scale=2.0):
    p = _softmax(rng.normal(size=(n, k)) * scale)
    y = (p.cumsum(1) > rng.uniform(size=(n, 1))).argmax(1)
    return p, y


def test_threshold_reproduces_source_accuracy_without_ties(rng):
    p, y = _calibrated(rng, 5000)
    atc = ATC().fit(p, y)
    acc = np.mean(p.argmax(1) == y)
    assert atc.source_accuracy_ == acc
    assert atc.source_fraction_above_ == acc
    assert atc.predict_accuracy(p) == acc
    s = np.sort(p.max(1))
    # t is the (n - correct)-th smallest score: exactly `correct` scores lie strictly above it
    assert atc.threshold_ == s[5000 - round(acc * 5000) - 1]


def test_threshold_by_hand_with_ties_and_binary_input():
    p = np.array([0.95, 0.1, 0.8, 0.8, 0.3, 0.6])  # confidences .95 .9 .8 .8 .7 .6
    y = np.array([1, 0, 1, 0, 1, 1])  # correct: T T T F F T -> 4 of 6
    atc = ATC().fit(p, y)
    # counts above each distinct score: .6->5, .7->4, .8->2, .9->1: 4 is reached exactly at .7
    assert atc.threshold_ == pytest.approx(0.7)
    assert atc.source_fraction_above_ == pytest.approx(4 / 6)
    # all correct: t = -inf and every target sample counts
    all_right = ATC().fit(p, (p > 0.5).astype(int))
    assert all_right.threshold_ == -np.inf
    assert all_right.predict_accuracy(np.array([0.5, 0.99])) == 1.0
    doc = json.loads(json.dumps(all_right.to_dict(), allow_nan=False))
    assert ATC.from_dict(doc).threshold_ == -np.inf


def test_negative_entropy_score_matches_scipy(rng):
    p, _ = _calibrated(rng, 200)
    p[0] = [1.0, 0.0, 0.0, 0.0]  # 0 log 0 = 0
    np.testing.assert_allclose(atc_scores(p, "negative_entropy"), -entropy(p, axis=1), atol=1e-12)
    b = np.array([0.2, 0.5, 1.0])
    np.testing.assert_allclose(
        atc_scores(b, "negative_entropy"), -entropy(np.column_stack([1 - b, b]), axis=1), atol=1e-12
    )
    np.testing.assert_array_equal(atc_scores(b, "max_confidence"), [0.8, 0.5, 1.0])


def _overconfident(rng, n, scale):
    """Scores softmax(3 z) for labels drawn from softmax(z): an over-confident model."""
    z = rng.normal(size=(n, 4)) * scale
    y = (_softmax(z).cumsum(1) > rng.uniform(size=(n, 1))).argmax(1)
    return _softmax(3 * z), y


@pytest.mark.parametrize("score", ["max_confidence", "negative_entropy"])
def test_atc_corrects_an_overconfident_model_where_average_confidence_fails(rng, score):
    """Garg et al.'s motivation: with over-confident scores the mean confidence overestimates
    accuracy by ~0.2; ATC's threshold absorbs the miscalibration, on i.i.d. data and under a
    mild shift (inputs less separable). Figures measured on seeds 0-4 and the fixture's seed."""
    atc = ATC(score=score).fit(*_overconfident(rng, 20000, 2.0))
    same_p, same_y = _overconfident(rng, 20000, 2.0)
    iid = atc.estimate(same_p, y_true=same_y).rows[0]
    assert abs(iid.estimate - iid.realised) < 0.02
    assert same_p.max(1).mean() - iid.realised > 0.15  # average confidence is far off
    p_t, y_t = _overconfident(rng, 20000, 1.5)
    shifted = atc.estimate(p_t, y_true=y_t).rows[0]
    assert shifted.realised < atc.source_accuracy_ - 0.05
    err = abs(shifted.estimate - shifted.realised)
    assert err < 0.05
    assert err < abs(p_t.max(1).mean() - shifted.realised) / 4
    # ATC is not exact under shift: it underestimates here (a limitation, pinned)
    assert shifted.estimate < shifted.realised


def test_a_large_confidence_shift_breaks_atc(rng):
    """Pinned limitation: calibrated scores, target far less confident than the source. The
    fraction above a fixed threshold collapses faster than the accuracy."""
    p_s, y_s = _calibrated(rng, 20000, scale=2.5)
    p_t, y_t = _calibrated(rng, 20000, scale=1.2)
    est = ATC().fit(p_s, y_s).estimate(p_t, y_true=y_t).rows[0]
    assert est.realised - est.estimate > 0.1
    assert abs(p_t.max(1).mean() - est.realised) < 0.02  # calibrated: mean confidence is right


def test_concept_shift_leaves_the_estimate_unchanged(rng):
    """Same probabilities, labels changed in the second chunk: ATC cannot see it."""
    p, y = _calibrated(rng, 2000)
    atc = ATC().fit(p, y)
    shifted = (y + 1) % 4  # P(y|x) changed, inputs (hence probabilities) identical
    est = atc.estimate(np.r_[p, p], y_true=np.r_[y, shifted], chunks=2000)
    assert est.rows[0].estimate == est.rows[1].estimate
    assert est.rows[0].realised > 0.5 and est.rows[1].realised < 0.2
    assert not est.rows[1].covered


def test_chunks_band_and_realised(rng):
    p, y = _calibrated(rng, 3000)
    atc = ATC(confidence_level=0.9).fit(p, y)
    est = atc.estimate(p, y_true=y, chunks=1000)
    assert est.chunk_keys == [0, 1, 2] and est.method == "atc" and est.interval == "binomial"
    for j, r in enumerate(est.rows):
        sl = slice(1000 * j, 1000 * (j + 1))
        assert r.realised == np.mean(p[sl].argmax(1) == y[sl])
        assert r.estimate == np.mean(p[sl].max(1) > atc.threshold_)
        half = 1.6448536269514722 * np.sqrt(r.estimate * (1 - r.estimate) / 1000)
        assert r.upper - r.estimate == pytest.approx(half)
    assert np.isnan(atc.estimate(p).rows[0].realised)


def test_save_load_and_bad_input(tmp_path, rng):
    p, y = _calibrated(rng, 500)
    atc = ATC(score="negative_entropy").fit(p, y)
    again = ATC.load(atc.save(tmp_path / "atc.json"))
    assert again.threshold_ == atc.threshold_ and again.score == "negative_entropy"
    assert again.estimate(p).to_dict() == atc.estimate(p).to_dict()
    with pytest.raises(NotFittedError, match="call fit"):
        ATC().estimate(p)
    with pytest.raises(ShapeError, match=r"fitted on \(n, 4\)"):
        atc.estimate(p[:, :3] / p[:, :3].sum(1, keepdims=True))
    bad = p.copy()
    bad[3, 1] = np.nan
    with pytest.raises(NonFiniteError, match="NaN"):
        atc.estimate(bad)
    with pytest.raises(ShapeError, match="chunk keys have 3 entries"):
        atc.estimate(p, chunks=[1, 2, 3])
    with pytest.raises(ValidationError, match="score must be one of"):
        ATC(score="energy")
    with pytest.raises(ShapeError, match="same number of samples"):
        ATC().fit(p, y[:-1])
    doc = atc.to_dict()
    doc["payload"]["threshold"] = 0.5
    with pytest.raises(SchemaError, match="altered"):
        ATC.from_dict(doc)
