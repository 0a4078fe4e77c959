"""Map the labels stored in a file to class indices (private).

The rule, for class names ``classes`` (strings):

* text labels match the class names exactly; when they do not all match but are all integers
  (``"3"``, ``"3.0"``) or booleans (``"True"``, ``"False"``), they are read as integers;
* integer labels (also booleans and integral floats) match the class names when those are
  all integers (``p_0 .. p_9``, ``classes=[-1, 1]``); otherwise they are class indices
  ``0 .. k-1``.

Anything else is a :class:`~confide.exceptions.LabelError` listing the unknown values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from confide._typing import IntArray
from confide.exceptions import LabelError
from confide.io._common import integer_names, preview

__all__ = ["label_values", "labels_to_indices"]

Row = Callable[[int], str]
_BOOLEANS = {"True": 1, "False": 0, "true": 1, "false": 0, "TRUE": 1, "FALSE": 0}


def _parse_int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if math.isfinite(value) and value == round(value) else None


def _unknown(
    values: np.ndarray,
    unknown: Sequence[Any],
    classes: Sequence[str],
    where: str,
    row: Row,
    how: str,
    hint: str,
) -> LabelError:
    first = int(np.argmax(np.isin(values, np.asarray(unknown))))
    return LabelError(
        f"{where} holds {len(unknown)} label value(s) that are not among the classes: "
        f"{preview(list(unknown), 5)}, the first in {row(first)}. {how} The {len(classes)} "
        f"classes are {preview(list(classes))}.{hint}"
    )


def _from_integers(
    ints: np.ndarray, classes: Sequence[str], where: str, row: Row, hint: str
) -> IntArray:
    names = integer_names(classes)
    uniq, inverse = np.unique(ints, return_inverse=True)
    if names is not None:
        lookup = {v: i for i, v in enumerate(names)}
        unknown = [u for u in uniq.tolist() if u not in lookup]
        if unknown:
            how = "Integer labels are matched to the class names, which are integers."
            raise _unknown(ints, unknown, classes, where, row, how, hint)
        table = np.array([lookup[u] for u in uniq.tolist()], dtype=np.intp)
        out: IntArray = table[inverse.reshape(-1)]
        return out
    k = len(classes)
    unknown = [u for u in uniq.tolist() if not 0 <= u < k]
    if unknown:
        how = (
            f"Integer labels are read as class indices 0..{k - 1} because the class names are "
            "not integers."
        )
        raise _unknown(ints, unknown, classes, where, row, how, hint)
    return ints.astype(np.intp)


def _from_text(
    texts: np.ndarray, classes: Sequence[str], where: str, row: Row, hint: str
) -> IntArray:
    uniq, inverse = np.unique(texts, return_inverse=True)
    lookup = {c: i for i, c in enumerate(classes)}
    unknown = [u for u in uniq.tolist() if u not in lookup]
    if not unknown:
        table = np.array([lookup[u] for u in uniq.tolist()], dtype=np.intp)
        out: IntArray = table[inverse.reshape(-1)]
        return out
    if set(uniq.tolist()) <= _BOOLEANS.keys():  # True/False as written by pandas
        bools = np.array([_BOOLEANS[u] for u in uniq.tolist()], dtype=np.int64)
        return _from_integers(bools[inverse.reshape(-1)], classes, where, row, hint)
    parsed = [_parse_int(u) for u in uniq.tolist()]
    if all(p is not None for p in parsed):
        ints = np.array(parsed, dtype=np.int64)[inverse.reshape(-1)]
        return _from_integers(ints, classes, where, row, hint)
    how = "Text labels must match the class names exactly."
    raise _unknown(texts, unknown, classes, where, row, how, hint)


def labels_to_indices(
    values: np.ndarray,
    classes: Sequence[str],
    where: str,
    row: Row,
    *,
    missing: np.ndarray | None = None,
    hint: str = "",
) -> IntArray:
    """Class indices of the labels ``values`` (1-D), read by the rule in the module docstring.

    ``missing`` marks empty cells; ``where`` names the column and file and ``row`` formats a
    row number for the messages.
    """
    values = np.asarray(values)
    if values.dtype.kind == "f" and missing is None:
        missing = ~np.isfinite(values)
    if missing is not None and missing.any():
        raise LabelError(
            f"{where} has no label in {int(missing.sum())} row(s), the first is "
            f"{row(int(np.argmax(missing)))}. Fill in those labels or drop the rows."
        )
    kind = values.dtype.kind
    if kind == "O":
        items = values.tolist()
        if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in items):
            values = np.array(items, dtype=np.int64)
        else:
            values = np.array([v.decode() if isinstance(v, bytes) else str(v) for v in items])
        kind = values.dtype.kind
    if kind == "S":
        values = np.char.decode(values)
        kind = "U"
    if kind == "U":
        return _from_text(values, classes, where, row, hint)
    if kind == "b":
        return _from_integers(values.astype(np.int64), classes, where, row, hint)
    if kind in "iu":
        return _from_integers(values.astype(np.int64), classes, where, row, hint)
    if kind == "f":
        fractional = values != np.round(values)
        if fractional.any():
            i = int(np.argmax(fractional))
            raise LabelError(
                f"{where} must hold class labels, but {row(i)} holds {float(values[i])!r}, which is not "
                "an integer. Is this a probability column? Then pass label_col= to name the "
                "label column."
            )
        return _from_integers(values.astype(np.int64), classes, where, row, hint)
    raise LabelError(f"{where} holds values of dtype {values.dtype}, which cannot be class labels.")


def label_values(y: IntArray, classes: Sequence[str]) -> np.ndarray:
    """The labels to write for class indices ``y``: the class names (as integers if they are)."""
    names = integer_names(classes)
    if names is not None:
        out: np.ndarray = np.array(names, dtype=np.int64)[y]
        return out
    return np.array(classes, dtype=str)[y]
