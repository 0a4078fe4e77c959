"""Input checks shared by every layer.

Each check either returns a clean NumPy array or raises a :mod:`confide.exceptions` error
whose message names the argument, what was wrong with it, what was passed and how to fix it.
Floating-point inputs keep their dtype when it is float32 or float64 (so that bin edges can be
compared in the caller's precision); every other numeric dtype becomes float64.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from confide import _accel
from confide._accel import chunk_starts, compiled
from confide.exceptions import (
    ConfideTypeError,
    LabelError,
    NonFiniteError,
    ProbabilityError,
    ShapeError,
    ValidationError,
)

#: ``range`` in Python; confide._accel.compiled rebinds it to ``numba.prange`` before compiling.
prange = range

__all__ = [
    "as_float_array",
    "as_label_array",
    "check_binary_labels",
    "check_choice",
    "check_consistent_length",
    "check_fraction",
    "check_labels",
    "check_positive_int",
    "check_probabilities",
    "check_sample_weight",
    "default_sum_tolerance",
]


def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    return f"a {type(x).__name__}"


def _first_bad(mask: np.ndarray) -> str:
    idx = np.argwhere(mask)
    count = len(idx)
    where = tuple(int(i) for i in idx[0])
    where_s = where[0] if len(where) == 1 else where
    return f"{count} value(s), the first at index {where_s}"


def as_float_array(
    x: Any,
    name: str,
    *,
    ndim: int | Sequence[int] | None = None,
    allow_nonfinite: bool = False,
    min_samples: int = 1,
) -> np.ndarray:
    """Return ``x`` as a float32 or float64 array, checking its shape and finiteness."""
    if isinstance(x, str | bytes):
        raise ConfideTypeError(f"{name} must be an array of numbers, got the string {x!r}.")
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise ShapeError(
            f"{name} could not be read as a rectangular array of numbers ({exc}). "
            "Pass a NumPy array or a list of equal-length rows."
        ) from None
    if arr.dtype.kind not in "fiub":
        raise ConfideTypeError(
            f"{name} must hold numbers, got {_describe(arr)}. Convert it with "
            "np.asarray(..., dtype=float) after mapping any class names to indices."
        )
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ShapeError(
                f"{name} must be {want}, got {arr.ndim}-D with shape {arr.shape}."
                + (
                    " For binary problems pass P(y=1) as a 1-D array; for k classes an (n, k) array."
                    if 2 in allowed or 1 in allowed
                    else ""
                )
            )
    if arr.ndim >= 1 and arr.shape[0] < min_samples:
        raise ShapeError(f"{name} needs at least {min_samples} sample(s), got {arr.shape[0]}.")
    if not allow_nonfinite:
        finite = np.isfinite(arr)
        if not finite.all():
            bad = ~finite
            kinds = []
            if np.isnan(arr).any():
                kinds.append("NaN")
            if np.isinf(arr).any():
                kinds.append("infinity")
            raise NonFiniteError(
                f"{name} contains {' and '.join(kinds)}: {_first_bad(bad)}. "
                "Remove or impute those rows before measuring."
            )
    return arr


def default_sum_tolerance(dtype: np.dtype, n_classes: int) -> float:
    """Tolerance on ``|sum(row) - 1|``: rounding of a softmax in the given precision, with room."""
    eps = float(np.finfo(dtype).eps) if np.dtype(dtype).kind == "f" else float(np.finfo(float).eps)
    return max(1e-6, 16.0 * eps * max(n_classes, 1))


def _py_probability_scan(
    p: np.ndarray, check_sums: bool, starts: np.ndarray, chunk: int
) -> tuple[bool, bool, float]:  # pragma: no cover - compiled by numba
    """One pass: (all finite, all in [0, 1], worst |row sum - 1|), chunks in parallel.

    Branch-free per element: a NaN or infinity makes its row sum non-finite, and the range
    test is on each chunk's minimum and maximum, so the inner loop vectorises.
    """
    n, k = p.shape
    n_chunks = starts.shape[0]
    flags = np.zeros((n_chunks, 3), dtype=np.float64)
    for c in prange(n_chunks):
        lo = starts[c]
        hi = min(lo + chunk, n)
        bad_sum = 0.0
        worst = 0.0
        mn = 0.0
        mx = 1.0
        for i in range(lo, hi):
            s = 0.0
            for j in range(k):
                v = np.float64(p[i, j])
                s += v
                mn = min(mn, v)
                mx = max(mx, v)
            if not np.isfinite(s):
                bad_sum = 1.0
            elif check_sums:
                worst = max(worst, abs(s - 1.0))
        flags[c, 0] = bad_sum
        flags[c, 1] = 1.0 if (mn < 0.0 or mx > 1.0) else 0.0
        flags[c, 2] = worst
    return flags[:, 0].max() == 0.0, flags[:, 1].max() == 0.0, flags[:, 2].max()


def check_probabilities(
    p: Any,
    name: str = "y_prob",
    *,
    ndim: int | Sequence[int] = (1, 2),
    sum_tolerance: float | None = None,
    min_samples: int = 1,
) -> np.ndarray:
    """Check that ``p`` holds probabilities: in [0, 1] and, when 2-D, rows summing to 1.

    ``sum_tolerance`` defaults to :func:`default_sum_tolerance` for the array's dtype. Large
    inputs are scanned in one compiled pass when numba is installed; any failure is then
    re-examined by the NumPy path, which writes the message.
    """
    arr = as_float_array(p, name, ndim=ndim, min_samples=min_samples, allow_nonfinite=True)
    if arr.size == 0:
        return arr
    two_d = arr.ndim == 2
    tol = (
        default_sum_tolerance(arr.dtype, arr.shape[1] if two_d else 1)
        if sum_tolerance is None
        else sum_tolerance
    )
    kernel = compiled(_py_probability_scan, arr.size, parallel=True)
    if kernel is not None:
        view = np.ascontiguousarray(arr if two_d else arr.reshape(-1, 1))
        finite, in_range, worst = kernel(
            view, two_d, chunk_starts(view.shape[0]), _accel.CHUNK_ROWS
        )
        if finite and in_range and worst <= tol:
            return arr
    as_float_array(arr, name)  # raises on NaN/inf with the details
    out = (arr < 0) | (arr > 1)
    if out.any():
        first = np.argwhere(out)[0]
        raise ProbabilityError(
            f"{name} must hold probabilities in [0, 1]: {_first_bad(out)} outside, e.g. "
            f"{float(arr[tuple(first)])!r}. If these are logits or scores, convert them first "
            "with confide.scores.softmax or sigmoid (read_predictions takes input='logits')."
        )
    if two_d:
        sums = arr.sum(axis=1, dtype=np.float64)
        dev = np.abs(sums - 1.0)
        bad = dev > tol
        if bad.any():
            i = int(np.argmax(dev))
            raise ProbabilityError(
                f"each row of {name} must sum to 1 (tolerance {tol:.1e}): {int(bad.sum())} row(s) "
                f"do not, the worst is row {i} summing to {float(sums[i])!r}. Normalise the rows; if these "
                "are logits, convert them with confide.scores.softmax."
            )
    return arr


def as_label_array(y: Any, name: str = "y_true") -> np.ndarray:
    """Return integer labels as an ``intp`` array (floats are accepted when integral)."""
    if isinstance(y, str | bytes):
        raise ConfideTypeError(f"{name} must be an array of labels, got the string {y!r}.")
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ShapeError(f"{name} must be 1-D (one label per sample), got shape {arr.shape}.")
    if arr.dtype.kind == "b":
        return arr.astype(np.intp)
    if arr.dtype.kind in "iu":
        return arr.astype(np.intp, copy=False)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise NonFiniteError(
                f"{name} contains NaN or infinity: {_first_bad(~np.isfinite(arr))}."
            )
        if (arr != np.round(arr)).any():
            bad = arr != np.round(arr)
            raise LabelError(
                f"{name} must hold integer class indices, got non-integer values "
                f"({_first_bad(bad)}, e.g. {arr[bad][0]!r})."
            )
        return arr.astype(np.intp)
    raise LabelError(
        f"{name} must hold integer class indices 0..k-1, got {_describe(arr)}. Map class names to "
        "indices first (confide.io.read_predictions does this for files)."
    )


def check_labels(y: Any, n_classes: int, name: str = "y_true") -> np.ndarray:
    """Check integer labels in ``[0, n_classes)``."""
    arr = as_label_array(y, name)
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        bad = (arr < 0) | (arr >= n_classes)
        unknown = np.unique(arr[bad])[:10]
        raise LabelError(
            f"{name} holds label(s) {unknown.tolist()} outside the {n_classes} classes 0..{n_classes - 1} "
            f"({_first_bad(bad)}). Check that the probability columns cover every class."
        )
    return arr


def check_binary_labels(y: Any, name: str = "y_true") -> np.ndarray:
    """Check labels in {0, 1} (booleans accepted)."""
    arr = as_label_array(y, name)
    if arr.size and ((arr != 0) & (arr != 1)).any():
        bad = (arr != 0) & (arr != 1)
        raise LabelError(
            f"{name} must be 0 or 1 for binary (1-D) probabilities, got {np.unique(arr[bad])[:10].tolist()} "
            f"({_first_bad(bad)}). For more than two classes pass an (n, k) probability array."
        )
    return arr


def check_consistent_length(**arrays: Any) -> int:
    """Check that every named array has the same first dimension; return it."""
    lengths = {k: (np.shape(v)[0] if np.ndim(v) else 1) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise ShapeError(f"inputs must have the same number of samples: {desc}.")
    return next(iter(lengths.values())) if lengths else 0


def check_sample_weight(w: Any, n: int) -> np.ndarray | None:
    """Check optional non-negative finite sample weights of length ``n`` (float64)."""
    if w is None:
        return None
    arr = as_float_array(w, "sample_weight", ndim=1, min_samples=0).astype(np.float64, copy=False)
    if arr.shape[0] != n:
        raise ShapeError(f"sample_weight has {arr.shape[0]} entries for {n} samples.")
    if (arr < 0).any():
        raise ValidationError(
            f"sample_weight must be non-negative: {_first_bad(arr < 0)} negative."
        )
    return arr


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Check an integer parameter (bools rejected) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfideTypeError(f"{name} must be an integer, got {value!r}.")
    if value < minimum:
        raise ValidationError(f"{name} must be at least {minimum}, got {value}.")
    return int(value)


def check_fraction(value: Any, name: str, *, low: float = 0.0, high: float = 1.0) -> float:
    """Check a number strictly inside ``(low, high)``, e.g. a confidence level."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ConfideTypeError(f"{name} must be a number, got {value!r}.")
    v = float(value)
    if not (low < v < high):
        raise ValidationError(f"{name} must lie strictly between {low} and {high}, got {value!r}.")
    return v


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """Check that a string option is one of ``choices``."""
    options = tuple(choices)
    if value not in options:
        raise ValidationError(
            f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}."
        )
    return str(value)
