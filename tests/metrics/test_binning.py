"""The bin convention: [e_i, e_{i+1}), last bin closed, edge values up, in the input's precision."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from confide.metrics import assign_bins, quantile_edges, uniform_edges


@pytest.mark.parametrize("n_bins", [1, 3, 10, 15, 20, 100])
def test_uniform_edges_are_correctly_rounded_fractions(n_bins):
    edges = uniform_edges(n_bins)
    assert edges[0] == 0.0 and edges[-1] == 1.0
    for i, e in enumerate(edges):
        assert e == i / n_bins  # Python division is correctly rounded


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_bins", [5, 10, 15, 20])
def test_every_edge_value_goes_to_the_upper_bin(dtype, n_bins):
    edges = uniform_edges(n_bins)
    values = edges.astype(dtype)  # the edge as the caller writes it, in their precision
    idx = assign_bins(values, edges)
    expected = np.minimum(np.arange(n_bins + 1), n_bins - 1)  # 1.0 stays in the last bin
    np.testing.assert_array_equal(idx, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_just_below_an_edge_stay_in_the_lower_bin(dtype):
    edges = uniform_edges(10)
    below = np.nextafter(edges[1:].astype(dtype), dtype(0))
    np.testing.assert_array_equal(assign_bins(below, edges), np.arange(10))


def test_float32_edge_compared_in_float32():
    # float32(0.7) < 0.7 in float64, yet it is "the edge 0.7" for a float32 caller.
    v = np.float32(0.7)
    assert float(v) < 0.7
    assert assign_bins(np.array([v]), uniform_edges(10))[0] == 7
    # The same number held in float64 is below the float64 edge.
    assert assign_bins(np.array([float(v)]), uniform_edges(10))[0] == 6


def test_zero_in_first_and_one_in_last():
    idx = assign_bins(np.array([0.0, 1.0]), uniform_edges(15))
    np.testing.assert_array_equal(idx, [0, 14])


@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=200), st.integers(1, 40))
def test_assignment_matches_definition(values, n_bins):
    x = np.array(values)
    edges = uniform_edges(n_bins)
    idx = assign_bins(x, edges)
    assert ((idx >= 0) & (idx < n_bins)).all()
    lower_ok = x >= edges[idx]
    upper_ok = (x < edges[idx + 1]) | ((idx == n_bins - 1) & (x <= 1.0))
    assert lower_ok.all() and upper_ok.all()


def test_quantile_edges_split_equal_mass_and_keep_ties_together(rng):
    x = rng.random(1000)
    edges = quantile_edges(x, 10)
    counts = np.bincount(assign_bins(x, edges), minlength=10)
    np.testing.assert_array_equal(counts, np.full(10, 100))
    tied = np.repeat([0.1, 0.5, 0.9], [10, 80, 10])
    e = quantile_edges(tied, 4)
    idx = assign_bins(tied, e)
    for v in (0.1, 0.5, 0.9):  # equal values always share a bin
        assert len(np.unique(idx[tied == v])) == 1


@given(st.lists(st.sampled_from([0.1, 0.2, 0.3, 0.5, 0.9]), min_size=2, max_size=60), st.randoms())
def test_quantile_edges_do_not_depend_on_row_order(values, random):
    x = np.array(values)
    perm = np.array(random.sample(range(len(x)), len(x)))
    np.testing.assert_array_equal(quantile_edges(x, 5), quantile_edges(x[perm], 5))


def test_weighted_quantile_edges_equal_repeated_rows(rng):
    x = rng.random(50)
    w = rng.integers(1, 4, 50)
    np.testing.assert_array_equal(
        quantile_edges(x, 7, w.astype(float)), quantile_edges(np.repeat(x, w), 7)
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_bins", [1, 2, 3, 7, 10, 15, 100, 1000, 12345])
def test_direct_uniform_index_equals_the_binary_search(dtype, n_bins):
    # Large inputs take floor(x B) plus one correction; it must file every value, edges and their
    # neighbours in the caller's precision included, exactly as the binary search does.
    from confide.metrics._binning import assign_bins, edges_in_precision, uniform_edges

    rng = np.random.default_rng(n_bins)
    e = uniform_edges(n_bins)
    e_d = e.astype(dtype)
    x = np.concatenate(
        [
            rng.random(20_000).astype(dtype),
            e_d,
            np.nextafter(e_d, dtype(2)),
            np.nextafter(e_d, dtype(-1)),
        ]
    ).astype(dtype)
    assert x.size >= 4096
    expected = np.searchsorted(edges_in_precision(e, x.dtype)[1:-1], x, side="right")
    np.testing.assert_array_equal(assign_bins(x, e), expected)
