r"""A learned combination of confidence scores: L2 logistic regression, fitted exactly."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from confide._serialization import from_document, load_json, save_json, to_document
from confide._typing import ArrayLike, FloatArray
from confide._validation import (
    as_float_array,
    check_binary_labels,
    check_consistent_length,
    check_sample_weight,
)
from confide.exceptions import (
    ConfideTypeError,
    LabelError,
    NotFittedError,
    SchemaError,
    ShapeError,
    ValidationError,
)

__all__ = ["ScoreCombiner"]

DOCUMENT_KIND = "score_combiner"


class ScoreCombiner:
    r"""Combine several confidence scores into one by L2-regularised logistic regression.

    The columns of ``scores`` (e.g. sequence probability, entropy confidence, self-consistency,
    verbalised confidence) are standardised with the training mean and standard deviation
    (population, ``ddof=0``; a constant column keeps scale 1), :math:`z = (x - \mu) / \sigma`,
    and the model

    .. math::

        P(\text{correct} \mid x) = \sigma(z^\top w + b), \qquad
        \min_{w, b}\; \tfrac12 \lVert w \rVert^2
            + C \sum_i s_i \big[\log(1 + e^{\eta_i}) - y_i \eta_i\big],
        \quad \eta_i = z_i^\top w + b,

    (the intercept is not penalised: the objective of scikit-learn's ``LogisticRegression``
    with ``penalty="l2"``) is fitted to its exact optimum: the objective is strictly convex and
    is minimised by SciPy's trust-region Newton method (``trust-exact``) with the analytic
    gradient and Hessian, to a gradient norm of ``tol``.

    The output is a *score*, not yet a calibrated probability: the L2 penalty shrinks it
    towards the base rate. Calibrate it afterwards on held-out data with
    :mod:`confide.calibration` (e.g. ``IsotonicCalibration(input="probs")`` or
    ``PlattScaling``) — this module cannot import it, being a layer below.

    Parameters
    ----------
    C : float, default 1.0
        Inverse regularisation strength (> 0), as in scikit-learn.
    fit_intercept : bool, default True
    tol : float, default 1e-10
        Gradient-norm tolerance of the optimiser (on the objective divided by the total weight).
    max_iter : int, default 200

    Attributes
    ----------
    coef_ : ndarray of float64, shape (d,)
        Weights of the *standardised* features.
    intercept_ : float
    mean_, scale_ : ndarray of float64, shape (d,)
        The standardisation.
    n_features_in_ : int
    feature_names_ : tuple of str or None
    n_iter_ : int

    References
    ----------
    .. [1] D. R. Cox, "The Regression Analysis of Binary Sequences", JRSS B 20, 1958.
    .. [2] M. Fadeeva et al., "LM-Polygraph: Uncertainty Estimation for Language Models",
       EMNLP 2023 (combining uncertainty scores of LLM outputs).
    """

    def __init__(
        self, *, C: float = 1.0, fit_intercept: bool = True, tol: float = 1e-10, max_iter: int = 200
    ) -> None:
        if (
            isinstance(C, bool)
            or not isinstance(C, int | float | np.floating)
            or not (0 < C < np.inf)
        ):
            raise ValidationError(f"C must be a finite number > 0, got {C!r}.")
        if not isinstance(fit_intercept, bool | np.bool_):
            raise ConfideTypeError(f"fit_intercept must be True or False, got {fit_intercept!r}.")
        if not (isinstance(tol, int | float) and tol > 0):
            raise ValidationError(f"tol must be a number > 0, got {tol!r}.")
        if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
            raise ValidationError(f"max_iter must be an integer >= 1, got {max_iter!r}.")
        self.C = float(C)
        self.fit_intercept = bool(fit_intercept)
        self.tol = float(tol)
        self.max_iter = int(max_iter)

    def __repr__(self) -> str:
        return f"ScoreCombiner(C={self.C!r}, fit_intercept={self.fit_intercept!r})"

    # -- fitting -------------------------------------------------------------------------------
    def _check_x(self, scores: ArrayLike) -> FloatArray:
        x = as_float_array(scores, "scores", ndim=(1, 2)).astype(np.float64, copy=False)
        return x[:, None] if x.ndim == 1 else x

    def fit(
        self,
        scores: ArrayLike,
        y: ArrayLike,
        *,
        sample_weight: ArrayLike | None = None,
        feature_names: Sequence[str] | None = None,
    ) -> Self:
        """Fit on a score matrix ``(n, d)`` (or one score ``(n,)``) and outcomes ``y`` in {0, 1}.

        ``y = 1`` means the output was correct. NaN scores (e.g. an unparsed verbalised
        confidence) are rejected: impute them first. Returns ``self``.
        """
        x = self._check_x(scores)
        labels = check_binary_labels(y, "y")
        n = check_consistent_length(scores=x, y=labels, sample_weight=sample_weight)
        w = check_sample_weight(sample_weight, n)
        s = np.ones(n) if w is None else w
        if s.sum() <= 0:
            raise ValidationError("sample_weight sums to 0; nothing to fit.")
        present = np.unique(labels[s > 0])
        if present.size < 2:
            raise LabelError(
                f"y holds only outcome {present.tolist()}; the combiner needs both correct (1) "
                "and incorrect (0) examples."
            )
        d = x.shape[1]
        names: tuple[str, ...] | None = None
        if feature_names is not None:
            names = tuple(str(f) for f in feature_names)
            if len(names) != d:
                raise ShapeError(f"feature_names has {len(names)} names for {d} score columns.")
        total = float(s.sum())
        mean = (s @ x) / total
        std = np.sqrt((s @ (x - mean) ** 2) / total)
        scale = np.where(std > 0, std, 1.0)
        z = (x - mean) / scale
        yf = labels.astype(np.float64)
        alpha = 1.0 / (self.C * total)  # objective divided by C * total weight
        k = d + 1 if self.fit_intercept else d

        def split(theta: FloatArray) -> tuple[FloatArray, float]:
            return theta[:d], (float(theta[d]) if self.fit_intercept else 0.0)

        def fun(theta: FloatArray) -> tuple[float, FloatArray]:
            coef, b = split(theta)
            eta = z @ coef + b
            loss = s @ (-log_expit(eta) + (1.0 - yf) * eta)  # log(1 + e^eta) - y eta
            r = s * (expit(eta) - yf)
            grad = np.empty(k)
            grad[:d] = z.T @ r / total + alpha * coef
            if self.fit_intercept:
                grad[d] = r.sum() / total
            return float(loss / total + 0.5 * alpha * coef @ coef), grad

        def hess(theta: FloatArray) -> FloatArray:
            coef, b = split(theta)
            p = expit(z @ coef + b)
            v = s * p * (1.0 - p) / total
            za = np.column_stack([z, np.ones(n)]) if self.fit_intercept else z
            h: FloatArray = (za * v[:, None]).T @ za
            h[np.arange(d), np.arange(d)] += alpha
            return h

        res = minimize(
            fun,
            np.zeros(k),
            jac=True,
            hess=hess,
            method="trust-exact",
            options={"gtol": self.tol, "maxiter": self.max_iter},
        )
        if not res.success and np.linalg.norm(res.jac) > max(self.tol, 1e-8):
            raise ValidationError(
                f"the logistic fit did not converge in {self.max_iter} iterations "
                f"({res.message}); raise max_iter or tol."
            )
        coef, b = split(np.asarray(res.x, dtype=np.float64))
        self.coef_ = coef.copy()
        self.intercept_ = b
        self.mean_ = mean
        self.scale_ = scale
        self.n_features_in_ = d
        self.feature_names_ = names
        self.n_iter_ = int(res.nit)
        return self

    # -- prediction ----------------------------------------------------------------------------
    def _require_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError("this ScoreCombiner is not fitted yet: call fit() first.")

    def decision_function(self, scores: ArrayLike) -> FloatArray:
        """The linear predictor :math:`z^\\top w + b` (log-odds of a correct output)."""
        self._require_fitted()
        x = self._check_x(scores)
        if x.shape[1] != self.n_features_in_:
            raise ShapeError(
                f"this ScoreCombiner was fitted on {self.n_features_in_} score column(s); got "
                f"scores of shape {x.shape}."
            )
        out: FloatArray = ((x - self.mean_) / self.scale_) @ self.coef_ + self.intercept_
        return out

    def predict_proba(self, scores: ArrayLike) -> FloatArray:
        """Combined confidence ``P(correct)``, shape ``(n,)`` in ``[0, 1]`` (calibrate it next)."""
        out: FloatArray = expit(self.decision_function(scores))
        return out

    # -- storage -------------------------------------------------------------------------------
    def _payload(self) -> dict[str, Any]:
        self._require_fitted()
        return {
            "config": {
                "C": self.C,
                "fit_intercept": self.fit_intercept,
                "tol": self.tol,
                "max_iter": self.max_iter,
            },
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_,
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "feature_names": None if self.feature_names_ is None else list(self.feature_names_),
            "n_iter": self.n_iter_,
        }

    def to_dict(self) -> dict[str, Any]:
        """A versioned, checksummed JSON document (kind ``"score_combiner"``)."""
        return to_document(DOCUMENT_KIND, self._payload())

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` atomically to ``path`` (JSON, never pickle)."""
        return save_json(path, DOCUMENT_KIND, self._payload())

    @classmethod
    def _from_payload(cls, payload: dict[str, Any], source: str) -> ScoreCombiner:
        try:
            obj = cls(**payload["config"])
            coef = np.asarray(payload["coef"], dtype=np.float64)
            mean = np.asarray(payload["mean"], dtype=np.float64)
            scale = np.asarray(payload["scale"], dtype=np.float64)
            if coef.ndim != 1 or mean.shape != coef.shape or scale.shape != coef.shape:
                raise ValueError("coef, mean and scale must be 1-D of one length")
            if not (np.isfinite(coef).all() and np.isfinite(mean).all() and (scale > 0).all()):
                raise ValueError("coef and mean must be finite and scale > 0")
            obj.coef_ = coef
            obj.intercept_ = float(payload["intercept"])
            obj.mean_ = mean
            obj.scale_ = scale
            obj.n_features_in_ = int(coef.shape[0])
            names = payload.get("feature_names")
            obj.feature_names_ = None if names is None else tuple(str(f) for f in names)
            obj.n_iter_ = int(payload["n_iter"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"{source} has malformed score_combiner parameters: {exc}") from None
        return obj

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ScoreCombiner:
        """Rebuild from a :meth:`to_dict` document (schema, kind and checksum are checked)."""
        return cls._from_payload(from_document(doc, DOCUMENT_KIND), "the document")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ScoreCombiner:
        """Read a combiner written by :meth:`save`."""
        return cls._from_payload(load_json(path, DOCUMENT_KIND), str(path))
