"""Threshold choice: exact values by hand, brute force, scikit-learn's PR curve, bad inputs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.metrics import precision_recall_curve

from confide.decision._bounds import min_samples_for_zero_errors
from confide.decision._threshold_ltt import start_samples
from confide.decision._thresholds import (
    InfeasibleTargetError,
    InsufficientSamplesError,
    threshold_for_cost,
    threshold_for_coverage,
    threshold_for_error,
    threshold_for_precision,
    threshold_for_recall,
    threshold_max_f1,
)
from confide.exceptions import (
    ConfideTypeError,
    LabelError,
    NonFiniteError,
    ShapeError,
    ValidationError,
)

# ---------------------------------------------------------------------------- threshold_for_error


def _four_groups(errors_per_group):
    """30 items at each of 0.95, 0.85, 0.75, 0.65 with the given numbers of errors."""
    conf = np.repeat([0.95, 0.85, 0.75, 0.65], 30)
    correct = np.ones(120, dtype=bool)
    for g, e in enumerate(errors_per_group):
        correct[30 * g : 30 * g + e] = False
    return correct, conf


def test_error_threshold_hand_example():
    # Cumulative (accepted, errors) at 0.9, 0.8, 0.7, 0.6: (30, 3), (60, 9), (90, 19), (120, 39).
    # p-values P(Bin(n, 0.3) <= e): 0.0093, 0.0059, 0.0390, 0.7592 -> the first three are
    # rejected at delta = 0.1, the fourth is not: the threshold is 0.7.
    correct, conf = _four_groups([3, 6, 10, 20])
    assert min_samples_for_zero_errors(0.3, 0.1) == 7 and start_samples(0.3, 0.1) == 21 <= 30
    r = threshold_for_error(correct, conf, max_error=0.3, delta=0.1, grid=[0.9, 0.8, 0.7, 0.6])
    assert r.threshold == 0.7
    assert (r.n, r.n_accepted, r.n_errors) == (120, 90, 19)
    assert (r.n_candidates, r.n_rejected, r.n_tested) == (4, 3, 4)
    assert r.coverage == 0.75 and r.error == 19 / 90
    assert r.p_value == pytest.approx(stats.binom.cdf(19, 90, 0.3), rel=1e-12)
    assert r.p_value == pytest.approx(0.0390204, abs=1e-7)
    assert r.error_upper_bound == pytest.approx(stats.beta.ppf(0.9, 20, 71), rel=1e-12)
    assert r.error_upper_bound <= 0.3
    assert json.loads(json.dumps(r.to_dict()))["threshold"] == 0.7


def test_error_fixed_sequence_stops_at_first_non_rejection():
    # (30, 3) p = 0.009; (60, 20) p = 0.76 stops the sequence, although (90, 20) alone would pass.
    correct, conf = _four_groups([3, 17, 0, 20])
    assert stats.binom.cdf(20, 90, 0.3) <= 0.1
    r = threshold_for_error(correct, conf, max_error=0.3, delta=0.1, grid=[0.9, 0.8, 0.7, 0.6])
    assert r.threshold == 0.9 and r.n_rejected == 1 and r.n_tested == 2


def _reference_ltt(correct, conf, eps, delta, m):
    """Independent implementation: quantile grid, cuts, binom.cdf, fixed sequence."""
    n = len(conf)
    desc = np.sort(conf)[::-1]
    counts = sorted({math.ceil(k * n / m) for k in range(1, m + 1)})
    cands = sorted({float(desc[c - 1]) for c in counts}, reverse=True)
    start = min(max(min_samples_for_zero_errors(eps, delta), start_samples(eps, delta)), n)
    chosen = None
    for t in cands:
        acc = conf >= t
        if acc.sum() < start:
            continue
        if stats.binom.cdf((~correct[acc]).sum(), acc.sum(), eps) > delta:
            break
        chosen = t
    return chosen


@pytest.mark.parametrize("m", [5, 20, 50, 1000])
def test_error_threshold_matches_reference_implementation(m):
    rng = np.random.default_rng(m)
    for _ in range(20):
        n = int(rng.integers(100, 800))
        conf = np.round(rng.beta(4, 1.5, n), 2)  # ties
        correct = rng.random(n) < conf
        ref = _reference_ltt(correct, conf, 0.15, 0.1, m)
        if ref is None:
            with pytest.raises(InfeasibleTargetError):
                threshold_for_error(correct, conf, max_error=0.15, delta=0.1, grid=m)
            continue
        r = threshold_for_error(correct, conf, max_error=0.15, delta=0.1, grid=m)
        assert r.threshold == ref
        assert r.n_accepted == int((conf >= ref).sum())


def test_error_default_grid_is_fifty_quantiles():
    rng = np.random.default_rng(3)
    conf = rng.random(3000)
    correct = rng.random(3000) < conf
    a = threshold_for_error(correct, conf, max_error=0.2)
    b = threshold_for_error(correct, conf, max_error=0.2, grid=50)
    assert a == b


def test_error_float32_and_ties_do_not_depend_on_row_order():
    rng = np.random.default_rng(4)
    conf = np.round(rng.random(2000), 1).astype(np.float32)
    correct = rng.random(2000) < conf
    r = threshold_for_error(correct, conf, max_error=0.2, delta=0.1)
    perm = rng.permutation(2000)
    assert threshold_for_error(correct[perm], conf[perm], max_error=0.2, delta=0.1) == r
    assert r.n_accepted == int((conf >= np.float32(r.threshold)).sum())


def test_insufficient_samples_says_how_many_are_needed():
    with pytest.raises(InsufficientSamplesError, match="At least 29 samples are needed") as info:
        threshold_for_error(np.ones(28, bool), np.linspace(0, 1, 28), max_error=0.1, delta=0.05)
    assert info.value.n_required == 29 and info.value.n == 28
    assert info.value.best_bound == pytest.approx(1 - 0.05 ** (1 / 28))
    assert isinstance(info.value, ValidationError)
    # 29 all-correct samples are enough (0.9^29 = 0.047 <= 0.05).
    r = threshold_for_error(np.ones(29, bool), np.linspace(0, 1, 29), max_error=0.1, delta=0.05)
    assert r.n_accepted == 29 and r.threshold == 0.0


def test_infeasible_target_reports_best_bound():
    rng = np.random.default_rng(5)
    conf = rng.random(500)
    correct = rng.random(500) < 0.5  # 50 % errors at every confidence
    with pytest.raises(InfeasibleTargetError, match="best achievable 95% upper bound") as info:
        threshold_for_error(correct, conf, max_error=0.1)
    assert 0.4 < info.value.best_bound < 0.7
    assert "no threshold certifies" in str(info.value)


def test_grid_without_enough_accepted_items():
    conf = np.linspace(0, 1, 200)
    with pytest.raises(InfeasibleTargetError, match="no threshold of the grid accepts the 75"):
        threshold_for_error(conf > 0.5, conf, max_error=0.1, delta=0.1, grid=[0.9, 0.95])


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(40, 600),
    eps=st.floats(0.05, 0.4),
    delta=st.floats(0.01, 0.3),
    skill=st.floats(0.0, 15.0),
)
def test_returned_threshold_is_certified(seed, n, eps, delta, skill):
    rng = np.random.default_rng(seed)
    conf = np.round(rng.random(n), 2)
    correct = rng.random(n) < 1 / (1 + np.exp(-skill * (conf - 0.3)))
    try:
        r = threshold_for_error(correct, conf, max_error=eps, delta=delta)
    except InfeasibleTargetError:
        return
    assert r.p_value <= delta
    assert r.error_upper_bound <= eps * (
        1 + 1e-9
    )  # dual to the test up to special-function rounding
    acc = conf >= r.threshold
    assert acc.sum() == r.n_accepted and (~correct[acc]).sum() == r.n_errors


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(100, 800),
    eps=st.floats(0.05, 0.3),
    extra=st.floats(0.0, 0.2),
)
def test_looser_max_error_never_raises_the_threshold(seed, n, eps, extra):
    # The tested sequence must be the same for both targets: a grid whose candidates all accept
    # at least start_samples(eps) items (the stricter target's start; the looser one's is lower).
    rng = np.random.default_rng(seed)
    conf = rng.random(n)
    correct = rng.random(n) < 0.5 + 0.5 * conf
    start = max(start_samples(eps, 0.1), min_samples_for_zero_errors(eps, 0.1))
    if start > n:
        return
    grid = np.sort(conf)[::-1][start - 1 :: 10]
    loose = eps + extra
    try:
        strict = threshold_for_error(correct, conf, max_error=eps, delta=0.1, grid=grid)
    except InfeasibleTargetError:
        return
    assert threshold_for_error(correct, conf, max_error=loose, delta=0.1, grid=grid).threshold <= (
        strict.threshold
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"max_error": 0.0},
            ValidationError,
            "max_error must lie strictly between 0 and 1, got 0.0",
        ),
        ({"max_error": 1}, ValidationError, "max_error must lie strictly between 0 and 1, got 1"),
        (
            {"max_error": 0.1, "delta": 1.0},
            ValidationError,
            "delta must lie strictly between 0 and 1",
        ),
        (
            {"max_error": 0.1, "delta": -0.1},
            ValidationError,
            "delta must lie strictly between 0 and 1",
        ),
        ({"max_error": "0.1"}, ConfideTypeError, "max_error must be a number"),
        ({"max_error": 0.1, "grid": 0}, ValidationError, "grid must be at least 1"),
        ({"max_error": 0.1, "grid": [0.5, np.nan]}, ValidationError, "grid contains NaN"),
        ({"max_error": 0.1, "grid": 2.5}, ConfideTypeError, "grid must be None, a number"),
    ],
)
def test_error_bad_parameters(kwargs, error, message):
    conf = np.linspace(0, 1, 100)
    with pytest.raises(error, match=message):
        threshold_for_error(conf > 0.2, conf, **kwargs)


def test_error_bad_arrays():
    conf = np.linspace(0, 1, 100)
    with pytest.raises(NonFiniteError, match="confidence contains NaN: 1 value"):
        threshold_for_error(conf > 0.2, np.r_[np.nan, conf[1:]], max_error=0.1)
    with pytest.raises(ShapeError, match="correct has 99, confidence has 100"):
        threshold_for_error((conf > 0.2)[:99], conf, max_error=0.1)
    with pytest.raises(ShapeError, match="confidence is empty"):
        threshold_for_error([], [], max_error=0.1)
    with pytest.raises(
        LabelError, match=r"correct must hold booleans or 0/1 .* got the value\(s\) \[2\]"
    ):
        threshold_for_error(np.r_[2, np.ones(99, int)], conf, max_error=0.1)
    with pytest.raises(ShapeError, match="confidence must be 1-D"):
        threshold_for_error(conf > 0.2, np.c_[conf, conf], max_error=0.1)


# ------------------------------------------------------------------------- threshold_for_coverage


def test_coverage_in_expectation_hand_values():
    conf = np.arange(1, 11) / 10  # n = 10
    r = threshold_for_coverage(conf, coverage=0.5)  # k = ceil(0.5 * 11) = 6 -> 6th largest = 0.5
    assert (r.rank, r.threshold, r.n_accepted) == (6, 0.5, 6)
    assert r.expected_coverage == 6 / 11 == r.guaranteed_coverage
    assert r.empirical_coverage == 0.6
    r = threshold_for_coverage(conf, coverage=0.9)  # k = ceil(9.9) = 10
    assert (r.rank, r.threshold) == (10, 0.1)
    r = threshold_for_coverage(conf, coverage=0.95)  # k = ceil(10.45) = 11 > n: accept all
    assert r.threshold == -math.inf and r.rank == 11 and r.expected_coverage == 1.0
    assert r.to_dict()["threshold"] == "-inf"
    json.dumps(r.to_dict())


def test_coverage_rank_is_exact_for_decimal_targets():
    # 0.55 * 100 is 55.00000000000001 in floating point; the conformal rank is exactly 55.
    assert math.ceil(0.55 * 100) == 56
    r = threshold_for_coverage(np.arange(1, 100) / 100, coverage=0.55)  # n = 99
    assert r.rank == 55 and r.threshold == 0.45


def test_coverage_with_probability_hand_values():
    # n = 10, coverage 0.5, delta 0.1: P(Bin(10, .5) >= 7) = 0.1719 > 0.1 >= P(>= 8) = 0.0547.
    conf = np.arange(1, 11) / 10
    r = threshold_for_coverage(conf, coverage=0.5, delta=0.1)
    assert r.rank == 8 and r.threshold == 0.3
    assert r.guaranteed_coverage == pytest.approx(stats.beta.ppf(0.1, 8, 3), rel=1e-12)
    assert r.guaranteed_coverage >= 0.5
    assert stats.beta.cdf(0.5, 8, 3) <= 0.1 < stats.beta.cdf(0.5, 7, 4)


def test_coverage_with_probability_matches_beta_search():
    rng = np.random.default_rng(7)
    for n in [1, 5, 50, 999, 5000]:
        conf = rng.random(n)
        for cov, delta in [(0.5, 0.1), (0.9, 0.05), (0.99, 0.2), (0.1, 0.01)]:
            ks = np.arange(1, n + 1)
            ok = stats.beta.cdf(cov, ks, n + 1 - ks) <= delta
            expected = int(ks[ok][0]) if ok.any() else n + 1
            assert threshold_for_coverage(conf, coverage=cov, delta=delta).rank == expected


def test_coverage_counts_ties():
    conf = np.array([0.9, 0.8, 0.8, 0.8, 0.1])
    r = threshold_for_coverage(conf, coverage=0.3)  # k = ceil(1.8) = 2 -> 0.8, with its ties
    assert r.threshold == 0.8 and r.n_accepted == 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"coverage": 0.0}, r"coverage must lie in \(0, 1\], got 0.0"),
        ({"coverage": 1.5}, r"coverage must lie in \(0, 1\], got 1.5"),
        ({"coverage": 0.5, "delta": 1.0}, "delta must lie strictly between 0 and 1"),
    ],
)
def test_coverage_bad_parameters(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        threshold_for_coverage(np.linspace(0, 1, 10), **kwargs)


def test_coverage_bad_arrays():
    with pytest.raises(NonFiniteError, match="confidence contains NaN"):
        threshold_for_coverage([0.1, np.nan], coverage=0.5)
    with pytest.raises(ShapeError, match="confidence is empty"):
        threshold_for_coverage([], coverage=0.5)


# ----------------------------------------------------------------------------- threshold_for_cost


def test_cost_bayes_thresholds():
    p = np.array([0.05, 0.2, 0.25, 0.5, 0.69, 0.7, 0.95])
    y = np.array([0, 0, 1, 0, 1, 1, 1])
    r = threshold_for_cost(y, p, cost_fp=1, cost_fn=3, calibrated=True)
    assert r.threshold == r.threshold_low == 0.25  # 1 / (1 + 3)
    assert (r.n_positive, r.n_negative, r.n_review) == (5, 2, 0)
    assert r.false_positives == 1 and r.false_negatives == 0
    assert r.cost == pytest.approx(1 / 7)
    assert r.model_cost == pytest.approx(np.mean([0.15, 0.6, 0.75, 0.5, 0.31, 0.3, 0.05]))
    # Review at cost 0.3 < 1*3/4: t_low = 0.3 / 3 = 0.1, t_high = 1 - 0.3 / 1 = 0.7.
    r = threshold_for_cost(y, p, cost_fp=1, cost_fn=3, cost_review=0.3, calibrated=True)
    assert r.threshold_low == pytest.approx(0.1) and r.threshold == pytest.approx(0.7)
    assert (r.n_negative, r.n_review, r.n_positive) == (1, 4, 2)
    assert r.cost == pytest.approx(0.3 * 4 / 7)
    # Review dearer than the Bayes risk at the threshold: no band.
    r = threshold_for_cost(None, p, cost_fp=1, cost_fn=3, cost_review=0.75, calibrated=True)
    assert r.threshold == r.threshold_low == 0.25 and r.n_review == 0 and r.cost is None


def test_cost_empirical_hand_example():
    # Thresholds 0.1, 0.35, 0.4, 0.8, inf cost 2, 1, 2, 1, 2: the lowest minimum is 0.35.
    y, s = np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])
    r = threshold_for_cost(y, s, cost_fp=1, cost_fn=1)
    assert r.threshold == 0.35 and r.cost == 0.25
    assert r.false_positives == 1 and r.false_negatives == 0
    assert r.false_positive_rate == 0.5 and r.false_negative_rate == 0.0
    json.dumps(r.to_dict())


def _brute_force_cost(y, s, c_fp, c_fn, c_r):
    values = [*np.unique(s).tolist(), math.inf]
    best = None
    for b, t_high in enumerate(values):
        lows = range(b + 1) if c_r is not None else [b]
        for a in lows:
            t_low = values[a]
            pos, neg = s >= t_high, s < t_low
            cost = c_fp * np.sum(pos & (y == 0)) + c_fn * np.sum(neg & (y == 1))
            cost += (c_r or 0) * np.sum(~pos & ~neg)
            key = (cost, b, a)
            if best is None or key < best[0]:
                best = (key, t_low, t_high)
    return best[0][0], best[1], best[2]


@pytest.mark.parametrize("c_r", [None, 0.5, 0.25, 2.0])
@pytest.mark.parametrize(("c_fp", "c_fn"), [(1.0, 1.0), (1.0, 4.0), (5.0, 0.5)])
def test_cost_empirical_matches_brute_force(c_fp, c_fn, c_r):
    rng = np.random.default_rng(int(c_fp * 10 + c_fn))
    for _ in range(10):
        n = int(rng.integers(1, 30))
        s = np.round(rng.random(n), 1)
        y = (rng.random(n) < s).astype(int)
        cost, t_low, t_high = _brute_force_cost(y, s, c_fp, c_fn, c_r)
        r = threshold_for_cost(y, s, cost_fp=c_fp, cost_fn=c_fn, cost_review=c_r)
        assert r.cost == pytest.approx(cost / n, abs=1e-12)
        assert (r.threshold_low, r.threshold) == (t_low, t_high)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"cost_fp": 0, "cost_fn": 1}, ValidationError, "cost_fp must be a finite positive number"),
        (
            {"cost_fp": 1, "cost_fn": -1},
            ValidationError,
            "cost_fn must be a finite positive number",
        ),
        ({"cost_fp": 1, "cost_fn": 1, "cost_review": -0.1}, ValidationError, "cost_review must be"),
        ({"cost_fp": 1, "cost_fn": np.inf}, ValidationError, "cost_fn must be a finite"),
        ({"cost_fp": "1", "cost_fn": 1}, ConfideTypeError, "cost_fp must be a number"),
    ],
)
def test_cost_bad_parameters(kwargs, error, message):
    with pytest.raises(error, match=message):
        threshold_for_cost([0, 1], [0.2, 0.8], **kwargs)


def test_cost_bad_arrays():
    with pytest.raises(ConfideTypeError, match="y_true is required unless calibrated=True"):
        threshold_for_cost(None, [0.2, 0.8], cost_fp=1, cost_fn=1)
    with pytest.raises(ValidationError, match="y_prob must hold probabilities"):
        threshold_for_cost([0, 1], [0.2, 1.8], cost_fp=1, cost_fn=1, calibrated=True)
    with pytest.raises(LabelError, match="y_true must hold booleans or 0/1"):
        threshold_for_cost([0, 3], [0.2, 0.8], cost_fp=1, cost_fn=1)
    with pytest.raises(ShapeError, match="y_true has 3, y_prob has 2"):
        threshold_for_cost([0, 1, 1], [0.2, 0.8], cost_fp=1, cost_fn=1)


# ------------------------------------------------------------------- precision / recall / F1


def _sk_at(y, s, t):
    precision, recall, thresholds = precision_recall_curve(y, s)
    i = int(np.flatnonzero(thresholds == t)[0])
    return precision[i], recall[i], (precision[:-1], recall[:-1], thresholds)


def test_pr_hand_example():
    y, s = np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])
    assert threshold_for_precision(y, s, min_precision=0.6).threshold == 0.35
    assert threshold_for_precision(y, s, min_precision=1.0).threshold == 0.8
    assert threshold_for_recall(y, s, min_recall=0.5).threshold == 0.8
    assert threshold_for_recall(y, s, min_recall=1.0).threshold == 0.35
    f = threshold_max_f1(y, s)
    assert f.threshold == 0.35 and f.f1 == pytest.approx(0.8)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pr_thresholds_match_sklearn_exactly(dtype):
    rng = np.random.default_rng(11)
    for trial in range(30):
        n = int(rng.integers(5, 3000))
        s = np.round(rng.random(n), int(rng.integers(1, 4))).astype(dtype)  # many ties
        y = (rng.random(n) < 0.2 + 0.6 * s).astype(int)
        if y.sum() == 0:
            continue
        prec_t, rec_t = 0.5 + 0.4 * rng.random(), rng.random()
        p_all, r_all, _ = precision_recall_curve(y, s)
        p_all, r_all = p_all[:-1], r_all[:-1]
        # precision target: max recall, then max precision
        ok = p_all >= prec_t
        if ok.any():
            got = threshold_for_precision(y, s, min_precision=prec_t)
            p, r, _ = _sk_at(y, s, got.threshold)
            assert (got.precision, got.recall) == (p, r)
            assert r == r_all[ok].max() and p == p_all[ok & (r_all == r)].max()
        else:
            with pytest.raises(InfeasibleTargetError, match="no threshold reaches precision"):
                threshold_for_precision(y, s, min_precision=prec_t)
        # recall target: max precision, then max recall
        got = threshold_for_recall(y, s, min_recall=rec_t)
        p, r, _ = _sk_at(y, s, got.threshold)
        ok = r_all >= rec_t
        assert (got.precision, got.recall) == (p, r)
        assert p == p_all[ok].max() and r == r_all[ok & (p_all == p)].max()
        # max F1 against the F1 computed from scikit-learn's precision and recall
        got = threshold_max_f1(y, s)
        f1 = np.where(p_all + r_all > 0, 2 * p_all * r_all / np.maximum(p_all + r_all, 1e-300), 0)
        p, r, _ = _sk_at(y, s, got.threshold)
        assert (got.precision, got.recall) == (p, r)
        assert got.f1 == pytest.approx(f1.max(), rel=1e-12)


def test_certified_precision_is_threshold_for_error_on_labels():
    rng = np.random.default_rng(12)
    s = rng.random(4000)
    y = (rng.random(4000) < s).astype(int)
    got = threshold_for_precision(y, s, min_precision=0.85, delta=0.1)
    ref = threshold_for_error(y, s, max_error=0.15, delta=0.1)
    assert got.threshold == ref.threshold
    assert got.false_positives == ref.n_errors and got.n_predicted_positive == ref.n_accepted
    assert got.precision_lower_bound == pytest.approx(1 - ref.error_upper_bound)
    assert got.precision_lower_bound >= 0.85 - 1e-9
    # a fixed grid: the reported threshold is the grid value, not the data value below it
    fixed = threshold_for_precision(y, s, min_precision=0.85, delta=0.1, grid=np.linspace(0, 1, 41))
    assert fixed.threshold in np.linspace(0, 1, 41)
    assert fixed.n_predicted_positive == int((s >= fixed.threshold).sum())


def test_pr_bad_inputs():
    with pytest.raises(LabelError, match="y_true has no positive"):
        threshold_for_recall([0, 0], [0.1, 0.2], min_recall=0.5)
    with pytest.raises(LabelError, match="y_true has no positive"):
        threshold_max_f1([0, 0], [0.1, 0.2])
    with pytest.raises(InfeasibleTargetError, match="highest precision on these data is 0"):
        threshold_for_precision([0, 0], [0.1, 0.2], min_precision=0.5)
    with pytest.raises(ValidationError, match=r"min_recall must lie in \(0, 1\], got 0"):
        threshold_for_recall([0, 1], [0.1, 0.2], min_recall=0)
    with pytest.raises(ValidationError, match="min_precision must lie strictly between 0 and 1"):
        threshold_for_precision([0, 1], [0.1, 0.2], min_precision=1.0, delta=0.1)
    with pytest.raises(NonFiniteError, match="y_prob contains NaN"):
        threshold_max_f1([0, 1], [0.1, np.nan])
    with pytest.raises(ShapeError, match="y_true has 3, y_prob has 2"):
        threshold_max_f1([0, 1, 1], [0.1, 0.2])
