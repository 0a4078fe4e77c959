"""The compiled kernels give bit-identical results to the NumPy reference path."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import make_multiclass

from confide import _accel
from confide.metrics import _kernels as kernels
from confide.metrics import brier_score, ece, set_accelerator, uniform_edges

pytest.importorskip("numba")


@pytest.fixture
def restore_accelerator():
    before = _accel.accelerator()
    yield
    set_accelerator(before)


@pytest.fixture(params=[1 << 16, 4096], ids=["one-chunk", "five-chunks"])
def chunk_rows(request, monkeypatch):
    monkeypatch.setattr(_accel, "CHUNK_ROWS", request.param)
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_bins", [1, 10, 15, 37])
def test_top_label_bins_identical(rng, dtype, n_bins, restore_accelerator, chunk_rows):
    y, p = make_multiclass(rng, n=20000, k=7, dtype=dtype)
    # put some values exactly on edges and at 1.0, and ties across columns
    p[:50] = 0.0
    p[:50, 0] = 1.0
    p[50:100] = 0
    p[50:100, :2] = 0.5
    edges = uniform_edges(n_bins)
    p[100:120] = 0
    p[100:120, 3] = edges[n_bins // 2].astype(dtype)
    p[100:120, 4] = 1 - p[100:120, 3]
    set_accelerator("numba")
    fast = kernels.top_label_bin_sums(p, y, edges)
    set_accelerator("numpy")
    ref = kernels.top_label_bin_sums(p, y, edges)
    for a, b in zip(fast, ref, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_public_metrics_identical_across_accelerators(
    rng, dtype, restore_accelerator, monkeypatch, chunk_rows
):
    y, p = make_multiclass(rng, n=20000, k=4, dtype=dtype)
    monkeypatch.setattr(_accel, "NUMBA_MIN_SIZE", 0)
    set_accelerator("numba")
    fast = (ece(y, p), brier_score(y, p))
    set_accelerator("numpy")
    ref = (ece(y, p), brier_score(y, p))
    assert fast[0] == ref[0]
    assert fast[1] == pytest.approx(ref[1], rel=1e-13)


def test_chunks_do_not_change_the_value_beyond_rounding(rng, restore_accelerator, monkeypatch):
    y, p = make_multiclass(rng, n=20000, k=4)
    set_accelerator("numpy")
    one = ece(y, p)
    monkeypatch.setattr(_accel, "CHUNK_ROWS", 1000)
    assert ece(y, p) == pytest.approx(one, rel=1e-13)


def test_unknown_accelerator_is_refused():
    with pytest.raises(ValueError, match="accelerator must be"):
        set_accelerator("gpu")
