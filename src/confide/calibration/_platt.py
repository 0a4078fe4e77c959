"""Platt scaling, and the one-vs-rest machinery shared by the binary-by-nature calibrators.

Binary-by-nature methods (Platt, isotonic, histogram binning, beta, scaling-binning) calibrate
one score at a time. On ``(n, k)`` scores they work one-vs-rest: class ``j`` is calibrated on
its own score (``P(y = j)`` from the model) against the indicator ``y == j``, and the ``k``
calibrated columns are renormalised so that each row sums to 1. A row whose calibrated scores
are all 0 (possible with isotonic or histogram maps) carries no information and falls back to
the uniform distribution ``1/k``.

The per-class score comes in three forms, all computed without cancellation from logits:

* the probability ``p_j`` (softmax of the logits, or the probabilities as given);
* the pair ``(ln p_j, ln(1 − p_j))``; with logits ``ln(1 − p_j)`` is the log-sum-exp of the
  *other* logits minus the log-sum-exp of all of them, so it stays exact when ``p_j → 1``;
* the one-vs-rest logit ``ln p_j − ln(1 − p_j)`` (for 1-D binary input, ``logit P(y = 1)``,
  i.e. :meth:`Calibrator.log_scores`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit, log_expit, logsumexp, softmax

from confide.calibration._base import Calibrator
from confide.exceptions import ValidationError

__all__ = ["PlattScaling"]


# -- one-vs-rest helpers ---------------------------------------------------------------------
def ovr_probs(cal: Calibrator, x: np.ndarray) -> np.ndarray:
    """Per-class probability scores: ``(n,)`` P(y=1) or ``(n, k)``, float64."""
    if cal.input == "probs":
        return x
    return expit(x) if x.ndim == 1 else softmax(x, axis=1)


def ovr_log_pair(cal: Calibrator, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(ln p, ln(1 − p))`` per class, finite (probabilities of 0 or 1 are nudged inside)."""
    if cal.input == "probs":
        p = np.clip(x, np.finfo(np.float64).tiny, 1.0 - np.finfo(np.float64).epsneg)
        return np.log(p), np.log1p(-p)
    if x.ndim == 1:
        return log_expit(x), log_expit(-x)
    lse = logsumexp(x, axis=1)
    lp = x - lse[:, None]
    # Every class but a row's top one has p <= 1/2, where ln(1 - p) = ln(-expm1(ln p)) is
    # accurate; for the top class, ln(1 - p) is the log-sum-exp of the other logits minus lse.
    with np.errstate(divide="ignore"):
        lq = np.log(-np.expm1(lp))
    rows = np.arange(x.shape[0])
    top = np.argmax(x, axis=1)
    others = x.copy()
    others[rows, top] = -np.inf
    lq[rows, top] = logsumexp(others, axis=1) - lse
    return lp, lq


def ovr_logits(cal: Calibrator, x: np.ndarray) -> np.ndarray:
    """One-vs-rest logits ``ln p − ln(1 − p)`` per class (``log_scores`` for 1-D input)."""
    if x.ndim == 1:
        return cal.log_scores(x)
    lp, lq = ovr_log_pair(cal, x)
    out: np.ndarray = lp - lq
    return out


def columns(a: np.ndarray) -> np.ndarray:
    """``(n,)`` as ``(n, 1)``; ``(n, k)`` unchanged: one column per calibrated score."""
    return a[:, None] if a.ndim == 1 else a


def targets(y: np.ndarray, binary: bool, n_columns: int) -> np.ndarray:
    """``(n, m)`` 0/1 targets: ``y`` itself for binary input, ``y == j`` per class otherwise."""
    if binary:
        return y[:, None].astype(np.float64)
    return (y[:, None] == np.arange(n_columns)[None, :]).astype(np.float64)


def finish(q: np.ndarray, binary: bool) -> np.ndarray:
    """Calibrated columns ``(n, m)`` to the output layout.

    Binary: the single column as ``(n,)`` P(y=1). Multiclass: rows renormalised to sum to 1;
    a row whose calibrated scores are all 0 becomes uniform.
    """
    if binary:
        out: np.ndarray = np.clip(q[:, 0], 0.0, 1.0)
        return out
    q = np.clip(q, 0.0, None)
    s = q.sum(axis=1, keepdims=True)
    zero = s[:, 0] <= 0
    safe = np.where(s > 0, s, 1.0)
    q = q / safe
    q[zero] = 1.0 / q.shape[1]
    return q


def check_vector(params: dict[str, Any], key: str, m: int) -> np.ndarray:
    """A finite float vector of length ``m`` from saved parameters (ValueError otherwise)."""
    v = np.asarray(params[key], dtype=np.float64)
    if v.shape != (m,):
        raise ValueError(f"expected {key} of shape ({m},), got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{key} must be finite")
    return v


def n_columns(cal: Calibrator) -> int:
    """Number of calibrated score columns: 1 for binary input, ``k`` otherwise."""
    return 1 if cal.binary_ else int(cal.n_classes_)


# -- exact logistic regression -----------------------------------------------------------------
def _logistic_nll(
    theta: np.ndarray, f: np.ndarray, t: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    eta = f @ theta
    nll = float(np.dot(w, np.logaddexp(0.0, eta) - t * eta))
    return nll, eta


def logistic_newton(
    f: np.ndarray,
    t: np.ndarray,
    w: np.ndarray,
    theta0: np.ndarray,
    *,
    tol: float = 1e-12,
    max_iter: int = 100,
    what: str = "logistic fit",
) -> tuple[np.ndarray, float, int]:
    r"""Minimise ``Σ w_i [log(1 + e^{η_i}) − t_i η_i]``, ``η = f θ``, by damped Newton (IRLS).

    ``f`` is the ``(n, d)`` design (the intercept column included), ``t`` targets in [0, 1],
    ``w`` non-negative weights summing to 1. The objective is convex; each step solves the
    exact Newton system (least squares if the Hessian is singular) and backtracks until the
    objective decreases. Stops when the Newton decrement falls below ``tol²`` or the step
    below ``tol`` relative to θ. Returns ``(θ, NLL(θ), iterations)``; raises
    :class:`ValidationError` if it does not converge (e.g. perfectly separated data, whose
    optimum is at infinity).
    """
    theta = theta0.astype(np.float64).copy()
    nll, eta = _logistic_nll(theta, f, t, w)
    for it in range(1, max_iter + 1):
        p = expit(eta)
        g = f.T @ (w * (p - t))
        h = (f * (w * p * (1.0 - p))[:, None]).T @ f
        try:
            step = np.linalg.solve(h, g)
            if not np.all(np.isfinite(step)):
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(h, g, rcond=None)[0]
        decrement = float(np.dot(g, step))
        if decrement <= tol * tol or not np.any(step):
            return theta, nll, it
        alpha = 1.0
        while True:
            cand = theta - alpha * step
            c_nll, c_eta = _logistic_nll(cand, f, t, w)
            if c_nll <= nll - 1e-4 * alpha * decrement or alpha < 1e-10:
                break
            alpha *= 0.5
        if alpha < 1e-10 and c_nll > nll:  # rounding floor reached: θ is optimal to precision
            return theta, nll, it
        theta, nll, eta = cand, c_nll, c_eta
        if np.max(np.abs(alpha * step)) <= tol * (1.0 + np.max(np.abs(theta))):
            return theta, nll, it
    raise ValidationError(
        f"{what} did not converge in {max_iter} Newton iterations (parameters {theta.tolist()}); "
        "the classes are probably perfectly separated by the score, so the likelihood has no "
        "finite optimum. Use more calibration data or target_smoothing=True."
    )


def platt_targets(t: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Platt's smoothed targets: ``(N₊ + 1)/(N₊ + 2)`` for positives, ``1/(N₋ + 2)`` otherwise.

    ``N₊`` and ``N₋`` are the (weighted) numbers of positives and negatives, as in scikit-learn.
    """
    n_pos = float(np.dot(w, t))
    n_neg = float(np.dot(w, 1.0 - t))
    return np.where(t > 0.5, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))


def fit_platt(
    s: np.ndarray,
    t: np.ndarray,
    w: np.ndarray | None,
    *,
    target_smoothing: bool,
    tol: float,
    max_iter: int,
) -> tuple[float, float, float, int]:
    """Fit ``sigmoid(a s + b)`` to 0/1 targets ``t``; returns ``(a, b, mean NLL, iterations)``."""
    raw_w = np.ones(s.shape[0]) if w is None else w
    tt = platt_targets(t, raw_w) if target_smoothing else t
    ww = raw_w / raw_w.sum()
    # Platt's start: a = 0, b = log of the smoothed prior odds.
    pos = float(np.dot(raw_w, t))
    neg = float(raw_w.sum()) - pos
    theta0 = np.array([0.0, np.log((pos + 1.0) / (neg + 1.0))])
    design = np.column_stack([s, np.ones_like(s)])
    theta, nll, it = logistic_newton(
        design, tt, ww, theta0, tol=tol, max_iter=max_iter, what="Platt scaling"
    )
    return float(theta[0]), float(theta[1]), nll, it


class PlattScaling(Calibrator):
    r"""Platt scaling (Platt 1999): ``P(y=1) = sigmoid(a·s + b)`` on the logit ``s`` of the score.

    ``s`` is :meth:`~Calibrator.log_scores` for 1-D binary input (the logit itself, or
    ``logit p`` for probabilities). The two parameters minimise the (weighted) logistic NLL,
    found exactly by Newton's method (IRLS) in float64 — not an approximate gradient method.

    With ``target_smoothing=True`` the 0/1 labels are replaced by Platt's targets
    ``(N₊ + 1)/(N₊ + 2)`` and ``1/(N₋ + 2)`` (his "Bayesian prior", which also keeps the fit
    finite on separable data); this is what scikit-learn's
    ``CalibratedClassifierCV(method="sigmoid")`` does, and the fit reaches the same ``(a, b)``
    (scikit-learn's ``A, B`` with opposite sign: it writes ``1 / (1 + exp(A s + B))``).

    Multiclass ``(n, k)`` scores are calibrated one-vs-rest on each class's logit
    ``ln p_j − ln(1 − p_j)`` and the rows renormalised to sum to 1.

    Attributes
    ----------
    a_, b_ : ndarray of shape (m,)
        Slope and intercept per calibrated column (``m = 1`` for binary, ``k`` otherwise).
    nll_ : ndarray of shape (m,)
        Mean NLL at the optimum (against the smoothed targets if ``target_smoothing``).
    n_iter_ : ndarray of shape (m,)

    References
    ----------
    Platt (1999), "Probabilistic outputs for support vector machines and comparisons to
    regularized likelihood methods", Advances in Large Margin Classifiers.
    """

    method = "platt"

    def __init__(
        self,
        *,
        input: str = "logits",
        target_smoothing: bool = False,
        tol: float = 1e-12,
        max_iter: int = 100,
    ) -> None:
        super().__init__(input=input)
        self.target_smoothing = bool(target_smoothing)
        self.tol = float(tol)
        self.max_iter = int(max_iter)

    def _config(self) -> dict[str, Any]:
        return {
            **super()._config(),
            "target_smoothing": self.target_smoothing,
            "tol": self.tol,
            "max_iter": self.max_iter,
        }

    def _fit(self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> None:
        s = columns(ovr_logits(self, x))
        m = s.shape[1]
        t = targets(y, x.ndim == 1, m)
        fits = [
            fit_platt(
                s[:, j],
                t[:, j],
                w,
                target_smoothing=self.target_smoothing,
                tol=self.tol,
                max_iter=self.max_iter,
            )
            for j in range(m)
        ]
        self.a_ = np.array([f[0] for f in fits])
        self.b_ = np.array([f[1] for f in fits])
        self.nll_ = np.array([f[2] for f in fits])
        self.n_iter_ = np.array([f[3] for f in fits], dtype=np.int64)

    def _predict(self, x: np.ndarray) -> np.ndarray:
        s = columns(ovr_logits(self, x))
        return finish(expit(s * self.a_ + self.b_), self.binary_)

    def _params(self) -> dict[str, Any]:
        return {
            "a": self.a_.tolist(),
            "b": self.b_.tolist(),
            "nll": self.nll_.tolist(),
            "n_iter": self.n_iter_.tolist(),
        }

    def _set_params(self, params: dict[str, Any]) -> None:
        m = n_columns(self)
        self.a_ = check_vector(params, "a", m)
        self.b_ = check_vector(params, "b", m)
        self.nll_ = np.asarray(params["nll"], dtype=np.float64).reshape(m)
        self.n_iter_ = np.asarray(params["n_iter"], dtype=np.int64).reshape(m)
