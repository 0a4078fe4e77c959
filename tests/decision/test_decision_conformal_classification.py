"""Split conformal classification: exact quantiles and scores, coverage, nesting, bad input, JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from confide._serialization import to_document
from confide.decision._conformal_classification import (
    ConformalClassifier,
    SetEvaluation,
    evaluate_sets,
)
from confide.decision._conformal_regression import SplitConformalRegressor
from confide.decision._conformal_scores import (
    NotFittedError,
    aps_scores,
    class_ranks,
    conformal_quantile,
    conformal_rank,
    lac_scores,
    margin_scores,
    min_calibration_size,
    raps_scores,
    top_k_scores,
)
from confide.exceptions import (
    ConfideTypeError,
    LabelError,
    ProbabilityError,
    SchemaError,
    ShapeError,
    ValidationError,
)


def _synthetic(rng, n, k=4, sharp=2.0):
    """Exchangeable (probs, y): the model is over-confident relative to the label distribution."""
    z = rng.normal(size=(n, k)) * sharp
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    q = np.exp(z / 2 - (z / 2).max(1, keepdims=True))
    q /= q.sum(1, keepdims=True)
    y = (q.cumsum(1) > rng.random((n, 1))).argmax(1)
    return p, y


def _calibration_with_true_probs(p_true, k=3):
    """Rows whose true class (0) has the given probability; the rest split evenly."""
    p_true = np.asarray(p_true, dtype=float)
    rest = (1 - p_true) / (k - 1)
    probs = np.column_stack([p_true] + [rest] * (k - 1))
    return probs, np.zeros(len(p_true), dtype=int)


# -- the quantile, by hand ------------------------------------------------------------------
def test_rank_and_minimum_sizes_by_hand():
    assert conformal_rank(9, 0.9) == 9  # ceil(10 * 0.9): the largest of 9
    assert conformal_rank(10, 0.9) == 10  # ceil(9.9)
    assert conformal_rank(19, 0.9) == 18  # ceil(18.0): no binary rounding adds a rank
    assert conformal_rank(99, 0.9) == 90
    assert conformal_rank(19, 0.95) == 19
    assert conformal_rank(4, 0.5) == 3
    assert [min_calibration_size(v) for v in (0.5, 0.8, 0.9, 0.95, 0.99)] == [1, 4, 9, 19, 99]


def test_quantile_is_the_ceil_n_plus_1_level_th_smallest():
    scores = np.array([0.7, 0.1, 0.5, 0.3, 0.9, 0.2, 0.8, 0.4, 0.6])  # n = 9
    assert conformal_quantile(scores, 0.9) == 0.9  # 9th smallest = the maximum
    assert conformal_quantile(scores, 0.8) == 0.8  # ceil(8.0) = 8th
    assert conformal_quantile(scores, 0.5) == 0.5  # ceil(5.0) = 5th
    twenty = np.arange(1.0, 20.0)  # n = 19
    assert conformal_quantile(twenty, 0.9) == 18.0


def test_lac_sets_by_hand_with_nine_calibration_samples():
    # true-class probabilities 0.9 ... 0.3: LAC scores 0.1 ... 0.7; q is the 9th smallest = 1 - 0.3
    probs, y = _calibration_with_true_probs([0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3])
    clf = ConformalClassifier("lac", confidence_level=0.9).fit(probs, y)
    assert clf.quantile_ == 1 - 0.3
    np.testing.assert_array_equal(clf.quantiles_, [1 - 0.3] * 3)
    assert (clf.n_calibration_, clf.n_classes_) == (9, 3)
    np.testing.assert_array_equal(clf.class_counts_, [9, 0, 0])
    test = np.array([[0.8, 0.15, 0.05], [0.35, 0.35, 0.30], [0.5, 0.29, 0.21], [0.1, 0.2, 0.7]])
    expected = np.array(
        [[1, 0, 0], [1, 1, 1], [1, 0, 0], [0, 0, 1]], dtype=bool
    )  # p >= 0.3 is in the set (0.30 exactly too); 0.29 is not
    np.testing.assert_array_equal(clf.predict_sets(test), expected)
    # one sample fewer: the 9th smallest of 8 does not exist
    with pytest.raises(ValidationError, match="at least 9 samples") as err:
        ConformalClassifier("lac", confidence_level=0.9).fit(probs[:8], y[:8])
    assert "Add 1 more" in str(err.value) and "8 sample(s)" in str(err.value)


def test_nineteen_samples_at_090_take_the_eighteenth_smallest():
    p_true = np.linspace(0.95, 0.05, 19)
    probs, y = _calibration_with_true_probs(p_true)
    clf = ConformalClassifier("lac", confidence_level=0.9).fit(probs, y)
    assert clf.quantile_ == np.sort(1 - p_true)[17]


# -- score functions, by hand ---------------------------------------------------------------
def test_score_functions_by_hand_with_a_tie():
    p = np.array([[0.2, 0.5, 0.3], [0.4, 0.4, 0.2]])
    np.testing.assert_allclose(lac_scores(p), [[0.8, 0.5, 0.7], [0.6, 0.6, 0.8]])
    # ties go to the lowest index: class 0 ranks before class 1 in the second row
    np.testing.assert_array_equal(class_ranks(p), [[3, 1, 2], [1, 2, 3]])
    np.testing.assert_array_equal(top_k_scores(p), [[3.0, 1.0, 2.0], [1.0, 2.0, 3.0]])
    np.testing.assert_allclose(aps_scores(p), [[1.0, 0.5, 0.8], [0.4, 0.8, 1.0]])
    u = np.array([0.5, 0.5])
    np.testing.assert_allclose(aps_scores(p, u), [[0.9, 0.25, 0.65], [0.2, 0.6, 0.9]])
    np.testing.assert_allclose(
        raps_scores(p, k_reg=1, lambda_reg=0.1), [[1.2, 0.5, 0.9], [0.4, 0.9, 1.2]]
    )
    np.testing.assert_allclose(
        raps_scores(p, k_reg=0, lambda_reg=0.1, u=u), [[1.2, 0.35, 0.85], [0.3, 0.8, 1.2]]
    )
    # margin: best other class minus own; a class tied with the top has margin 0
    np.testing.assert_allclose(margin_scores(p), [[0.3, -0.2, 0.2], [0.0, 0.0, 0.2]])


def test_top_k_sets_are_the_q_most_probable_classes():
    rng = np.random.default_rng(0)
    p, y = _synthetic(rng, 400, k=6)
    clf = ConformalClassifier("top_k", confidence_level=0.9).fit(p, y)
    ranks = class_ranks(p)[np.arange(400), y]
    q = int(np.sort(ranks)[conformal_rank(400, 0.9) - 1])
    assert clf.quantile_ == q
    sets = clf.predict_sets(p)
    assert (sets.sum(1) == q).all()
    np.testing.assert_array_equal(sets, class_ranks(p) <= q)


def test_aps_ties_are_broken_towards_the_lowest_index():
    probs = np.array([[0.25, 0.25, 0.25, 0.25]] * 9)
    y = np.array([0, 1, 2, 3, 0, 1, 2, 3, 0])
    clf = ConformalClassifier("aps", confidence_level=0.5).fit(probs, y)
    # scores 0.25 * (label + 1); 5th smallest of [.25,.5,.75,1,.25,.5,.75,1,.25] is 0.5
    assert clf.quantile_ == 0.5
    np.testing.assert_array_equal(clf.predict_sets(probs[:1]), [[True, True, False, False]])


# -- Mondrian -------------------------------------------------------------------------------
def test_mondrian_has_one_quantile_per_class():
    rng = np.random.default_rng(1)
    p, y = _synthetic(rng, 3000, k=4)
    clf = ConformalClassifier("lac", mondrian=True).fit(p, y)
    assert clf.quantile_ is None
    for c in range(4):
        s = 1 - p[y == c, c]
        assert clf.quantiles_[c] == np.sort(s)[conformal_rank(len(s), 0.9) - 1]
    sets = clf.predict_sets(p)
    np.testing.assert_array_equal(sets, (1 - p) <= clf.quantiles_)


def test_mondrian_gives_class_conditional_coverage_where_marginal_does_not():
    rng = np.random.default_rng(2)
    p, y = _synthetic(rng, 40000, k=4)
    # a model that is sharp on class 0 and vague on class 3: marginal LAC under-covers class 3
    p = p.copy()
    p[:, 3] *= 0.3
    p /= p.sum(1, keepdims=True)
    cal, test = slice(0, 20000), slice(20000, None)
    marginal = ConformalClassifier("lac").fit(p[cal], y[cal]).evaluate(p[test], y[test])
    mondrian = (
        ConformalClassifier("lac", mondrian=True).fit(p[cal], y[cal]).evaluate(p[test], y[test])
    )
    assert marginal.per_class_coverage.min() < 0.85
    assert np.all(np.abs(mondrian.per_class_coverage - 0.9) < 0.02)


def test_mondrian_says_which_class_lacks_how_many():
    probs, _ = _calibration_with_true_probs(np.full(30, 0.6))
    y = np.array([0] * 25 + [1] * 5)
    with pytest.raises(ValidationError, match=r"class 1 has 5 \(needs 4 more\)") as err:
        ConformalClassifier("lac", mondrian=True).fit(probs, y)
    assert "class 2 has 0 (needs 9 more)" in str(err.value)
    assert "at least 9" in str(err.value)


# -- coverage and nesting (hypothesis) ------------------------------------------------------
SCORES = [("lac", False), ("aps", False), ("aps", True), ("raps", True), ("margin", False)]


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_cal=st.integers(100, 300),
    k=st.integers(2, 8),
    level=st.sampled_from([0.7, 0.8, 0.9, 0.95]),
    which=st.sampled_from(SCORES),
)
def test_coverage_over_many_exchangeable_draws(seed, n_cal, k, level, which):
    score, randomized = which
    rng = np.random.default_rng(seed)
    reps, n_test = 200, 400
    p, y = _synthetic(rng, reps * (n_cal + n_test), k=k)
    covered = []
    for r in range(reps):
        base = r * (n_cal + n_test)
        cal = slice(base, base + n_cal)
        test = slice(base + n_cal, base + n_cal + n_test)
        clf = ConformalClassifier(score, confidence_level=level, randomized=randomized, seed=r)
        sets = clf.fit(p[cal], y[cal]).predict_sets(p[test])
        covered.append(sets[np.arange(n_test), y[test]].mean())
    mean = float(np.mean(covered))
    # E[coverage] lies in [level, level + 1/(n+1)] (the upper end for scores without ties; the
    # deterministic APS score of the last-ranked class is always 1); the sd of this mean over
    # 200 calibration sets x 400 test points is below 0.0035
    assert mean >= level - 0.02
    if (score, randomized) != ("aps", False):
        assert mean <= level + 1 / (n_cal + 1) + 0.02


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(20, 300),
    k=st.integers(2, 10),
    levels=st.tuples(st.floats(0.5, 0.95), st.floats(0.5, 0.95)),
    which=st.sampled_from([*SCORES, ("top_k", False), ("raps", False)]),
    mondrian=st.booleans(),
)
def test_sets_are_nested_in_the_confidence_level(seed, n, k, levels, which, mondrian):
    score, randomized = which
    low, high = sorted(levels)
    rng = np.random.default_rng(seed)
    p, y = _synthetic(rng, n, k=k)
    test, _ = _synthetic(rng, 200, k=k)
    need = min_calibration_size(high)
    counts = np.bincount(y, minlength=k)
    assume((counts.min() if mondrian else n) >= need)
    make = lambda lvl: ConformalClassifier(  # noqa: E731
        score, confidence_level=lvl, randomized=randomized, mondrian=mondrian, seed=seed
    ).fit(p, y)
    small, large = make(low).predict_sets(test), make(high).predict_sets(test)
    assert not (small & ~large).any()


# -- evaluate_sets ------------------------------------------------------------------------
def test_evaluate_sets_by_hand():
    sets = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 0], [0, 1, 1], [1, 1, 1]], dtype=bool)
    y = np.array([0, 2, 1, 1, 0])
    ev = evaluate_sets(y, sets)
    assert isinstance(ev, SetEvaluation)
    assert ev.coverage == pytest.approx(3 / 5)
    assert ev.mean_size == pytest.approx(8 / 5)
    assert (ev.singleton_rate, ev.empty_rate, ev.n_samples) == (0.2, 0.2, 5)
    np.testing.assert_array_equal(ev.size_histogram, [1, 1, 2, 1])
    np.testing.assert_allclose(ev.per_class_coverage, [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(ev.per_class_count, [2, 2, 1])
    d = json.loads(json.dumps(ev.to_dict()))
    assert d["size_histogram"] == [1, 1, 2, 1] and d["coverage"] == pytest.approx(0.6)
    # a class with no sample has NaN coverage, written "nan"
    ev4 = evaluate_sets(y, np.column_stack([sets, np.zeros(5, bool)]))
    assert np.isnan(ev4.per_class_coverage[3]) and ev4.to_dict()["per_class_coverage"][3] == "nan"
    with pytest.raises(ValueError, match="read-only"):
        ev.size_histogram[0] = 7


def test_evaluate_sets_rejects_bad_input():
    with pytest.raises(ShapeError):
        evaluate_sets([0, 1], np.ones(2, dtype=bool))
    with pytest.raises(ValidationError, match="boolean"):
        evaluate_sets([0, 1], np.array([[0.5, 1.0], [1.0, 0.0]]))
    with pytest.raises(LabelError):
        evaluate_sets([0, 3], np.ones((2, 2), dtype=bool))
    with pytest.raises(ShapeError):
        evaluate_sets([0, 1, 1], np.ones((2, 2), dtype=bool))


# -- bad input ------------------------------------------------------------------------------
def test_bad_input_raises_clear_errors():
    rng = np.random.default_rng(3)
    p, y = _synthetic(rng, 100, k=3)
    with pytest.raises(ProbabilityError, match="sum to 1"):
        ConformalClassifier().fit(p * 0.9, y)
    with pytest.raises(ProbabilityError, match=r"\[0, 1\]"):
        ConformalClassifier().fit(p - 0.5, y)
    with pytest.raises(LabelError, match=r"\[3\] outside the 3 classes"):
        ConformalClassifier().fit(p, np.where(y == 0, 3, y))
    with pytest.raises(ShapeError, match="same number of samples"):
        ConformalClassifier().fit(p, y[:-1])
    with pytest.raises(ShapeError, match="2-D"):
        ConformalClassifier().fit(p[:, 0], y)
    for level in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ValidationError, match="confidence_level"):
            ConformalClassifier(confidence_level=level)
    with pytest.raises(ConfideTypeError):
        ConformalClassifier(confidence_level="0.9")
    with pytest.raises(ValidationError, match="'lac', 'aps'"):
        ConformalClassifier("softmax")
    with pytest.raises(ValidationError, match="randomized=True applies"):
        ConformalClassifier("lac", randomized=True)
    with pytest.raises(ValidationError, match="lambda_reg"):
        ConformalClassifier("raps", lambda_reg=-1)
    with pytest.raises(ValidationError, match="at least 99 samples"):
        ConformalClassifier(confidence_level=0.99).fit(p[:50], y[:50])
    clf = ConformalClassifier()
    with pytest.raises(NotFittedError, match="not fitted"):
        clf.predict_sets(p)
    with pytest.raises(NotFittedError):
        clf.to_dict()
    clf.fit(p, y)
    with pytest.raises(ShapeError, match=r"fitted on 3 classes.*4 columns"):
        clf.predict_sets(np.full((2, 4), 0.25))
    assert issubclass(NotFittedError, ValueError)


# -- storage --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("score", "randomized", "mondrian"),
    [("lac", False, False), ("aps", True, True), ("raps", True, False), ("top_k", False, True)],
)
def test_save_and_load_round_trip(tmp_path, score, randomized, mondrian):
    rng = np.random.default_rng(4)
    p, y = _synthetic(rng, 2000, k=5)
    clf = ConformalClassifier(
        score, randomized=randomized, mondrian=mondrian, k_reg=2, lambda_reg=0.05, seed=11
    ).fit(p[:1000], y[:1000])
    path = clf.save(tmp_path / "cc.json")
    doc = json.loads(path.read_text())
    assert doc["kind"] == "conformal_classifier"
    back = ConformalClassifier.load(path)
    twin = ConformalClassifier.from_dict(clf.to_dict())
    assert repr(back) == repr(clf)
    np.testing.assert_array_equal(back.quantiles_, clf.quantiles_)
    assert back.quantile_ == clf.quantile_
    np.testing.assert_array_equal(back.class_counts_, clf.class_counts_)
    # the generator state travels too: a loaded randomised classifier draws the same U
    expected = clf.predict_sets(p[1000:])
    np.testing.assert_array_equal(back.predict_sets(p[1000:]), expected)
    np.testing.assert_array_equal(twin.predict_sets(p[1000:]), expected)


def test_loading_another_kind_or_an_altered_file_fails(tmp_path):
    rng = np.random.default_rng(5)
    p, y = _synthetic(rng, 100, k=3)
    other = SplitConformalRegressor().fit(np.zeros(20), np.arange(20.0)).save(tmp_path / "r.json")
    with pytest.raises(
        SchemaError, match="'split_conformal_regressor', not a 'conformal_classifier'"
    ):
        ConformalClassifier.load(other)
    path = ConformalClassifier().fit(p, y).save(tmp_path / "c.json")
    doc = json.loads(path.read_text())
    doc["payload"]["quantiles"][0] = 0.0
    with pytest.raises(SchemaError, match="altered"):
        ConformalClassifier.from_dict(doc)
    bad = ConformalClassifier().fit(p, y).to_dict()
    bad["payload"]["quantiles"] = [0.1]
    with pytest.raises(SchemaError, match="malformed"):
        ConformalClassifier.from_dict(to_document("conformal_classifier", bad["payload"]))
