from __future__ import annotations

import numpy as np
import pytest

from confide import exceptions as E
from confide._validation import (
    as_float_array,
    as_label_array,
    check_fraction,
    check_probabilities,
    default_sum_tolerance,
)


def test_errors_subclass_builtin_exceptions():
    assert issubclass(E.ShapeError, ValueError)
    assert issubclass(E.ConfideTypeError, TypeError)
    assert issubclass(E.MissingDependencyError, ImportError)
    err = E.MissingDependencyError("pandas", "io", "Reading CSV")
    assert "pip install 'confide[io]'" in str(err)


def test_float32_is_kept_and_ints_become_float64():
    assert as_float_array(np.zeros(3, np.float32), "x").dtype == np.float32
    assert as_float_array([1, 2], "x").dtype == np.float64


@pytest.mark.parametrize(
    ("value", "exc", "match"),
    [
        ("abc", E.ConfideTypeError, "string"),
        ([[1.0, 2.0], [3.0]], E.ShapeError, "rectangular"),
        (np.array(["a", "b"]), E.ConfideTypeError, "must hold numbers"),
        ([1.0, np.inf], E.NonFiniteError, "infinity.*index 1"),
    ],
)
def test_as_float_array_errors(value, exc, match):
    with pytest.raises(exc, match=match):
        as_float_array(value, "x")


def test_row_sum_message_names_tolerance_and_worst_row():
    p = np.array([[0.5, 0.5], [0.4, 0.5], [0.3, 0.69]])
    with pytest.raises(E.ProbabilityError, match=r"tolerance 1\.0e-06.*2 row\(s\).*worst is row 1"):
        check_probabilities(p, "probs")


def test_default_tolerance_grows_with_float32_and_classes():
    assert default_sum_tolerance(np.dtype(np.float64), 10) == 1e-6
    assert default_sum_tolerance(np.dtype(np.float32), 100) > 1e-4


def test_labels():
    np.testing.assert_array_equal(as_label_array([1.0, 2.0]), [1, 2])
    with pytest.raises(E.LabelError, match="integer class indices"):
        as_label_array([0.5])
    with pytest.raises(E.LabelError, match="integer class indices"):
        as_label_array(np.array(["cat"]))
    with pytest.raises(E.ShapeError, match="1-D"):
        as_label_array([[1]])


def test_fraction():
    assert check_fraction(0.9, "confidence_level") == 0.9
    with pytest.raises(E.ValidationError, match=r"strictly between 0\.0 and 1\.0"):
        check_fraction(1.0, "confidence_level")
    with pytest.raises(E.ConfideTypeError):
        check_fraction("0.9", "confidence_level")


@pytest.mark.parametrize("mode", ["numba", "numpy"])
@pytest.mark.parametrize(
    ("edit", "exc", "match"),
    [
        (lambda p: p.__setitem__((7, 1), np.nan), E.NonFiniteError, "NaN.*index \\(7, 1\\)"),
        (lambda p: p.__setitem__((3, 0), -0.1), E.ProbabilityError, r"\[0, 1\]"),
        (lambda p: p.__setitem__((5, 2), p[5, 2] + 0.01), E.ProbabilityError, "worst is row 5"),
    ],
)
def test_compiled_scan_and_numpy_path_reject_the_same_input(mode, edit, exc, match, monkeypatch):
    pytest.importorskip("numba")
    from confide import _accel

    monkeypatch.setattr(_accel, "NUMBA_MIN_SIZE", 0)
    before = _accel.accelerator()
    _accel.set_accelerator(mode)
    try:
        p = np.full((20, 4), 0.25)
        check_probabilities(p)  # valid input passes on both paths
        edit(p)
        with pytest.raises(exc, match=match):
            check_probabilities(p)
    finally:
        _accel.set_accelerator(before)
