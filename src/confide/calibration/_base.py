"""The calibrator protocol shared by every method: explicit input, ``fit``, ``predict_proba``, JSON.

A calibrator maps a model's scores to calibrated probabilities. What the scores are is said
once, at construction, and never guessed per batch:

* ``input="logits"``: ``(n, k)`` logits, or ``(n,)`` logits of ``P(y = 1)`` for binary models;
* ``input="probs"``: ``(n, k)`` probabilities (rows sum to 1), or ``(n,)`` ``P(y = 1)``.

``predict_proba`` returns float64 probabilities of the same layout: ``(n, k)`` rows summing to
1, or ``(n,)`` ``P(y = 1)``. Fitted attributes end with an underscore (``n_classes_``,
``temperature_``, ...). ``save`` writes versioned JSON (never pickle) and
:func:`confide.calibration.load` reads any calibrator back, checking schema, kind and checksum.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from confide._serialization import from_document, load_json, save_json, to_document
from confide._validation import (
    as_float_array,
    as_label_array,
    check_choice,
    check_consistent_length,
    check_probabilities,
    check_sample_weight,
)
from confide.exceptions import LabelError, NotFittedError, SchemaError, ShapeError, ValidationError

__all__ = ["Calibrator", "NotFittedError", "load", "registered_methods"]

DOCUMENT_KIND = "calibrator"
_REGISTRY: dict[str, type[Calibrator]] = {}


def registered_methods() -> tuple[str, ...]:
    """Names of every calibration method (the ``method`` key of saved files)."""
    return tuple(sorted(_REGISTRY))


class Calibrator(ABC):
    """Base class: subclasses set ``method`` and implement ``_fit``, ``_predict``, ``_params``."""

    #: Name used in saved files and by ``confide calibrate --method``.
    method: ClassVar[str]
    #: Inputs each method accepts (a subclass narrows it, e.g. binary-only methods).
    supports_multiclass: ClassVar[bool] = True
    #: Fewest calibration samples the method can be fitted on.
    min_samples: ClassVar[int] = 2
    #: Whether ``_fit``/``_predict`` accept float32 logits as they are (the method then casts
    #: where it computes); otherwise scores arrive as float64.
    keeps_float32: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("method")
        if isinstance(name, str):
            _REGISTRY[name] = cls

    def __init__(self, *, input: str = "logits") -> None:
        self.input = check_choice(input, "input", ("logits", "probs"))

    # -- the public protocol -------------------------------------------------------------
    def fit(self, scores: Any, y: Any, *, sample_weight: Any = None) -> Self:
        """Fit on calibration ``scores`` and true labels ``y``; returns ``self``."""
        x = self._check_scores(scores)
        n = check_consistent_length(scores=x, y=y, sample_weight=sample_weight)
        if n < self.min_samples:
            raise ValidationError(
                f"{type(self).__name__} needs at least {self.min_samples} calibration samples, got {n}."
            )
        k = 2 if x.ndim == 1 else x.shape[1]
        if x.ndim == 2 and k > 2 and not self.supports_multiclass:
            raise ShapeError(
                f"{type(self).__name__} calibrates binary scores; got {k} classes. Pass 1-D "
                "P(y=1) scores, or use a multiclass method (e.g. TemperatureScaling)."
            )
        labels = as_label_array(y, "y")
        if labels.size and (labels.min() < 0 or labels.max() >= k):
            bad = np.unique(labels[(labels < 0) | (labels >= k)])[:10].tolist()
            raise LabelError(
                f"y holds label(s) {bad} outside the {k} classes 0..{k - 1} of the scores."
            )
        w = check_sample_weight(sample_weight, n)
        present = np.unique(labels if w is None else labels[w > 0])
        if present.size < 2:
            raise LabelError(
                f"the calibration set holds only class {present.tolist()}; calibration needs "
                "examples of at least two classes (a one-class set would fit a degenerate map)."
            )
        self.n_classes_ = k
        self.binary_ = x.ndim == 1
        self._fit(x, labels, w)
        return self

    def predict_proba(self, scores: Any) -> np.ndarray:
        """Calibrated probabilities for new ``scores`` (same layout as the input)."""
        self._require_fitted()
        x = self._check_scores(scores)
        k = 2 if x.ndim == 1 else x.shape[1]
        if (x.ndim == 1) != self.binary_ or k != self.n_classes_:
            want = "1-D binary scores" if self.binary_ else f"(n, {self.n_classes_}) scores"
            raise ShapeError(
                f"this {type(self).__name__} was fitted on {want}; got scores of shape {x.shape}."
            )
        return self._predict(x)

    def fit_predict_proba(self, scores: Any, y: Any, *, sample_weight: Any = None) -> np.ndarray:
        return self.fit(scores, y, sample_weight=sample_weight).predict_proba(scores)

    # -- for subclasses ------------------------------------------------------------------
    @abstractmethod
    def _fit(self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> None:
        """Fit on validated float64 scores ``x`` ((n,) or (n, k)), labels and weights."""

    @abstractmethod
    def _predict(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probabilities from validated float64 scores."""

    @abstractmethod
    def _params(self) -> dict[str, Any]:
        """Fitted parameters as JSON-safe values (arrays as lists)."""

    @abstractmethod
    def _set_params(self, params: dict[str, Any]) -> None:
        """Restore fitted parameters written by :meth:`_params`."""

    def _config(self) -> dict[str, Any]:
        """Constructor arguments (subclasses with more arguments extend this)."""
        return {"input": self.input}

    # -- helpers -------------------------------------------------------------------------
    def _check_scores(self, scores: Any) -> np.ndarray:
        if self.input == "probs":
            p = check_probabilities(scores, "scores")
            return p.astype(np.float64, copy=False)
        x = as_float_array(scores, "scores", ndim=(1, 2))
        return x if self.keeps_float32 else x.astype(np.float64, copy=False)

    def log_scores(self, x: np.ndarray) -> np.ndarray:
        """Scores in log space: the logits themselves, or ``log p`` (``logit p`` for 1-D).

        Probabilities of exactly 0 (or 1 for 1-D) are moved to the nearest positive float so
        that the log stays finite; every scaling method works on these.
        """
        if self.input == "logits":
            return x
        tiny = np.finfo(np.float64).tiny
        if x.ndim == 1:
            p = np.clip(x, tiny, 1.0 - np.finfo(np.float64).epsneg)
            return np.log(p) - np.log1p(-p)
        return np.log(np.maximum(x, tiny))

    def _require_fitted(self) -> None:
        if not hasattr(self, "n_classes_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit() first.")

    # -- storage ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A versioned JSON document of the method, its settings and fitted parameters."""
        self._require_fitted()
        payload = {
            "method": self.method,
            "config": self._config(),
            "n_classes": self.n_classes_,
            "binary": self.binary_,
            "params": self._params(),
        }
        return to_document(DOCUMENT_KIND, payload)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` atomically to ``path`` (JSON)."""
        doc = self.to_dict()
        return save_json(path, DOCUMENT_KIND, doc["payload"])

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._config().items())
        return f"{type(self).__name__}({args})"


def _from_payload(payload: dict[str, Any], source: str) -> Calibrator:
    method = payload.get("method")
    if method not in _REGISTRY:
        raise SchemaError(
            f"{source} holds an unknown calibration method {method!r}; this confide knows "
            f"{', '.join(registered_methods())}."
        )
    cls = _REGISTRY[method]
    try:
        obj = cls(**payload["config"])
        obj.n_classes_ = int(payload["n_classes"])
        obj.binary_ = bool(payload["binary"])
        obj._set_params(payload["params"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SchemaError(f"{source} has malformed {method!r} parameters: {exc}") from None
    return obj


def load(path_or_doc: str | os.PathLike[str] | dict[str, Any]) -> Calibrator:
    """Read a calibrator saved by :meth:`Calibrator.save` (or a :meth:`to_dict` document)."""
    if isinstance(path_or_doc, dict):
        return _from_payload(from_document(path_or_doc, DOCUMENT_KIND), "the document")
    return _from_payload(load_json(path_or_doc, DOCUMENT_KIND), str(path_or_doc))
