"""Input checks and JSON conversion shared by the threshold functions."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any

import numpy as np

from confide._validation import as_float_array, as_label_array, check_consistent_length
from confide.exceptions import ConfideTypeError, LabelError, ShapeError, ValidationError

__all__ = ["as_dict", "check_binary", "check_level", "check_pair", "check_scores", "plain"]


def plain(value: Any) -> Any:
    """A JSON-safe Python value: ints, floats (non-finite as "inf", "-inf", "nan"), str, None."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    v = float(value)
    if math.isfinite(v):
        return v
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def as_dict(result: Any) -> dict[str, Any]:
    """The fields of a result dataclass as plain Python values."""
    return {f.name: plain(getattr(result, f.name)) for f in fields(result)}


def check_scores(x: Any, name: str) -> np.ndarray:
    """Finite 1-D real scores (float32 or float64), at least one."""
    if x is None:
        raise ConfideTypeError(f"{name} is required: pass one score per sample.")
    arr = as_float_array(x, name, ndim=1, min_samples=0)
    if arr.shape[0] == 0:
        raise ShapeError(f"{name} is empty: pass at least one sample.")
    return arr


def check_binary(y: Any, name: str, meaning: str) -> np.ndarray:
    """A 1-D array of booleans or 0/1 as ``int8``; ``meaning`` says what 1 stands for."""
    if y is None:
        raise ConfideTypeError(f"{name} is required: pass one 0/1 value per sample ({meaning}).")
    arr = as_label_array(y, name)
    if arr.size and ((arr != 0) & (arr != 1)).any():
        bad = np.unique(arr[(arr != 0) & (arr != 1)])[:10].tolist()
        raise LabelError(
            f"{name} must hold booleans or 0/1 ({meaning}), got the value(s) {bad}. "
            "For class predictions pass (y_pred == y_true)."
        )
    return arr.astype(np.int8)


def check_pair(
    y: Any, score: Any, y_name: str, score_name: str, meaning: str
) -> tuple[np.ndarray, np.ndarray]:
    """Binary labels and scores of the same, non-zero length."""
    s = check_scores(score, score_name)
    b = check_binary(y, y_name, meaning)
    check_consistent_length(**{y_name: b, score_name: s})
    return b, s


def check_level(value: Any, name: str, *, allow_one: bool = False) -> float:
    """A number in (0, 1), or (0, 1] with ``allow_one``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ConfideTypeError(f"{name} must be a number, got {value!r}.")
    v = float(value)
    if not (0.0 < v < 1.0 or (allow_one and v == 1.0)):
        rng = "in (0, 1]" if allow_one else "strictly between 0 and 1"
        raise ValidationError(f"{name} must lie {rng}, got {value!r}.")
    return v
