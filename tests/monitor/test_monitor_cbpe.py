"""CBPE: exact expectations and variances, realised values against scikit-learn, bands, chunks."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from confide.calibration import IsotonicCalibration, TemperatureScaling
from confide.exceptions import (
    ConfideTypeError,
    LabelError,
    NonFiniteError,
    SchemaError,
    ShapeError,
    ValidationError,
)
from confide.monitor._cbpe import CBPE, estimate_performance
from confide.monitor._cbpe_metrics import METRICS, analytic_std, expected, realised
from confide.monitor._cbpe_run import NotFittedError
from confide.monitor._chunks import Chunk, make_chunks

ALL = METRICS


def _enumerate(p: np.ndarray, yhat: np.ndarray, score: np.ndarray, metric: str):
    """Exact distribution of a realised metric over all 2^n label vectors y ~ Bernoulli(p)."""
    n = p.shape[0]
    labels = np.array(list(itertools.product([0, 1], repeat=n)))
    prob = np.prod(np.where(labels == 1, p, 1 - p), axis=1)
    vals = np.array([realised(lab, yhat, score, (metric,))[metric] for lab in labels])
    return prob, vals, labels


# -- the estimate ------------------------------------------------------------------------------
def test_expected_counts_by_hand():
    p = np.array([0.9, 0.2, 0.6, 0.4])
    est = estimate_performance(p, metrics=ALL[:-1])
    got = {r.metric: r.estimate for r in est.rows}
    # yhat = [1, 0, 1, 0]: E[TP] = 1.5, E[FP] = 0.5, E[FN] = 0.6, E[TN] = 1.4
    assert got["accuracy"] == pytest.approx(2.9 / 4, abs=1e-15)
    assert got["precision"] == pytest.approx(1.5 / 2.0, abs=1e-15)
    assert got["recall"] == pytest.approx(1.5 / 2.1, abs=1e-15)
    assert got["specificity"] == pytest.approx(1.4 / 1.9, abs=1e-15)
    assert got["f1"] == pytest.approx(3.0 / 4.1, abs=1e-15)


def test_accuracy_and_precision_are_exact_expectations_and_variances(rng):
    p = rng.uniform(size=9)
    score = rng.normal(size=9)
    yhat = (rng.uniform(size=9) > 0.4).astype(np.intp)
    for metric in ("accuracy", "precision"):
        prob, vals, _ = _enumerate(p, yhat, score, metric)
        mean = float(np.dot(prob, vals))
        var = float(np.dot(prob, (vals - mean) ** 2))
        assert expected(p, yhat, score, (metric,))[metric] == pytest.approx(mean, rel=1e-12)
        assert analytic_std(p, yhat, score, metric) ** 2 == pytest.approx(var, rel=1e-10)


def test_roc_auc_estimate_is_ratio_of_expected_pair_counts_with_ties(rng):
    """E[U] / E[N1 N0] over all label vectors, ties counted 1/2 (enumerated, n = 8)."""
    p = rng.uniform(0.05, 0.95, size=8)
    score = np.array([0.1, 0.4, 0.4, 0.7, 0.2, 0.7, 0.7, 0.9])  # ties
    labels = np.array(list(itertools.product([0, 1], repeat=8)))
    prob = np.prod(np.where(labels == 1, p, 1 - p), axis=1)
    gt = (score[:, None] > score[None, :]) + 0.5 * (score[:, None] == score[None, :])
    u = np.einsum("bi,bj,ij->b", labels, 1 - labels, gt)
    pairs = labels.sum(1) * (8 - labels.sum(1))
    want = np.dot(prob, u) / np.dot(prob, pairs)
    got = expected(p, (score > 0.5).astype(np.intp), score, ("roc_auc",))["roc_auc"]
    assert got == pytest.approx(want, rel=1e-12)


def test_roc_auc_estimate_matches_weighted_auroc_of_duplicated_samples(rng):
    """NannyML's form (each sample a positive of weight p and a negative of weight 1-p, self
    pairs kept) differs from ours only by the self pairs, which we remove."""
    from confide.metrics import roc_auc

    p = rng.uniform(size=300)
    s = np.round(rng.uniform(size=300), 2)
    dup = roc_auc(np.r_[np.ones(300), np.zeros(300)], np.r_[s, s], sample_weight=np.r_[p, 1 - p])
    pos, neg, self_pairs = p.sum(), (1 - p).sum(), np.dot(p, 1 - p)
    ours = expected(p, (s > 0.5).astype(np.intp), s, ("roc_auc",))["roc_auc"]
    assert ours == pytest.approx(
        (dup * pos * neg - 0.5 * self_pairs) / (pos * neg - self_pairs), rel=1e-12
    )


def test_multiclass_accuracy_is_mean_max_probability(rng):
    logits = rng.normal(size=(500, 4)) * 2
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    est = estimate_performance(p, metrics=("accuracy",))
    assert est.rows[0].estimate == pytest.approx(p.max(1).mean(), rel=1e-14)


def test_estimates_are_unbiased_when_labels_follow_the_probabilities(rng):
    p = rng.beta(2, 2, size=(400, 250))
    diffs = {m: [] for m in ALL}
    for row in p:
        y = (rng.uniform(size=row.size) < row).astype(int)
        for r in estimate_performance(row, y_true=y, metrics=ALL).rows:
            diffs[r.metric].append(r.estimate - r.realised)
    for m, d in diffs.items():
        d = np.asarray(d)
        assert abs(d.mean()) < 4 * d.std() / np.sqrt(d.size), m


# -- realised values against scikit-learn --------------------------------------------------------
def test_realised_binary_metrics_match_sklearn(rng):
    p = np.round(rng.uniform(size=2000), 3)
    y = (rng.uniform(size=2000) < p).astype(int)
    yhat = (p > 0.5).astype(int)
    got = realised(y, yhat, p, ALL)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, yhat), abs=1e-15)
    assert got["precision"] == pytest.approx(skm.precision_score(y, yhat), abs=1e-15)
    assert got["recall"] == pytest.approx(skm.recall_score(y, yhat), abs=1e-15)
    assert got["specificity"] == pytest.approx(skm.recall_score(y, yhat, pos_label=0), abs=1e-15)
    assert got["f1"] == pytest.approx(skm.f1_score(y, yhat), abs=1e-15)
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)


def test_realised_multiclass_metrics_match_sklearn_macro(rng):
    logits = rng.normal(size=(3000, 5))
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = (p.cumsum(1) > rng.uniform(size=(3000, 1))).argmax(1)
    yhat = p.argmax(1)
    got = realised(y, yhat, p, ALL)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, yhat), abs=1e-15)
    for m, f in (("precision", skm.precision_score), ("recall", skm.recall_score)):
        assert got[m] == pytest.approx(f(y, yhat, average="macro"), abs=1e-12)
    assert got["f1"] == pytest.approx(skm.f1_score(y, yhat, average="macro"), abs=1e-12)
    assert got["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, p, multi_class="ovr", average="macro"), abs=1e-12
    )


# -- bands ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("interval", ["analytic", "bootstrap"])
def test_band_covers_the_realised_value_at_the_stated_level(rng, interval):
    hits = {m: 0 for m in ALL}
    reps = 300
    for i in range(reps):
        p = rng.beta(2, 2, size=400)
        y = (rng.uniform(size=400) < p).astype(int)
        est = estimate_performance(
            p, y_true=y, metrics=ALL, interval=interval, n_resamples=300, random_state=i
        )
        for r in est.rows:
            hits[r.metric] += r.covered
    for m, h in hits.items():  # 0.95 +- 3.5 binomial standard errors (0.0126)
        assert abs(h / reps - 0.95) < 0.045, (m, h / reps)


def test_bootstrap_std_agrees_with_analytic(rng):
    p = rng.beta(2, 3, size=3000)
    a = estimate_performance(p, metrics=ALL, interval="analytic")
    b = estimate_performance(p, metrics=ALL, interval="bootstrap", n_resamples=2000)
    for m in ALL:
        assert b.column(m, "std")[0] == pytest.approx(a.column(m, "std")[0], rel=0.08), m


def test_multiclass_bootstrap_fallback_and_exact_accuracy_std(rng):
    logits = rng.normal(size=(800, 3)) * 2
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    est = estimate_performance(p, metrics=ALL, interval="analytic", n_resamples=2000)
    c = p.max(1)
    assert est.column("accuracy", "std")[0] == pytest.approx(np.sqrt(np.dot(c, 1 - c)) / 800)
    boot = estimate_performance(
        p, metrics=("accuracy", "precision"), interval="bootstrap", n_resamples=3000
    )
    for m in ("accuracy", "precision"):
        assert boot.column(m, "std")[0] == pytest.approx(est.column(m, "std")[0], rel=0.08)
    assert np.isfinite(est.column("roc_auc", "lower")).all()


def test_bootstrap_is_seeded():
    p = np.linspace(0.01, 0.99, 500)
    a = estimate_performance(p, metrics=("f1",), interval="bootstrap", random_state=3, chunks=100)
    b = estimate_performance(p, metrics=("f1",), interval="bootstrap", random_state=3, chunks=100)
    assert a.to_dict() == b.to_dict()


# -- the blind spot --------------------------------------------------------------------------------
def test_concept_shift_leaves_the_estimate_unchanged(rng):
    """Same probabilities, labels flipped in the second chunk: the estimate cannot move."""
    p = rng.beta(2, 2, size=4000)
    y = (rng.uniform(size=4000) < p).astype(int)
    y[2000:] = 1 - y[2000:]
    est = estimate_performance(
        np.r_[p[:2000], p[:2000]], y_true=np.r_[y[:2000], 1 - y[:2000]], chunks=2000
    )
    acc = est.column("accuracy")
    real = est.column("accuracy", "realised")
    assert acc[0] == acc[1]
    assert real[0] > 0.65 and real[1] < 0.35
    assert not est.rows[2].covered


# -- calibration ---------------------------------------------------------------------------------
def _overconfident(rng, n):
    z = rng.normal(size=n) * 2
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-z))).astype(int)
    return 1 / (1 + np.exp(-2.5 * z)), y  # scores over-confident by a factor 2.5


def test_calibrator_removes_the_bias_of_miscalibrated_scores(rng):
    p_ref, y_ref = _overconfident(rng, 100_000)
    p_new, y_new = _overconfident(rng, 100_000)
    raw = estimate_performance(p_new, y_true=y_new, metrics=ALL)
    cal = IsotonicCalibration(input="probs").fit(p_ref, y_ref)
    fixed = estimate_performance(p_new, y_true=y_new, metrics=ALL, calibrator=cal)
    assert raw.mean_absolute_error("accuracy") > 0.05
    for m in ALL:
        assert fixed.mean_absolute_error(m) < 0.01, m
    assert fixed.column("roc_auc", "realised")[0] == raw.column("roc_auc", "realised")[0]


def test_cbpe_auto_calibrates_only_when_it_helps(rng):
    p_ref, y_ref = _overconfident(rng, 20000)
    assert CBPE().fit(p_ref, y_ref).calibration_ == "isotonic"
    p = rng.uniform(size=20000)
    y = (rng.uniform(size=20000) < p).astype(int)
    fitted = CBPE().fit(p, y)
    assert fitted.calibration_ == "none"
    check = fitted.calibration_check_
    assert check["ece_raw"] <= check["ece_null_95"]


def test_cbpe_save_load_round_trip(tmp_path, rng):
    p_ref, y_ref = _overconfident(rng, 5000)
    p_new, _ = _overconfident(rng, 3000)
    for calibration in ("isotonic", "temperature", "none"):
        model = CBPE(metrics=("accuracy", "f1"), calibration=calibration).fit(p_ref, y_ref)
        path = model.save(tmp_path / f"{calibration}.json")
        again = CBPE.load(path)
        assert (
            again.estimate(p_new, chunks=1000).to_dict()
            == model.estimate(p_new, chunks=1000).to_dict()
        )
        assert CBPE.from_dict(model.to_dict()).calibration_ == calibration
    bad = IsotonicCalibration(input="probs").fit(p_ref, y_ref).save(tmp_path / "cal.json")
    with pytest.raises(SchemaError, match="not a 'cbpe'"):
        CBPE.load(bad)


def test_result_to_dict_is_json(rng):
    p = rng.uniform(size=50)
    p[:] = 0.2  # no predicted positive: precision undefined (NaN)
    est = estimate_performance(p, metrics=ALL)
    doc = json.loads(json.dumps(est.to_dict(), allow_nan=False))
    assert doc["rows"][1]["metric"] == "precision" and doc["rows"][1]["estimate"] == "nan"
    from confide.monitor._estimate import PerformanceEstimate

    assert PerformanceEstimate.from_dict(doc).to_dict() == est.to_dict()


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_estimate_does_not_depend_on_row_order(seed):
    rng = np.random.default_rng(seed)
    p = np.round(rng.uniform(size=60), 1)  # many ties
    perm = rng.permutation(60)
    a = estimate_performance(p, metrics=ALL)
    b = estimate_performance(p[perm], metrics=ALL)
    np.testing.assert_allclose(
        [r.estimate for r in a.rows], [r.estimate for r in b.rows], rtol=1e-12, atol=1e-14
    )
    np.testing.assert_allclose(
        [r.std for r in a.rows], [r.std for r in b.rows], rtol=1e-9, atol=1e-14
    )


# -- chunks ----------------------------------------------------------------------------------------
def test_chunks_by_size_keys_and_period():
    assert [c.n for c in make_chunks(25, 10)] == [10, 10, 5]
    assert [c.n for c in make_chunks(25, 10, incomplete="drop")] == [10, 10]
    assert [c.n for c in make_chunks(25, 10, incomplete="append")] == [10, 15]
    by_key = make_chunks(6, np.array([2018, 2016, 2018, 2017, 2016, 2016]))
    assert [c.key for c in by_key] == [2016, 2017, 2018]
    assert [c.indices.tolist() for c in by_key] == [[1, 4, 5], [3], [0, 2]]
    ts = np.array(["2024-01-31T23:00", "2024-02-01T01:00", "2024-01-02"], dtype="datetime64[s]")
    monthly = make_chunks(3, ts, period="M")
    assert [c.key for c in monthly] == ["2024-01", "2024-02"]
    assert [c.n for c in make_chunks(3, ["b", "a", "b"])] == [1, 2]


def test_estimate_per_year_chunks_matches_slicing(rng):
    p = rng.uniform(size=300)
    years = np.repeat([2016, 2017, 2018], 100)
    est = estimate_performance(p, chunks=years, metrics=("accuracy",))
    assert est.chunk_keys == [2016, 2017, 2018]
    for j, key in enumerate(est.chunk_keys):
        alone = estimate_performance(p[years == key], metrics=("accuracy",))
        assert est.rows[j].estimate == alone.rows[0].estimate


# -- bad input -------------------------------------------------------------------------------------
def test_bad_input_raises_clear_errors(rng):
    p = rng.uniform(size=100)
    with pytest.raises(NonFiniteError, match="NaN"):
        estimate_performance(np.r_[p[:-1], np.nan])
    with pytest.raises(ShapeError, match="99 entries for 100 samples"):
        estimate_performance(p, chunks=np.zeros(99))
    with pytest.raises(ValidationError, match="empty"):
        estimate_performance(p, chunks=[Chunk(key="x", indices=np.array([], dtype=int))])
    with pytest.raises(ShapeError, match="outside"):
        estimate_performance(p, chunks=[Chunk(key="x", indices=np.array([5, 100]))])
    with pytest.raises(ValidationError, match="incomplete='drop' leaves no chunk"):
        make_chunks(5, 10, incomplete="drop")
    with pytest.raises(ValidationError, match="metric must be one of"):
        estimate_performance(p, metrics=("auc",))
    with pytest.raises(LabelError, match="y_pred"):
        estimate_performance(p, y_pred=np.full(100, 2))
    with pytest.raises(ShapeError, match="same number of samples"):
        estimate_performance(p, y_true=np.zeros(10, int))
    with pytest.raises(ConfideTypeError, match="string"):
        estimate_performance(p, chunks="year")
    z = rng.normal(size=200)
    logit_cal = TemperatureScaling(input="logits").fit(
        z, (z + rng.normal(size=200) > 0).astype(int)
    )
    with pytest.raises(ValidationError, match="input='probs'"):
        estimate_performance(p, calibrator=logit_cal)
    with pytest.raises(NotFittedError, match="call fit"):
        CBPE().estimate(p)
    with pytest.raises(ShapeError, match="fitted on 1-D"):
        CBPE(calibration="none").fit(p, (p > 0.5).astype(int)).estimate(np.full((4, 2), 0.5))
    with pytest.raises(ValidationError, match="confidence_level"):
        estimate_performance(p, confidence_level=1.0)


def test_multiclass_cbpe_auto_calibration_and_estimate(rng):
    """Over-confident 3-class scores: "auto" calibrates, and the estimates land on the truth."""

    def draw(n):
        z = rng.normal(size=(n, 3)) * 1.5
        t = np.exp(z) / np.exp(z).sum(1, keepdims=True)
        y = (t.cumsum(1) > rng.uniform(size=(n, 1))).argmax(1)
        s = np.exp(2 * z) / np.exp(2 * z).sum(1, keepdims=True)
        return s, y

    s_ref, y_ref = draw(30000)
    s_new, y_new = draw(30000)
    model = CBPE(metrics=ALL, n_resamples=100).fit(s_ref, y_ref)
    assert model.calibration_ == "isotonic" and model.n_classes_ == 3 and not model.binary_
    est = model.estimate(s_new, y_true=y_new, chunks=10000)
    raw = estimate_performance(s_new, y_true=y_new, metrics=("accuracy",), chunks=10000)
    assert raw.mean_absolute_error("accuracy") > 0.05
    for m in ALL:
        assert est.mean_absolute_error(m) < 0.015, m
    explicit = [Chunk(key="odd", indices=np.arange(1, 30000, 2))]
    assert model.estimate(s_new, chunks=explicit).chunk_keys == ["odd"]


def test_chunk_key_errors():
    with pytest.raises(ConfideTypeError, match="datetime64"):
        make_chunks(3, np.array([1, 2, 3]), period="M")
    with pytest.raises(ValidationError, match="NaN"):
        make_chunks(2, np.array([1.0, np.nan]))
    with pytest.raises(ValidationError, match="NaT"):
        make_chunks(2, np.array(["2024-01-01", "NaT"], dtype="datetime64[D]"))
