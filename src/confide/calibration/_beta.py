"""Beta calibration: ``sigmoid(a ln p − b ln(1 − p) + c)`` with ``a, b ≥ 0``."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

from confide.calibration._base import Calibrator
from confide.calibration._platt import (
    check_vector,
    columns,
    finish,
    logistic_newton,
    n_columns,
    ovr_log_pair,
    targets,
)

__all__ = ["BetaCalibration"]


def fit_beta(
    lp: np.ndarray,
    lq: np.ndarray,
    t: np.ndarray,
    w: np.ndarray | None,
    *,
    tol: float,
    max_iter: int,
) -> tuple[float, float, float, float, int]:
    """``(a, b, c, mean NLL, iterations)`` of the constrained beta fit for one 0/1 target.

    Fits the full 3-parameter logistic regression on ``[ln p, −ln(1 − p), 1]``; if ``a < 0``
    it refits without ``ln p`` (``a = 0``), else if ``b < 0`` without ``−ln(1 − p)``
    (``b = 0``), as the authors' ``betacal`` does. If the remaining slope is still negative it
    is set to 0 too (an intercept-only fit: the base rate), so ``a, b ≥ 0`` always holds.
    """
    ww = np.ones(t.shape[0]) if w is None else w
    ww = ww / ww.sum()
    ones = np.ones_like(lp)
    feats = np.column_stack([lp, -lq])
    rate = float(np.clip(np.dot(ww, t), 1e-12, 1 - 1e-12))
    c0 = float(np.log(rate) - np.log1p(-rate))

    def run(cols: list[int], start: list[float]) -> tuple[np.ndarray, float, int]:
        design = np.column_stack([feats[:, cols], ones])
        return logistic_newton(
            design, t, ww, np.array(start), tol=tol, max_iter=max_iter, what="beta calibration"
        )

    # Start at the identity map (a = b = 1, c = 0): exact when the scores are calibrated.
    theta, nll, it = run([0, 1], [1.0, 1.0, 0.0])
    a, b, c = float(theta[0]), float(theta[1]), float(theta[2])
    if a < 0 or b < 0:
        keep = 1 if a < 0 else 0
        theta, nll, it2 = run([keep], [1.0, 0.0])
        it += it2
        slope, c = float(theta[0]), float(theta[1])
        if slope < 0:
            theta, nll, it3 = run([], [c0])
            it += it3
            slope, c = 0.0, float(theta[0])
        a, b = (0.0, slope) if keep == 1 else (slope, 0.0)
    return a, b, c, nll, it


class BetaCalibration(Calibrator):
    r"""Beta calibration (Kull, Silva Filho & Flach 2017), the 3-parameter version.

    .. math:: P(y=1 \mid p) = \sigma\big(a \ln p - b \ln(1 - p) + c\big), \qquad a, b \ge 0,

    fitted as a logistic regression on the features ``[ln p, −ln(1 − p)]`` by exact Newton
    (IRLS) in float64. If the unconstrained fit gives ``a < 0`` the feature ``ln p`` is dropped
    and the model refitted (``a = 0``); otherwise if ``b < 0`` the other feature is dropped
    (``b = 0``) — the procedure of the authors' ``betacal`` package. ``a = b = 1, c = 0`` is the
    identity map. With logits the features are computed from the logits without rounding to
    a probability first (``ln p = log_expit(z)``); probabilities of exactly 0 or 1 are nudged
    to the nearest representable interior value.

    Multiclass ``(n, k)`` scores are calibrated one-vs-rest on each class's probability and the
    rows renormalised to sum to 1.

    Attributes
    ----------
    a_, b_, c_ : ndarray of shape (m,)
        Parameters per calibrated column (``m = 1`` for binary, ``k`` otherwise).
    nll_ : ndarray of shape (m,)
        Mean NLL at the optimum on the calibration data.
    n_iter_ : ndarray of shape (m,)

    References
    ----------
    Kull, Silva Filho & Flach (2017), "Beta calibration: a well-founded and easily implemented
    improvement on logistic calibration for binary classifiers", AISTATS.
    """

    method = "beta"

    def __init__(self, *, input: str = "logits", tol: float = 1e-12, max_iter: int = 100) -> None:
        super().__init__(input=input)
        self.tol = float(tol)
        self.max_iter = int(max_iter)

    def _config(self) -> dict[str, Any]:
        return {**super()._config(), "tol": self.tol, "max_iter": self.max_iter}

    def _fit(self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> None:
        lp, lq = ovr_log_pair(self, x)
        lp, lq = columns(lp), columns(lq)
        m = lp.shape[1]
        t = targets(y, x.ndim == 1, m)
        fits = [
            fit_beta(lp[:, j], lq[:, j], t[:, j], w, tol=self.tol, max_iter=self.max_iter)
            for j in range(m)
        ]
        self.a_, self.b_, self.c_, self.nll_ = (np.array([f[i] for f in fits]) for i in range(4))
        self.n_iter_ = np.array([f[4] for f in fits], dtype=np.int64)

    def _predict(self, x: np.ndarray) -> np.ndarray:
        lp, lq = ovr_log_pair(self, x)
        eta = columns(lp) * self.a_ - columns(lq) * self.b_ + self.c_
        return finish(expit(eta), self.binary_)

    def _params(self) -> dict[str, Any]:
        return {
            "a": self.a_.tolist(),
            "b": self.b_.tolist(),
            "c": self.c_.tolist(),
            "nll": self.nll_.tolist(),
            "n_iter": self.n_iter_.tolist(),
        }

    def _set_params(self, params: dict[str, Any]) -> None:
        m = n_columns(self)
        a, b = check_vector(params, "a", m), check_vector(params, "b", m)
        if np.any(a < 0) or np.any(b < 0):
            raise ValueError("beta calibration parameters a and b must be >= 0")
        self.a_, self.b_, self.c_ = a, b, check_vector(params, "c", m)
        self.nll_ = np.asarray(params["nll"], dtype=np.float64).reshape(m)
        self.n_iter_ = np.asarray(params["n_iter"], dtype=np.int64).reshape(m)
