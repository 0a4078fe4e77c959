"""Tests of ScoreCombiner: equal to scikit-learn's LogisticRegression, JSON round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from confide._serialization import save_json
from confide.exceptions import (
    LabelError,
    NonFiniteError,
    NotFittedError,
    SchemaError,
    ShapeError,
    ValidationError,
)
from confide.scores.llm._combiner import ScoreCombiner


def synthetic(n: int = 600, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Three scores on different scales, two informative, one noise; correlated."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n)
    x = np.column_stack(
        [
            1 / (1 + np.exp(-(latent + rng.normal(scale=1.0, size=n)))),  # a probability
            50 + 10 * (latent + rng.normal(scale=2.0, size=n)),  # another scale
            rng.normal(size=n),  # noise
        ]
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + 1.5 * latent)))).astype(int)
    return x, y


def sklearn_fit(
    x: np.ndarray, y: np.ndarray, C: float, fit_intercept: bool, w: np.ndarray | None = None
) -> LogisticRegression:
    z = StandardScaler().fit(x, sample_weight=w).transform(x)
    return LogisticRegression(
        C=C, fit_intercept=fit_intercept, solver="newton-cholesky", tol=1e-12, max_iter=1000
    ).fit(z, y, sample_weight=w)


@pytest.mark.parametrize(("C", "fit_intercept"), [(1.0, True), (0.05, True), (10.0, False)])
def test_coefficients_equal_sklearn(C: float, fit_intercept: bool) -> None:
    x, y = synthetic()
    ours = ScoreCombiner(C=C, fit_intercept=fit_intercept).fit(x, y)
    ref = sklearn_fit(x, y, C, fit_intercept)
    np.testing.assert_allclose(ours.coef_, ref.coef_[0], atol=1e-6, rtol=0)
    assert ours.intercept_ == pytest.approx(float(np.atleast_1d(ref.intercept_)[0]), abs=1e-6)
    z = StandardScaler().fit(x).transform(x)
    np.testing.assert_allclose(ours.predict_proba(x), ref.predict_proba(z)[:, 1], atol=1e-7)
    np.testing.assert_allclose(ours.mean_, x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(ours.scale_, x.std(axis=0), rtol=1e-12)


def test_sample_weight_equals_sklearn_and_repeated_rows() -> None:
    x, y = synthetic(n=300, seed=5)
    w = np.random.default_rng(1).integers(0, 4, size=300).astype(float)
    ours = ScoreCombiner(C=0.5).fit(x, y, sample_weight=w)
    ref = sklearn_fit(x, y, 0.5, True, w)
    np.testing.assert_allclose(ours.coef_, ref.coef_[0], atol=1e-6, rtol=0)
    rep = np.repeat(np.arange(300), w.astype(int))
    again = ScoreCombiner(C=0.5).fit(x[rep], y[rep])
    np.testing.assert_allclose(ours.coef_, again.coef_, atol=1e-8)


def test_one_score_and_constant_column() -> None:
    x, y = synthetic(n=200)
    one = ScoreCombiner().fit(x[:, 0], y)
    assert one.coef_.shape == (1,) and one.coef_[0] > 0
    xc = np.column_stack([x[:, 0], np.full(200, 3.0)])
    comb = ScoreCombiner().fit(xc, y)
    assert comb.scale_[1] == 1.0 and comb.coef_[1] == pytest.approx(0.0, abs=1e-12)
    p = comb.predict_proba(xc)
    assert ((p > 0) & (p < 1)).all()


def test_separable_data_have_a_finite_optimum() -> None:
    x = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    y = np.array([0, 0, 0, 1, 1, 1])
    comb = ScoreCombiner(C=100.0).fit(x, y)
    ref = sklearn_fit(x[:, None], y, 100.0, True)
    np.testing.assert_allclose(comb.coef_, ref.coef_[0], atol=1e-6, rtol=0)


def test_save_load_round_trip(tmp_path: Path) -> None:
    x, y = synthetic(n=200)
    comb = ScoreCombiner(C=0.3).fit(x, y, feature_names=["seq", "sim", "noise"])
    path = comb.save(tmp_path / "combiner.json")
    back = ScoreCombiner.load(path)
    np.testing.assert_array_equal(back.predict_proba(x), comb.predict_proba(x))
    assert back.feature_names_ == ("seq", "sim", "noise")
    assert back.C == 0.3 and back.fit_intercept is True
    doc = comb.to_dict()
    assert doc["kind"] == "score_combiner"
    again = ScoreCombiner.from_dict(json.loads(json.dumps(doc)))
    np.testing.assert_array_equal(again.coef_, comb.coef_)
    assert json.loads(path.read_text())["kind"] == "score_combiner"


def test_wrong_kind_and_altered_documents(tmp_path: Path) -> None:
    other = save_json(tmp_path / "cal.json", "calibrator", {"method": "temperature"})
    with pytest.raises(SchemaError, match="not a 'score_combiner'"):
        ScoreCombiner.load(other)
    x, y = synthetic(n=100)
    doc = ScoreCombiner().fit(x, y).to_dict()
    doc["payload"]["intercept"] = 5.0
    with pytest.raises(SchemaError, match="altered"):
        ScoreCombiner.from_dict(doc)
    bad = save_json(tmp_path / "bad.json", "score_combiner", {"config": {}, "coef": [1.0]})
    with pytest.raises(SchemaError, match="malformed"):
        ScoreCombiner.load(bad)


def test_errors() -> None:
    x, y = synthetic(n=100)
    with pytest.raises(NotFittedError):
        ScoreCombiner().predict_proba(x)
    with pytest.raises(LabelError, match="both"):
        ScoreCombiner().fit(x, np.ones(100))
    with pytest.raises(LabelError):
        ScoreCombiner().fit(x, np.full(100, 2))
    xn = x.copy()
    xn[3, 1] = np.nan
    with pytest.raises(NonFiniteError, match="impute"):
        ScoreCombiner().fit(xn, y)
    comb = ScoreCombiner().fit(x, y)
    with pytest.raises(ShapeError, match="3 score column"):
        comb.predict_proba(x[:, :2])
    with pytest.raises(ShapeError):
        ScoreCombiner().fit(x, y[:50])
    with pytest.raises(ShapeError, match="feature_names"):
        ScoreCombiner().fit(x, y, feature_names=["a"])
    with pytest.raises(ValidationError, match="C must be"):
        ScoreCombiner(C=0.0)


def test_pipeline_from_payloads_to_a_calibrated_confidence() -> None:
    """White-box scores + verbalised confidence -> combiner -> calibrator (the intended use)."""
    from confide.calibration import IsotonicCalibration
    from confide.scores.llm._verbalized import verbalized_confidences
    from confide.scores.llm._whitebox import whitebox_scores

    rng = np.random.default_rng(11)
    n = 120
    correct = rng.random(n) < 0.6
    payloads, texts = [], []
    for ok in correct:
        p = rng.uniform(0.7, 0.99) if ok else rng.uniform(0.2, 0.8)
        content = [
            {
                "token": "x",
                "logprob": float(np.log(p)),
                "bytes": None,
                "top_logprobs": [
                    {"token": "x", "logprob": float(np.log(p)), "bytes": None},
                    {"token": "y", "logprob": float(np.log((1 - p) / 2)), "bytes": None},
                ],
            }
        ] * 3
        payloads.append({"choices": [{"logprobs": {"content": content}}]})
        texts.append(f"Confidence: {int(rng.integers(60, 100) if ok else rng.integers(30, 90))}%")
    x = np.column_stack([whitebox_scores(payloads).as_matrix(), verbalized_confidences(texts)])
    comb = ScoreCombiner().fit(x[:80], correct[:80])
    cal = IsotonicCalibration(input="probs").fit(comb.predict_proba(x[:80]), correct[:80])
    out = cal.predict_proba(comb.predict_proba(x[80:]))
    assert out.shape == (40,) and ((out >= 0) & (out <= 1)).all()
    held = comb.predict_proba(x[80:])
    assert held[correct[80:]].mean() > held[~correct[80:]].mean() + 0.2
