"""False-alarm rates of the window tests when nothing drifted (seeded simulations).

Each configuration draws ``DRAWS`` pairs of windows from one distribution, in one batch, and runs
the tests on every pair; the share of pairs flagged at ``alpha = 0.05`` must not exceed
``binom.ppf(0.999, DRAWS, alpha) / DRAWS`` (a test at the nominal rate fails this once in a
thousand seeds). Configurations: continuous scores, confidences stored with two decimals
(light ties), and heavy ties (30% of the scores exactly 1.0, the rest on ten levels), with equal
and unequal window sizes.

Measured rates (this file's seeds and others, 2000+ draws each) that are documented limits
rather than assertions of "<= alpha":

* G-test with 10 bins at ``n = m = 30``: about 11% (small expected counts); Williams' correction
  and 5 bins bring it to 5%. At ``n = 1000``, ``m = 80`` (8 expected per current cell): 5.3–6.6%
  over seeds, with or without Williams' correction.
* AD's interpolated p-value with 30% of the scores tied at 1.0: about 7% (scipy's variance
  assumes no ties); its permutation p-value holds 5%.
* PSI with the first-order threshold ``(1/n + 1/m) chi2_{B-1, 1-alpha}``
  (``calibration="asymptotic"``): 8.2% at ``n = 1000``, ``m = 80`` and 6.0% at ``n = m = 200``
  (pinned below on 20000 draws of the exact null law); 5.0% at ``10^5``. The default
  moment-matched threshold holds 5% in all of them.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from confide.monitor._psi import psi_rows, psi_test
from confide.monitor._window_report import run_window_tests

ALPHA = 0.05
DRAWS = 2000


def _tolerance(draws: int = DRAWS) -> float:
    return stats.binom.ppf(0.999, draws, ALPHA) / draws


def _scores(rng: np.random.Generator, kind: str, shape: tuple[int, int]) -> np.ndarray:
    x = rng.beta(5, 2, size=shape)
    if kind == "decimals":
        x = np.round(x, 2)
    elif kind == "heavy":
        x = np.where(rng.random(shape) < 0.3, 1.0, np.round(x * 10) / 10)
    return x


def _rates(seed, kind, n, m, methods, options=None, draws=DRAWS, per_draw_seed=()):
    rng = np.random.default_rng(seed)
    ref, cur = _scores(rng, kind, (draws, n)), _scores(rng, kind, (draws, m))
    flagged = np.zeros(len(methods))
    for i in range(draws):
        opts = {k: dict(v) for k, v in (options or {}).items()}
        for name in per_draw_seed:  # random permutations for every window, not one fixed set
            opts.setdefault(name, {})["seed"] = seed * draws + i
        rep = run_window_tests(
            ref[i], cur[i], methods=methods, alpha=ALPHA, correction=None, options=opts
        )
        flagged += [r.drifted for r in rep.results]
    return dict(zip(methods, flagged / draws, strict=True))


DEFAULT = ("ks", "ad", "cvm", "chi2", "psi")


RANKS_AND_CHI2 = ("ks", "ad", "cvm", "chi2")
PSI_LIGHT = {"psi": {"n_simulations": 4000}}  # a tied reference changes the cached null law


@pytest.mark.slow
@pytest.mark.parametrize(
    ("seed", "kind", "n", "m", "methods", "options", "draws"),
    [
        (1, "continuous", 200, 200, (*DEFAULT, "g"), None, DRAWS),
        (2, "continuous", 50, 500, (*DEFAULT, "g"), {"g": {"williams": True}}, DRAWS),
        (3, "continuous", 1000, 80, DEFAULT, None, DRAWS),
        (4, "decimals", 1000, 80, RANKS_AND_CHI2, None, DRAWS),
        (5, "decimals", 200, 200, (*RANKS_AND_CHI2, "psi"), PSI_LIGHT, 1000),
        (6, "continuous", 15, 18, DEFAULT, None, DRAWS),  # exact KS and CvM p-values
        (7, "continuous", 30, 30, ("g",), {"g": {"williams": True, "n_bins": 5}}, DRAWS),
    ],
)
def test_default_tests_hold_their_false_alarm_rate(seed, kind, n, m, methods, options, draws):
    rates = _rates(seed, kind, n, m, methods, options, draws=draws)
    tol = _tolerance(draws)
    assert all(r <= tol for r in rates.values()), (rates, tol)
    # KS's exact p-value is conservative under ties but must not be dead.
    assert rates.get("ks", 0.02) > 0.005


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "n", "m"), [(8, 200, 200), (9, 40, 25)])
def test_heavy_ties_permutation_and_pooled_bins_hold_their_rate(seed, n, m):
    perm = {"method": "permutation", "n_resamples": 99}
    options = {
        "ad": perm,
        "cvm": perm,
        "psi": {"calibration": "simulation", "binning": "pooled", "n_simulations": 999},
    }
    rates = _rates(
        seed,
        "heavy",
        n,
        m,
        ("ks", "ad", "cvm", "chi2", "psi"),
        options,
        draws=1000,
        per_draw_seed=("ad", "cvm", "psi"),
    )
    tol = _tolerance(1000)
    assert all(r <= tol for r in rates.values()), (rates, tol)


def test_psi_fixed_cutoff_is_too_loose_where_the_size_aware_one_is_not():
    rates = _rates(10, "continuous", 1000, 80, ("psi",), draws=DRAWS)
    assert rates["psi"] <= _tolerance()
    # Healthy windows against PSI > 0.1: a third raise an alarm at n = m = 200, half at m = 80.
    rng = np.random.default_rng(9)
    ref, cur = rng.beta(5, 2, (400, 200)), rng.beta(5, 2, (400, 200))
    above = np.mean([psi_test(r, c).statistic > 0.1 for r, c in zip(ref, cur, strict=True)])
    assert above > 0.25
    ref, cur = rng.beta(5, 2, (400, 1000)), rng.beta(5, 2, (400, 80))
    above = np.mean([psi_test(r, c).statistic > 0.1 for r, c in zip(ref, cur, strict=True)])
    assert above > 0.5


def _null_counts(rng, n, m, bins, draws):
    """Exact null law of the reference-quantile histogram (continuous scores): reference counts
    fixed by construction, bin probabilities uniform spacings (Dirichlet), current multinomial."""
    pos = (np.arange(1, bins) * n) // bins
    ref = np.diff(np.concatenate(([0], pos, [n])))
    spacings = np.diff(np.concatenate(([0], pos + 1, [n + 1])))
    cur = rng.multinomial(m, rng.dirichlet(spacings.astype(float), size=draws))
    return np.broadcast_to(ref, cur.shape), cur


@pytest.mark.parametrize(
    ("n", "m", "first_order_low", "first_order_high"),
    [(1000, 80, 0.07, 0.095), (200, 200, 0.055, 0.067), (100_000, 100_000, 0.0, None)],
)
def test_psi_size_aware_thresholds_on_the_exact_null_law(n, m, first_order_low, first_order_high):
    # 20000 draws, vectorised: the library's PSI of every row against the thresholds psi_test uses.
    draws = 20_000
    rng = np.random.default_rng(n + m)
    ref, cur = _null_counts(rng, n, m, 10, draws)
    values, used, _, _ = psi_rows(ref, cur, n, m, "smooth", 1e-4)
    tol = _tolerance(draws)
    scale = 1 / n + 1 / m
    first_order = np.mean(values > scale * stats.chi2.ppf(1 - ALPHA, used - 1))
    # The first-order law is liberal for small current windows (pinned), right for large ones.
    high = tol if first_order_high is None else first_order_high
    assert first_order_low <= first_order <= high, first_order
    # The default (moment-matched) threshold, for these sizes, from one end-to-end call.
    probe = psi_test(np.random.default_rng(0).random(n), np.random.default_rng(1).random(m))
    moments = np.mean(values > probe.threshold)
    assert moments <= tol and moments > ALPHA - 0.01, moments
    if n == 100_000:  # and end to end (fewer draws: each call sorts 2 x 10^5 scores)
        r2 = np.random.default_rng(1)
        flags = [psi_test(r2.random(n), r2.random(m)).drifted for _ in range(150)]
        assert np.mean(flags) <= stats.binom.ppf(0.999, 150, ALPHA) / 150
