r"""Split conformal prediction intervals for regression: residual-based and CQR.

Both take a model's predictions on a held-out calibration set (never the training set) and
return intervals that hold a new exchangeable ``y`` with probability at least
``confidence_level``. The threshold is the ``ceil((n + 1) · level)``-th smallest calibration
score (:func:`confide.decision._conformal_scores.conformal_quantile`); with fewer than
``ceil(level / (1 - level))`` samples it would be infinite and ``fit`` raises instead.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from confide._validation import as_float_array, check_consistent_length
from confide.decision._conformal_scores import (
    NotFittedError,
    SavedConformal,
    check_level,
    conformal_quantile,
    exact_level,
)
from confide.exceptions import ConfideTypeError, ValidationError

__all__ = ["ConformalizedQuantileRegressor", "SplitConformalRegressor"]


def _vector(x: Any, name: str) -> np.ndarray:
    return as_float_array(x, name, ndim=1).astype(np.float64, copy=False)


def _check_scale(scale: Any, n: int) -> np.ndarray:
    s = _vector(scale, "scale")
    check_consistent_length(y_pred=np.empty(n), scale=s)
    if (s <= 0).any():
        bad = np.flatnonzero(s <= 0)
        raise ValidationError(
            f"scale must be > 0 (it divides the residuals): {bad.size} value(s) are not, the "
            f"first at index {int(bad[0])} ({float(s[bad[0]])!r}). Add a small floor, e.g. "
            "np.maximum(scale, 1e-6)."
        )
    return s


class SplitConformalRegressor(SavedConformal):
    r"""Split conformal intervals from point predictions, optionally normalised by a scale.

    Calibration scores are absolute residuals, divided by a per-sample scale (a predicted
    standard deviation or any difficulty estimate) when one is given:

    .. math:: s_i = \frac{|y_i - \hat y_i|}{\sigma_i}, \qquad
        \hat q = s_{(\lceil (n+1)\,\mathrm{level} \rceil)}, \qquad
        C(x) = [\hat y - \hat q\,\sigma,\ \hat y + \hat q\,\sigma]

    (``sigma = 1`` without a scale). :math:`P(y \in C(x)) \ge \mathrm{level}` for exchangeable
    data. Without a scale this is MAPIE's ``SplitConformalRegressor`` with the ``"absolute"``
    score; with one it is crepes' normalised ``ConformalRegressor``.

    Attributes
    ----------
    quantile_ : float
        :math:`\hat q` (in units of ``scale`` when normalised).
    normalized_ : bool
        Whether ``fit`` received a scale (``predict_interval`` then needs one too).
    n_calibration_ : int

    References
    ----------
    Papadopoulos, Proedrou, Vovk & Gammerman (2002), "Inductive confidence machines for
    regression", ECML. Lei, G'Sell, Rinaldo, Tibshirani & Wasserman (2018), "Distribution-free
    predictive inference for regression", JASA 113(523).
    """

    _kind = "split_conformal_regressor"

    def __init__(self, confidence_level: float = 0.9) -> None:
        self.confidence_level = check_level(confidence_level)

    def fit(self, y_pred: Any, y_true: Any, *, scale: Any = None) -> SplitConformalRegressor:
        """Fit on calibration predictions ``y_pred``, targets ``y_true`` and optional ``scale``."""
        pred = _vector(y_pred, "y_pred")
        y = _vector(y_true, "y_true")
        n = check_consistent_length(y_pred=pred, y_true=y)
        residuals = np.abs(y - pred)
        if scale is not None:
            residuals = residuals / _check_scale(scale, n)
        self.quantile_ = conformal_quantile(residuals, self.confidence_level)
        self.normalized_ = scale is not None
        self.n_calibration_ = int(n)
        return self

    def predict_interval(self, y_pred: Any, scale: Any = None) -> np.ndarray:
        """``(n, 2)`` float64 array of ``[lower, upper]`` bounds around the predictions."""
        self._require_fitted()
        pred = _vector(y_pred, "y_pred")
        if self.normalized_ and scale is None:
            raise ValidationError(
                "this SplitConformalRegressor was fitted with scale=...; pass the scale of the "
                "new predictions too: predict_interval(y_pred, scale)."
            )
        if not self.normalized_ and scale is not None:
            raise ValidationError(
                "this SplitConformalRegressor was fitted without a scale; predict_interval cannot "
                "use one. Refit with fit(y_pred, y_true, scale=...) to get normalised intervals."
            )
        half = self.quantile_ if scale is None else self.quantile_ * _check_scale(scale, len(pred))
        return np.column_stack([pred - half, pred + half])

    def _require_fitted(self) -> None:
        if not hasattr(self, "quantile_"):
            raise NotFittedError(
                "this SplitConformalRegressor is not fitted yet: call fit(y_pred, y_true) on a "
                "calibration set first."
            )

    def _payload(self) -> dict[str, Any]:
        self._require_fitted()
        return {
            "config": {"confidence_level": self.confidence_level},
            "quantile": self.quantile_,
            "normalized": self.normalized_,
            "n_calibration": self.n_calibration_,
        }

    @classmethod
    def _from_payload(cls, payload: dict[str, Any]) -> SplitConformalRegressor:
        obj = cls(**payload["config"])
        q = float(payload["quantile"])
        if not np.isfinite(q):
            raise ValueError(f"quantile must be finite, got {q!r}")
        obj.quantile_ = q
        obj.normalized_ = bool(payload["normalized"])
        obj.n_calibration_ = int(payload["n_calibration"])
        return obj

    def __repr__(self) -> str:
        return f"SplitConformalRegressor(confidence_level={self.confidence_level!r})"


class ConformalizedQuantileRegressor(SavedConformal):
    r"""Conformalized quantile regression (CQR): corrects predicted quantiles to valid intervals.

    Given a model's lower and upper quantile predictions (e.g. at levels
    ``(1 - level) / 2`` and ``(1 + level) / 2``) on a calibration set, the score is how far
    ``y`` falls outside its band,

    .. math:: E_i = \max(\hat q_{lo}(x_i) - y_i,\ y_i - \hat q_{hi}(x_i)), \qquad
        \hat Q = E_{(\lceil (n+1)\,\mathrm{level} \rceil)}, \qquad
        C(x) = [\hat q_{lo}(x) - \hat Q,\ \hat q_{hi}(x) + \hat Q]

    and :math:`P(y \in C(x)) \ge \mathrm{level}`. ``Q`` is negative when the band was too wide,
    so CQR also shrinks intervals. With ``symmetric=False`` each side is corrected on its own,
    :math:`\hat Q_{lo}` from :math:`\hat q_{lo}(x_i) - y_i` and :math:`\hat Q_{hi}` from
    :math:`y_i - \hat q_{hi}(x_i)`, each at level ``(1 + level) / 2`` (Romano et al., Theorem 2;
    MAPIE's default ``symmetric_correction=False``). Crossing input quantiles are accepted: the
    interval is then empty where the corrected lower bound exceeds the upper one.

    Parameters
    ----------
    confidence_level : float in (0, 1)
    symmetric : bool, default True
        One correction for both sides (the original CQR) or one per side.

    Attributes
    ----------
    quantile_ : float or None
        :math:`\hat Q` (None when ``symmetric=False``).
    quantiles_ : ndarray of shape (2,)
        Corrections ``(Q_lo, Q_hi)`` subtracted from the lower and added to the upper bound.
    n_calibration_ : int

    References
    ----------
    Romano, Patterson & Candès (2019), "Conformalized quantile regression", NeurIPS.
    """

    _kind = "conformalized_quantile_regressor"

    def __init__(self, confidence_level: float = 0.9, *, symmetric: bool = True) -> None:
        self.confidence_level = check_level(confidence_level)
        if not isinstance(symmetric, bool | np.bool_):
            raise ConfideTypeError(f"symmetric must be True or False, got {symmetric!r}.")
        self.symmetric = bool(symmetric)

    def fit(self, lower: Any, upper: Any, y_true: Any) -> ConformalizedQuantileRegressor:
        """Fit on the calibration set's predicted ``lower`` and ``upper`` quantiles and targets."""
        lo = _vector(lower, "lower")
        hi = _vector(upper, "upper")
        y = _vector(y_true, "y_true")
        n = check_consistent_length(lower=lo, upper=hi, y_true=y)
        if self.symmetric:
            q = conformal_quantile(np.maximum(lo - y, y - hi), self.confidence_level)
            self.quantile_: float | None = q
            self.quantiles_ = np.array([q, q])
        else:
            side_level = (1 + exact_level(self.confidence_level)) / 2
            self.quantile_ = None
            self.quantiles_ = np.array(
                [
                    conformal_quantile(lo - y, side_level, what=_side("lower", side_level)),
                    conformal_quantile(y - hi, side_level, what=_side("upper", side_level)),
                ]
            )
        self.n_calibration_ = int(n)
        return self

    def predict_interval(self, lower: Any, upper: Any) -> np.ndarray:
        """``(n, 2)`` float64 array ``[lower - Q_lo, upper + Q_hi]``."""
        self._require_fitted()
        lo = _vector(lower, "lower")
        hi = _vector(upper, "upper")
        check_consistent_length(lower=lo, upper=hi)
        return np.column_stack([lo - self.quantiles_[0], hi + self.quantiles_[1]])

    def _require_fitted(self) -> None:
        if not hasattr(self, "quantiles_"):
            raise NotFittedError(
                "this ConformalizedQuantileRegressor is not fitted yet: call fit(lower, upper, "
                "y_true) on a calibration set first."
            )

    def _payload(self) -> dict[str, Any]:
        self._require_fitted()
        return {
            "config": {"confidence_level": self.confidence_level, "symmetric": self.symmetric},
            "quantiles": self.quantiles_.tolist(),
            "n_calibration": self.n_calibration_,
        }

    @classmethod
    def _from_payload(cls, payload: dict[str, Any]) -> ConformalizedQuantileRegressor:
        obj = cls(**payload["config"])
        q = np.asarray(payload["quantiles"], dtype=np.float64)
        if q.shape != (2,) or not np.isfinite(q).all() or (obj.symmetric and q[0] != q[1]):
            raise ValueError(f"expected two finite corrections (equal when symmetric), got {q}")
        obj.quantiles_ = q
        obj.quantile_ = float(q[0]) if obj.symmetric else None
        obj.n_calibration_ = int(payload["n_calibration"])
        return obj

    def __repr__(self) -> str:
        return (
            f"ConformalizedQuantileRegressor(confidence_level={self.confidence_level!r}, "
            f"symmetric={self.symmetric!r})"
        )


def _side(which: str, level: Fraction) -> str:
    return f"the calibration set ({which} side, corrected at level {float(level)!r})"
