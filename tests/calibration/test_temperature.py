"""Temperature scaling: the exact NLL optimum, and the protocol every calibrator shares."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from tests.conftest import shared_data

from confide import metrics
from confide.calibration import NotFittedError, TemperatureScaling, load
from confide.exceptions import LabelError, NonFiniteError, SchemaError, ShapeError, ValidationError


def _overconfident_logits(rng, n=3000, k=5, scale=3.0):
    z = rng.normal(size=(n, k)) * 2.0
    p_true = np.exp(log_softmax(z, axis=1))
    y = (p_true.cumsum(1) > rng.random((n, 1))).argmax(1)
    return z * scale, y  # the model's logits are `scale` times too sharp


def _nll(beta, z, y):
    return -np.mean(log_softmax(beta * z, axis=1)[np.arange(len(y)), y])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_temperature_is_the_exact_optimum(rng, dtype):
    z, y = _overconfident_logits(rng)
    ts = TemperatureScaling().fit(z.astype(dtype), y)
    assert ts.temperature_ == pytest.approx(3.0, rel=0.1)
    ref = minimize_scalar(
        _nll,
        bounds=(1e-3, 10),
        args=(z.astype(dtype).astype(np.float64), y),
        method="bounded",
        options={"xatol": 1e-12},
    )
    assert 1 / ts.temperature_ == pytest.approx(ref.x, rel=1e-6)
    assert ts.nll_ <= ref.fun + 1e-12
    # the derivative of the NLL in beta vanishes at the optimum
    eps = 1e-6 / ts.temperature_
    b = 1 / ts.temperature_
    assert (
        abs(
            _nll(b + eps, z.astype(dtype).astype(float), y)
            - _nll(b - eps, z.astype(dtype).astype(float), y)
        )
        < 1e-9
    )


def test_matches_scikit_learn_temperature(rng):
    sk = pytest.importorskip("sklearn.calibration")
    z, y = _overconfident_logits(rng)
    theirs = sk._TemperatureScaling().fit(z, y)
    ours = TemperatureScaling().fit(z, y)
    assert 1 / ours.temperature_ == pytest.approx(theirs.beta_, rel=1e-5)
    assert ours.nll_ <= _nll(theirs.beta_, z, y) + 1e-12


def test_probability_input_and_binary_input(rng):
    z, y = _overconfident_logits(rng)
    p = np.exp(log_softmax(z, axis=1))
    on_logits = TemperatureScaling().fit(z, y)
    on_probs = TemperatureScaling(input="probs").fit(p, y)
    assert on_probs.temperature_ == pytest.approx(on_logits.temperature_, rel=1e-8)
    np.testing.assert_allclose(on_probs.predict_proba(p), on_logits.predict_proba(z), atol=1e-10)
    zb = rng.normal(size=2000) * 4
    yb = (rng.random(2000) < 1 / (1 + np.exp(-zb / 4))).astype(int)
    tb = TemperatureScaling().fit(zb, yb)
    assert tb.temperature_ == pytest.approx(4.0, rel=0.15)
    pb = tb.predict_proba(zb)
    assert pb.shape == (2000,)
    np.testing.assert_allclose(pb, 1 / (1 + np.exp(-zb / tb.temperature_)), rtol=1e-12)


def test_large_logits_are_stable(rng):
    z, y = _overconfident_logits(rng, scale=1e4)
    ts = TemperatureScaling().fit(z, y)
    assert np.isfinite(ts.temperature_)
    p = ts.predict_proba(z)
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-12)


def test_calibration_lowers_ece_and_nll(rng):
    z, y = _overconfident_logits(rng, n=6000)
    p_raw = np.exp(log_softmax(z, axis=1))
    ts = TemperatureScaling().fit(z[:3000], y[:3000])
    p_cal = ts.predict_proba(z[3000:])
    assert metrics.ece(y[3000:], p_cal) < 0.5 * metrics.ece(y[3000:], p_raw[3000:])
    assert metrics.log_loss(y[3000:], p_cal) < metrics.log_loss(y[3000:], p_raw[3000:])


def test_weights_equal_repetition(rng):
    z, y = _overconfident_logits(rng, n=500)
    w = rng.integers(1, 4, 500)
    a = TemperatureScaling().fit(z, y, sample_weight=w)
    b = TemperatureScaling().fit(np.repeat(z, w, axis=0), np.repeat(y, w))
    assert a.temperature_ == pytest.approx(b.temperature_, rel=1e-9)


def test_save_load_round_trip_and_tampering(rng, tmp_path):
    z, y = _overconfident_logits(rng, n=500)
    ts = TemperatureScaling().fit(z, y)
    path = ts.save(tmp_path / "cal.json")
    back = load(path)
    assert isinstance(back, TemperatureScaling)
    assert back.temperature_ == ts.temperature_
    np.testing.assert_array_equal(back.predict_proba(z), ts.predict_proba(z))
    doc = json.loads(path.read_text())
    assert doc["kind"] == "calibrator" and doc["payload"]["method"] == "temperature"
    doc["payload"]["params"]["temperature"] = 2 * ts.temperature_
    path.write_text(json.dumps(doc))
    with pytest.raises(SchemaError, match="altered"):
        load(path)
    doc = ts.to_dict()
    doc["schema"] = 2
    with pytest.raises(SchemaError, match="schema version 2"):
        load(doc)
    doc = ts.to_dict()
    doc["payload"]["method"] = "magic"
    from confide._serialization import to_document

    with pytest.raises(SchemaError, match="unknown calibration method 'magic'"):
        load(to_document("calibrator", doc["payload"]))


def test_bad_input_is_named(rng):
    z, y = _overconfident_logits(rng, n=200)
    with pytest.raises(NonFiniteError, match="NaN"):
        TemperatureScaling().fit(np.where(np.arange(200)[:, None] == 3, np.nan, z), y)
    with pytest.raises(LabelError, match="only class"):
        TemperatureScaling().fit(z, np.zeros(200, dtype=int))
    with pytest.raises(LabelError, match="outside the 5 classes"):
        TemperatureScaling().fit(z, np.full(200, 7))
    with pytest.raises(ValidationError, match="at least 2 calibration samples"):
        TemperatureScaling().fit(z[:1], y[:1])
    ts = TemperatureScaling().fit(z, y)
    with pytest.raises(ShapeError, match=r"fitted on \(n, 5\) scores"):
        ts.predict_proba(z[:, :4])
    with pytest.raises(NotFittedError, match="not fitted"):
        TemperatureScaling().predict_proba(z)
    with pytest.raises(ValueError, match="input must be one of"):
        TemperatureScaling(input="scores")


def test_no_silent_temperature_on_uninformative_or_separable_data(rng):
    z = rng.normal(size=(300, 3))
    with pytest.raises(ValidationError, match="no information"):
        TemperatureScaling().fit(z, (z.argmax(1) + 1) % 3)  # always wrong: anti-informative
    y = z.argmax(1)
    with pytest.raises(ValidationError, match="every calibration prediction is right"):
        TemperatureScaling().fit(z, y)


# Jung et al. (2023) SCTL log: ECE (15 bins, %) after temperature scaling on the test split.
SCTL_TS = {
    "densenet40_c10_lt": 6.16,
    "resnet_wide28_c10_lt": 4.47,
    "resnet110_c10_lt": 5.94,
    "resnet110_sd_c10_lt": 6.84,
}


@pytest.mark.shared_data
@pytest.mark.parametrize(("name", "published"), SCTL_TS.items())
def test_reproduces_published_temperature_scaling(name, published):
    d = np.load(shared_data("sctl_cifar10_lt_logits", f"{name}.npz"))
    ts = TemperatureScaling().fit(d["val_logits"], d["val_labels"])
    ece = 100 * metrics.ece(d["test_labels"], ts.predict_proba(d["test_logits"]))
    assert ece == pytest.approx(published, abs=0.15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_and_numpy_paths_find_the_same_temperature(rng, dtype, monkeypatch):
    pytest.importorskip("numba")
    from confide import _accel

    z, y = _overconfident_logits(rng, n=5000)
    z = z.astype(dtype)
    w = rng.random(5000)
    monkeypatch.setattr(_accel, "NUMBA_MIN_SIZE", 0)
    monkeypatch.setattr(_accel, "CHUNK_ROWS", 1024)  # several chunks, and the warm start
    before = _accel.accelerator()
    try:
        _accel.set_accelerator("numba")
        fast = TemperatureScaling().fit(z, y, sample_weight=w)
        _accel.set_accelerator("numpy")
        ref = TemperatureScaling().fit(z, y, sample_weight=w)
    finally:
        _accel.set_accelerator(before)
    assert fast.temperature_ == pytest.approx(ref.temperature_, rel=1e-12)
    assert fast.nll_ == pytest.approx(ref.nll_, rel=1e-12)
    assert fast.predict_proba(z).dtype == np.float64
