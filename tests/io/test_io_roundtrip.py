"""write_predictions -> read_predictions gives back the same labels, values and classes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confide.io import Predictions, read_predictions, write_predictions

FORMATS = ["csv", "csv.gz", "parquet", "pq", "npz"]
EXACT = {"parquet", "pq", "npz"}  # keep the dtype


def _probs(rng: np.random.Generator, n: int, k: int, dtype: type) -> np.ndarray:
    p = rng.dirichlet(np.ones(k), size=n).astype(dtype)
    return p


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multiclass_probs_round_trip(tmp_path, suffix, dtype):
    rng = np.random.default_rng(1)
    p = _probs(rng, 200, 5, dtype)
    y = rng.integers(0, 5, 200)
    path = write_predictions(tmp_path / f"preds.{suffix}", y, p)
    got = read_predictions(path)
    assert isinstance(got, Predictions)
    assert got.input == "probs"
    assert got.classes == ("0", "1", "2", "3", "4")
    assert got.y_true is not None and got.y_true.dtype == np.intp
    np.testing.assert_array_equal(got.y_true, y)
    if suffix in EXACT:
        assert got.probs.dtype == dtype  # float32 is not upcast
        np.testing.assert_array_equal(got.probs, p)
    else:
        # CSV text has no dtype: float64 values that round back to the written ones exactly.
        assert got.probs.dtype == np.float64
        np.testing.assert_array_equal(got.probs.astype(dtype), p)
    assert got.n_samples == 200 and got.n_classes == 5 and not got.binary
    assert got.logits is None
    assert got.source == str(path)


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_score_round_trip(tmp_path, suffix, dtype):
    rng = np.random.default_rng(2)
    s = rng.random(300).astype(dtype)
    s[:3] = [0.0, 1.0, 0.5]
    y = rng.integers(0, 2, 300)
    got = read_predictions(write_predictions(tmp_path / f"b.{suffix}", y, s))
    assert got.input == "score" and got.binary
    assert got.probs.shape == (300,)
    assert got.classes == ("0", "1")
    np.testing.assert_array_equal(got.y_true, y)
    if suffix in EXACT:
        assert got.probs.dtype == dtype
        np.testing.assert_array_equal(got.probs, s)
    else:
        np.testing.assert_array_equal(got.probs.astype(dtype), s)


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_round_trip_and_softmax(tmp_path, suffix, dtype):
    rng = np.random.default_rng(3)
    z = (rng.normal(size=(100, 4)) * 3).astype(dtype)
    y = rng.integers(0, 4, 100)
    got = read_predictions(write_predictions(tmp_path / f"l.{suffix}", y, logits=z))
    assert got.input == "logits"
    assert got.logits is not None
    if suffix in EXACT:
        assert got.logits.dtype == dtype
        np.testing.assert_array_equal(got.logits, z)
    else:
        np.testing.assert_array_equal(got.logits.astype(dtype), z)
    from confide.scores import softmax

    np.testing.assert_array_equal(got.probs, softmax(got.logits))
    np.testing.assert_allclose(got.probs.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(got.y_true, y)


@pytest.mark.parametrize("suffix", FORMATS)
def test_string_class_names_round_trip(tmp_path, suffix):
    rng = np.random.default_rng(4)
    classes = ["cat", "dog", "NA", "sea lion"]  # "NA" is a class, not a missing value
    p = _probs(rng, 60, 4, np.float64)
    y = rng.integers(0, 4, 60)
    path = write_predictions(tmp_path / f"s.{suffix}", y, p, classes=classes)
    got = read_predictions(path)
    assert got.classes == tuple(classes)
    np.testing.assert_array_equal(got.y_true, y)


@pytest.mark.parametrize("suffix", FORMATS)
def test_integer_class_names_round_trip(tmp_path, suffix):
    rng = np.random.default_rng(5)
    p = _probs(rng, 40, 3, np.float64)
    y = rng.integers(0, 3, 40)
    got = read_predictions(write_predictions(tmp_path / f"i.{suffix}", y, p, classes=[3, 7, 11]))
    assert got.classes == ("3", "7", "11")
    np.testing.assert_array_equal(got.y_true, y)


def test_labels_given_as_class_names(tmp_path):
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    path = write_predictions(
        tmp_path / "n.csv", ["ham", "spam", "spam"], p, classes=["ham", "spam"]
    )
    got = read_predictions(path)
    np.testing.assert_array_equal(got.y_true, [0, 1, 1])
    assert "label" in path.read_text().splitlines()[0]
    assert path.read_text().splitlines()[1].endswith(",ham")


@pytest.mark.parametrize("suffix", FORMATS)
def test_without_labels(tmp_path, suffix):
    p = np.array([[0.25, 0.75], [1.0, 0.0]])
    got = read_predictions(write_predictions(tmp_path / f"u.{suffix}", None, p))
    assert got.y_true is None and not got.has_labels
    np.testing.assert_array_equal(got.probs, p)


def test_binary_named_classes_round_trip_npz_stores_names(tmp_path):
    s = np.array([0.1, 0.9, 0.4])
    y = np.array([0, 1, 1])
    got = read_predictions(write_predictions(tmp_path / "b.npz", y, s, classes=["neg", "pos"]))
    assert got.classes == ("neg", "pos")
    np.testing.assert_array_equal(got.y_true, y)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_binary_named_classes_need_classes_on_read_for_tables(tmp_path, suffix):
    s = np.array([0.1, 0.9, 0.4])
    path = write_predictions(tmp_path / f"b.{suffix}", [0, 1, 1], s, classes=["neg", "pos"])
    got = read_predictions(path, classes=["neg", "pos"])
    np.testing.assert_array_equal(got.y_true, [0, 1, 1])
    assert got.classes == ("neg", "pos")


def test_format_option_overrides_suffix(tmp_path):
    p = np.array([[0.5, 0.5], [0.125, 0.875]])
    path = write_predictions(tmp_path / "preds.dat", [0, 1], p, format="npz")
    assert path == tmp_path / "preds.dat" and path.exists()  # no ".npz" appended
    got = read_predictions(path, format="npz")
    np.testing.assert_array_equal(got.probs, p)
    path = write_predictions(tmp_path / "preds.txt", [0, 1], p, format="CSV")
    assert path.read_text().startswith("p_0,p_1,label")
    np.testing.assert_array_equal(read_predictions(path, format="csv").probs, p)


def test_csv_layout_is_the_documented_one(tmp_path):
    path = write_predictions(tmp_path / "x.csv", [1], np.array([[0.1, 0.9]]), classes=["a", "b"])
    assert path.read_text().splitlines() == ["p_a,p_b,label", "0.1,0.9,b"]
    path = write_predictions(tmp_path / "z.csv", None, logits=np.array([[1.5, -2.0]]))
    assert path.read_text().splitlines() == ["logit_0,logit_1", "1.5,-2.0"]
    path = write_predictions(tmp_path / "s.csv", [1], np.array([0.25]))
    assert path.read_text().splitlines() == ["score,label", "0.25,1"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0, width=32), min_size=1, max_size=20),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20),
)
def test_csv_floats_are_repr_exact(tmp_path_factory, v32, v64):
    d = tmp_path_factory.mktemp("h")
    s32 = np.array(v32, dtype=np.float32)
    got32 = read_predictions(write_predictions(d / "a.csv", None, s32)).probs
    np.testing.assert_array_equal(got32.astype(np.float32), s32)
    s64 = np.array(v64, dtype=np.float64)
    got64 = read_predictions(write_predictions(d / "b.csv", None, s64)).probs
    np.testing.assert_array_equal(got64, s64)
