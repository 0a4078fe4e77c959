"""Population Stability Index: hand-computed values, the size-aware threshold, empty bins."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from confide.exceptions import ConfideTypeError, ValidationError
from confide.monitor._psi import merge_empty, psi, psi_band, psi_test


def _psi_by_hand(r_counts, c_counts):
    r = np.asarray(r_counts, float) / np.sum(r_counts)
    c = np.asarray(c_counts, float) / np.sum(c_counts)
    return float(np.sum((c - r) * np.log(c / r)))


def test_psi_on_explicit_edges_matches_the_formula_on_numpy_histograms():
    rng = np.random.default_rng(0)
    x, y = rng.beta(2, 2, 400), rng.beta(2.5, 2, 300)
    edges = np.linspace(0, 1, 11)
    r, _ = np.histogram(x, edges)
    c, _ = np.histogram(y, edges)
    assert (r > 0).all() and (c > 0).all()
    assert psi(x, y, edges=edges) == pytest.approx(_psi_by_hand(r, c), rel=1e-12)


def test_psi_on_reference_deciles_by_hand():
    x = np.arange(100, dtype=float)  # deciles: exactly 10 reference scores per bin
    y = np.concatenate([np.full(30, 5.0), np.full(20, 55.0), np.full(50, 95.0)])
    r = [10] * 10
    c = [30, 0, 0, 0, 0, 20, 0, 0, 0, 50]
    # Default: empty bins, so 0.5 is added to every count of both windows.
    smooth = psi_test(x, y)
    assert smooth.details["n_bins"] == 10 and smooth.details["current_counts"] == c
    assert smooth.statistic == pytest.approx(
        _psi_by_hand(np.add(r, 0.5), np.add(c, 0.5)), rel=1e-12
    )
    res = psi_test(x, y, empty_bins="merge")
    # Empty current bins merge into the next non-empty one: [10, 60) and [60, inf).
    merged_r, merged_c = [10, 50, 40], [30, 20, 50]
    assert res.details["reference_counts"] == merged_r
    assert res.details["current_counts"] == merged_c
    assert res.details["n_bins"] == 3
    assert res.statistic == pytest.approx(_psi_by_hand(merged_r, merged_c), rel=1e-12)
    eps = psi(x, y, empty_bins="epsilon", epsilon=1e-4)
    pr, pc = np.asarray(r) / 100, np.maximum(np.asarray(c) / 100, 1e-4)
    assert eps == pytest.approx(float(np.sum((pc - pr) * np.log(pc / pr))), rel=1e-12)


def test_smoothing_keeps_a_shift_that_merging_erases():
    rng = np.random.default_rng(7)
    x, y = rng.random(500), 2.0 + rng.random(100)  # the current window left the range
    smooth = psi_test(x, y)
    assert smooth.drifted and smooth.statistic > 3
    merged = psi_test(x, y, empty_bins="merge")
    assert merged.statistic == 0.0 and not merged.drifted and merged.details["n_bins"] == 1
    # Without empty bins the default is the textbook PSI.
    x, y = rng.random(500), rng.random(400)
    assert psi(x, y) == psi(x, y, empty_bins="merge") == psi(x, y, empty_bins="epsilon")


def test_merge_empty_rows_are_independent_and_keep_totals():
    ref = np.array([[3, 0, 2, 1, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 5]])
    cur = np.array([[0, 4, 0, 0, 1], [2, 0, 0, 0, 3], [1, 0, 1, 0, 1]])
    r, c, used = merge_empty(ref, cur)
    assert used.tolist() == [2, 2, 1]
    assert r[0].tolist()[:2] == [3, 3] and c[0].tolist()[:2] == [4, 1]
    assert r[1].tolist()[:2] == [1, 4] and c[1].tolist()[:2] == [2, 3]
    assert r[2].tolist()[:1] == [5] and c[2].tolist()[:1] == [3]
    assert (r[:, 2:] == 0).all() and (r[2, 1:] == 0).all()
    assert r.sum(1).tolist() == ref.sum(1).tolist() and c.sum(1).tolist() == cur.sum(1).tolist()


@pytest.mark.parametrize(("n", "m"), [(200, 200), (1000, 50), (100_000, 100_000)])
def test_size_aware_threshold_and_p_value(n, m):
    rng = np.random.default_rng(n + m)
    res = psi_test(rng.random(n), rng.random(m), alpha=0.01, calibration="asymptotic")
    scale = 1 / n + 1 / m
    dof = res.details["n_bins"] - 1
    assert res.details["scale"] == pytest.approx(scale)
    assert res.threshold == pytest.approx(scale * stats.chi2.ppf(0.99, dof), rel=1e-10)
    assert res.p_value == pytest.approx(stats.chi2.sf(res.statistic / scale, dof), rel=1e-10)
    assert res.drifted == (res.statistic > res.threshold)
    assert res.details["band"] == psi_band(res.statistic)
    assert res.details["first_order_threshold"] == res.threshold


@pytest.mark.parametrize(("n", "m"), [(1000, 80), (300, 300), (50_000, 50_000)])
def test_moment_matched_threshold(n, m):
    rng = np.random.default_rng(n * m)
    res = psi_test(rng.random(n), rng.random(m), alpha=0.05)
    a, nu = res.details["a"], res.details["nu"]
    assert res.method == "moments"
    assert res.threshold == pytest.approx(a * stats.chi2.ppf(0.95, nu), rel=1e-10)
    assert res.p_value == pytest.approx(stats.chi2.sf(res.statistic / a, nu), rel=1e-10)
    assert res.drifted == (res.statistic > res.threshold)
    # The fitted law tends to the first-order one as the windows grow; at m = 80 it is wider.
    scale = 1 / n + 1 / m
    if n == 50_000:
        assert a == pytest.approx(scale, rel=0.03) and nu == pytest.approx(9, rel=0.03)
    if m == 80:
        assert res.threshold > 1.05 * res.details["first_order_threshold"]


def test_bands_are_information_only():
    assert [psi_band(v) for v in (0.0, 0.099, 0.1, 0.2, 0.25, 3.0)] == [
        "stable",
        "stable",
        "moderate",
        "moderate",
        "significant",
        "significant",
    ]
    # A large window with a small shift: drifted by the size-aware threshold, "stable" by 0.1.
    rng = np.random.default_rng(1)
    res = psi_test(rng.normal(size=50_000), rng.normal(0.05, size=50_000))
    assert res.drifted and res.details["band"] == "stable"


def test_float32_gives_the_psi_of_the_widened_values():
    rng = np.random.default_rng(2)
    x, y = rng.beta(5, 2, 500).astype(np.float32), rng.beta(5, 2, 300).astype(np.float32)
    assert psi(x, y) == psi(x.astype(np.float64), y.astype(np.float64))


def test_simulation_calibration_is_seeded_and_agrees_with_chi2_for_large_windows():
    rng = np.random.default_rng(3)
    x, y = rng.random(5000), rng.random(5000)
    a = psi_test(x, y, calibration="simulation", seed=7)
    assert a.p_value == psi_test(x, y, calibration="simulation", seed=7).p_value
    asym = psi_test(x, y, calibration="asymptotic")
    assert a.threshold == pytest.approx(asym.threshold, rel=0.05)
    assert a.p_value == pytest.approx(asym.p_value, abs=0.02)
    pooled = psi_test(x, y, binning="pooled", calibration="simulation", n_simulations=5000)
    assert pooled.method == "simulation" and pooled.details["binning"] == "pooled"


def test_simulated_null_is_the_law_of_the_psi_at_small_sizes():
    # 2000 end-to-end draws of the PSI at n = m = 60 against the simulated null quantile.
    rng = np.random.default_rng(4)
    draws = np.array([psi(rng.random(60), rng.random(60)) for _ in range(2000)])
    res = psi_test(rng.random(60), rng.random(60), calibration="simulation", n_simulations=40_000)
    rate = np.mean(draws > res.threshold)
    assert rate == pytest.approx(0.05, abs=stats.binom.ppf(0.999, 2000, 0.05) / 2000 - 0.05)


def test_psi_result_to_dict_and_bad_input():
    rng = np.random.default_rng(5)
    x, y = rng.random(100), rng.random(80)
    doc = json.loads(json.dumps(psi_test(x, y).to_dict()))
    assert doc["test"] == "psi" and doc["details"]["conventional_cutoffs"] == [0.1, 0.25]
    with pytest.raises(ValidationError, match="empty_bins must be one of"):
        psi(x, y, empty_bins="drop")
    with pytest.raises(ValidationError, match="epsilon"):
        psi(x, y, empty_bins="epsilon", epsilon=0.0)
    with pytest.raises(ValidationError, match="calibration must be one of"):
        psi_test(x, y, calibration="bootstrap")
    with pytest.raises(ConfideTypeError, match="seed"):
        psi_test(x, y, calibration="simulation", seed=1.5)
    with pytest.raises(ValidationError, match="outside the bin edges"):
        psi(x, y + 1.0, edges=[0.0, 0.5, 1.0])
    with pytest.raises(ValidationError, match="strictly increasing"):
        psi(x, y, edges=[0.0, 0.5, 0.5, 1.0])
    with pytest.raises(ValidationError, match="binning must be one of"):
        psi(x, y, binning="current")
