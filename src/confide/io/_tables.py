"""Read predictions from CSV and Parquet tables (private; needs pandas, and pyarrow for Parquet).

Column names (matched case-insensitively):

* labels: ``label``, ``y_true``, ``y``, ``target``, ``true_label`` or ``class`` (optional);
* probabilities ``p_<class>`` or ``prob_<class>``; logits ``logit_<class>``;
* a binary score ``score``, ``y_prob``, ``prob``, ``p`` or ``probability`` (P(y=1)).

Two candidates for one role are an error asking for the explicit option, never a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from confide._validation import check_choice
from confide.exceptions import ConfideTypeError, ShapeError, ValidationError
from confide.io._build import RawPredictions
from confide.io._common import (
    Source,
    import_pandas,
    import_parquet,
    normalize_classes,
    preview,
)
from confide.io._predictions import InputKind

__all__ = ["LABEL_NAMES", "SCORE_NAMES", "read_table"]

LABEL_NAMES = ("label", "y_true", "y", "target", "true_label", "class")
SCORE_NAMES = ("score", "y_prob", "prob", "p", "probability")
PREFIXES: dict[str, tuple[str, ...]] = {"probs": ("p_", "prob_"), "logits": ("logit_",)}
_OPTION = {"probs": "prob_cols", "logits": "logit_cols", "score": "score_col"}


@dataclass(frozen=True)
class _Selection:
    kind: InputKind
    value_cols: tuple[str, ...]
    classes: tuple[str, ...]
    label_col: str | None


def _check_names(value: Any, option: str) -> list[str]:
    try:
        names = [] if isinstance(value, str) else list(value)
    except TypeError:
        names = []
    if not names or not all(isinstance(c, str) for c in names):
        raise ConfideTypeError(f"{option} must be a list of column names, got {value!r}.")
    if len(set(names)) != len(names):
        raise ValidationError(f"{option} names a column more than once: {names!r}.")
    return names


def _require(columns: Sequence[str], wanted: Sequence[str], option: str, source: Source) -> None:
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise ValidationError(
            f"column(s) {preview(missing, 5)} ({option}) not found in {source}; its columns are "
            f"{preview(list(columns), 30)}."
        )


def _not_label(chosen: Sequence[str], label_col: str | None, option: str) -> None:
    if label_col is not None and label_col in chosen:
        raise ValidationError(
            f"column {label_col!r} is both the label column and in {option}; pass label_col= "
            "naming the true labels."
        )


def _prefixed(columns: Sequence[str], kind: str) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for prefix in PREFIXES[kind]:
        found = [c for c in columns if c.lower().startswith(prefix) and len(c) > len(prefix)]
        if found:
            groups[prefix] = found
    return groups


def _strip(cols: Sequence[str], kind: str) -> tuple[str, ...]:
    for prefix in PREFIXES[kind]:
        if all(c.lower().startswith(prefix) and len(c) > len(prefix) for c in cols):
            return tuple(c[len(prefix) :] for c in cols)
    return tuple(cols)


def _label_column(columns: Sequence[str], label_col: str | None, source: Source) -> str | None:
    if label_col is not None:
        if not isinstance(label_col, str):
            raise ConfideTypeError(f"label_col must be a column name, got {label_col!r}.")
        _require(columns, [label_col], "label_col", source)
        return label_col
    found = [c for c in columns if c.lower() in LABEL_NAMES]
    if len(found) > 1:
        raise ValidationError(
            f"{source} has several columns that could hold the true labels: {found!r}. "
            "Pass label_col= naming the one to use."
        )
    return found[0] if found else None


def _detect(columns: Sequence[str], source: Source) -> dict[str, list[str]]:
    probs = _prefixed(columns, "probs")
    logits = _prefixed(columns, "logits")
    found = {
        "probs": [c for group in probs.values() for c in group],
        "logits": [c for group in logits.values() for c in group],
        "score": [c for c in columns if c.lower() in SCORE_NAMES],
    }
    return {k: v for k, v in found.items() if v}


def _select(columns: Sequence[str], options: dict[str, Any], source: Source) -> _Selection:
    label_col = _label_column(columns, options["label_col"], source)
    others = [c for c in columns if c != label_col]
    explicit = {k: options[opt] for k, opt in _OPTION.items() if options[opt] is not None}
    if len(explicit) > 1:
        raise ValidationError(
            f"pass only one of prob_cols, logit_cols and score_col, got {sorted(explicit)!r}."
        )
    kind = options["input"]
    if kind is not None:
        kind = check_choice(kind, "input", ("probs", "logits", "score"))
        if explicit and kind not in explicit:
            given = _OPTION[next(iter(explicit))]
            raise ValidationError(f"input={kind!r} contradicts {given}=; pass one or the other.")
    elif explicit:
        kind = next(iter(explicit))
    else:
        found = _detect(others, source)
        if len(found) > 1:
            desc = "; ".join(f"{k}: {preview(v, 5)}" for k, v in found.items())
            raise ValidationError(
                f"{source} has more than one kind of prediction column ({desc}). Pass "
                "input='probs', 'logits' or 'score' (or prob_cols=, logit_cols=, score_col=) "
                "to say which to read."
            )
        if not found:
            raise ValidationError(
                f"{source} has no prediction columns; its columns are {preview(list(columns), 30)}. "
                "Name them p_<class> or prob_<class> (probabilities), logit_<class> (logits) or "
                "score (binary P(y=1)), or pass prob_cols=, logit_cols= or score_col=."
            )
        kind = next(iter(found))
    classes = options["classes"]
    if kind == "score":
        return _select_score(columns, others, options["score_col"], classes, label_col, source)
    matrix: InputKind = "probs" if kind == "probs" else "logits"
    return _select_matrix(columns, others, matrix, explicit.get(kind), classes, label_col, source)


def _select_score(
    columns: Sequence[str],
    others: Sequence[str],
    score_col: Any,
    classes: Any,
    label_col: str | None,
    source: Source,
) -> _Selection:
    if score_col is not None:
        if not isinstance(score_col, str):
            raise ConfideTypeError(f"score_col must be a column name, got {score_col!r}.")
        _require(columns, [score_col], "score_col", source)
        _not_label([score_col], label_col, "score_col")
        col = score_col
    else:
        found = [c for c in others if c.lower() in SCORE_NAMES]
        if len(found) != 1:
            what = f"several score columns {found!r}" if found else "no score column"
            raise ValidationError(
                f"{source} has {what} (looked for {', '.join(SCORE_NAMES)}); pass score_col=."
            )
        col = found[0]
    names = ("0", "1") if classes is None else normalize_classes(classes, 2, "a binary score")
    return _Selection("score", (col,), names, label_col)


def _select_matrix(
    columns: Sequence[str],
    others: Sequence[str],
    kind: InputKind,
    cols: Any,
    classes: Any,
    label_col: str | None,
    source: Source,
) -> _Selection:
    option = _OPTION[kind]
    noun = "probability" if kind == "probs" else "logit"
    if cols is not None:
        chosen = _check_names(cols, option)
        _require(columns, chosen, option, source)
        _not_label(chosen, label_col, option)
        names = _strip(chosen, kind) if classes is None else None
    else:
        groups = _prefixed(others, kind)
        if len(groups) > 1:
            desc = " and ".join(f"{preview(g, 5)}" for g in groups.values())
            raise ValidationError(
                f"{source} has two sets of {noun} columns, {desc}; pass {option}= to choose."
            )
        if not groups:
            wanted = " or ".join(f"{p}<class>" for p in PREFIXES[kind])
            raise ValidationError(
                f"{source} has no {noun} columns named {wanted}; its columns are "
                f"{preview(list(others), 30)}. Pass {option}=."
            )
        prefix, chosen = next(iter(groups.items()))
        names = tuple(c[len(prefix) :] for c in chosen)
        if classes is not None:  # classes= picks the order of the detected columns
            wanted_names = normalize_classes(classes, None, "")
            by_name = dict(zip(names, chosen, strict=True))
            if set(wanted_names) != set(names):
                raise ValidationError(
                    f"classes={list(wanted_names)!r} does not match the {noun} columns of "
                    f"{source}, {preview(chosen)}; pass {option}= to choose the columns."
                )
            chosen = [by_name[c] for c in wanted_names]
            names = wanted_names
    if len(chosen) < 2:
        raise ShapeError(
            f"{source} has a single {noun} column {chosen!r}; a classifier needs one per class. "
            "For a binary P(y=1) column pass score_col= (or input='score')."
        )
    if names is None:
        names = normalize_classes(classes, len(chosen), option)
    else:
        names = normalize_classes(names, None, option)
    return _Selection(kind, tuple(chosen), names, label_col)


def _numeric(pd: Any, series: Any, col: str, source: Source) -> np.ndarray:
    dtype = getattr(series.dtype, "numpy_dtype", series.dtype)
    if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(series.dtype):
        coerced = pd.to_numeric(series, errors="coerce")
        bad = (coerced.isna() & series.notna()).to_numpy()
        where = ""
        if bad.any():
            i = int(np.argmax(bad))
            where = f" and holds {series.iloc[i]!r} in {source.row(i)}"
        raise ValidationError(
            f"column {col!r} of {source} must hold numbers, but is of type {series.dtype}{where}."
        )
    if dtype in (np.float32, np.float64):
        out: np.ndarray = series.to_numpy(dtype=dtype, na_value=np.nan)
        return out
    return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan))


def _labels(pd: Any, series: Any) -> tuple[np.ndarray, np.ndarray]:
    missing = series.isna().to_numpy()
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=bool, na_value=False), missing
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.to_numpy(dtype=np.int64, na_value=0), missing
    if pd.api.types.is_float_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan), missing
    values = np.array(series.astype(object).to_numpy(), dtype=object)
    values[missing] = ""
    return values, missing


def _read_frame(
    path: Path, source: Source, columns: Sequence[str] | None, label: str | None
) -> Any:
    pd = import_pandas(f"Reading {source.fmt.upper()} predictions")
    try:
        if source.fmt == "parquet":
            pq = import_parquet("Reading Parquet predictions")
            if columns is None:
                names = pq.read_schema(path).names
                return pd.DataFrame(
                    columns=[c for c in names if not c.startswith("__index_level_")]
                )
            return pd.read_parquet(path, columns=list(columns))
        if columns is None:
            return pd.read_csv(path, nrows=0)
        kwargs: dict[str, Any] = {}
        if int(pd.__version__.split(".")[0]) < 3:
            kwargs["float_precision"] = "round_trip"  # the default is exact from pandas 3
        dtype = {label: str} if label is not None else None
        # Only empty cells are missing labels ("NA" may be a class); numbers keep the defaults.
        na = {c: [""] if c == label else _NA_STRINGS for c in columns}
        return pd.read_csv(
            path, usecols=list(columns), dtype=dtype, keep_default_na=False, na_values=na, **kwargs
        )
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        if type(exc).__name__ == "EmptyDataError":
            raise ValidationError(f"predictions file {source} is empty (no header).") from None
        raise ValidationError(
            f"{source} could not be read as {source.fmt.upper()}: {exc}. Pass format= if the "
            "suffix is misleading."
        ) from None


_NA_STRINGS = ["", "NA", "N/A", "n/a", "NaN", "nan", "-NaN", "-nan", "NULL", "null", "None", "<NA>"]


def read_table(path: Path, source: Source, options: dict[str, Any]) -> RawPredictions:
    """Read the prediction (and label) columns of a CSV or Parquet file."""
    header = _read_frame(path, source, None, None)
    columns = [str(c) for c in header.columns]
    if not columns:
        raise ValidationError(f"predictions file {source} has no columns.")
    sel = _select(columns, options, source)
    wanted = [*sel.value_cols, *([sel.label_col] if sel.label_col else [])]
    frame = _read_frame(path, source, wanted, sel.label_col)
    if len(frame) == 0:
        raise ValidationError(f"predictions file {source} has no rows (only a header).")
    return raw_from_frame(frame, sel, source)


def raw_from_frame(frame: Any, sel: Any, source: Source) -> RawPredictions:
    """The selected prediction (and label) columns of a pandas frame, checked for numbers."""
    pd = import_pandas("Reading predictions")
    arrays = [_numeric(pd, frame[c], c, source) for c in sel.value_cols]
    values = arrays[0] if sel.kind == "score" else np.column_stack(arrays)
    labels = missing = None
    if sel.label_col is not None:
        labels, missing = _labels(pd, frame[sel.label_col])
    return RawPredictions(
        kind=sel.kind,
        values=values,
        columns=tuple(f"column {c!r}" for c in sel.value_cols),
        classes=sel.classes,
        labels=labels,
        label_missing=missing,
        label_where=f"label column {sel.label_col!r}",
    )
