"""scikit-learn bridge: :class:`CalibratedModel`, any classifier calibrated by a confide method.

Import it explicitly (``from confide.integrations.sklearn import CalibratedModel``); it needs
scikit-learn (``pip install 'confide[sklearn]'``).

``CalibratedModel(estimator, method="temperature", cv=5)`` is itself a scikit-learn classifier,
usable in a ``Pipeline``, ``GridSearchCV`` or ``clone``. ``fit(X, y)``:

1. gets out-of-fold scores of ``cv`` clones of ``estimator`` (stratified folds, no shuffling):
   ``predict_proba`` (``input="probs"``), or ``decision_function`` (``input="logits"``) when
   the estimator has no ``predict_proba`` or ``input="logits"`` is asked for;
2. fits one confide calibrator (``method``, a name from
   :func:`confide.calibration.registered_methods`) on the pooled out-of-fold scores, binary
   problems on the 1-D positive-class score;
3. refits ``estimator`` on all the data (``estimator_``).

Unlike scikit-learn's ``CalibratedClassifierCV`` (which averages ``cv`` calibrated models)
there is one model and one calibrator, so ``calibrator_`` can be saved with confide's JSON
format. Labels may be any sortable values (``classes_``); they are mapped to indices
``0..k-1`` for the calibrator.
"""

from __future__ import annotations

import warnings
from typing import Any, Self

import numpy as np
from scipy.special import expit, softmax

from confide.calibration import Calibrator, registered_methods
from confide.calibration._base import _REGISTRY
from confide.exceptions import MissingDependencyError, ValidationError

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, clone
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.utils import get_tags
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise MissingDependencyError("scikit-learn", "sklearn", "CalibratedModel") from exc

__all__ = ["CalibratedModel", "CalibrationFallbackWarning"]

_INPUTS = (None, "logits", "probs")
_ON_ERROR = ("warn", "raise")


class CalibrationFallbackWarning(UserWarning):
    """The calibrator could not be fitted; the model predicts uncalibrated probabilities."""


class CalibratedModel(ClassifierMixin, BaseEstimator):
    """A scikit-learn classifier whose probabilities are calibrated by a confide calibrator.

    Parameters
    ----------
    estimator : scikit-learn classifier
        Cloned ``cv + 1`` times (never fitted in place).
    method : str, default "temperature"
        A confide calibration method (:func:`confide.calibration.registered_methods`).
    cv : int, default 5
        Number of stratified folds for the out-of-fold scores (at least 2).
    input : {None, "probs", "logits"}, default None
        Which scores the calibrator sees: ``"probs"`` (``predict_proba``), ``"logits"``
        (``decision_function``), or ``None`` for ``"probs"`` when the estimator has
        ``predict_proba`` and ``"logits"`` otherwise.
    on_calibration_error : {"warn", "raise"}, default "warn"
        What to do when the calibrator cannot be fitted on the out-of-fold scores (confide
        refuses degenerate data, e.g. scores that carry no information about the labels, or
        perfectly separated folds where temperature scaling has no optimum): ``"raise"`` the
        :class:`~confide.exceptions.ValidationError`, or ``"warn"`` with a
        :class:`CalibrationFallbackWarning`, keep ``calibrator_ = None`` and predict the
        estimator's own probabilities (``softmax``/``sigmoid`` of ``decision_function`` for
        ``input="logits"``); the message is kept in ``calibration_error_``.

    Attributes
    ----------
    estimator_ : the estimator refitted on all the data
    calibrator_ : confide.calibration.Calibrator fitted on the out-of-fold scores, or None
    calibration_error_ : str or None, why ``calibrator_`` is None
    classes_ : array of shape (k,), the sorted class labels
    input_ : str, the resolved ``input``
    n_features_in_ : int
    """

    def __init__(
        self,
        estimator: Any,
        method: str = "temperature",
        cv: int = 5,
        input: str | None = None,
        on_calibration_error: str = "warn",
    ) -> None:
        self.estimator = estimator
        self.method = method
        self.cv = cv
        self.input = input
        self.on_calibration_error = on_calibration_error

    # -- helpers ---------------------------------------------------------------------------
    def _check_params(self) -> str:
        if self.method not in _REGISTRY:
            raise ValueError(
                f"unknown calibration method {self.method!r}; known methods are "
                f"{', '.join(registered_methods())}."
            )
        if isinstance(self.cv, bool) or not isinstance(self.cv, int | np.integer) or self.cv < 2:
            raise ValueError(f"cv must be an integer of at least 2, got {self.cv!r}.")
        if self.input not in _INPUTS:
            raise ValueError(f"input must be None, 'probs' or 'logits'; got {self.input!r}.")
        if self.on_calibration_error not in _ON_ERROR:
            raise ValueError(
                "on_calibration_error must be 'warn' or 'raise'; "
                f"got {self.on_calibration_error!r}."
            )
        has_proba = hasattr(self.estimator, "predict_proba")
        has_decision = hasattr(self.estimator, "decision_function")
        resolved = self.input or ("probs" if has_proba else "logits")
        if resolved == "probs" and not has_proba:
            raise ValueError(
                f"input='probs' needs an estimator with predict_proba; "
                f"{type(self.estimator).__name__} has none. Use input='logits'."
            )
        if resolved == "logits" and not has_decision:
            raise ValueError(
                f"{type(self.estimator).__name__} has neither predict_proba nor "
                "decision_function (or no decision_function for input='logits')."
            )
        return resolved

    @staticmethod
    def _response(input: str) -> str:
        return "predict_proba" if input == "probs" else "decision_function"

    def _to_calibrator_scores(self, raw: Any) -> np.ndarray:
        s = np.asarray(raw, dtype=np.float64)
        if len(self.classes_) == 2 and s.ndim == 2:
            # binary: the positive-class column; decision_function is already 1-D
            s = s[:, 1] if self.input_ == "probs" else s[:, 1] - s[:, 0]
        return s

    # -- scikit-learn API ------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> Self:
        """Fit the calibrator on out-of-fold scores, then refit the estimator on all data."""
        input = self._check_params()
        X, y = validate_data(self, X, y, accept_sparse=True, ensure_min_samples=2)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        classes, y_idx = np.unique(y, return_inverse=True)
        if classes.shape[0] < 2:
            raise ValueError(
                f"CalibratedModel needs at least two classes in y; got only class {classes[0]!r}."
            )
        self.classes_ = classes
        self.input_ = input
        folds = StratifiedKFold(n_splits=int(self.cv))
        raw = cross_val_predict(
            clone(self.estimator), X, y_idx, cv=folds, method=self._response(input)
        )
        cal: Calibrator = _REGISTRY[self.method](input=input)
        self.calibrator_: Calibrator | None = cal
        self.calibration_error_: str | None = None
        try:
            cal.fit(self._to_calibrator_scores(raw), y_idx)
        except ValidationError as exc:
            if self.on_calibration_error == "raise":
                raise
            self.calibrator_ = None
            self.calibration_error_ = str(exc)
            warnings.warn(
                f"CalibratedModel: the {self.method!r} calibrator could not be fitted ({exc}); "
                "predict_proba returns the estimator's uncalibrated probabilities.",
                CalibrationFallbackWarning,
                stacklevel=2,
            )
        self.estimator_ = clone(self.estimator).fit(X, y_idx)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated class probabilities, shape ``(n, k)``, columns in ``classes_`` order."""
        check_is_fitted(self, "estimator_")
        X = validate_data(self, X, accept_sparse=True, reset=False)
        raw = getattr(self.estimator_, self._response(self.input_))(X)
        s = self._to_calibrator_scores(raw)
        if self.calibrator_ is not None:
            p = self.calibrator_.predict_proba(s)
        elif self.input_ == "probs":
            p = s
        else:
            p = expit(s) if s.ndim == 1 else softmax(s, axis=1)
        if p.ndim == 1:
            p = np.column_stack([1.0 - p, p])
        return p

    def predict(self, X: Any) -> np.ndarray:
        """The class of highest calibrated probability (the first on ties)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags.sparse = inner.input_tags.sparse
        return tags
