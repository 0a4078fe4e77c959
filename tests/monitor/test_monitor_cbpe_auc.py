"""CBPE's expected ROC AUC against brute force: the self pairs i = j, ties, and NannyML's form."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from confide.monitor._cbpe_metrics import bootstrap_draws, centred_ranks, expected_auc


def _enumerate(p: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """Every label vector of a small sample: exact E[U], E[N1 N0] and E[AUC | both classes]."""
    n = p.size
    labels = np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.float64)
    prob = np.prod(np.where(labels == 1, p, 1 - p), axis=1)
    gt = (score[:, None] > score[None, :]) + 0.5 * (score[:, None] == score[None, :])
    u = np.einsum("bi,bj,ij->b", labels, 1 - labels, gt)
    n1 = labels.sum(1)
    pairs = n1 * (n - n1)
    ok = pairs > 0
    auc = np.where(ok, u / np.where(ok, pairs, 1.0), 0.0)
    return {
        "u": float(np.dot(prob, u)),
        "pairs": float(np.dot(prob, pairs)),
        "auc": float(np.dot(prob[ok], auc[ok]) / prob[ok].sum()),
    }


def _nannyml_form(p: np.ndarray, score: np.ndarray) -> float:
    """NannyML 0.13.1's cumulative-sum ROC (self pairs kept), written out pair by pair."""
    gt = (score[:, None] > score[None, :]) + 0.5 * (score[:, None] == score[None, :])
    num = float(np.einsum("i,j,ij->", p, 1 - p, gt))  # includes i = j with weight 1/2
    return num / (p.sum() * (1 - p).sum())


def test_expected_auc_equals_exact_pair_expectations_without_self_pairs():
    """Hand-checkable case: the value is E[U] / E[N1 N0] exactly (n = 4, with a tie)."""
    p = np.array([0.2, 0.5, 0.5, 0.9])
    score = np.array([0.1, 0.3, 0.3, 0.8])
    ex = _enumerate(p, score)
    assert expected_auc(p, score) == pytest.approx(ex["u"] / ex["pairs"], rel=1e-14)
    # E[N1 N0] = P N - sum p (1 - p), from Cov(N1, N0) = -Var(N1)
    pn = p.sum() * (1 - p).sum()
    assert ex["pairs"] == pytest.approx(pn - np.dot(p, 1 - p), rel=1e-14)


@pytest.mark.parametrize("seed", range(5))
def test_expected_auc_matches_brute_force_and_ignores_row_order(seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.02, 0.98, size=11)
    score = np.round(rng.uniform(size=11), 1)  # many ties
    ex = _enumerate(p, score)
    got = expected_auc(p, score)
    assert got == pytest.approx(ex["u"] / ex["pairs"], rel=1e-12)
    perm = rng.permutation(11)
    assert expected_auc(p[perm], score[perm]) == pytest.approx(got, rel=1e-14)


def test_nannyml_form_is_the_self_pair_plug_in():
    """NannyML's value = (E[U] + 1/2 sum p(1-p)) / (P N) = 1/2 + E[C] / (P N) (centred ranks)."""
    rng = np.random.default_rng(3)
    p = rng.uniform(size=200)
    score = np.round(rng.uniform(size=200), 2)
    nml = _nannyml_form(p, score)
    v = float(np.dot(p, 1 - p))
    pn = p.sum() * (1 - p).sum()
    ours = expected_auc(p, score)
    assert nml == pytest.approx((ours * (pn - v) + 0.5 * v) / pn, rel=1e-12)
    assert nml == pytest.approx(0.5 + np.dot(centred_ranks(score), p) / pn, rel=1e-12)
    # pulled towards 1/2 relative to ours
    assert abs(nml - 0.5) < abs(ours - 0.5)


def test_ratio_is_closer_than_nannyml_form_to_the_exact_expected_auc():
    """Over 200 random small samples (n = 10, enumerated), |ours - E[AUC]| beats the self-pair
    form in most cases and on average by a wide margin (measured: 178/200, 0.0015 vs 0.0064)."""
    rng = np.random.default_rng(0)
    ours_err, nml_err = [], []
    for _ in range(200):
        p = rng.uniform(0.05, 0.95, size=10)
        score = np.round(rng.uniform(size=10), 1)
        exact = _enumerate(p, score)["auc"]
        ours_err.append(abs(expected_auc(p, score) - exact))
        nml_err.append(abs(_nannyml_form(p, score) - exact))
    ours_err, nml_err = np.asarray(ours_err), np.asarray(nml_err)
    assert np.sum(ours_err < nml_err) >= 170
    assert ours_err.mean() < 0.3 * nml_err.mean()


def test_ratio_is_unbiased_for_the_realised_auc_at_moderate_n():
    """n = 400: the mean realised AUC of 20 000 label draws from p is within 3 standard errors
    of ours, while NannyML's form sits more than 3 standard errors below it."""
    rng = np.random.default_rng(11)
    n = 400
    score = rng.normal(size=n)
    p = 1 / (1 + np.exp(-1.5 * score))
    draws = bootstrap_draws(p, (p > 0.5).astype(np.intp), score, ("roc_auc",), 20000, rng)
    real = draws["roc_auc"]
    se = real.std() / np.sqrt(real.size)
    assert abs(expected_auc(p, score) - real.mean()) < 3 * se
    assert real.mean() - _nannyml_form(p, score) > 3 * se
