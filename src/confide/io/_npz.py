"""Read predictions from NumPy ``.npz`` archives (private; NumPy only, no pickle).

Arrays found by name: probabilities ``probs``, ``predictions`` or ``y_prob`` ((n, k), or (n,)
for a binary P(y=1)), logits ``logits`` ((n, k)), labels ``labels``, ``ground_truth`` or
``y_true`` and, optionally, class names ``classes``. ``prob_key``, ``logit_key`` and
``label_key`` name other arrays.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from confide._validation import check_choice
from confide.exceptions import ConfideTypeError, ShapeError, ValidationError
from confide.io._build import RawPredictions
from confide.io._common import Source, normalize_classes, preview
from confide.io._predictions import InputKind

__all__ = ["CLASSES_KEY", "LABEL_KEYS", "LOGIT_KEYS", "PROB_KEYS", "read_npz"]

PROB_KEYS = ("probs", "predictions", "y_prob")
LOGIT_KEYS = ("logits",)
LABEL_KEYS = ("labels", "ground_truth", "y_true")
CLASSES_KEY = "classes"


def _key(
    keys: list[str], given: Any, candidates: tuple[str, ...], option: str, source: Source
) -> str | None:
    if given is not None:
        if not isinstance(given, str):
            raise ConfideTypeError(f"{option} must be an array name, got {given!r}.")
        if given not in keys:
            raise ValidationError(
                f"array {given!r} ({option}) not found in {source}; its arrays are {preview(keys)}."
            )
        return given
    found = [k for k in keys if k in candidates]
    if len(found) > 1:
        raise ValidationError(
            f"{source} has several arrays that could be used: {found!r}; pass {option}= to choose."
        )
    return found[0] if found else None


def _load(archive: Any, key: str, source: Source) -> np.ndarray:
    try:
        arr: np.ndarray = archive[key]
    except ValueError:
        raise ValidationError(
            f"array {key!r} of {source} holds Python objects; confide reads NPZ files without "
            "pickle. Save numeric arrays (and class names as a string array)."
        ) from None
    return arr


def _choose(keys: list[str], options: dict[str, Any], source: Source) -> tuple[str, str]:
    """Return (kind, key) where kind is "probs" or "logits"."""
    kind = options["input"]
    if kind is not None:
        kind = check_choice(kind, "input", ("probs", "logits", "score"))
    if options["prob_key"] is not None and options["logit_key"] is not None:
        raise ValidationError("pass only one of prob_key and logit_key.")
    if options["logit_key"] is not None or kind == "logits":
        if kind not in (None, "logits"):
            raise ValidationError(f"input={kind!r} contradicts logit_key=; pass one or the other.")
        key = _key(keys, options["logit_key"], LOGIT_KEYS, "logit_key", source)
        kind = "logits"
    elif options["prob_key"] is not None or kind in ("probs", "score"):
        key = _key(keys, options["prob_key"], PROB_KEYS, "prob_key", source)
        kind = "probs"
    else:
        prob = _key(keys, None, PROB_KEYS, "prob_key", source)
        logit = _key(keys, None, LOGIT_KEYS, "logit_key", source)
        if prob is not None and logit is not None:
            raise ValidationError(
                f"{source} has both probabilities {prob!r} and logits {logit!r}; pass "
                "input='probs' or input='logits' (or prob_key= / logit_key=) to say which to read."
            )
        key, kind = (logit, "logits") if logit is not None else (prob, "probs")
    if key is None:
        raise ValidationError(
            f"{source} has no {'logit' if kind == 'logits' else 'probability'} array; its arrays "
            f"are {preview(keys)}. Name them {', '.join(PROB_KEYS + LOGIT_KEYS)}, or pass "
            "prob_key= or logit_key= (and label_key= for the labels)."
        )
    return kind, key


def read_npz(path: Path, source: Source, options: dict[str, Any]) -> RawPredictions:
    """Read the prediction (and label) arrays of an NPZ archive."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ValidationError(f"{source} could not be read as NPZ: {exc}.") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValidationError(f"{source} holds a single .npy array, not an NPZ archive of arrays.")
    with archive:
        keys = list(archive.files)
        if not keys:
            raise ValidationError(f"predictions file {source} is empty (an NPZ with no arrays).")
        kind, key = _choose(keys, options, source)
        values = _load(archive, key, source)
        label_key = _key(keys, options["label_key"], LABEL_KEYS, "label_key", source)
        labels = None if label_key is None else _load(archive, label_key, source)
        stored = _load(archive, CLASSES_KEY, source) if CLASSES_KEY in keys else None
    if values.dtype.kind not in "fiu":
        raise ValidationError(
            f"array {key!r} of {source} must hold numbers, got dtype {values.dtype}."
        )
    if values.dtype.kind != "f":
        values = values.astype(np.float64)
    if kind == "logits" and values.ndim != 2:
        raise ShapeError(
            f"logits {key!r} of {source} must be 2-D (samples, classes), got shape {values.shape}. "
            "For one binary logit per sample, apply confide.scores.sigmoid and save it as probs."
        )
    if values.ndim not in (1, 2):
        raise ShapeError(f"array {key!r} of {source} must be 1-D or 2-D, got shape {values.shape}.")
    if options["input"] == "score" and values.ndim != 1:
        raise ShapeError(
            f"input='score' needs a 1-D array, but {key!r} of {source} has shape {values.shape}."
        )
    final: InputKind = "logits" if kind == "logits" else ("score" if values.ndim == 1 else "probs")
    if values.ndim == 2 and values.shape[1] < 2:
        raise ShapeError(
            f"array {key!r} of {source} has shape {values.shape}; it needs a column per class."
        )
    k = 2 if values.ndim == 1 else values.shape[1]
    classes = options["classes"]
    if classes is None and stored is not None:
        if stored.ndim != 1:
            raise ShapeError(f"array 'classes' of {source} must be 1-D, got shape {stored.shape}.")
        classes = stored.tolist()
    names = (
        tuple(str(i) for i in range(k))
        if classes is None
        else normalize_classes(classes, k, f"array {key!r}")
    )
    if labels is not None and labels.shape != (values.shape[0],):
        raise ShapeError(
            f"labels {label_key!r} of {source} have shape {labels.shape}, but {key!r} holds "
            f"{values.shape[0]} samples; they need one label per sample."
        )
    cols = (
        (f"array {key!r}",)
        if values.ndim == 1
        else tuple(f"column {j} of array {key!r}" for j in range(k))
    )
    return RawPredictions(
        kind=final,
        values=values,
        columns=cols,
        classes=names,
        labels=labels,
        label_where=f"labels array {label_key!r}",
    )
