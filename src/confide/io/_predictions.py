"""The :class:`Predictions` read from a file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from confide._typing import AnyArray, IntArray
from confide.exceptions import LabelError, ShapeError, ValidationError
from confide.io._common import preview

__all__ = ["Predictions"]

InputKind = Literal["probs", "logits", "score"]
_INPUTS = ("probs", "logits", "score")


def _readonly(a: AnyArray) -> AnyArray:
    view = a.view()
    view.setflags(write=False)
    return view


@dataclass(frozen=True, eq=False)
class Predictions:
    """A model's predictions (and, when the file has them, the true labels), checked.

    Attributes
    ----------
    y_true : ndarray of intp, shape (n,), or None
        Class indices into :attr:`classes`; None when the file holds no labels.
    probs : ndarray, shape (n, k), or (n,) for a binary score column
        Probabilities; for binary scores ``P(y = classes[1])``. float32 stays float32; for
        logit input these are ``softmax(logits)``, computed in float64.
    logits : ndarray, shape (n, k), or None
        The logits as stored, when the file held logits.
    classes : tuple of str
        Class names, in column order (two for binary scores: negative, positive).
    input : {"probs", "logits", "score"}
        What the file held.
    source : str
        The file read.

    The arrays are read-only views.
    """

    y_true: IntArray | None
    probs: AnyArray
    logits: AnyArray | None
    classes: tuple[str, ...]
    input: InputKind
    source: str = "<memory>"

    def __post_init__(self) -> None:
        if self.input not in _INPUTS:
            raise ValidationError(f"input must be one of {_INPUTS}, got {self.input!r}.")
        probs = np.asarray(self.probs)
        if probs.ndim not in (1, 2):
            raise ShapeError(f"probs must be 1-D or 2-D, got shape {probs.shape}.")
        k = 2 if probs.ndim == 1 else probs.shape[1]
        classes = tuple(str(c) for c in self.classes)
        if len(classes) != k:
            raise ShapeError(f"{len(classes)} class names for probs of shape {probs.shape}.")
        object.__setattr__(self, "probs", _readonly(probs))
        object.__setattr__(self, "classes", classes)
        if self.logits is not None:
            logits = np.asarray(self.logits)
            if logits.shape != probs.shape:
                raise ShapeError(f"logits of shape {logits.shape} for probs of {probs.shape}.")
            object.__setattr__(self, "logits", _readonly(logits))
        if self.y_true is not None:
            y = np.asarray(self.y_true)
            if y.shape != (probs.shape[0],):
                raise ShapeError(f"y_true of shape {y.shape} for {probs.shape[0]} samples.")
            object.__setattr__(self, "y_true", _readonly(y))

    @property
    def n_samples(self) -> int:
        """Number of rows (samples)."""
        return int(self.probs.shape[0])

    @property
    def n_classes(self) -> int:
        """Number of classes (2 for a binary score)."""
        return len(self.classes)

    @property
    def binary(self) -> bool:
        """True for a single binary score column: :attr:`probs` is 1-D, ``P(y = classes[1])``."""
        return bool(self.probs.ndim == 1)

    @property
    def has_labels(self) -> bool:
        """True when the file held the true labels."""
        return self.y_true is not None

    def require_labels(self) -> IntArray:
        """Return :attr:`y_true`, raising :class:`LabelError` when the file had no labels."""
        if self.y_true is None:
            raise LabelError(
                f"{self.source!r} holds predictions without true labels, which this needs. "
                "Add a label column (named label, y_true, y, target, true_label or class, or "
                "pass label_col=) or, for NPZ, an array named labels, ground_truth or y_true "
                "(or pass label_key=)."
            )
        return self.y_true

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe summary: shapes, dtypes, classes and source (no arrays)."""
        return {
            "source": self.source,
            "input": self.input,
            "n_samples": self.n_samples,
            "n_classes": self.n_classes,
            "classes": list(self.classes),
            "binary": self.binary,
            "has_labels": self.has_labels,
            "probs_shape": list(self.probs.shape),
            "probs_dtype": str(self.probs.dtype),
            "logits_shape": None if self.logits is None else list(self.logits.shape),
        }

    def __repr__(self) -> str:
        labels = "with labels" if self.has_labels else "no labels"
        return (
            f"Predictions(source={self.source!r}, input={self.input!r}, n_samples={self.n_samples}, "
            f"classes={preview(self.classes, 10)}, probs dtype {self.probs.dtype}, {labels})"
        )
