"""Isotonic calibration: the weighted monotone fit of the labels on the probability score."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import isotonic_regression

from confide.calibration._base import Calibrator
from confide.calibration._platt import columns, finish, n_columns, ovr_probs, targets

__all__ = ["IsotonicCalibration"]


def pool_ties(
    s: np.ndarray, t: np.ndarray, w: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort by score and pool equal scores: ``(unique scores, weighted mean target, weight)``.

    Zero-weight samples are dropped first. The result does not depend on the row order (exactly
    without weights; up to the rounding of the pooled weighted sums with weights).
    """
    if w is not None:
        keep = w > 0
        s, t, w = s[keep], t[keep], w[keep]
    order = np.argsort(s)  # SIMD quicksort: ties are pooled, so stability is not needed
    ss = s[order]
    starts = np.flatnonzero(np.concatenate(([True], ss[1:] != ss[:-1])))
    xs = ss[starts]
    if w is None:
        ws = np.diff(np.append(starts, ss.shape[0])).astype(np.float64)
        ts = np.add.reduceat(t[order], starts) / ws
    else:
        wo = w[order]
        ws = np.add.reduceat(wo, starts)
        ts = np.add.reduceat(t[order] * wo, starts) / ws
    return xs, ts, ws


def fit_isotonic(
    s: np.ndarray, t: np.ndarray, w: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Knots ``(x, y)`` of the increasing weighted least-squares fit of ``t`` on ``s``.

    Interior knots whose value equals both neighbours' are dropped (they do not change the
    piecewise-linear interpolation), as scikit-learn does.
    """
    xs, ts, ws = pool_ties(s, t, w)
    ys = isotonic_regression(ts, weights=ws, increasing=True).x
    keep = np.ones(ys.shape[0], dtype=bool)
    keep[1:-1] = (ys[1:-1] != ys[:-2]) | (ys[1:-1] != ys[2:])
    return xs[keep], ys[keep]


class IsotonicCalibration(Calibrator):
    r"""Isotonic calibration (Zadrozny & Elkan 2002): a non-decreasing map fitted by PAVA.

    On the probability score ``p`` (``P(y = 1)``, or the softmax of logits), equal scores are
    pooled first (weighted mean label, summed weight; so the fit does not depend on row order),
    then the weighted pool-adjacent-violators algorithm
    (:func:`scipy.optimize.isotonic_regression`) gives the non-decreasing step values that
    minimise the weighted squared error. At predict time the map interpolates linearly between
    the fitted points and is constant beyond the first and last (scikit-learn's
    ``IsotonicRegression(out_of_bounds="clip")``, whose predictions it reproduces).
    Zero-weight samples are ignored.

    Multiclass ``(n, k)`` scores are calibrated one-vs-rest on each class's probability and the
    rows renormalised to sum to 1; a row whose calibrated scores are all 0 becomes uniform.

    Attributes
    ----------
    x_thresholds_, y_thresholds_ : list of ndarray
        Knots of the fitted map, one pair per calibrated column (1 for binary, ``k``
        otherwise); ``x`` strictly increasing, ``y`` non-decreasing in [0, 1].

    References
    ----------
    Zadrozny & Elkan (2002), "Transforming classifier scores into accurate multiclass
    probability estimates", KDD.
    """

    method = "isotonic"

    def _fit(self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> None:
        p = columns(ovr_probs(self, x))
        t = targets(y, x.ndim == 1, p.shape[1])
        knots = [fit_isotonic(p[:, j], t[:, j], w) for j in range(p.shape[1])]
        self.x_thresholds_ = [k[0] for k in knots]
        self.y_thresholds_ = [k[1] for k in knots]

    def _predict(self, x: np.ndarray) -> np.ndarray:
        p = columns(ovr_probs(self, x))
        q = np.empty_like(p)
        for j in range(p.shape[1]):
            q[:, j] = np.interp(p[:, j], self.x_thresholds_[j], self.y_thresholds_[j])
        return finish(q, self.binary_)

    def _params(self) -> dict[str, Any]:
        return {
            "x_thresholds": [a.tolist() for a in self.x_thresholds_],
            "y_thresholds": [a.tolist() for a in self.y_thresholds_],
        }

    def _set_params(self, params: dict[str, Any]) -> None:
        m = n_columns(self)
        xs, ys = params["x_thresholds"], params["y_thresholds"]
        if not (isinstance(xs, list) and isinstance(ys, list) and len(xs) == len(ys) == m):
            raise ValueError(f"expected {m} lists of x and y thresholds")
        self.x_thresholds_, self.y_thresholds_ = [], []
        for xj, yj in zip(xs, ys, strict=True):
            a = np.asarray(xj, dtype=np.float64)
            b = np.asarray(yj, dtype=np.float64)
            if a.ndim != 1 or a.shape != b.shape or a.shape[0] == 0:
                raise ValueError("each pair of thresholds must be non-empty 1-D of equal length")
            if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
                raise ValueError("thresholds must be finite")
            if np.any(np.diff(a) <= 0) or np.any(np.diff(b) < 0):
                raise ValueError("x thresholds must increase and y thresholds must not decrease")
            self.x_thresholds_.append(a)
            self.y_thresholds_.append(b)
