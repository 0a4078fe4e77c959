"""Conformal classification against MAPIE 1.6 and crepes 0.9 on scikit-learn's digits.

A logistic regression is trained once on 80 digits; its probabilities on the other 1717 are
resampled into 100 calibration / test splits of 500 + 500. Where the definitions coincide the
sets are asserted identical split by split (same quantile); elsewhere coverage is asserted
within 0.015 of 0.9 and confide's mean set size no larger than the reference's.

Differences pinned here:

* crepes includes a class when its p-value ``(#{s_i >= s} + 1) / (n + 1) >= 1 - level``; confide
  when ``s <= q``. These agree exactly unless ``(n + 1)(1 - level)`` is an integer, where crepes
  includes one more calibration rank (a superset of confide's sets, more conservative).
* MAPIE's ``"aps"`` always randomises its calibration scores; ``include_last_label=True`` (its
  default) then adds the class that crosses the threshold deterministically, over-covering.
  Like with like is confide ``randomized=True`` against MAPIE ``include_last_label="randomized"``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from confide.decision._conformal_classification import ConformalClassifier, evaluate_sets

sklearn = pytest.importorskip("sklearn")
mapie_classification = pytest.importorskip("mapie.classification")
crepes = pytest.importorskip("crepes")
crepes_extras = pytest.importorskip("crepes.extras")

from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

LEVEL = 0.9
N_CAL = N_TEST = 500
CLASSES = np.arange(10)


class _Probabilities(ClassifierMixin, BaseEstimator):
    """A 'fitted model' whose input is already its probabilities (MAPIE needs an estimator)."""

    def fit(self, X, y=None):
        self.classes_ = CLASSES
        self.n_features_in_ = len(CLASSES)
        return self

    def predict_proba(self, X):
        return np.asarray(X, dtype=np.float64)

    def predict(self, X):
        return np.asarray(X).argmax(1)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X_tr, X_rest, y_tr, y_rest = train_test_split(
        X / 16.0, y, train_size=80, random_state=0, stratify=y
    )
    model = LogisticRegression(max_iter=2000).fit(X_tr, y_tr)
    probs = model.predict_proba(X_rest)
    assert 0.85 < (probs.argmax(1) == y_rest).mean() < 0.92  # sets of more than one class
    return probs, y_rest


def _splits(n_pool, reps=100, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(reps):
        idx = rng.permutation(n_pool)
        yield idx[:N_CAL], idx[N_CAL : N_CAL + N_TEST]


def _mapie(p_cal, y_cal, p_test, score, include_last_label=True, seed=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MAPIE warns about its defaults
        model = mapie_classification.SplitConformalClassifier(
            _Probabilities().fit(p_cal),
            confidence_level=LEVEL,
            conformity_score=score,
            prefit=True,
            random_state=seed,
        ).conformalize(p_cal, y_cal)
        _, sets = model.predict_set(
            p_test, conformity_score_params={"include_last_label": include_last_label}
        )
    return sets[:, :, 0], model._mapie_classifier.conformity_score_function_.quantiles_[0]


def _crepes(p_cal, y_cal, p_test, nc, class_cond=False):
    cc = crepes.ConformalClassifier()
    if not class_cond:
        cc.fit(nc(p_cal, CLASSES, y_cal))
        return cc.predict_set(nc(p_test), confidence=LEVEL, smoothing=False).astype(bool)
    # crepes' WrapClassifier(class_cond=True): calibration scores binned by their label, and
    # the p-value of class c computed in bin c
    cc.fit(nc(p_cal, CLASSES, y_cal), bins=y_cal)
    alphas = nc(p_test)
    return np.column_stack(
        [
            cc.predict_set(
                alphas[:, c : c + 1],
                bins=np.full(len(p_test), c),
                confidence=LEVEL,
                smoothing=False,
            )[:, 0]
            for c in CLASSES
        ]
    ).astype(bool)


def _ours(p_cal, y_cal, p_test, score, **kw):
    clf = ConformalClassifier(score, confidence_level=LEVEL, **kw).fit(p_cal, y_cal)
    return clf.predict_sets(p_test), clf


# -- identical by construction on a fixed split ------------------------------------------
def test_lac_and_top_k_equal_mapie_on_a_fixed_split(digits):
    probs, y = digits
    cal, test = next(_splits(len(y)))
    for score in ("lac", "top_k"):
        theirs, q_theirs = _mapie(probs[cal], y[cal], probs[test], score)
        ours, clf = _ours(probs[cal], y[cal], probs[test], score)
        # MAPIE's top-k quantile is a 0-based position; confide's a 1-based rank
        assert clf.quantile_ == (q_theirs + 1 if score == "top_k" else q_theirs)
        np.testing.assert_array_equal(ours, theirs)


def test_hinge_margin_and_class_conditional_equal_crepes_on_a_fixed_split(digits):
    probs, y = digits
    cal, test = next(_splits(len(y)))
    hinge, margin = crepes_extras.hinge, crepes_extras.margin
    np.testing.assert_array_equal(
        _ours(probs[cal], y[cal], probs[test], "lac")[0],
        _crepes(probs[cal], y[cal], probs[test], hinge),
    )
    np.testing.assert_array_equal(
        _ours(probs[cal], y[cal], probs[test], "margin")[0],
        _crepes(probs[cal], y[cal], probs[test], margin),
    )
    ours, clf = _ours(probs[cal], y[cal], probs[test], "lac", mondrian=True)
    theirs = _crepes(probs[cal], y[cal], probs[test], hinge, class_cond=True)
    integral = (clf.class_counts_ + 1) % 10 == 0  # (n_c + 1) * 0.1 is an integer
    assert not (ours & ~theirs).any()  # never larger than crepes'
    np.testing.assert_array_equal(ours[:, ~integral], theirs[:, ~integral])


def test_crepes_adds_a_rank_when_n_plus_one_times_alpha_is_an_integer(digits):
    probs, y = digits
    cal, test = next(_splits(len(y)))
    cal = cal[:499]  # (499 + 1) * 0.1 = 50
    ours, clf = _ours(probs[cal], y[cal], probs[test], "lac")
    theirs = _crepes(probs[cal], y[cal], probs[test], crepes_extras.hinge)
    assert not (ours & ~theirs).any()
    assert (theirs & ~ours).any()
    s = np.sort(1 - probs[cal, y[cal]])
    assert clf.quantile_ == s[449]  # ceil(500 * 0.9) = 450th smallest
    np.testing.assert_array_equal(theirs, (1 - probs[test]) <= s[450])  # crepes: the 451st


# -- 100 splits -----------------------------------------------------------------------------
@pytest.mark.slow
def test_against_mapie_over_100_splits(digits):
    probs, y = digits
    runs: dict[str, list[tuple[float, float]]] = {}

    def add(name, sets, y_test):
        ev = evaluate_sets(y_test, sets)
        runs.setdefault(name, []).append((ev.coverage, ev.mean_size))

    for r, (cal, test) in enumerate(_splits(len(y))):
        pc, yc, pt, yt = probs[cal], y[cal], probs[test], y[test]
        for score in ("lac", "top_k"):
            ours = _ours(pc, yc, pt, score)[0]
            theirs = _mapie(pc, yc, pt, score)[0]
            np.testing.assert_array_equal(ours, theirs)  # identical on every split
            add(score, ours, yt)
        add("aps rand", _ours(pc, yc, pt, "aps", randomized=True, seed=r)[0], yt)
        add("mapie aps rand", _mapie(pc, yc, pt, "aps", "randomized", seed=r)[0], yt)
        add("aps", _ours(pc, yc, pt, "aps")[0], yt)
        add("mapie aps", _mapie(pc, yc, pt, "aps", True, seed=r)[0], yt)
        add("raps rand", _ours(pc, yc, pt, "raps", randomized=True, seed=r)[0], yt)
    cov = {k: float(np.mean([c for c, _ in v])) for k, v in runs.items()}
    size = {k: float(np.mean([s for _, s in v])) for k, v in runs.items()}
    for name in ("lac", "aps rand", "aps", "raps rand"):
        assert abs(cov[name] - LEVEL) < 0.015, (name, cov[name])
    # randomised APS against randomised APS: same coverage, no larger sets (up to the draws)
    assert abs(cov["mapie aps rand"] - LEVEL) < 0.015
    assert size["aps rand"] <= size["mapie aps rand"] + 0.02
    # MAPIE's default APS (include_last_label=True) over-covers: it is not like with like
    assert cov["mapie aps"] > 0.95 and cov["aps"] < 0.915
    assert cov["top_k"] >= LEVEL  # top-k is discrete: it over-covers on this model


@pytest.mark.slow
def test_against_crepes_over_100_splits(digits):
    probs, y = digits
    hinge, margin = crepes_extras.hinge, crepes_extras.margin
    ours_cc, theirs_cc = [], []
    for cal, test in _splits(len(y)):
        pc, yc, pt, yt = probs[cal], y[cal], probs[test], y[test]
        # (500 + 1) * 0.1 is not an integer: crepes' p-value rule and the quantile coincide
        np.testing.assert_array_equal(_ours(pc, yc, pt, "lac")[0], _crepes(pc, yc, pt, hinge))
        np.testing.assert_array_equal(_ours(pc, yc, pt, "margin")[0], _crepes(pc, yc, pt, margin))
        ours = _ours(pc, yc, pt, "lac", mondrian=True)[0]
        theirs = _crepes(pc, yc, pt, hinge, class_cond=True)
        assert not (ours & ~theirs).any()
        ours_cc.append(evaluate_sets(yt, ours))
        theirs_cc.append(evaluate_sets(yt, theirs))
    cov = np.mean([e.coverage for e in ours_cc])
    assert abs(cov - LEVEL) < 0.015
    per_class = np.nanmean([e.per_class_coverage for e in ours_cc], axis=0)
    assert per_class.min() > LEVEL - 0.015  # class-conditional coverage, class by class
    assert np.mean([e.mean_size for e in ours_cc]) <= np.mean([e.mean_size for e in theirs_cc])
