from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import make_multiclass

from confide.metrics import ece, mce, reliability_diagram

calibration_curve = pytest.importorskip("sklearn.calibration").calibration_curve


def test_bins_match_sklearn_calibration_curve_away_from_edges(rng):
    p = rng.random(5000) * 0.98 + 0.01
    p = p[np.abs(p * 10 - np.round(p * 10)) > 1e-6]
    y = (rng.random(p.shape[0]) < p).astype(int)
    diag = reliability_diagram(y, p, n_bins=10, kind="binary")
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10)
    keep = diag.count > 0
    np.testing.assert_allclose(diag.accuracy[keep], prob_true, rtol=1e-12)
    np.testing.assert_allclose(diag.mean_confidence[keep], prob_pred, rtol=1e-12)


def test_fields_and_summary(rng):
    y, p = make_multiclass(rng, n=1000, k=4)
    diag = reliability_diagram(y, p, n_bins=12)
    assert diag.edges.shape == (13,) and diag.count.shape == (12,)
    assert diag.count.sum() == 1000
    assert diag.ece == pytest.approx(ece(y, p, n_bins=12), rel=1e-12)
    assert diag.mce == pytest.approx(mce(y, p, n_bins=12), rel=1e-12)
    empty = diag.count == 0
    assert np.isnan(diag.accuracy[empty]).all()
    d = diag.to_dict()
    assert d["accuracy"][int(np.flatnonzero(empty)[0])] is None
    np.testing.assert_allclose(diag.gap[~empty], (diag.accuracy - diag.mean_confidence)[~empty])


def test_classwise_kind_is_refused(rng):
    y, p = make_multiclass(rng, n=10, k=3)
    with pytest.raises(ValueError, match="kind must be one of"):
        reliability_diagram(y, p, kind="classwise")
