"""select_calibrator: cross-validated choice of a calibration method."""

from __future__ import annotations

import numpy as np
import pytest

from confide.calibration import registered_methods
from confide.calibration._select import (
    CalibratorSelection,
    CandidateScore,
    select_calibrator,
    stratified_folds,
)
from confide.exceptions import ValidationError
from confide.metrics import log_loss

METRICS = ("nll", "ece", "brier")


def overconfident(rng: np.random.Generator, n: int, k: int = 4, sharpen: float = 3.0):
    """Logits whose true temperature is ``sharpen``: labels follow softmax(z / sharpen)."""
    z = rng.normal(size=(n, k)) * 2.0
    q = np.exp(z / sharpen - (z / sharpen).max(1, keepdims=True))
    q /= q.sum(1, keepdims=True)
    y = (q.cumsum(1) > rng.random((n, 1))).argmax(1)
    return z, y


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    z, y = overconfident(rng, 1600)
    return z[:800], y[:800], z[800:], y[800:]


@pytest.fixture(scope="module")
def selection(data) -> CalibratorSelection:
    z, y, _, _ = data
    return select_calibrator(z, y, methods=["temperature", "vector", "histogram"], seed=3)


def test_picks_a_scaling_method_over_none_and_it_helps_held_out(data, selection):
    _, _, z_test, y_test = data
    assert selection.method in {"temperature", "vector"}
    rows = {r.method: r for r in selection.table}
    assert rows[selection.method].nll < rows["none"].nll - 0.05
    # the refitted calibrator lowers NLL on data it never saw
    raw = log_loss(y_test, softmax(z_test))
    calibrated = log_loss(y_test, selection.best.predict_proba(z_test))
    assert calibrated < raw - 0.05
    assert selection.best.method == selection.method
    assert selection.criterion == "nll"


def test_table_has_a_row_per_method_with_ordered_intervals(selection):
    assert [r.method for r in selection.table] == ["none", "temperature", "vector", "histogram"]
    for row in selection.table:
        assert isinstance(row, CandidateScore)
        assert row.error is None
        for m in METRICS:
            low, value, high = getattr(row, f"{m}_low"), getattr(row, m), getattr(row, f"{m}_high")
            assert np.isfinite(value)
            assert low <= value <= high
            assert high > low  # a real interval, not a point


def test_render_and_to_dict(selection):
    text = selection.render()
    assert "* " + selection.method in text
    for row in selection.table:
        assert row.method in text
    d = selection.to_dict()
    assert d["method"] == selection.method and d["criterion"] == "nll"
    assert [r["method"] for r in d["table"]] == [r.method for r in selection.table]
    assert set(d["table"][0]) >= {"nll", "nll_low", "nll_high", "error"}


def test_default_methods_are_all_that_apply():
    rng = np.random.default_rng(1)
    z, y = overconfident(rng, 300, k=3)
    sel = select_calibrator(z, y, cv=3)
    assert [r.method for r in sel.table] == ["none", *registered_methods()]


def test_binary_one_dimensional_scores_by_ece():
    rng = np.random.default_rng(2)
    x = rng.normal(size=600) * 4.0
    y = (rng.random(600) < 1 / (1 + np.exp(-x / 4.0))).astype(int)
    sel = select_calibrator(x, y, methods=["platt", "temperature"], criterion="ece", cv=4)
    rows = {r.method: r for r in sel.table}
    assert sel.method in rows and sel.method != "none"
    assert rows[sel.method].ece == min(r.ece for r in sel.table[1:])
    assert rows[sel.method].ece < rows["none"].ece
    assert sel.best.predict_proba(x[:5]).shape == (5,)


def test_probs_input_and_sample_weight():
    rng = np.random.default_rng(4)
    z, y = overconfident(rng, 400, k=3)
    w = rng.uniform(0.5, 2.0, size=400)
    sel = select_calibrator(softmax(z), y, input="probs", methods=["temperature"], sample_weight=w)
    assert sel.method == "temperature" and sel.best.input == "probs"
    unweighted = select_calibrator(softmax(z), y, input="probs", methods=["temperature"])
    assert sel.table[1].nll != unweighted.table[1].nll


def test_failing_method_shows_its_error_and_is_never_chosen():
    # perfectly separated scores: temperature scaling has no optimum (T -> 0)
    y = np.tile([0, 1], 20)
    x = np.where(y == 1, 5.0, -5.0) + np.linspace(-0.1, 0.1, 40)
    sel = select_calibrator(x, y, methods=["temperature", "histogram"], cv=4)
    rows = {r.method: r for r in sel.table}
    assert rows["temperature"].error is not None
    assert "temperature" in rows["temperature"].error.lower()
    assert rows["temperature"].nll is None and rows["temperature"].ece_low is None
    assert sel.method == "histogram"
    assert "failed:" in sel.render()


def test_all_methods_failing_raises():
    y = np.tile([0, 1], 20)
    x = np.where(y == 1, 5.0, -5.0)
    with pytest.raises(ValidationError, match="no calibration method could be fitted"):
        select_calibrator(x, y, methods=["temperature"], cv=4)


def test_deterministic_for_a_seed(data):
    z, y, _, _ = data
    a = select_calibrator(z[:300], y[:300], methods=["temperature", "isotonic"], seed=11)
    b = select_calibrator(z[:300], y[:300], methods=["temperature", "isotonic"], seed=11)
    c = select_calibrator(z[:300], y[:300], methods=["temperature", "isotonic"], seed=12)
    assert a.table == b.table and a.method == b.method
    assert a.table != c.table


def test_stratified_folds_balance_every_class():
    y = np.repeat([0, 1, 2], [10, 23, 7])
    folds = stratified_folds(y, 5, seed=0)
    for c in range(3):
        counts = np.bincount(folds[y == c], minlength=5)
        assert counts.max() - counts.min() <= 1
    sizes = np.bincount(folds, minlength=5)
    assert sizes.max() - sizes.min() <= 1
    assert not np.array_equal(folds, stratified_folds(y, 5, seed=1))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cv": 1}, "cv must be at least 2"),
        ({"cv": 9}, r"at least 9 samples of every class; class 1 has only 8"),
        (
            {"methods": ["temperature", "nope"]},
            r"unknown calibration method\(s\) \['nope'\].*temperature",
        ),
        ({"methods": []}, "methods is empty"),
        ({"criterion": "auroc"}, "criterion must be one of 'nll', 'ece', 'brier'"),
        ({"confidence_level": 1.5}, "confidence_level must lie strictly between"),
    ],
)
def test_bad_arguments(kwargs, match):
    y = np.array([0] * 12 + [1] * 8)
    x = np.linspace(-2, 2, 20)
    with pytest.raises(ValidationError, match=match):
        select_calibrator(x, y, **kwargs)
