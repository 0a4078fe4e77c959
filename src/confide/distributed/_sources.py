"""Turn Dask arrays, a Dask dataframe or Parquet files into partitions of checked predictions.

Every distributed function starts here: :func:`as_partitions` returns a
:class:`PartitionedPredictions`, a list of Dask ``Delayed`` objects, one per partition, each
producing a :class:`Batch` (labels, probabilities, logits, chunk keys) in the worker that reads
it. Nothing is computed here except, for tables, the column names.

* Dask arrays ``(y_true, y_prob)``: the blocks along the rows (``y_prob`` is rechunked to one
  block across classes, ``y_true`` to ``y_prob``'s row chunks);
* a Dask dataframe, or a path / glob / list of Parquet files (local, or any URL ``fsspec``
  reads, e.g. ``s3://bucket/preds/*.parquet``): one partition per dataframe partition. Columns
  are chosen as :func:`confide.io.read_predictions` chooses them (``label_col``,
  ``prob_cols``, ``logit_cols``, ``score_col``, ``classes``, ``input``, detection by name), and
  each partition goes through the same checks (finite values, probabilities, labels).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from confide.distributed._dask import import_dask, import_dask_array, import_dask_dataframe
from confide.exceptions import ConfideTypeError, ShapeError, ValidationError
from confide.io._build import build_predictions, check_sum_tolerance
from confide.io._common import Source
from confide.io._tables import _select, raw_from_frame

__all__ = ["Batch", "PartitionedPredictions", "as_partitions"]


@dataclass(frozen=True, eq=False)
class Batch:
    """One partition's rows, checked: labels (class indices), probabilities, logits, keys."""

    y: np.ndarray | None
    probs: np.ndarray
    logits: np.ndarray | None = None
    keys: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.probs.shape[0])

    def labels(self, what: str) -> np.ndarray:
        """The labels, or a clear error when the data hold none."""
        if self.y is None:
            raise ValidationError(f"{what} needs the true labels; the data hold none.")
        return self.y


@dataclass(frozen=True, eq=False)
class PartitionedPredictions:
    """Predictions split into partitions, each a Dask ``Delayed`` producing a :class:`Batch`.

    Attributes
    ----------
    partitions : tuple of dask.delayed.Delayed
    n_classes : int
        2 for a binary score column.
    binary : bool
        True when the probabilities are 1-D ``P(y = 1)``.
    input : {"probs", "logits", "score", "array"}
        What the data hold (``"array"``: Dask arrays, taken as they are).
    classes : tuple of str
    source : str
        A description for messages (the glob, ``"<dask arrays>"``, ...).
    has_keys : bool
        Whether each batch carries chunk keys (``timestamps=`` / ``time_col=``).
    """

    partitions: tuple[Any, ...]
    n_classes: int
    binary: bool
    input: str
    classes: tuple[str, ...]
    source: str
    has_keys: bool = False
    lengths: tuple[Any, ...] = ()

    @property
    def n_partitions(self) -> int:
        return len(self.partitions)

    def partition_lengths(self) -> tuple[int, ...]:
        """Rows per partition (known for Dask arrays; one light pass over one column of a table)."""
        if all(isinstance(n, int) for n in self.lengths) and len(self.lengths) == len(
            self.partitions
        ):
            return tuple(int(n) for n in self.lengths)
        dask = import_dask()
        return tuple(int(n) for n in dask.compute(*self.lengths))


def _array_batch(y: Any, p: Any, keys: Any) -> Batch:
    return Batch(
        y=None if y is None else np.asarray(y),
        probs=np.asarray(p),
        keys=None if keys is None else np.asarray(keys),
    )


def _is_dask_collection(obj: Any, kind: str) -> bool:
    mod = type(obj).__module__
    return mod.startswith("dask") and type(obj).__name__ == kind


def _from_arrays(y_true: Any, y_prob: Any, timestamps: Any) -> PartitionedPredictions:
    da = import_dask_array("Dask array input")
    dask = import_dask()
    if not isinstance(y_prob, da.Array):
        raise ConfideTypeError(
            f"y_true is a Dask array, so y_prob must be one too; got {type(y_prob).__name__}. "
            "Wrap it with dask.array.from_array(...)."
        )
    if y_prob.ndim not in (1, 2):
        raise ShapeError(f"y_prob must be 1-D or 2-D, got shape {y_prob.shape}.")
    if y_true is not None and y_true.ndim != 1:
        raise ShapeError(f"y_true must be 1-D, got shape {y_true.shape}.")
    if np.isnan(y_prob.shape[0]) or (y_true is not None and np.isnan(y_true.shape[0])):
        raise ShapeError(
            "the Dask arrays have unknown chunk sizes; call .compute_chunk_sizes() first."
        )
    for name, arr in (("y_true", y_true), ("timestamps", timestamps)):
        if arr is not None and arr.shape[0] != y_prob.shape[0]:
            raise ShapeError(
                f"{name} has {arr.shape[0]} rows but y_prob has {y_prob.shape[0]}; they must line up."
            )
    if y_prob.ndim == 2:
        if y_prob.shape[1] < 2:
            raise ShapeError(f"y_prob of shape {y_prob.shape}: a classifier needs 2+ columns.")
        y_prob = y_prob.rechunk({1: -1})
    rows = y_prob.chunks[0]
    p_parts = y_prob.to_delayed().ravel()
    y_parts = [None] * len(rows) if y_true is None else y_true.rechunk((rows,)).to_delayed().ravel()
    k_parts = (
        [None] * len(rows)
        if timestamps is None
        else timestamps.rechunk((rows,)).to_delayed().ravel()
    )
    parts = tuple(
        dask.delayed(_array_batch, pure=True)(a, b, c)
        for a, b, c in zip(y_parts, p_parts, k_parts, strict=True)
    )
    k = 2 if y_prob.ndim == 1 else int(y_prob.shape[1])
    classes = tuple(str(i) for i in range(k))
    return PartitionedPredictions(
        parts,
        k,
        y_prob.ndim == 1,
        "array",
        classes,
        "<dask arrays>",
        timestamps is not None,
        tuple(int(r) for r in rows),
    )


def _frame_batch(
    frame: Any, sel: Any, source: Source, tol: float | None, time_col: str | None
) -> Batch:
    if len(frame) == 0:
        k = len(sel.classes)
        empty = np.empty((0,) if sel.kind == "score" else (0, k))
        return Batch(None if sel.label_col is None else np.empty(0, np.intp), empty)
    preds = build_predictions(raw_from_frame(frame, sel, source), source, tol)
    keys = None
    if time_col is not None:
        keys = frame[time_col].to_numpy()
        if keys.dtype.kind == "M":
            keys = keys.astype("datetime64[ns]")
    y = None if preds.y_true is None else np.asarray(preds.y_true)
    logits = None if preds.logits is None else np.asarray(preds.logits)
    return Batch(y, np.asarray(preds.probs), logits, keys)


def _read_parquet(path: Any, columns: list[str] | None) -> Any:
    dd = import_dask_dataframe("Reading Parquet predictions with Dask")
    where = path if isinstance(path, str | os.PathLike) else list(path)
    hint = (
        "Pass a file, a directory, a glob such as 'preds/*.parquet' or a list of paths the "
        "workers can read."
    )
    try:
        frame = dd.read_parquet(where, columns=columns)
    except (OSError, ValueError) as exc:
        raise ValidationError(
            f"no Parquet predictions could be read from {str(path)!r}: {exc}. {hint}"
        ) from None
    if len(frame.columns) == 0 or frame.npartitions == 0:
        raise ValidationError(f"no Parquet predictions were found at {str(path)!r}. {hint}")
    return frame


def _from_table(
    frame: Any, source_name: str, options: dict[str, Any], time_col: str | None, tol: Any
) -> PartitionedPredictions:
    dask = import_dask()
    columns = [str(c) for c in frame.columns]
    source = Source(source_name, "parquet")
    sel = _select(columns, options, source)
    wanted = [*sel.value_cols, *([sel.label_col] if sel.label_col else [])]
    if time_col is not None:
        if not isinstance(time_col, str) or time_col not in columns:
            raise ValidationError(
                f"time_col={time_col!r} is not a column of {source}; its columns are {columns}."
            )
        wanted.append(time_col)
    checked_tol = check_sum_tolerance(tol)
    parts = tuple(
        dask.delayed(_frame_batch, pure=True)(
            part, sel, Source(f"{source_name} (partition {i})", "parquet"), checked_tol, time_col
        )
        for i, part in enumerate(frame[wanted].to_delayed())
    )
    if not parts:
        raise ValidationError(f"{source} has no partitions (no rows).")
    k = len(sel.classes)
    lengths = tuple(dask.delayed(len)(part) for part in frame[wanted[:1]].to_delayed())
    return PartitionedPredictions(
        parts,
        k,
        sel.kind == "score",
        sel.kind,
        sel.classes,
        source_name,
        time_col is not None,
        lengths,
    )


def as_partitions(
    data: Any,
    y_prob: Any = None,
    *,
    timestamps: Any = None,
    time_col: str | None = None,
    label_col: str | None = None,
    prob_cols: Sequence[str] | None = None,
    logit_cols: Sequence[str] | None = None,
    score_col: str | None = None,
    classes: Sequence[Any] | None = None,
    input: str | None = None,
    sum_tolerance: float | None = None,
) -> PartitionedPredictions:
    """Partitions of checked predictions from any input the distributed functions accept.

    Parameters
    ----------
    data : dask.array.Array, dask.dataframe.DataFrame, str, path-like, list of paths or PartitionedPredictions
        Labels as a Dask array (then ``y_prob`` is the Dask array of probabilities, 1-D
        ``P(y = 1)`` or ``(n, k)``), a Dask dataframe, or Parquet files (a path, a directory, a
        glob or a list; any URL that ``fsspec`` reads).
    y_prob : dask.array.Array, optional
        With Dask array labels only. ``data=None`` with ``y_prob`` given means no labels.
    timestamps : dask.array.Array, optional
        Chunk keys for monitoring (Dask array input); ``time_col`` names the column for tables.
    label_col, prob_cols, logit_cols, score_col, classes, input, sum_tolerance
        Tables only: as :func:`confide.io.read_predictions`.
    """
    if isinstance(data, PartitionedPredictions):
        return data
    table_opts = {
        "label_col": label_col,
        "prob_cols": prob_cols,
        "logit_cols": logit_cols,
        "score_col": score_col,
        "classes": classes,
        "input": input,
    }
    da_mod = import_dask_array("Distributed evaluation")
    if y_prob is not None or isinstance(data, da_mod.Array):
        if data is not None and not isinstance(data, da_mod.Array):
            raise ConfideTypeError(
                f"y_prob is given, so y_true must be a Dask array too; got {type(data).__name__}."
            )
        if y_prob is None:
            raise ValidationError(
                "y_true is a Dask array: pass y_prob, the Dask array of probabilities, too."
            )
        given = [f"{k}=" for k, v in table_opts.items() if v is not None]
        if given or time_col is not None or sum_tolerance is not None:
            raise ValidationError(
                f"{', '.join(given) or 'time_col='} applies to tables (a Dask dataframe or Parquet "
                "files), not to Dask arrays; use timestamps= for chunk keys."
            )
        return _from_arrays(data, y_prob, timestamps)
    if timestamps is not None:
        raise ValidationError("timestamps= is for Dask arrays; with a table pass time_col=.")
    if _is_dask_collection(data, "DataFrame"):
        return _from_table(data, "<dask dataframe>", table_opts, time_col, sum_tolerance)
    if isinstance(data, str | os.PathLike) or (
        isinstance(data, list | tuple)
        and data
        and all(isinstance(p, str | os.PathLike) for p in data)
    ):
        name = str(data) if isinstance(data, str | os.PathLike) else f"{len(data)} Parquet files"
        header = _read_parquet(data, None)
        return _from_table(header, name, table_opts, time_col, sum_tolerance)
    raise ConfideTypeError(
        f"expected Dask arrays (y_true, y_prob), a Dask dataframe or Parquet path(s); got "
        f"{type(data).__name__}. For in-memory arrays use confide.metrics directly."
    )
