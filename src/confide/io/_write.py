"""Write predictions in the layout :func:`~confide.io.read_predictions` detects."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from confide._validation import (
    as_float_array,
    check_binary_labels,
    check_consistent_length,
    check_labels,
    check_probabilities,
)
from confide.exceptions import ShapeError, ValidationError
from confide.io._common import import_pandas, import_parquet, normalize_classes, resolve_format
from confide.io._labels import label_values, labels_to_indices

__all__ = ["write_predictions"]


def _indices(y_true: Any, classes: tuple[str, ...], binary: bool) -> np.ndarray:
    y = np.asarray(y_true)
    if y.dtype.kind in "USO" and y.ndim == 1:  # class names
        text = np.array([str(v) for v in y.tolist()], dtype=str)
        return labels_to_indices(text, classes, "y_true", lambda i: f"index {i}")
    return check_binary_labels(y) if binary else check_labels(y, len(classes))


def write_predictions(
    path: str | os.PathLike[str],
    y_true: Any,
    probs: Any = None,
    *,
    logits: Any = None,
    classes: Sequence[Any] | None = None,
    format: str | None = None,
) -> Path:
    """Write labels and predictions to CSV, Parquet or NPZ, as :func:`read_predictions` reads them.

    Parameters
    ----------
    path : str or path-like
        Destination; the format comes from the suffix (``.csv``, ``.csv.gz``, ``.parquet``,
        ``.pq``, ``.npz``) unless ``format`` is given. An existing file is replaced.
    y_true : array_like of shape (n,), or None
        Class indices ``0 .. k-1`` (0/1 for a binary score), or class names as strings.
        None writes predictions without labels.
    probs : array_like, shape (n, k) or (n,)
        Probabilities (rows summing to 1), or a binary P(y=1). Give ``probs`` or ``logits``.
    logits : array_like, shape (n, k)
        Logits, written as they are (``read_predictions`` returns their softmax as ``probs``).
    classes : sequence, optional
        Class names (default ``0 .. k-1``; ``[negative, positive]`` for binary).
    format : {"csv", "parquet", "npz"}, optional
        Overrides the suffix.

    Returns
    -------
    pathlib.Path
        The file written.

    Layout: columns ``p_<class>`` (or ``logit_<class>``) or ``score`` (binary), and ``label``;
    in NPZ, arrays ``probs`` (or ``logits``), ``labels`` and ``classes``. Labels are written as
    the class names (as integers when every name is an integer). Parquet and NPZ keep the
    dtype and round-trip exactly; CSV holds the shortest decimal that reads back as the same
    float (float32 values read back as float64 that round to them exactly). The names of a
    binary score's classes are only stored in NPZ: pass ``classes=`` to read them from
    CSV / Parquet.
    """
    p = Path(path)
    fmt = resolve_format(p, format)
    if (probs is None) == (logits is None):
        raise ValidationError("pass exactly one of probs and logits.")
    if probs is not None:
        values = check_probabilities(probs, "probs", ndim=(1, 2))
        kind = "score" if values.ndim == 1 else "probs"
    else:
        values = as_float_array(logits, "logits", ndim=2)
        kind = "logits"
    k = 2 if values.ndim == 1 else values.shape[1]
    if k < 2:
        raise ShapeError(f"{kind} has shape {values.shape}; it needs a column per class (>= 2).")
    names = (
        tuple(str(i) for i in range(k))
        if classes is None
        else normalize_classes(classes, k, f"{kind} (columns)")
    )
    labels = None
    if y_true is not None:
        check_consistent_length(y_true=y_true, **{kind: values})
        labels = label_values(_indices(y_true, names, kind == "score"), names)
    if fmt == "npz":
        arrays = {"probs" if kind != "logits" else "logits": values, "classes": np.array(names)}
        if labels is not None:
            arrays["labels"] = labels
        with p.open("wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
        return p
    pd = import_pandas(f"Writing {fmt.upper()} predictions")
    if kind == "score":
        data: dict[str, Any] = {"score": values}
    else:
        prefix = "p_" if kind == "probs" else "logit_"
        data = {f"{prefix}{c}": values[:, j] for j, c in enumerate(names)}
    if labels is not None:
        data["label"] = labels
    frame = pd.DataFrame(data)
    if fmt == "parquet":
        import_parquet("Writing Parquet predictions")
        frame.to_parquet(p, index=False)
    else:
        frame.to_csv(p, index=False)
    return p
