"""Window drift tests against scipy.stats, bad input, and invariants.

Every statistic and p-value is compared with scipy at rtol 1e-12 on random data with and without
ties and with float32 input (scipy is given the float32 values widened to float64 where it would
otherwise compute in float32, see the individual tests).
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import FrozenInstanceError

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from confide.exceptions import ConfideTypeError, NonFiniteError, ShapeError, ValidationError
from confide.monitor._psi import psi_test
from confide.monitor._window import ks_test, wasserstein_distance
from confide.monitor._window_ad import anderson_darling_test
from confide.monitor._window_bins import kth_of_two
from confide.monitor._window_cvm import cramer_von_mises_test
from confide.monitor._window_exact import cvm_exact_pvalue, ks_exact_pvalue
from confide.monitor._window_hist import chi_square_test, g_test
from confide.monitor._window_ranks import pool
from confide.monitor._window_report import (
    WINDOW_TESTS,
    drift_report,
    run_window_tests,
    window_test,
)

RTOL = 1e-12


def _pair(seed: int, n: int, m: int, *, ties: bool, dtype: type = np.float64, shift: float = 0.1):
    rng = np.random.default_rng(seed)
    x = rng.beta(5, 2, n)
    y = rng.beta(5, 2, m) + shift * rng.random()
    if ties:  # confidences stored with two decimals, and a block saturated at 1.0
        x, y = np.round(x, 2), np.round(np.minimum(y, 1.0), 2)
        x[: n // 5] = 1.0
    return x.astype(dtype), y.astype(dtype)


CASES = [
    (0, 7, 5, False),
    (1, 50, 70, False),
    (2, 200, 200, True),
    (3, 300, 301, False),
    (4, 1000, 80, True),
    (5, 15, 18, True),
    (6, 12_000, 300, False),  # above scipy's exact limit: asymptotic under "auto"
    (7, 11_000, 10_500, True),
]


@pytest.mark.parametrize(("seed", "n", "m", "ties"), CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ks_matches_scipy(seed, n, m, ties, dtype):
    x, y = _pair(seed, n, m, ties=ties, dtype=dtype)
    ours = ks_test(x, y)
    ref = stats.ks_2samp(x, y)  # scipy compares float32 exactly as well
    assert ours.statistic == pytest.approx(float(ref.statistic), rel=RTOL, abs=0)
    assert ours.p_value == pytest.approx(float(ref.pvalue), rel=RTOL, abs=1e-300)
    assert ours.method == ("exact" if max(n, m) <= 10_000 else "asymptotic")
    assert ours.details["h"] / ours.details["lcm"] == pytest.approx(ours.statistic, rel=1e-15)


@pytest.mark.parametrize("method", ["exact", "asymptotic"])
def test_ks_methods_match_scipy(method):
    x, y = _pair(11, 120, 90, ties=False)
    ours = ks_test(x, y, method=method)
    ref = stats.ks_2samp(x, y, method="asymp" if method == "asymptotic" else method)
    assert ours.p_value == pytest.approx(float(ref.pvalue), rel=RTOL)
    if method == "asymptotic":  # the threshold is the critical distance at alpha
        assert ours.threshold == pytest.approx(stats.kstwo.isf(0.05, round(120 * 90 / 210)))
        assert ours.drifted == (ours.statistic >= ours.threshold)


def test_ks_exact_pvalue_at_separation_is_two_over_binomial():
    # D = 1 happens for exactly 2 of the C(n + m, n) interleavings.
    for n, m in [(5, 5), (6, 9), (20, 3)]:
        res = ks_test(np.arange(n, dtype=float), 100 + np.arange(m, dtype=float), alpha=0.5)
        assert res.statistic == 1.0
        assert res.p_value == pytest.approx(2 / math.comb(n + m, n), rel=RTOL)


def test_ks_exact_pvalue_agrees_with_enumeration():
    # Every one of the C(8, 3) interleavings, counted by brute force.
    from itertools import combinations

    n, m = 3, 5
    stats_all = []
    for pos in combinations(range(n + m), n):
        lab = np.zeros(n + m, dtype=bool)
        lab[list(pos)] = True
        cx, cy = np.cumsum(lab), np.cumsum(~lab)
        stats_all.append(np.max(np.abs(cx * m - cy * n)))
    stats_all = np.array(stats_all)
    for h in np.unique(stats_all):
        assert ks_exact_pvalue(n, m, int(h)) == pytest.approx(np.mean(stats_all >= h), rel=RTOL)


@pytest.mark.parametrize(("seed", "n", "m", "ties"), CASES[:6])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cvm_matches_scipy(seed, n, m, ties, dtype):
    x, y = _pair(seed, n, m, ties=ties, dtype=dtype)
    # scipy computes the ranks in float32 for float32 input; confide accumulates in float64,
    # so the reference is scipy on the same values widened to float64.
    xd, yd = x.astype(np.float64), y.astype(np.float64)
    ref = stats.cramervonmises_2samp(xd, yd)
    ours = cramer_von_mises_test(x, y, ties="midrank")
    assert ours.statistic == pytest.approx(float(ref.statistic), rel=RTOL)
    assert ours.p_value == pytest.approx(float(ref.pvalue), rel=RTOL, abs=1e-300)
    if not ties:  # without ties the default (ECDF form) is scipy's statistic as well
        default = cramer_von_mises_test(x, y)
        assert default.statistic == ours.statistic and default.p_value == ours.p_value


@pytest.mark.parametrize("method", ["exact", "asymptotic"])
def test_cvm_methods_match_scipy(method):
    x, y = _pair(12, 9, 13, ties=False)
    ours = cramer_von_mises_test(x, y, method=method)
    ref = stats.cramervonmises_2samp(x, y, method=method)
    assert ours.method == method
    assert ours.p_value == pytest.approx(float(ref.pvalue), rel=RTOL)


def test_cvm_exact_separation_is_two_over_binomial():
    for n, m in [(4, 4), (5, 7)]:
        p = cvm_exact_pvalue(float(n * n * m * m), n, m)
        assert p == pytest.approx(2 / math.comb(n + m, n), rel=RTOL)


def test_cvm_ecdf_form_with_ties_is_the_definition():
    x = np.array([0.1, 0.5, 0.5, 0.9, 1.0, 1.0])
    y = np.array([0.5, 0.7, 1.0, 1.0, 1.0])
    grid = np.concatenate([x, y])
    f = (x[None, :] <= grid[:, None]).mean(1)
    g = (y[None, :] <= grid[:, None]).mean(1)
    n, m = 6, 5
    expected = n * m / (n + m) ** 2 * np.sum((f - g) ** 2)
    assert cramer_von_mises_test(x, y, alpha=0.5).statistic == pytest.approx(expected, rel=RTOL)


def test_cvm_midrank_is_invalid_under_heavy_ties_where_ecdf_is_not():
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(size=1000) * 2) / 2
    y = np.round(rng.normal(size=80) * 2) / 2
    midrank = cramer_von_mises_test(x, y, ties="midrank")
    assert midrank.p_value < 1e-6  # scipy's value: the same distribution flagged as drifted
    assert midrank.p_value == pytest.approx(stats.cramervonmises_2samp(x, y).pvalue, rel=RTOL)
    assert cramer_von_mises_test(x, y).p_value > 0.05


@pytest.mark.parametrize(("seed", "n", "m", "ties"), CASES[:6])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ad_matches_scipy(seed, n, m, ties, dtype):
    x, y = _pair(seed, n, m, ties=ties, dtype=dtype, shift=0.03)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scipy warns when it caps the p-value
        ref = stats.anderson_ksamp([x, y], variant="midrank")
    ours = anderson_darling_test(x, y)
    assert ours.statistic == pytest.approx(float(ref.statistic), rel=RTOL)
    assert ours.p_value == pytest.approx(float(ref.pvalue), rel=RTOL)
    bound = ours.details["p_value_bound"]
    assert (bound is not None) == (ours.p_value in (0.25, 0.001))


def test_ad_threshold_is_the_interpolated_critical_value():
    rng = np.random.default_rng(3)
    for alpha in (0.01, 0.05, 0.1):
        for shift in np.linspace(0, 0.6, 13):
            x, y = rng.normal(size=80), rng.normal(shift, size=60)
            res = anderson_darling_test(x, y, alpha=alpha)
            assert res.drifted == (res.statistic >= res.threshold)
    # At alpha = 0.05 the critical value is Scholz and Stephens' 1.961 up to the fit.
    assert res.threshold is not None
    assert anderson_darling_test(x, y, alpha=0.05).threshold == pytest.approx(1.961, abs=0.02)


def test_ad_permutation_is_seeded_and_agrees_with_enumeration():
    from itertools import combinations

    x = np.array([0.2, 0.4, 0.9, 0.95])
    y = np.array([0.1, 0.3, 0.35, 0.5, 0.55])
    a = anderson_darling_test(x, y, alpha=0.2, method="permutation", n_resamples=20000, seed=4)
    b = anderson_darling_test(x, y, alpha=0.2, method="permutation", n_resamples=20000, seed=4)
    assert a.p_value == b.p_value
    z = np.concatenate([x, y])
    null = []
    for pos in combinations(range(9), 4):
        mask = np.zeros(9, dtype=bool)
        mask[list(pos)] = True
        null.append(pool(z[mask], z[~mask]).ad_midrank())
    exact = np.mean(np.array(null) >= pool(x, y).ad_midrank() * (1 - 1e-12))
    assert a.p_value == pytest.approx(exact, abs=4 * math.sqrt(exact * (1 - exact) / 20000) + 1e-4)


@pytest.mark.parametrize(("seed", "n", "m", "ties"), CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_wasserstein_matches_scipy(seed, n, m, ties, dtype):
    x, y = _pair(seed, n, m, ties=ties, dtype=dtype)
    # scipy takes the gaps between float32 values in float32; confide in float64.
    ref = stats.wasserstein_distance(x.astype(np.float64), y.astype(np.float64))
    assert wasserstein_distance(x, y) == pytest.approx(ref, rel=RTOL)
    assert ks_test(x, y, alpha=0.5).effect_size == pytest.approx(ref, rel=RTOL)


def test_effect_size_of_every_rank_test_is_the_wasserstein_distance():
    x, y = _pair(8, 90, 70, ties=True)
    w = stats.wasserstein_distance(x, y)
    for res in (ks_test(x, y), cramer_von_mises_test(x, y), anderson_darling_test(x, y)):
        assert res.effect_size == pytest.approx(w, rel=RTOL)


@pytest.mark.parametrize(("test", "n", "m"), [(ks_test, 40, 30), (cramer_von_mises_test, 12, 10)])
def test_permutation_pvalue_is_seeded_and_near_the_exact_one(test, n, m):
    x, y = _pair(9, n, m, ties=False, shift=0.1)
    exact = test(x, y, method="exact").p_value
    perm = test(x, y, method="permutation", n_resamples=20000, seed=1)
    assert perm.method == "permutation"
    assert perm.p_value == test(x, y, method="permutation", n_resamples=20000, seed=1).p_value
    assert perm.p_value == pytest.approx(exact, abs=4 * math.sqrt(exact * (1 - exact) / 20000))


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("test", [ks_test, cramer_von_mises_test, anderson_darling_test])
def test_nonfinite_values_are_reported_with_their_position(test):
    x = np.linspace(0, 1, 50)
    y = np.linspace(0, 1, 40)
    y[7] = np.nan
    with pytest.raises(NonFiniteError, match=r"current contains NaN.*index 7"):
        test(x, y)
    x[3] = np.inf
    with pytest.raises(NonFiniteError, match=r"reference contains infinity.*index 3"):
        test(x, np.linspace(0, 1, 40))


@pytest.mark.parametrize("test", [ks_test, cramer_von_mises_test, anderson_darling_test])
def test_empty_or_two_dimensional_windows_are_rejected(test):
    with pytest.raises(ShapeError, match="current is empty"):
        test(np.ones(10), [])
    with pytest.raises(ShapeError, match="1-D"):
        test(np.ones((10, 2)), np.ones(5))
    with pytest.raises(ConfideTypeError):
        test("abc", np.ones(5))


@pytest.mark.parametrize("alpha", [0, 1, 1.5, -0.1])
def test_alpha_outside_zero_one_is_rejected(alpha):
    with pytest.raises(ValidationError, match="strictly between 0 and 1"):
        ks_test(np.arange(50.0), np.arange(50.0), alpha=alpha)
    with pytest.raises(ConfideTypeError):
        ks_test(np.arange(50.0), np.arange(50.0), alpha=True)


def test_ks_too_small_says_how_many_scores_are_needed():
    # 2 / C(3 + 3, 3) = 0.1 > 0.05; C(5 + 3, 3) = 56 >= 40 is the first size that works.
    with pytest.raises(
        ValidationError, match=r"reference of at least 5 .*current window of at least 5"
    ):
        ks_test(np.arange(3.0), np.arange(3.0) + 10)
    assert ks_test(np.arange(5.0), np.arange(3.0) + 10).p_value == pytest.approx(2 / 56)
    with pytest.raises(ValidationError, match=r"smallest p-value the test can reach is 0\.5"):
        ks_test([0.5], [0.1, 0.2, 0.3])


def test_cvm_and_ad_too_small_and_range_errors():
    with pytest.raises(ValidationError, match="reference of at least"):
        cramer_von_mises_test([0.1, 0.2], [0.5, 0.6, 0.7])
    with pytest.raises(ValidationError, match="smallest p-value"):
        anderson_darling_test([0.1], [0.5, 0.6])
    with pytest.raises(ValidationError, match=r"only covers 0\.001 to 0\.25"):
        anderson_darling_test(np.arange(50.0), np.arange(40.0), alpha=0.3)
    with pytest.raises(ValidationError, match="n_resamples >= 20"):
        anderson_darling_test(np.arange(50.0), np.arange(40.0), method="permutation", n_resamples=9)
    with pytest.raises(ValidationError, match="same value"):
        anderson_darling_test(np.ones(30), np.ones(20))
    with pytest.raises(ValidationError, match="method must be one of"):
        ks_test(np.arange(50.0), np.arange(40.0), method="bogus")


# ----------------------------------------------------------------------------- results
def test_result_is_frozen_and_json_serialisable():
    res = ks_test(*_pair(1, 60, 40, ties=True))
    with pytest.raises(FrozenInstanceError):
        res.p_value = 0.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        res.details["h"] = 0  # type: ignore[index]
    doc = json.loads(json.dumps(res.to_dict()))
    assert doc["test"] == "ks" and doc["n_reference"] == 60 and doc["n_current"] == 40
    assert doc["drifted"] == (doc["p_value"] <= 0.05)


@settings(max_examples=40, deadline=None)
@given(
    x=st.lists(st.integers(0, 20), min_size=8, max_size=40),
    y=st.lists(st.integers(0, 20), min_size=8, max_size=40),
    a=st.floats(0.5, 3.0),
    b=st.floats(-2.0, 2.0),
)
def test_rank_statistics_are_invariant_to_increasing_maps_and_ks_to_swapping(x, y, a, b):
    xa, ya = np.asarray(x, float) / 20, np.asarray(y, float) / 20
    if np.unique(np.concatenate([xa, ya])).size < 2:
        return
    for test in (ks_test, cramer_von_mises_test, anderson_darling_test):
        r1 = test(xa, ya, alpha=0.25 if test is not anderson_darling_test else 0.2)
        r2 = test(np.exp(a * xa + b), np.exp(a * ya + b), alpha=r1.alpha)
        assert r2.statistic == pytest.approx(r1.statistic, rel=1e-12)
        assert r2.p_value == pytest.approx(r1.p_value, rel=1e-12)
    ks1, ks2 = ks_test(xa, ya, alpha=0.25), ks_test(ya, xa, alpha=0.25)
    assert ks1.statistic == ks2.statistic
    assert ks1.p_value == pytest.approx(ks2.p_value, rel=1e-12)
    assert wasserstein_distance(a * xa, a * ya) == pytest.approx(a * wasserstein_distance(xa, ya))


# ----------------------------------------------------------------------------- histogram tests


def _table(res):
    return np.array([res.details["reference_counts"], res.details["current_counts"]])


@pytest.mark.parametrize(("seed", "n", "m", "ties"), CASES[:6])
@pytest.mark.parametrize("binning", ["pooled", "reference"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_chi2_and_g_match_scipy_on_the_table(seed, n, m, ties, binning, dtype):
    x, y = _pair(seed, n, m, ties=ties, dtype=dtype)
    for test, lam in ((chi_square_test, None), (g_test, "log-likelihood")):
        res = test(x, y, binning=binning, alpha=0.01)
        table = _table(res)
        assert table.sum(axis=1).tolist() == [n, m]
        assert (table.sum(axis=0) > 0).all()
        ref = stats.chi2_contingency(table, lambda_=lam)
        assert res.statistic == pytest.approx(float(ref.statistic), rel=RTOL)
        assert res.p_value == pytest.approx(float(ref.pvalue), rel=RTOL, abs=1e-300)
        assert res.details["dof"] == ref.dof
        assert res.threshold == pytest.approx(stats.chi2.isf(0.01, ref.dof), rel=1e-10)


def test_quantile_bins_follow_the_convention():
    # Reference deciles: edges x[10], x[20], ...; a score equal to an edge goes to the upper bin.
    x = np.arange(100, dtype=float)
    y = np.array([-5.0, 10.0, 9.999, 95.0, 500.0])
    res = chi_square_test(x, y, binning="reference")
    assert res.details["inner_edges"] == [10.0 * k for k in range(1, 10)]
    assert res.details["reference_counts"] == [10] * 10
    assert res.details["current_counts"] == [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    # Pooled bins are the quantiles of the union, found without merging the windows.
    z = np.sort(np.concatenate([x, y]))
    pos = (np.arange(1, 10) * z.size) // 10
    assert chi_square_test(x, y).details["inner_edges"] == np.unique(z[pos]).tolist()


def test_kth_of_two_matches_a_merge():
    rng = np.random.default_rng(0)
    for _ in range(300):
        xs = np.sort(rng.integers(0, 8, rng.integers(1, 20)).astype(float))
        ys = np.sort(rng.integers(0, 8, rng.integers(1, 20)).astype(float))
        k = np.arange(xs.size + ys.size)
        assert np.array_equal(kth_of_two(xs, ys, k), np.sort(np.concatenate([xs, ys])))


def test_ties_collapse_bins_and_every_bin_keeps_a_score_of_the_reference():
    x = np.array([0.5] * 60 + [0.9] * 30 + [1.0] * 10)
    y = np.array([0.5, 0.9, 1.0, 1.0, 0.2])
    res = chi_square_test(x, y, binning="reference")
    assert res.details["n_bins"] == 3  # edges 0.9 and 1.0; 0.5 is the minimum
    assert min(res.details["reference_counts"]) > 0
    assert res.details["current_counts"] == [2, 1, 2]  # 0.2 falls in the open first bin


def test_explicit_edges_two_bins_yates_and_float32_rounding():
    x = np.array([0.1, 0.2, 0.3, 0.7, 0.8], dtype=np.float32)
    y = np.array([0.2, 0.6, 0.7, 0.9, 0.95, 0.99], dtype=np.float32)
    res = chi_square_test(x, y, edges=[0.0, 0.2, 0.5, 1.0], alpha=0.2)
    # float32(0.2) is compared with the edge 0.2 rounded to float32: it goes up.
    assert res.details["reference_counts"] == [1, 2, 2]
    two = chi_square_test(x, y, edges=[0.0, 0.5, 1.0], alpha=0.2)
    ref = stats.chi2_contingency(_table(two))  # dof 1: Yates' correction, as scipy
    assert two.statistic == pytest.approx(float(ref.statistic), rel=RTOL)
    nocorr = chi_square_test(x, y, edges=[0.0, 0.5, 1.0], correction=False, alpha=0.2)
    assert nocorr.statistic == pytest.approx(
        stats.chi2_contingency(_table(two), correction=False).statistic, rel=RTOL
    )
    empty = chi_square_test(x, y, edges=[0.0, 0.5, 0.55, 1.0], alpha=0.2)
    assert empty.details["n_bins"] == 2  # the bin empty in both windows is dropped
    with pytest.raises(ValidationError, match=r"1 score.*outside the bin edges"):
        chi_square_test(x, y, edges=[0.15, 1.0])


def test_g_test_williams_divides_by_q():
    x, y = _pair(3, 30, 40, ties=False)
    plain, corr = g_test(x, y, alpha=0.1), g_test(x, y, williams=True, alpha=0.1)
    table = _table(plain).astype(float)
    big_n, rows, cols = table.sum(), table.sum(1), table.sum(0)
    q = 1 + (big_n * (1 / rows).sum() - 1) * (big_n * (1 / cols).sum() - 1) / (
        6 * big_n * (table.shape[1] - 1)
    )
    assert corr.statistic == plain.statistic
    assert corr.p_value == pytest.approx(stats.chi2.sf(plain.statistic / q, table.shape[1] - 1))


# ----------------------------------------------------------------------------- dispatch, reports
def test_window_test_dispatches_every_registered_test():
    x, y = _pair(2, 120, 100, ties=True)
    assert set(WINDOW_TESTS) == {"ks", "ad", "cvm", "chi2", "g", "psi"}
    for name, fn in WINDOW_TESTS.items():
        assert window_test(x, y, method=name).to_dict() == fn(x, y).to_dict()
    perm = window_test(x, y, method="ad", p_value_method="permutation", n_resamples=199)
    assert perm.method == "permutation"
    with pytest.raises(ValidationError, match="method must be one of"):
        window_test(x, y, method="mmd")
    with pytest.raises(ValidationError, match="p_value_method applies"):
        window_test(x, y, method="psi", p_value_method="exact")


def test_run_window_tests_equals_the_separate_tests_and_corrects():
    x, y = _pair(4, 300, 200, ties=True, shift=0.05)
    rep = run_window_tests(x, y, methods=("ks", "ad", "cvm", "chi2", "g", "psi"))
    assert rep.names == ("ks", "ad", "cvm", "chi2", "g", "psi")
    for name, res in zip(rep.names, rep.results, strict=True):
        alone = WINDOW_TESTS[name](x, y).to_dict()
        shared = res.to_dict()
        # the shared run takes W1 from the merge, a lone histogram test from the quantiles
        assert shared.pop("effect_size") == pytest.approx(alone.pop("effect_size"), rel=RTOL)
        assert shared == alone
    p = np.array([r.p_value for r in rep.results])
    assert np.array_equal(rep.correction.adjusted, np.minimum(p * 6, 1))
    assert rep.drifted == bool((p * 6 <= 0.05).any())
    json.dumps(rep.to_dict())
    opts = {"psi": {"n_bins": 5}, "ad": {"method": "permutation", "n_resamples": 99, "seed": 3}}
    rep2 = run_window_tests(x, y, methods=("ad", "psi"), correction=None, options=opts)
    assert rep2.results[1].statistic == psi_test(x, y, n_bins=5).statistic
    assert rep2.results[0].method == "permutation"
    assert rep2.correction is None and rep2.rejected == tuple(r.drifted for r in rep2.results)
    with pytest.raises(ValidationError, match="unknown option"):
        run_window_tests(x, y, methods=("ks",), options={"ks": {"n_bins": 3}})
    with pytest.raises(ValidationError, match="twice"):
        run_window_tests(x, y, methods=("ks", "ks"))


def test_drift_report_corrects_across_monitors():
    rng = np.random.default_rng(6)
    windows = {f"class{k}": (rng.beta(5, 2, 300), rng.beta(5, 2, 200)) for k in range(4)}
    windows["shifted"] = (rng.beta(5, 2, 300), rng.beta(4, 2, 200))
    rep = drift_report(windows, methods=("ks", "psi"))
    assert rep.names[:2] == ("class0/ks", "class0/psi") and len(rep.names) == 10
    p = [r.p_value for r in rep.results]
    assert np.allclose(rep.correction.adjusted, stats.false_discovery_control(p), rtol=RTOL)
    assert rep.rejected[-2] and rep.drifted
    with pytest.raises(ValidationError, match="monitor 'tiny'"):
        drift_report({"tiny": ([0.1, 0.2], [0.3])})


@pytest.mark.parametrize(("n", "m", "h"), [(3000, 2000, 400), (700, 1000, 220), (1, 10, 9)])
def test_ks_exact_numba_and_numpy_paths_agree_bit_for_bit(n, m, h):
    pytest.importorskip("numba")
    from confide._accel import accelerator, set_accelerator

    before = accelerator()
    try:
        out = []
        for mode in ("numpy", "numba"):
            set_accelerator(mode)
            ks_exact_pvalue.cache_clear()
            out.append(ks_exact_pvalue(n, m, h))
    finally:
        set_accelerator(before)
        ks_exact_pvalue.cache_clear()
    assert out[0] == out[1]
