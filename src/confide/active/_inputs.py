"""Input checks shared by the active-learning strategies (private)."""

from __future__ import annotations

from typing import Any

import numpy as np

from confide._typing import BoolArray, FloatArray, IntArray
from confide._validation import as_float_array, check_probabilities
from confide.exceptions import ConfideTypeError, ShapeError, ValidationError

__all__ = [
    "candidate_indices",
    "check_features",
    "check_k",
    "check_labeled_mask",
    "check_pool_probs",
    "readonly",
]


def readonly(a: Any) -> Any:
    """Mark an array read-only (it is held by a frozen result) and return it."""
    a.setflags(write=False)
    return a


def check_pool_probs(probs: Any, name: str = "probs") -> np.ndarray:
    """Validate pool probabilities, 1-D binary ``P(y=1)`` or ``(n, k)`` with ``k >= 2``.

    The array keeps its float32/float64 dtype (scores are computed chunk by chunk in float64).
    """
    arr = check_probabilities(probs, name, ndim=(1, 2))
    if arr.ndim == 2 and arr.shape[1] < 2:
        raise ShapeError(
            f"{name} must have at least 2 columns (classes), got shape {arr.shape}. "
            "For binary problems pass P(y=1) as a 1-D array."
        )
    return arr


def check_features(features: Any, n: int | None, name: str = "features") -> FloatArray:
    """Validate an ``(n, d)`` feature / embedding matrix and return it as float64."""
    arr = as_float_array(features, name, ndim=2)
    if arr.shape[1] == 0:
        raise ShapeError(f"{name} has no columns (shape {arr.shape}); pass at least one feature.")
    if n is not None and arr.shape[0] != n:
        raise ShapeError(
            f"{name} has {arr.shape[0]} rows but the pool has {n} items; pass one row per item."
        )
    out: FloatArray = arr.astype(np.float64, copy=False)
    return out


def check_labeled_mask(mask: Any, n: int) -> BoolArray:
    """Return a boolean mask of length ``n`` (``None``: nothing labelled)."""
    if mask is None:
        return np.zeros(n, dtype=bool)
    if isinstance(mask, str | bytes):
        raise ConfideTypeError(f"labeled_mask must be a boolean array, got the string {mask!r}.")
    arr = np.asarray(mask)
    if arr.dtype != np.bool_:
        raise ConfideTypeError(
            f"labeled_mask must be a boolean array (True = already labelled), got dtype "
            f"{arr.dtype}. Build it with np.zeros(n, bool) and set the labelled indices to True."
        )
    if arr.shape != (n,):
        raise ShapeError(f"labeled_mask must have shape ({n},) for a pool of {n}, got {arr.shape}.")
    out: BoolArray = arr
    return out


def check_k(k: Any, n_available: int) -> int:
    """Check the batch size against the number of unlabelled candidates."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise ConfideTypeError(f"k must be an integer, got {k!r}.")
    if k < 1:
        raise ValidationError(f"k must be at least 1, got {k}.")
    if k > n_available:
        raise ValidationError(
            f"k={k} exceeds the {n_available} unlabelled item(s) left in the pool; "
            "ask for at most that many."
        )
    return int(k)


def candidate_indices(mask: BoolArray) -> IntArray:
    """Indices of the unlabelled items, ascending."""
    out: IntArray = np.flatnonzero(~mask).astype(np.intp, copy=False)
    return out
