"""Reading real model outputs from ../shared/data (skipped where that folder is absent)."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import shared_data as _shared

from confide.io import read_predictions, write_predictions

pytestmark = pytest.mark.shared_data


def _accuracy(pred) -> float:
    return float(np.mean(pred.probs.argmax(axis=1) == pred.require_labels()))


def test_netcal_lenet_probabilities():
    path = _shared("netcal_cifar_probs", "lenet-5-cifar-10.npz")
    pred = read_predictions(path)  # keys predictions / ground_truth detected
    assert pred.input == "probs"
    assert pred.probs.shape == (10_000, 10)
    assert pred.probs.dtype == np.float32  # kept as stored
    assert pred.classes == tuple(str(i) for i in range(10))
    assert _accuracy(pred) == pytest.approx(0.5308, abs=5e-5)  # README: acc 53.08 %


def test_sctl_densenet_logits_with_keys():
    path = _shared("sctl_cifar10_lt_logits", "densenet40_c10_lt.npz")
    test = read_predictions(path, logit_key="test_logits", label_key="test_labels")
    assert test.input == "logits"
    assert test.logits is not None and test.logits.dtype == np.float32
    assert test.probs.shape == (10_000, 10)
    assert _accuracy(test) == pytest.approx(0.7211, abs=5e-5)  # README: acc 72.11 %
    val = read_predictions(path, logit_key="val_logits", label_key="val_labels")
    assert val.n_samples == 10_216
    assert np.bincount(val.y_true).max() > 5 * np.bincount(val.y_true).min()  # long-tailed


def test_sctl_without_keys_asks_for_them():
    path = _shared("sctl_cifar10_lt_logits", "densenet40_c10_lt.npz")
    with pytest.raises(ValueError, match=r"'test_logits'.*logit_key="):
        read_predictions(path)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_real_float32_probabilities_through_a_table(tmp_path, suffix):
    pred = read_predictions(_shared("netcal_cifar_probs", "lenet-5-cifar-10.npz"))
    path = write_predictions(tmp_path / f"lenet.{suffix}", pred.y_true, pred.probs)
    back = read_predictions(path)
    np.testing.assert_array_equal(back.y_true, pred.y_true)
    np.testing.assert_array_equal(back.probs.astype(np.float32), pred.probs)
    assert back.probs.dtype == (np.float32 if suffix == "parquet" else np.float64)
