"""Temperature scaling, fitted to the exact optimum of the negative log-likelihood."""

from __future__ import annotations

from typing import Any

import numpy as np

from confide.calibration._base import Calibrator
from confide.exceptions import ValidationError

__all__ = ["TemperatureScaling"]


def _as_two_columns(z: np.ndarray) -> np.ndarray:
    """Binary logits of P(y=1) as two-class logits ``[0, z]`` (same softmax)."""
    return np.column_stack([np.zeros_like(z), z]) if z.ndim == 1 else z


def _nll_derivatives(
    beta: float, z: np.ndarray, zy: np.ndarray, w: np.ndarray
) -> tuple[float, float, float]:
    """NLL(β) = Σ w_i [logsumexp(β z_i) − β z_{i,y_i}] / Σ w, and its first two derivatives.

    ``z`` has each row's maximum subtracted (``zy`` likewise), so ``β z <= 0`` and no
    exponential overflows for β > 0.
    """
    e = np.exp(beta * z)
    s = e.sum(axis=1)
    p = e / s[:, None]
    mean_z = np.einsum("ij,ij->i", p, z)
    var_z = np.einsum("ij,ij->i", p, z * z) - mean_z * mean_z
    f = np.dot(w, np.log(s) - beta * zy)
    g = np.dot(w, mean_z - zy)
    h = np.dot(w, np.maximum(var_z, 0.0))
    return float(f), float(g), float(h)


class TemperatureScaling(Calibrator):
    r"""Temperature scaling (Guo et al. 2017): ``softmax(z / T)`` with one fitted ``T > 0``.

    The fit minimises the mean negative log-likelihood over ``β = 1 / T``,

    .. math:: \mathrm{NLL}(\beta) = \frac{1}{W}\sum_i w_i\Big[\log\sum_k e^{\beta z_{ik}} - \beta z_{i y_i}\Big],

    which is convex in ``β`` (its second derivative is the weighted mean variance of the logits
    under the scaled softmax). Newton's method, kept inside a bracket where the derivative
    changes sign and falling back to bisection, converges to machine precision in a few dozen
    passes over the data — the exact optimum, not a gradient-descent approximation. Logits are
    taken in float64 with each row's maximum subtracted, so large logits cannot overflow.

    With ``input="probs"`` the log-probabilities serve as logits (``softmax(log p) = p``). For
    1-D binary scores the model is ``sigmoid(z / T)``.

    Raises a clear error instead of returning a silent ``T``: when the logits carry no
    information about the labels (the likelihood keeps improving as ``T`` grows without
    bound), or when every calibration prediction is right (it keeps improving as ``T → 0``).

    Attributes
    ----------
    temperature_ : float
    nll_ : float
        Mean NLL at the optimum on the calibration data.
    n_iter_ : int

    References
    ----------
    Guo, Pleiss, Sun & Weinberger (2017), "On calibration of modern neural networks", ICML.
    """

    method = "temperature"

    def __init__(self, *, input: str = "logits", tol: float = 1e-12, max_iter: int = 100) -> None:
        super().__init__(input=input)
        self.tol = float(tol)
        self.max_iter = int(max_iter)

    def _config(self) -> dict[str, Any]:
        return {**super()._config(), "tol": self.tol, "max_iter": self.max_iter}

    def _fit(self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> None:
        z = _as_two_columns(self.log_scores(x))
        z = z - z.max(axis=1, keepdims=True)
        zy = np.take_along_axis(z, y[:, None], axis=1)[:, 0]
        weights = np.full(z.shape[0], 1.0) if w is None else w
        weights = weights / weights.sum()
        # g(0) >= 0: no β > 0 improves on the uniform prediction.
        _, g0, _ = _nll_derivatives(0.0, z, zy, weights)
        if g0 >= 0:
            raise ValidationError(
                "the scores carry no information about the labels (the likelihood improves as the "
                "temperature grows without bound); temperature scaling cannot be fitted. Check that "
                "the scores and labels line up and that input= is right."
            )
        if np.all(zy[weights > 0] == 0.0):
            raise ValidationError(
                "every calibration prediction is right, so the likelihood keeps improving as the "
                "temperature goes to 0; temperature scaling has no optimum here. Use more (or "
                "harder) calibration data."
            )
        lo, hi = 0.0, 1.0
        _, g_hi, _ = _nll_derivatives(hi, z, zy, weights)
        while g_hi < 0:  # ends: some prediction is wrong, so g(β) > 0 for β large enough
            lo, hi = hi, hi * 2.0
            if hi > 1e300:  # pragma: no cover - unreachable when some prediction is wrong
                raise ValidationError("temperature scaling found no optimum (T below 1e-300).")
            _, g_hi, _ = _nll_derivatives(hi, z, zy, weights)
        beta = min(max(1.0, lo), hi)
        n_iter = 0
        converged = False
        while n_iter < self.max_iter and not converged:
            n_iter += 1
            _, g, h = _nll_derivatives(beta, z, zy, weights)
            if g < 0:
                lo = beta
            else:
                hi = beta
            candidate = beta - g / h if h > 0 else np.inf
            if not (lo < candidate < hi):
                candidate = 0.5 * (lo + hi)
            converged = abs(candidate - beta) <= self.tol * beta or hi - lo <= self.tol * beta
            beta = candidate
        if not converged:
            raise ValidationError(
                f"temperature scaling did not converge in {self.max_iter} iterations "
                f"(bracket [{lo!r}, {hi!r}] on 1/T); raise max_iter or tol."
            )
        self.n_iter_ = n_iter
        self.temperature_ = 1.0 / beta
        self.nll_ = _nll_derivatives(beta, z, zy, weights)[0]

    def _predict(self, x: np.ndarray) -> np.ndarray:
        z = self.log_scores(x) / self.temperature_
        if z.ndim == 1:
            out: np.ndarray = np.empty_like(z)
            pos = z >= 0
            out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
            ez = np.exp(z[~pos])
            out[~pos] = ez / (1.0 + ez)
            return out
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def _params(self) -> dict[str, Any]:
        return {"temperature": self.temperature_, "nll": self.nll_, "n_iter": self.n_iter_}

    def _set_params(self, params: dict[str, Any]) -> None:
        t = float(params["temperature"])
        if not (np.isfinite(t) and t > 0):
            raise ValueError(f"temperature must be a finite number > 0, got {t!r}")
        self.temperature_ = t
        self.nll_ = float(params["nll"])
        self.n_iter_ = int(params["n_iter"])
