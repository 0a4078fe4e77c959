"""Checks and small kernels shared by the ``confide.scores`` modules (private)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import entr

from confide._typing import FloatArray
from confide._validation import check_probabilities
from confide.exceptions import ConfideTypeError, ShapeError, ValidationError

__all__ = [
    "as_class_probs",
    "check_axis",
    "check_log_base",
    "check_temperature",
    "readonly",
    "row_entropy",
]


def _check_real(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfideTypeError(f"{name} must be a real number, got {value!r}.")
    return float(value)


def check_temperature(temperature: Any) -> float:
    """Return ``temperature`` as a float, checking that it is finite and > 0."""
    t = _check_real(temperature, "temperature")
    if not math.isfinite(t) or t <= 0.0:
        raise ValidationError(
            f"temperature must be a finite number > 0, got {temperature!r}. "
            "Use 1.0 for the unscaled scores."
        )
    return t


def check_log_base(base: Any) -> float:
    """Return ``log(base)``, checking that the base is finite and > 1."""
    b = _check_real(base, "base")
    if not math.isfinite(b) or b <= 1.0:
        raise ValidationError(
            f"base must be a finite number > 1, got {base!r}. Use math.e for nats or 2 for bits."
        )
    return math.log(b)


def check_axis(axis: Any, ndim: int, name: str = "axis") -> int:
    """Return ``axis`` normalised to ``0..ndim-1``."""
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise ConfideTypeError(f"{name} must be an integer, got {axis!r}.")
    a = int(axis)
    if not -ndim <= a < ndim:
        raise ShapeError(
            f"{name}={a} is out of range for a {ndim}-D array (valid: {-ndim}..{ndim - 1})."
        )
    return a % ndim


def readonly(a: FloatArray) -> FloatArray:
    """Mark ``a`` read-only (for arrays held by frozen result objects) and return it."""
    a.setflags(write=False)
    return a


def as_class_probs(probs: Any, name: str = "probs") -> FloatArray:
    """Validate probabilities and return them as a float64 ``(n, k)`` array with ``k >= 2``.

    1-D input is binary ``P(y=1)`` and becomes the two columns ``[1 - p, p]``.
    """
    arr = check_probabilities(probs, name, ndim=(1, 2))
    p = arr.astype(np.float64)
    if p.ndim == 1:
        return np.stack([1.0 - p, p], axis=1)
    if p.shape[1] < 2:
        raise ShapeError(
            f"{name} must have at least 2 columns (classes), got shape {p.shape}. "
            "For binary problems pass P(y=1) as a 1-D array."
        )
    return p


def row_entropy(p: FloatArray, log_base: float = 1.0) -> FloatArray:
    """Shannon entropy along the last axis (0 log 0 = 0), clipped to ``[0, log k]``.

    The clip only removes rounding: a row that sums to 1 has entropy in ``[0, log k]``.
    """
    k = p.shape[-1]
    h = entr(p).sum(axis=-1)
    out: FloatArray = np.clip(h, 0.0, math.log(k)) / log_base
    return out
