"""confide.integrations.sklearn.CalibratedModel: a scikit-learn classifier with a confide calibrator."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import check_estimator
from threadpoolctl import threadpool_limits

from confide.calibration import TemperatureScaling
from confide.integrations.sklearn import CalibratedModel, CalibrationFallbackWarning
from confide.metrics import log_loss


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # tiny problems: BLAS thread start-up dominates (20x slower on a busy 2-core machine)
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)


def test_temperature_lowers_held_out_nll_of_gaussian_nb(digits):
    X_tr, X_te, y_tr, y_te = digits
    raw = GaussianNB().fit(X_tr, y_tr)
    model = CalibratedModel(GaussianNB(), method="temperature").fit(X_tr, y_tr)
    assert isinstance(model.calibrator_, TemperatureScaling)
    assert model.input_ == "probs"
    nll_raw = log_loss(y_te, raw.predict_proba(X_te), clip=1e-15)
    nll_cal = log_loss(y_te, model.predict_proba(X_te), clip=1e-15)
    assert nll_cal < 0.5 * nll_raw
    p = model.predict_proba(X_te)
    assert p.shape == (len(y_te), 10)
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-12)
    assert model.n_features_in_ == 64
    assert (model.predict(X_te) == y_te).mean() > 0.7


def test_works_in_a_pipeline(digits):
    X_tr, X_te, y_tr, y_te = digits
    pipe = make_pipeline(StandardScaler(), CalibratedModel(LogisticRegression(max_iter=500)))
    pipe.fit(X_tr, y_tr)
    p = pipe.predict_proba(X_te)
    assert p.shape == (len(y_te), 10)
    assert (pipe.predict(X_te) == y_te).mean() > 0.9
    assert log_loss(y_te, p) < 0.3


def test_string_labels_round_trip_and_binary_uses_1d_scores():
    X, y01 = make_classification(n_samples=300, n_features=6, random_state=0)
    labels = np.array(["spam", "ham"])[y01]
    model = CalibratedModel(LogisticRegression(), method="platt", cv=3).fit(X, labels)
    assert model.classes_.tolist() == ["ham", "spam"]
    assert model.calibrator_.binary_  # fitted on the 1-D positive-class score
    pred = model.predict(X)
    assert pred.dtype == labels.dtype and set(pred) <= {"ham", "spam"}
    assert (pred == labels).mean() > 0.8
    p = model.predict_proba(X)
    assert p.shape == (300, 2)
    # column order follows classes_: P("spam") is high where the label is "spam"
    assert p[labels == "spam", 1].mean() > p[labels == "ham", 1].mean()


def test_decision_function_estimators_give_logits():
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=1
    )
    model = CalibratedModel(LinearSVC(), method="temperature", cv=3).fit(X, y)
    assert model.input_ == "logits" and model.calibrator_.input == "logits"
    p = model.predict_proba(X)
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-12)


def test_calibration_failure_warns_or_raises():
    X = np.ones((60, 3))
    y = np.tile([0, 1], 30)  # constant scores carry no information: no temperature optimum
    strict = CalibratedModel(LogisticRegression(), cv=3, on_calibration_error="raise")
    with pytest.raises(ValueError, match="temperature"):
        strict.fit(X, y)
    with pytest.warns(CalibrationFallbackWarning, match="uncalibrated"):
        model = CalibratedModel(LogisticRegression(), cv=3).fit(X, y)
    assert model.calibrator_ is None and "temperature" in model.calibration_error_
    np.testing.assert_allclose(model.predict_proba(X), model.estimator_.predict_proba(X))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "nope"}, r"unknown calibration method 'nope'; known methods are .*temperature"),
        ({"cv": 1}, "cv must be an integer of at least 2"),
        ({"input": "scores"}, "input must be None, 'probs' or 'logits'"),
        ({"on_calibration_error": "ignore"}, "on_calibration_error must be"),
    ],
)
def test_bad_parameters(kwargs, match):
    X, y = make_classification(n_samples=40, random_state=0)
    with pytest.raises(ValueError, match=match):
        CalibratedModel(LogisticRegression(), **kwargs).fit(X, y)


def test_probs_input_needs_predict_proba():
    X, y = make_classification(n_samples=40, random_state=0)
    with pytest.raises(ValueError, match="needs an estimator with predict_proba"):
        CalibratedModel(LinearSVC(), input="probs").fit(X, y)


def test_passes_scikit_learn_estimator_checks():
    with warnings.catch_warnings():
        # degenerate check data (random or separable labels) makes the calibrator fall back
        warnings.simplefilter("ignore", CalibrationFallbackWarning)
        check_estimator(
            CalibratedModel(LogisticRegression(), method="temperature", cv=3),
            expected_failed_checks={},
        )
