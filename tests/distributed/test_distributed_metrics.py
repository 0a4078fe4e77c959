"""Metrics on Dask equal the in-memory functions on the same rows (to 1e-12 relative)."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
from tests.conftest import make_multiclass

from confide.distributed._bootstrap import poisson_weights
from confide.distributed._metrics import (
    binned_auroc,
    calibration_accumulator,
    calibration_summary,
    confidence_binned_auroc,
    reliability_diagram,
)
from confide.distributed._report import bootstrap_ci, evaluate
from confide.metrics import (
    CalibrationAccumulator,
    brier_score,
    debiased_ece,
    ece,
    log_loss,
    mce,
    roc_auc,
)
from confide.metrics import reliability_diagram as reliability_in_memory
from confide.metrics._auroc_stream import BinnedAUROC
from confide.metrics._inputs import top_label

RTOL, ATOL = 1e-12, 1e-15  # ATOL only for gaps |mean(y) - mean(p)| that cancel to ~1e-3


def close(a: float, b: float) -> None:
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


@pytest.fixture(scope="module")
def binary() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    p = rng.random(30_000)
    y = (rng.random(30_000) < p**1.3).astype(np.int64)
    return y, p


@pytest.fixture(scope="module")
def multi() -> tuple[np.ndarray, np.ndarray]:
    return make_multiclass(np.random.default_rng(2), n=20_000, k=6, dtype=np.float32)


def test_summary_equals_one_pass_accumulator_binary(client, binary) -> None:
    y, p = binary
    got = calibration_summary(da.from_array(y, chunks=3_001), da.from_array(p, chunks=3_001))
    ref = CalibrationAccumulator(binary=True).update(y, p).compute()
    for name in ("ece", "ece_l2", "mce", "classwise_ece", "brier_score", "log_loss", "accuracy"):
        close(getattr(got, name), getattr(ref, name))
    close(got.ece, ece(y, p))
    close(got.brier_score, brier_score(y, p))
    close(got.log_loss, log_loss(y, p))
    assert got.n_samples == 30_000


def test_summary_equals_in_memory_multiclass_float32(client, multi) -> None:
    y, p = multi
    got = calibration_summary(da.from_array(y, chunks=4_000), da.from_array(p, chunks=(4_000, 3)))
    close(got.ece, ece(y, p, n_bins=15))
    close(got.mce, mce(y, p, n_bins=15))
    close(got.classwise_ece, ece(y, p, kind="classwise"))
    close(got.brier_score, brier_score(y, p))
    close(got.log_loss, log_loss(y, p))


def same_diagram(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key, va in a.items():
        if isinstance(va, str):
            assert va == b[key]
            continue
        xa = np.array(va, dtype=float)  # None (empty bin) becomes NaN
        xb = np.array(b[key], dtype=float)
        np.testing.assert_allclose(xa, xb, rtol=RTOL, atol=ATOL, equal_nan=True)


def test_reliability_diagram_equals_in_memory(client, multi) -> None:
    y, p = multi
    got = reliability_diagram(da.from_array(y, chunks=5_000), da.from_array(p), n_bins=12)
    same_diagram(got.to_dict(), reliability_in_memory(y, p, n_bins=12).to_dict())


def test_binary_reliability_kind(client, binary) -> None:
    y, p = binary
    got = reliability_diagram(
        da.from_array(y, chunks=7_000), da.from_array(p, chunks=7_000), kind="binary"
    )
    same_diagram(got.to_dict(), reliability_in_memory(y, p, kind="binary").to_dict())


def test_histogram_auroc_and_bound(client, binary) -> None:
    y, p = binary
    got = binned_auroc(da.from_array(y, chunks=2_500), da.from_array(p, chunks=2_500), n_bins=512)
    ref = BinnedAUROC(512).update(y, p).compute()
    for f in ("value", "lower", "upper", "n_positive", "n_negative"):
        close(getattr(got, f), getattr(ref, f))
    close(got.value, roc_auc(y, p, method="histogram", n_bins=512))
    exact = roc_auc(y, p)
    assert got.lower <= exact <= got.upper


def test_confidence_auroc(client, multi) -> None:
    y, p = multi
    got = confidence_binned_auroc(da.from_array(y, chunks=3_000), da.from_array(p))
    conf, pred = top_label(p)
    close(got.value, roc_auc((pred == y).astype(int), conf.astype(np.float64), method="histogram"))


def test_result_does_not_depend_on_partitioning(client, multi) -> None:
    y, p = multi
    a = calibration_accumulator(da.from_array(y, chunks=20_000), da.from_array(p))
    b = calibration_accumulator(da.from_array(y, chunks=997), da.from_array(p, chunks=(997, 6)))
    for k, v in a._state().items():
        np.testing.assert_allclose(v, b._state()[k], rtol=RTOL)
    # the merged state is an ordinary accumulator: it round-trips through JSON
    again = CalibrationAccumulator.from_dict(b.to_dict())
    close(again.ece(), b.ece())


def test_evaluate_report_matches_in_memory_values(client, binary) -> None:
    y, p = binary
    rep = evaluate(da.from_array(y, chunks=6_000), da.from_array(p, chunks=6_000), n_bins=10)
    close(rep["ece"], ece(y, p, n_bins=10))
    close(rep["ece_binary"], ece(y, p, n_bins=10, kind="binary"))
    close(rep["debiased_ece"], debiased_ece(y, p, n_bins=10, binning="uniform"))
    close(rep["roc_auc"], roc_auc(y, p, method="histogram"))
    close(rep["brier_score"], brier_score(y, p))
    assert rep.n_samples == 30_000 and rep.binary and rep.confidence_level is None
    assert any("smooth_ece" in w for w in rep.warnings)
    assert "ace" not in rep.metrics


def test_poisson_bootstrap_equals_in_memory_with_same_weights(client, binary) -> None:
    y, p = binary
    y, p = y[:9_000], p[:9_000]
    chunks = 2_000  # partitions of 2000, 2000, 2000, 2000, 1000
    ci = bootstrap_ci(
        da.from_array(y, chunks=chunks),
        da.from_array(p, chunks=chunks),
        metric="ece",
        n_resamples=40,
        seed=7,
        confidence_level=0.9,
    )
    w = poisson_weights([2_000] * 4 + [1_000], 40, seed=7)
    values = np.array([ece(y, p, sample_weight=wr) for wr in w])
    lo, hi = np.quantile(values, [0.05, 0.95])
    close(ci.low, lo)
    close(ci.high, hi)
    close(ci.standard_error, np.std(values, ddof=1))
    close(ci.estimate, ece(y, p))
    assert ci.n_resamples == 40 and ci.n_failed == 0


def test_evaluate_with_intervals_brackets_the_estimate(client, multi) -> None:
    y, p = multi
    rep = evaluate(
        da.from_array(y[:4_000], chunks=1_000),
        da.from_array(p[:4_000]),
        confidence_level=0.95,
        n_resamples=20,
    )
    for m in rep.metrics.values():
        assert m.low is not None and m.high is not None and m.low <= m.high
    assert rep.n_resamples == 20


def test_evaluate_multiclass_auroc_is_one_vs_rest_macro_histogram(client, multi) -> None:
    y, p = multi
    rep = evaluate(da.from_array(y, chunks=3_500), da.from_array(p, chunks=(3_500, 6)))
    close(rep["roc_auc"], roc_auc(y, p, method="histogram"))
    conf, pred = top_label(p)
    correct = (pred == y).astype(int)
    close(rep["confidence_auroc"], roc_auc(correct, conf.astype(np.float64), method="histogram"))
    close(rep["classwise_ece"], ece(y, p, kind="classwise"))
    assert not rep.binary and "ece_binary" not in rep.metrics


@pytest.mark.parametrize("which", ["binary", "multi"])
def test_resample_features_equal_weighted_updates(binary, multi, which) -> None:
    from confide.distributed._metrics import StateSpec, partition_states
    from confide.distributed._resample import ResampleFeatures
    from confide.distributed._sources import Batch

    y, p = binary if which == "binary" else multi
    batch = Batch(y[:5_000], p[:5_000])
    k = 2 if p.ndim == 1 else p.shape[1]
    spec = StateSpec(k, p.ndim == 1, 15, 256, auroc=True, confidence_auroc=True)
    w = np.random.default_rng(0).poisson(1.0, 5_000).astype(float)
    fast = ResampleFeatures(batch, spec).states(w)
    slow = partition_states(batch, spec, weight=w)
    for key, acc in slow.items():
        for a, b in zip(
            acc if isinstance(acc, list) else [acc],
            fast[key] if isinstance(fast[key], list) else [fast[key]],
            strict=True,
        ):
            for name, v in a._state().items():
                np.testing.assert_allclose(b._state()[name], v, rtol=RTOL, atol=1e-9)


def test_poisson_bootstrap_multiclass_brier(client, multi) -> None:
    y, p = multi
    y, p = y[:6_000], p[:6_000]
    ci = bootstrap_ci(
        da.from_array(y, chunks=2_500),
        da.from_array(p, chunks=(2_500, 6)),
        metric="brier_score",
        n_resamples=20,
        seed=3,
    )
    w = poisson_weights([2_500, 2_500, 1_000], 20, seed=3)
    values = np.array([brier_score(y, p, sample_weight=wr) for wr in w])
    lo, hi = np.quantile(values, [0.025, 0.975])
    close(ci.low, lo)
    close(ci.high, hi)
