"""Simulations: certified error, precision and coverage targets hold on the data distribution.

Design. The guarantee of ``threshold_for_error`` is about the error rate on the *distribution*,
:math:`R(t) = P(\\text{wrong} \\mid \\text{confidence} \\ge t)`, holding with probability
``>= 1 - delta`` over the calibration draw. The error on a finite test half has its own noise: a
threshold with :math:`R(t)` just under the target shows a test error above it about half the
time, so counting test-half misses would fail a correct method. Every check here therefore
compares with the population itself:

* synthetic data: confidence ~ Beta(a, b) and correct ~ Bernoulli(c^k), so
  :math:`R(t) = 1 - E[C^k \\mid C \\ge t]` in closed form from the Beta moments, and the coverage
  :math:`P(C \\ge t)` is the Beta survival function;
* real data: the population is the empirical distribution of a whole file (the 10 000 CIFAR-10-LT
  test predictions, the 277 677 census rows). Each calibration set is ``n`` draws with
  replacement from it — i.i.d. from that population — and :math:`R(t)` is computed exactly on the
  whole file (the undrawn rows act as the test half, the drawn ones barely matter at this size).

Over ``D`` draws the number of violations must be ``<= binom.ppf(0.999, D, delta)``: a method
exactly at level ``delta`` fails this check with probability 0.1 %. The naive threshold (the
lowest one whose empirical calibration error is ``<= max_error``) must violate in more than
30 % of the draws, and the certified threshold must be found in most draws with a sensible
coverage, so that the check cannot pass by always refusing.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats
from tests.conftest import shared_data

from confide.decision._thresholds import (
    InfeasibleTargetError,
    threshold_for_coverage,
    threshold_for_error,
    threshold_for_precision,
)

DRAWS = 500


def _tolerance(draws: int, delta: float) -> float:
    return float(stats.binom.ppf(0.999, draws, delta))


def _naive_threshold(correct: np.ndarray, conf: np.ndarray, eps: float) -> float:
    """Lowest distinct confidence whose empirical error among conf >= t is <= eps."""
    values, inverse = np.unique(conf, return_inverse=True)
    n_at = np.bincount(inverse, minlength=values.size)[::-1].cumsum()
    e_at = np.bincount(inverse, weights=~correct, minlength=values.size)[::-1].cumsum()
    ok = np.flatnonzero(e_at <= eps * n_at)
    return float(values[::-1][ok[-1]])


class _Pool:
    """A finite population: exact risk and coverage of ``conf >= t``."""

    def __init__(self, conf: np.ndarray, flagged: np.ndarray) -> None:
        order = np.argsort(conf, kind="stable")
        self.conf = conf[order]
        self.flag_cum = np.concatenate(([0], np.cumsum(flagged[order])))
        self.n = conf.size
        self.raw_conf, self.raw_flag = conf, flagged

    def risk(self, t: float) -> float:
        i = int(np.searchsorted(self.conf, t, side="left"))
        return (self.flag_cum[-1] - self.flag_cum[i]) / (self.n - i)

    def coverage(self, t: float) -> float:
        return 1.0 - int(np.searchsorted(self.conf, t, side="left")) / self.n


def _check_error_guarantee(draw, risk, coverage, eps, delta, *, min_found, min_coverage):
    rng = np.random.default_rng(2024)
    violations = naive_violations = found = 0
    covs = []
    for _ in range(DRAWS):
        correct, conf = draw(rng)
        naive_violations += risk(_naive_threshold(correct, conf, eps)) > eps
        try:
            t = threshold_for_error(correct, conf, max_error=eps, delta=delta).threshold
        except InfeasibleTargetError:
            continue
        found += 1
        violations += risk(t) > eps
        covs.append(coverage(t))
    assert violations <= _tolerance(DRAWS, delta), (violations, DRAWS)
    assert naive_violations > 0.3 * DRAWS, naive_violations
    assert found >= min_found * DRAWS, found
    assert np.mean(covs) >= min_coverage, np.mean(covs)
    return violations, naive_violations


def _beta_population(a: float, b: float, k: int):
    moment = float(np.prod([(a + i) / (a + b + i) for i in range(k)]))

    def risk(t: float) -> float:
        mass = 1.0 - special.betainc(a, b, t)
        return 1.0 - moment * (1.0 - special.betainc(a + k, b, t)) / mass

    def coverage(t: float) -> float:
        return 1.0 - float(special.betainc(a, b, t))

    return risk, coverage


@pytest.mark.parametrize(
    ("a", "b", "k", "eps", "n", "oracle"),
    [
        (4.0, 1.5, 1, 0.1, 2000, 0.357),
        (8.0, 1.0, 1, 0.05, 1000, 0.629),
        (4.0, 1.5, 3, 0.1, 4000, 0.085),
    ],
)
def test_error_guarantee_synthetic(a, b, k, eps, n, oracle):
    risk, coverage = _beta_population(a, b, k)
    ts = np.linspace(0, 0.9999, 20001)
    assert coverage(ts[np.argmax([risk(t) <= eps for t in ts])]) == pytest.approx(oracle, abs=2e-3)

    def draw(rng):
        c = rng.beta(a, b, n)
        return rng.random(n) < c**k, c

    _check_error_guarantee(
        draw, risk, coverage, eps, 0.1, min_found=0.5, min_coverage=0.35 * oracle
    )


def test_error_guarantee_synthetic_fixed_grid():
    """A grid fixed in advance: the textbook LTT setting."""
    risk, _ = _beta_population(4.0, 1.5, 1)
    grid = np.linspace(0.5, 1.0, 101)
    rng = np.random.default_rng(7)
    violations = found = 0
    for _ in range(DRAWS):
        c = rng.beta(4.0, 1.5, 2000)
        try:
            t = threshold_for_error(rng.random(2000) < c, c, max_error=0.1, delta=0.1, grid=grid)
        except InfeasibleTargetError:
            continue
        found += 1
        violations += risk(t.threshold) > 0.1
    assert violations <= _tolerance(DRAWS, 0.1) and found > 0.5 * DRAWS


def _cifar(name: str) -> tuple[np.ndarray, np.ndarray]:
    data = np.load(shared_data("sctl_cifar10_lt_logits", f"{name}.npz"))
    z = data["test_logits"].astype(np.float64)
    p = special.softmax(z, axis=1)
    return p.max(axis=1), p.argmax(axis=1) == data["test_labels"]


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "eps", "n"),
    [("densenet40_c10_lt", 0.1, 2000), ("resnet_wide28_c10_lt", 0.05, 2000)],
)
def test_error_guarantee_cifar10_lt(name, eps, n):
    conf, correct = _cifar(name)
    pool = _Pool(conf, ~correct)

    def draw(rng):
        idx = rng.integers(0, pool.n, n)
        return correct[idx], conf[idx]

    _check_error_guarantee(
        draw, pool.risk, pool.coverage, eps, 0.1, min_found=0.95, min_coverage=0.3
    )


def _census() -> tuple[np.ndarray, np.ndarray]:
    data = np.load(shared_data("nannyml_census_employment_ma", "employment_ma_scores.npz"))
    return data["y_true"].astype(np.int64), data["y_prob"]


@pytest.mark.shared_data
def test_error_guarantee_census():
    y, p = _census()
    conf = np.maximum(p, 1 - p)
    correct = (p > 0.5) == (y == 1)  # class 1 only when p > 0.5 (the library convention)
    pool = _Pool(conf, ~correct)

    def draw(rng):
        idx = rng.integers(0, pool.n, 2000)
        return correct[idx], conf[idx]

    _check_error_guarantee(
        draw, pool.risk, pool.coverage, 0.05, 0.1, min_found=0.9, min_coverage=0.25
    )


@pytest.mark.shared_data
def test_precision_guarantee_census():
    y, p = _census()
    pool = _Pool(p, y == 0)  # risk = share of negatives among predicted positives
    rng = np.random.default_rng(5)
    violations = naive = found = 0
    for _ in range(DRAWS):
        idx = rng.integers(0, pool.n, 2000)
        yy, pp = y[idx], p[idx]
        naive += pool.risk(_naive_threshold(yy == 1, pp, 0.1)) > 0.1
        try:
            t = threshold_for_precision(yy, pp, min_precision=0.9, delta=0.1).threshold
        except InfeasibleTargetError:
            continue
        found += 1
        violations += pool.risk(t) > 0.1
    assert violations <= _tolerance(DRAWS, 0.1)
    assert naive > 0.3 * DRAWS and found > 0.7 * DRAWS  # the top 4 % already has 4 % negatives


def test_coverage_guarantees_synthetic():
    """In expectation: mean coverage k/(n+1); with delta: misses at the exact Beta rate."""
    a, b, n, draws, target, delta = 2.0, 5.0, 200, 3000, 0.8, 0.1
    rng = np.random.default_rng(11)
    mean_cov, misses = [], 0
    k_exp = threshold_for_coverage(rng.random(n), coverage=target).rank
    k_prob = threshold_for_coverage(rng.random(n), coverage=target, delta=delta).rank
    for _ in range(draws):
        c = rng.beta(a, b, n)
        t = threshold_for_coverage(c, coverage=target).threshold
        mean_cov.append(1.0 - special.betainc(a, b, t))
        t = threshold_for_coverage(c, coverage=target, delta=delta).threshold
        misses += 1.0 - special.betainc(a, b, t) < target
    se = np.std(mean_cov) / np.sqrt(draws)
    assert abs(np.mean(mean_cov) - k_exp / (n + 1)) < 4 * se
    assert np.mean(mean_cov) > target - 4 * se
    # P(miss) = P(Beta(k, n + 1 - k) < target), exactly, and <= delta.
    p_miss = stats.beta.cdf(target, k_prob, n + 1 - k_prob)
    assert p_miss <= delta
    assert (
        stats.binom.ppf(0.0005, draws, p_miss) <= misses <= stats.binom.ppf(0.9995, draws, p_miss)
    )


@pytest.mark.shared_data
def test_coverage_guarantee_cifar10_lt():
    conf, correct = _cifar("densenet40_c10_lt")
    pool = _Pool(conf, ~correct)
    rng = np.random.default_rng(3)
    misses = 0
    for _ in range(DRAWS):
        c = conf[rng.integers(0, pool.n, 500)]
        misses += pool.coverage(threshold_for_coverage(c, coverage=0.7, delta=0.1).threshold) < 0.7
    assert misses <= _tolerance(DRAWS, 0.1)
