"""Read a model's predictions from CSV, Parquet or NPZ: :func:`read_predictions`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from confide.exceptions import ValidationError
from confide.io._build import build_predictions, check_sum_tolerance
from confide.io._common import Source, check_file, resolve_format
from confide.io._npz import read_npz
from confide.io._predictions import Predictions
from confide.io._tables import read_table

__all__ = ["read_predictions"]

_TABLE_OPTIONS = ("label_col", "prob_cols", "logit_cols", "score_col")
_NPZ_OPTIONS = ("prob_key", "logit_key", "label_key")


def read_predictions(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    label_col: str | None = None,
    prob_cols: Sequence[str] | None = None,
    logit_cols: Sequence[str] | None = None,
    score_col: str | None = None,
    classes: Sequence[Any] | None = None,
    input: str | None = None,
    prob_key: str | None = None,
    logit_key: str | None = None,
    label_key: str | None = None,
    sum_tolerance: float | None = None,
) -> Predictions:
    """Read a classifier's predictions, and the true labels when present, from a file.

    Parameters
    ----------
    path : str or path-like
        A ``.csv`` (also compressed, ``.csv.gz``), ``.parquet`` / ``.pq`` or ``.npz`` file.
    format : {"csv", "parquet", "npz"}, optional
        Overrides the format given by the suffix.
    label_col, prob_cols, logit_cols, score_col : optional
        CSV / Parquet: the label column, the probability or logit columns (one per class, in
        class order) or the binary score column (P(y=1)). By default they are detected:
        labels ``label``, ``y_true``, ``y``, ``target``, ``true_label`` or ``class``;
        probabilities ``p_<class>`` or ``prob_<class>``; logits ``logit_<class>``; score
        ``score``, ``y_prob``, ``prob``, ``p`` or ``probability`` (names matched ignoring
        case). A file without a label column is read with ``y_true=None``.
    classes : sequence, optional
        Class names. For detected columns, their order (the names must be the column
        suffixes); for ``prob_cols`` / ``logit_cols`` and NPZ arrays, the name of each column;
        for a binary score, ``[negative, positive]``. By default: the column suffixes, the
        NPZ array ``classes`` or ``0 .. k-1``, and ``["0", "1"]`` for a binary score.
    input : {"probs", "logits", "score"}, optional
        Which kind of prediction to read, when a file has several or detection is unwanted.
    prob_key, logit_key, label_key : str, optional
        NPZ: the array names. Detected by default: probabilities ``probs``, ``predictions``
        or ``y_prob`` ((n, k), or (n,) for binary P(y=1)); logits ``logits``; labels
        ``labels``, ``ground_truth`` or ``y_true``.
    sum_tolerance : float, optional
        Largest ``|sum(row) - 1|`` accepted for probability rows. By default the rounding of
        the values' precision (float32's for CSV, whose text holds no precision).

    Returns
    -------
    Predictions
        ``y_true`` as class indices (or None), ``probs`` ((n, k), or (n,) for a binary score;
        float32 stays float32; ``softmax(logits)`` in float64 for logit input), ``logits``,
        ``classes``, ``input`` and ``source``.

    Labels are mapped to class indices: text labels match the class names; integer labels
    match the class names when those are integers (``p_0 .. p_9``) and are otherwise class
    indices ``0 .. k-1``.

    Raises
    ------
    confide.exceptions.ValidationError
        Missing (also a :class:`FileNotFoundError`), empty or unreadable file; missing or
        non-numeric column; ambiguous columns (asking for the explicit option).
    confide.exceptions.NonFiniteError
        NaN or infinity among the predictions (naming the column and first row).
    confide.exceptions.ProbabilityError
        Probabilities outside [0, 1] or rows not summing to 1 within the tolerance.
    confide.exceptions.LabelError
        Labels that are not among the classes (listing them) or missing labels.
    confide.exceptions.MissingDependencyError
        CSV / Parquet without pandas (and pyarrow): ``pip install 'confide[io]'``.
    """
    p = Path(path)
    fmt = resolve_format(p, format)
    source = Source(str(path), fmt)
    options: dict[str, Any] = {
        "label_col": label_col,
        "prob_cols": prob_cols,
        "logit_cols": logit_cols,
        "score_col": score_col,
        "classes": classes,
        "input": input,
        "prob_key": prob_key,
        "logit_key": logit_key,
        "label_key": label_key,
    }
    wrong = _NPZ_OPTIONS if fmt != "npz" else _TABLE_OPTIONS
    given = [f"{name}=" for name in wrong if options[name] is not None]
    if given:
        use = ", ".join(f"{name}=" for name in (_TABLE_OPTIONS if fmt != "npz" else _NPZ_OPTIONS))
        raise ValidationError(
            f"{', '.join(given)} does not apply to the {fmt.upper()} file {source}; "
            f"use {use} instead."
        )
    tol = check_sum_tolerance(sum_tolerance)
    check_file(p, source)
    raw = read_npz(p, source, options) if fmt == "npz" else read_table(p, source, options)
    return build_predictions(raw, source, tol)
