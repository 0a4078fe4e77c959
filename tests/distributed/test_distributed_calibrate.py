"""Calibrators fitted on Dask equal the in-memory fits and save to the same JSON."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from confide.calibration import (
    HistogramBinning,
    IsotonicCalibration,
    TemperatureScaling,
    load,
)
from confide.distributed._calibrate import (
    fit_binned_isotonic,
    fit_histogram_binning,
    fit_temperature,
)
from confide.exceptions import LabelError, ValidationError

RTOL = 1e-12


@pytest.fixture(scope="module")
def logits() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    n, k = 12_000, 4
    z = rng.normal(size=(n, k)) * 3.0
    q = np.exp(z / 2.5)
    q /= q.sum(axis=1, keepdims=True)
    y = (q.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return y, z


def test_temperature_multiclass_equals_in_memory(client, logits, tmp_path) -> None:
    y, z = logits
    got = fit_temperature(da.from_array(y, chunks=2_500), da.from_array(z, chunks=(2_500, 4)))
    ref = TemperatureScaling().fit(z, y)
    assert isinstance(got, TemperatureScaling)
    np.testing.assert_allclose(got.temperature_, ref.temperature_, rtol=RTOL)
    np.testing.assert_allclose(got.nll_, ref.nll_, rtol=RTOL)
    np.testing.assert_allclose(got.predict_proba(z[:50]), ref.predict_proba(z[:50]), rtol=1e-10)
    # an ordinary calibrator: saves and loads as the in-memory one
    path = got.save(tmp_path / "t.json")
    back = load(path)
    assert back.to_dict()["payload"]["config"] == ref.to_dict()["payload"]["config"]
    assert back.temperature_ == got.temperature_


def test_temperature_binary_logits(client) -> None:
    rng = np.random.default_rng(4)
    z = rng.normal(size=9_000) * 4
    y = (rng.random(9_000) < 1 / (1 + np.exp(-z / 2))).astype(int)
    got = fit_temperature(da.from_array(y, chunks=1_000), da.from_array(z, chunks=1_000))
    np.testing.assert_allclose(
        got.temperature_, TemperatureScaling().fit(z, y).temperature_, rtol=RTOL
    )
    assert got.binary_


def test_histogram_binning_multiclass_probs(client, logits) -> None:
    y, z = logits
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    got = fit_histogram_binning(
        da.from_array(y, chunks=3_000),
        da.from_array(p, chunks=(3_000, 4)),
        input="probs",
        n_bins=20,
    )
    ref = HistogramBinning(input="probs", n_bins=20).fit(p, y)
    np.testing.assert_allclose(got.bin_values_, ref.bin_values_, rtol=RTOL)
    np.testing.assert_array_equal(got.bin_weights_, ref.bin_weights_)
    np.testing.assert_array_equal(got.edges_, ref.edges_)


def test_binned_isotonic_equals_exact_isotonic_on_grid_scores(client) -> None:
    rng = np.random.default_rng(5)
    p = (rng.integers(0, 200, 15_000) + 0.5) / 200  # one distinct score per bin
    y = (rng.random(15_000) < p**2).astype(int)
    got = fit_binned_isotonic(
        da.from_array(y, chunks=4_000), da.from_array(p, chunks=4_000), input="probs", n_bins=200
    )
    ref = IsotonicCalibration(input="probs").fit(p, y)
    assert len(got.x_thresholds_[0]) == len(ref.x_thresholds_[0])
    np.testing.assert_allclose(got.x_thresholds_[0], ref.x_thresholds_[0], rtol=RTOL)
    np.testing.assert_allclose(got.y_thresholds_[0], ref.y_thresholds_[0], rtol=RTOL, atol=1e-15)


def test_binned_isotonic_is_close_on_continuous_scores(client) -> None:
    rng = np.random.default_rng(6)
    p = rng.random(20_000)
    y = (rng.random(20_000) < p).astype(int)
    got = fit_binned_isotonic(
        da.from_array(y, chunks=5_000), da.from_array(p, chunks=5_000), input="probs"
    )
    ref = IsotonicCalibration(input="probs").fit(p, y)
    grid = np.linspace(0.01, 0.99, 99)
    assert np.max(np.abs(got.predict_proba(grid) - ref.predict_proba(grid))) < 0.1


def test_calibration_errors(client, logits) -> None:
    y, z = logits
    yd, zd = da.from_array(y, chunks=5_000), da.from_array(z, chunks=(5_000, 4))
    with pytest.raises(ValidationError, match="uniform"):
        fit_histogram_binning(yd, zd, binning="quantile")
    with pytest.raises(LabelError, match="only class"):
        fit_temperature(da.zeros(1_000, dtype=int, chunks=500), zd[:1_000])
    with pytest.raises(LabelError, match="outside the 4 classes"):
        fit_temperature(yd + 3, zd)
    with pytest.raises(ValidationError, match="every calibration prediction is right"):
        fit_temperature(da.from_array(z.argmax(axis=1), chunks=5_000), zd)
