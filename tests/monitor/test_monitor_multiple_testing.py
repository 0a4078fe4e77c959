"""Bonferroni, Benjamini–Hochberg and Benjamini–Yekutieli against scipy and the step-up rule."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from confide.exceptions import NonFiniteError, ProbabilityError, ShapeError, ValidationError
from confide.monitor._multiple_testing import (
    benjamini_hochberg,
    benjamini_yekutieli,
    bonferroni,
    correct_p_values,
)

# The example of scipy.stats.false_discovery_control (Benjamini and Hochberg 1995, Table 1).
PS = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
      0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.000]  # fmt: skip


def _random_p(seed: int, k: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.random(k // 2), rng.random(k - k // 2) ** 4])
    p[:3] = [0.0, 1.0, p[3]]  # zero, one and a tie
    return rng.permutation(p)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [1, 2, 15, 200])
def test_bh_and_by_match_scipy(seed, k):
    p = _random_p(seed, k) if k >= 4 else np.random.default_rng(seed).random(k)
    bh = benjamini_hochberg(p, alpha=0.1)
    by = benjamini_yekutieli(p, alpha=0.1)
    np.testing.assert_allclose(bh.adjusted, stats.false_discovery_control(p), rtol=1e-12)
    np.testing.assert_allclose(
        by.adjusted, stats.false_discovery_control(p, method="by"), rtol=1e-12
    )
    assert np.array_equal(bh.rejected, bh.adjusted <= 0.1)


def test_bh_rejects_the_four_of_the_paper():
    res = benjamini_hochberg(PS, alpha=0.05)
    assert res.n_rejected == 4 and res.rejected[:4].all()
    assert bonferroni(PS, alpha=0.05).n_rejected == 3


@settings(max_examples=60, deadline=None)
@given(
    p=st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=30),
    alpha=st.floats(0.001, 0.5),
)
def test_step_up_rule_and_ordering(p, alpha):
    p = np.asarray(p)
    k = p.size
    bh = benjamini_hochberg(p, alpha=alpha)
    # Step-up: reject the r smallest, r = max{j : p_(j) <= j alpha / k}.
    ps = np.sort(p)
    ok = np.flatnonzero(ps <= np.arange(1, k + 1) * alpha / k)
    r = ok[-1] + 1 if ok.size else 0
    # (rounding in k p / j can move a p-value sitting exactly on the line; none of these do)
    if not np.any(np.isclose(ps * k / np.arange(1, k + 1), alpha, rtol=1e-9)):
        assert bh.n_rejected == r
    bon = bonferroni(p, alpha=alpha)
    assert np.all(bon.rejected <= bh.rejected)  # BH rejects at least what Bonferroni does
    assert np.all(bh.adjusted >= p - 1e-15) and np.all(bh.adjusted <= 1)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(bh.adjusted[order]) >= 0)
    assert np.array_equal(bon.adjusted, np.minimum(p * k, 1.0))


def test_family_wise_and_false_discovery_rates_under_the_global_null():
    rng = np.random.default_rng(0)
    draws, k, alpha = 4000, 10, 0.05
    p = rng.random((draws, k))
    bon = np.mean([bonferroni(row, alpha=alpha).n_rejected > 0 for row in p])
    bh = np.mean([benjamini_hochberg(row, alpha=alpha).n_rejected > 0 for row in p])
    tol = stats.binom.ppf(0.999, draws, alpha) / draws
    # Under the global null any rejection is a false discovery: FDR = FWER.
    assert bon <= tol and bh <= tol
    assert bon > alpha / 2  # not trivially conservative


def test_results_are_frozen_read_only_and_json():
    res = correct_p_values([0.01, 0.2, 0.03], method="bh", alpha=0.05)
    assert res.method == "bh"
    with pytest.raises(FrozenInstanceError):
        res.alpha = 0.1  # type: ignore[misc]
    with pytest.raises(ValueError):
        res.adjusted[0] = 0.0
    doc = json.loads(json.dumps(res.to_dict()))
    assert doc["rejected"] == [True, False, True] and doc["n_rejected"] == 2


def test_bad_p_values_and_options():
    with pytest.raises(ProbabilityError, match=r"index 1 \(1\.5\)"):
        bonferroni([0.1, 1.5])
    with pytest.raises(NonFiniteError, match="index 2"):
        benjamini_hochberg([0.1, 0.2, np.nan])
    with pytest.raises(ShapeError):
        benjamini_hochberg([])
    with pytest.raises(ShapeError):
        benjamini_hochberg([[0.1, 0.2]])
    with pytest.raises(ValidationError, match="alpha"):
        bonferroni([0.1], alpha=0.0)
    with pytest.raises(ValidationError, match="correction must be one of"):
        correct_p_values([0.1], method="holm")
