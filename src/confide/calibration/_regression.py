"""Recalibrate Gaussian regressors: one variance scale, or an isotonic map of quantile levels.

Both recalibrators take the model's predictive :math:`\\mathcal N(\\mu_i, \\sigma_i^2)` as two
1-D arrays ``(mean, variance)`` and the observed targets ``y``:

* :class:`GaussianVarianceScaling` multiplies every variance by one factor :math:`s^2`
  (Levi et al., 2019), the regression analogue of temperature scaling;
* :class:`IsotonicQuantileRecalibration` learns a monotone map :math:`R` of the predicted
  CDF levels (Kuleshov et al., 2018), so that the recalibrated CDF :math:`R \\circ F_i` has
  the nominal coverage at every level.

Fitted attributes end with an underscore. ``save(path)`` writes versioned JSON (kind
``"regression_calibrator"``, never pickle) and the classmethod ``load(path)`` reads it back.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from scipy.optimize import isotonic_regression
from scipy.special import ndtr, ndtri

from confide._serialization import from_document, load_json, save_json, to_document
from confide._validation import as_float_array, check_fraction
from confide.calibration._base import NotFittedError
from confide.exceptions import SchemaError, ShapeError, ValidationError
from confide.metrics._regression import _check_gaussian, _check_variance
from confide.scores._regression import PredictionInterval

__all__ = ["GaussianVarianceScaling", "IsotonicQuantileRecalibration"]

DOCUMENT_KIND = "regression_calibrator"


def _check_predictions(mean: Any, variance: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate predictions to recalibrate: 1-D float64, same length, variance >= 0."""
    mu = as_float_array(mean, "mean", ndim=1).astype(np.float64, copy=False)
    var = as_float_array(variance, "variance", ndim=1).astype(np.float64, copy=False)
    if mu.shape != var.shape:
        raise ShapeError(
            f"mean and variance must have the same length, got {mu.shape[0]} and {var.shape[0]}."
        )
    _check_variance(var, "variance", positive=False)
    return mu, var


def _readonly(x: np.ndarray) -> np.ndarray:
    x.flags.writeable = False
    return x


class _RegressionCalibrator(ABC):
    """Shared protocol: ``fit(mean, variance, y)``, ``save``/``load``, a not-fitted check."""

    method: ClassVar[str]
    min_samples: ClassVar[int] = 2

    def fit(self, mean: Any, variance: Any, y: Any, *, sample_weight: Any = None) -> Self:
        """Fit on calibration predictions ``(mean, variance)`` and observed targets ``y``.

        Variances must be strictly positive here (a zero variance has no likelihood and no
        CDF level). Returns ``self``.
        """
        yy, mu, var, w = _check_gaussian(
            y, mean, variance, sample_weight, positive=True, y_name="y"
        )
        n = yy.shape[0]
        if n < self.min_samples:
            raise ValidationError(
                f"{type(self).__name__} needs at least {self.min_samples} calibration samples, "
                f"got {n}."
            )
        if w is not None and float(w.sum()) <= 0:
            raise ValidationError("all sample weights are 0: there is nothing to fit on.")
        self._fit(yy, mu, var, w)
        self.n_samples_ = n
        return self

    @abstractmethod
    def _fit(self, y: np.ndarray, mu: np.ndarray, var: np.ndarray, w: np.ndarray | None) -> None:
        """Fit on validated float64 arrays (variance > 0, weights with a positive sum)."""

    @abstractmethod
    def _params(self) -> dict[str, Any]:
        """Fitted parameters as JSON-safe values."""

    @abstractmethod
    def _set_params(self, params: dict[str, Any]) -> None:
        """Restore (and check) parameters written by :meth:`_params`."""

    @abstractmethod
    def predict_quantile(self, mean: Any, variance: Any, level: float) -> np.ndarray:
        """Recalibrated ``level``-quantile of each predictive distribution."""

    def predict_interval(
        self, mean: Any, variance: Any, *, confidence_level: float = 0.9
    ) -> PredictionInterval:
        """Recalibrated central interval: the ``(1 - c)/2`` and ``(1 + c)/2`` quantiles."""
        c = check_fraction(confidence_level, "confidence_level")
        lower = self.predict_quantile(mean, variance, (1.0 - c) / 2.0)
        upper = self.predict_quantile(mean, variance, (1.0 + c) / 2.0)
        return PredictionInterval(
            lower=_readonly(lower), upper=_readonly(upper), confidence_level=c
        )

    def _require_fitted(self) -> None:
        if not hasattr(self, "n_samples_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit() first.")

    # -- storage ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A versioned JSON document of the method and its fitted parameters."""
        self._require_fitted()
        payload = {"method": self.method, "n_samples": self.n_samples_, "params": self._params()}
        return to_document(DOCUMENT_KIND, payload)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` atomically to ``path`` (JSON)."""
        return save_json(path, DOCUMENT_KIND, self.to_dict()["payload"])

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Self:
        """Rebuild a fitted recalibrator from a :meth:`to_dict` document."""
        return cls._from_payload(from_document(doc, DOCUMENT_KIND), "the document")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read a recalibrator written by :meth:`save`, checking schema, kind and checksum."""
        return cls._from_payload(load_json(path, DOCUMENT_KIND), str(path))

    @classmethod
    def _from_payload(cls, payload: dict[str, Any], source: str) -> Self:
        method = payload.get("method")
        if method != cls.method:
            raise SchemaError(
                f"{source} holds a {method!r} regression calibrator, not a {cls.method!r}; "
                f"load it with the matching class."
            )
        obj = cls()
        try:
            obj._set_params(payload["params"])
            obj.n_samples_ = int(payload["n_samples"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"{source} has malformed {method!r} parameters: {exc}") from None
        return obj

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class GaussianVarianceScaling(_RegressionCalibrator):
    r"""Scale every predicted variance by one factor fitted by maximum likelihood.

    The recalibrated predictive is :math:`\mathcal N(\mu_i, s^2 \sigma_i^2)`. The Gaussian
    NLL on the calibration set is minimised exactly by

    .. math::

        s^2 = \frac{\sum_i w_i\,(y_i - \mu_i)^2 / \sigma_i^2}{\sum_i w_i},

    the weighted mean squared standardised residual (set the derivative of
    :math:`\sum_i w_i[\log(s^2\sigma_i^2) + r_i^2/(s^2\sigma_i^2)]` in :math:`s^2` to zero).
    Means are not changed. :math:`s > 1` means the model was over-confident.

    Attributes
    ----------
    scale_ : float
        The standard-deviation factor :math:`s`.
    variance_scale_ : float
        The variance factor :math:`s^2`.
    n_samples_ : int
        Number of calibration samples.

    References
    ----------
    .. [1] D. Levi, L. Gispan, N. Giladi, E. Fetaya, "Evaluating and Calibrating Uncertainty
       Prediction in Regression Tasks", arXiv:1905.11659, 2019 (Sensors 22(15), 2022).
    """

    method = "gaussian_variance_scaling"

    def _fit(self, y: np.ndarray, mu: np.ndarray, var: np.ndarray, w: np.ndarray | None) -> None:
        r = y - mu
        z2 = r * r / var
        s2 = float(np.mean(z2)) if w is None else float(np.dot(w, z2) / w.sum())
        if not s2 > 0:
            raise ValidationError(
                "every calibration residual y - mean is 0, so the likelihood has no finite "
                "optimum (the fitted variance would be 0). Use held-out data for calibration."
            )
        if not np.isfinite(s2):
            raise ValidationError(
                "the standardised residuals (y - mean)^2 / variance overflow; some variances "
                "are vanishingly small for their residuals. Check the variance units."
            )
        self.variance_scale_ = s2
        self.scale_ = float(np.sqrt(s2))

    def predict_variance(self, variance: Any) -> np.ndarray:
        """Recalibrated variances :math:`s^2 \\sigma_i^2` (float64)."""
        self._require_fitted()
        var = as_float_array(variance, "variance", ndim=1).astype(np.float64, copy=False)
        _check_variance(var, "variance", positive=False)
        return self.variance_scale_ * var

    def predict_quantile(self, mean: Any, variance: Any, level: float) -> np.ndarray:
        """Recalibrated ``level``-quantile :math:`\\mu_i + s\\sigma_i\\Phi^{-1}(level)`."""
        self._require_fitted()
        p = check_fraction(level, "level")
        mu, var = _check_predictions(mean, variance)
        return mu + self.scale_ * np.sqrt(var) * float(ndtri(p))

    def _params(self) -> dict[str, Any]:
        return {"variance_scale": self.variance_scale_}

    def _set_params(self, params: dict[str, Any]) -> None:
        s2 = float(params["variance_scale"])
        if not (np.isfinite(s2) and s2 > 0):
            raise ValueError(f"variance_scale must be finite and > 0, got {s2!r}")
        self.variance_scale_ = s2
        self.scale_ = float(np.sqrt(s2))


class IsotonicQuantileRecalibration(_RegressionCalibrator):
    r"""Recalibrate predicted CDF levels with an isotonic map (Kuleshov et al., 2018).

    Fitting, with the Gaussian predictive CDFs :math:`F_i`:

    1. the probability integral transforms :math:`u_i = F_i(y_i) = \Phi((y_i-\mu_i)/\sigma_i)`;
    2. their weighted empirical CDF at each distinct value :math:`v`, with mid-point plotting
       positions :math:`\hat P(v) = (W_{<v} + W_{=v}/2)/W` (so that every value lies strictly
       inside (0, 1) and the map can be inverted);
    3. an isotonic (non-decreasing) regression :math:`R` of :math:`\hat P(v)` on :math:`v`,
       weighted by :math:`W_{=v}` (:func:`scipy.optimize.isotonic_regression`), stored as
       knots and interpolated linearly, with anchors :math:`R(0)=0` and :math:`R(1)=1`.

    The recalibrated CDF is :math:`R(F_i(y))`, and its :math:`\tau`-quantile is
    :math:`F_i^{-1}(R^{-1}(\tau)) = \mu_i + \sigma_i \Phi^{-1}(R^{-1}(\tau))`.

    Since an empirical CDF is already monotone in :math:`v`, on the calibration set the
    isotonic step returns the targets unchanged; it is kept so that the stored map is
    monotone by construction. Levels :math:`u_i` are clipped to
    :math:`[10^{-12}, 1-10^{-12}]` so that the anchors stay outside the data.

    Attributes
    ----------
    cdf_knots_ : ndarray, shape (k + 2,)
        Predicted CDF levels :math:`v` (including the anchors 0 and 1), increasing.
    calibrated_knots_ : ndarray, shape (k + 2,)
        :math:`R(v)` at those levels, non-decreasing, from 0 to 1.
    n_samples_ : int
        Number of calibration samples.

    References
    ----------
    .. [1] V. Kuleshov, N. Fenner, S. Ermon, "Accurate Uncertainties for Deep Learning Using
       Calibrated Regression", ICML 2018, Algorithm 1.
    """

    method = "isotonic_quantile"
    min_samples = 10
    _CLIP = 1e-12

    def _fit(self, y: np.ndarray, mu: np.ndarray, var: np.ndarray, w: np.ndarray | None) -> None:
        u = np.clip(ndtr((y - mu) / np.sqrt(var)), self._CLIP, 1.0 - self._CLIP)
        weights = np.ones_like(u) if w is None else w
        keep = weights > 0
        values, inverse = np.unique(u[keep], return_inverse=True)
        group_w = np.bincount(inverse, weights=weights[keep], minlength=values.shape[0])
        total = float(group_w.sum())
        target = (np.cumsum(group_w) - 0.5 * group_w) / total
        fitted = isotonic_regression(target, weights=group_w, increasing=True).x
        self.cdf_knots_ = _readonly(np.concatenate(([0.0], values, [1.0])))
        self.calibrated_knots_ = _readonly(np.concatenate(([0.0], np.clip(fitted, 0, 1), [1.0])))

    def predict_cdf(self, mean: Any, variance: Any, y: Any) -> np.ndarray:
        """Recalibrated CDF level :math:`R(F_i(y_i))` of each target (float64 in [0, 1]).

        A zero variance gives the step CDF of a point mass (0 below the mean, 1 from it on).
        """
        self._require_fitted()
        mu, var = _check_predictions(mean, variance)
        yy = as_float_array(y, "y", ndim=1).astype(np.float64, copy=False)
        if yy.shape != mu.shape:
            raise ShapeError(
                f"y and mean must have the same length, got {yy.shape[0]} and {mu.shape[0]}."
            )
        sd = np.sqrt(var)
        r = yy - mu
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(sd > 0, r / np.where(sd > 0, sd, 1.0), np.where(r >= 0, np.inf, -np.inf))
        return np.interp(ndtr(z), self.cdf_knots_, self.calibrated_knots_)

    def inverse_level(self, level: float) -> float:
        """:math:`R^{-1}(\\tau)`: the predicted CDF level whose recalibrated level is ``level``."""
        self._require_fitted()
        tau = check_fraction(level, "level")
        r = self.calibrated_knots_
        x = self.cdf_knots_
        # generalised inverse of a non-decreasing piecewise-linear map: the first x where R(x) = tau
        j = int(np.searchsorted(r, tau, side="left"))
        j = min(max(j, 1), r.shape[0] - 1)
        r0, r1 = float(r[j - 1]), float(r[j])
        x0, x1 = float(x[j - 1]), float(x[j])
        if r1 <= r0:
            return x0
        return x0 + (tau - r0) * (x1 - x0) / (r1 - r0)

    def predict_quantile(self, mean: Any, variance: Any, level: float) -> np.ndarray:
        """Recalibrated ``level``-quantile :math:`\\mu_i + \\sigma_i\\Phi^{-1}(R^{-1}(level))`."""
        self._require_fitted()
        p = self.inverse_level(level)
        mu, var = _check_predictions(mean, variance)
        # 0 < p < 1: level is strictly inside (0, 1) and R runs from (0, 0) to (1, 1).
        return mu + np.sqrt(var) * float(ndtri(p))

    def _params(self) -> dict[str, Any]:
        return {
            "cdf_knots": self.cdf_knots_.tolist(),
            "calibrated_knots": self.calibrated_knots_.tolist(),
        }

    def _set_params(self, params: dict[str, Any]) -> None:
        x = np.asarray(params["cdf_knots"], dtype=np.float64)
        r = np.asarray(params["calibrated_knots"], dtype=np.float64)
        if x.ndim != 1 or x.shape != r.shape or x.shape[0] < 2:
            raise ValueError("cdf_knots and calibrated_knots must be equal-length lists (>= 2)")
        if not (np.isfinite(x).all() and np.isfinite(r).all()):
            raise ValueError("knots must be finite")
        if (np.diff(x) <= 0).any() or (np.diff(r) < 0).any():
            raise ValueError("cdf_knots must increase and calibrated_knots must not decrease")
        if x[0] != 0.0 or x[-1] != 1.0 or r[0] != 0.0 or r[-1] != 1.0:
            raise ValueError("knots must run from (0, 0) to (1, 1)")
        self.cdf_knots_ = _readonly(x)
        self.calibrated_knots_ = _readonly(r)
