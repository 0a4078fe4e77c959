"""Check the arrays read from a file and build :class:`Predictions` (private).

The table and NPZ readers both produce a :class:`RawPredictions`; the checks here name the
column (or array) and row of the first bad value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from confide._validation import check_probabilities, default_sum_tolerance
from confide.exceptions import (
    ConfideTypeError,
    NonFiniteError,
    ProbabilityError,
    ValidationError,
)
from confide.io._common import Source
from confide.io._labels import labels_to_indices
from confide.io._predictions import InputKind, Predictions

__all__ = ["RawPredictions", "build_predictions", "check_sum_tolerance"]


@dataclass(frozen=True)
class RawPredictions:
    """What a reader found, before the value checks.

    ``columns`` describes each column of ``values`` for messages (``"column 'p_cat'"``);
    ``label_where`` does the same for the labels.
    """

    kind: InputKind
    values: np.ndarray
    columns: tuple[str, ...]
    classes: tuple[str, ...]
    labels: np.ndarray | None = None
    label_missing: np.ndarray | None = None
    label_where: str = ""


def check_sum_tolerance(value: Any) -> float | None:
    """Check the ``sum_tolerance`` option: None or a finite number >= 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfideTypeError(f"sum_tolerance must be a number, got {value!r}.")
    tol = float(value)
    if not math.isfinite(tol) or tol < 0:
        raise ValidationError(f"sum_tolerance must be a finite number >= 0, got {value!r}.")
    return tol


def _column(values: np.ndarray, columns: tuple[str, ...], j: int) -> str:
    return columns[j] if values.ndim == 2 else columns[0]


def _check_finite(raw: RawPredictions, source: Source) -> None:
    finite = np.isfinite(raw.values)
    if finite.all():
        return
    bad = ~finite
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    value = float(raw.values[first])
    kind = "NaN (or an empty cell)" if math.isnan(value) else repr(value)
    raise NonFiniteError(
        f"{_column(raw.values, raw.columns, first[-1])} of {source} holds {kind} in "
        f"{source.row(first[0])} ({int(bad.sum())} non-finite value(s) in all). "
        "Fix or drop those rows before measuring."
    )


def _check_range(raw: RawPredictions, source: Source) -> None:
    out = (raw.values < 0) | (raw.values > 1)
    if not out.any():
        return
    first = tuple(int(i) for i in np.argwhere(out)[0])
    what = "negative" if raw.values[first] < 0 else "greater than 1"
    fix = (
        "pass logit_key= naming the array"
        if source.fmt == "npz"
        else "name the columns logit_<class> or pass input='logits'"
    )
    raise ProbabilityError(
        f"{_column(raw.values, raw.columns, first[-1])} of {source} holds "
        f"{float(raw.values[first])!r} in {source.row(first[0])}, which is {what} "
        f"({int(out.sum())} value(s) outside [0, 1] in all). Probabilities must lie in [0, 1]: "
        f"if these are logits, {fix}."
    )


def _check_sums(raw: RawPredictions, source: Source, sum_tolerance: float | None) -> np.ndarray:
    tol = sum_tolerance
    if tol is None and source.fmt == "csv":
        # Text has no dtype; the values are often printed from float32 outputs.
        tol = default_sum_tolerance(np.dtype(np.float32), raw.values.shape[1])
    name = f"the probability columns of {source}"
    try:
        return check_probabilities(raw.values, name, ndim=2, sum_tolerance=tol)
    except ProbabilityError as exc:
        raise ProbabilityError(
            f"{exc} If the file was written with rounded values, pass a larger sum_tolerance= "
            "to read_predictions."
        ) from None


def build_predictions(
    raw: RawPredictions, source: Source, sum_tolerance: float | None
) -> Predictions:
    """Check ``raw`` (finite, probabilities in [0, 1] summing to 1, labels) and wrap it."""
    n = raw.values.shape[0]
    if n == 0:
        raise ValidationError(f"predictions file {source} has no rows.")
    _check_finite(raw, source)
    logits = None
    if raw.kind == "logits":
        from confide.scores import softmax

        logits = raw.values
        probs = softmax(logits, axis=1)
    else:
        _check_range(raw, source)
        probs = raw.values if raw.kind == "score" else _check_sums(raw, source, sum_tolerance)
    y_true = None
    if raw.labels is not None:
        hint = (
            " For a binary score column the labels must be 0/1 (or True/False), or pass "
            "classes=[negative, positive] naming the two label values."
            if raw.kind == "score"
            else ""
        )
        y_true = labels_to_indices(
            raw.labels,
            raw.classes,
            f"{raw.label_where} of {source}",
            source.row,
            missing=raw.label_missing,
            hint=hint,
        )
    return Predictions(
        y_true=y_true,
        probs=probs,
        logits=logits,
        classes=raw.classes,
        input=raw.kind,
        source=source.path,
    )
