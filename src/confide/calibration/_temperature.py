"""Temperature scaling, fitted to the exact optimum of the negative log-likelihood."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from confide import _accel
from confide._accel import chunk_starts, compiled
from confide.calibration._base import Calibrator
from confide.exceptions import ValidationError

#: ``range`` in Python; confide._accel.compiled rebinds it to ``numba.prange`` before compiling.
prange = range

__all__ = ["TemperatureScaling"]


def _as_two_columns(z: np.ndarray) -> np.ndarray:
    """Binary logits of P(y=1) as two-class logits ``[0, z]`` (same softmax)."""
    return np.column_stack([np.zeros_like(z), z]) if z.ndim == 1 else z


def _nll_derivatives(
    beta: float, z: np.ndarray, zy: np.ndarray, w: np.ndarray
) -> tuple[float, float, float, float]:
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
    wrong = np.dot(w, zy < 0)
    return float(f), float(g), float(h), float(wrong)


def _py_nll_derivatives(
    beta: float, z: np.ndarray, y: np.ndarray, w: np.ndarray, starts: np.ndarray, chunk: int
) -> tuple[float, float, float, float]:  # pragma: no cover - compiled by numba
    """Fused one-pass twin of :func:`_nll_derivatives` on raw logits (rows shifted on the fly),
    plus the weight of the rows whose true class is not the top one."""
    n, k = z.shape
    n_chunks = starts.shape[0]
    part = np.zeros((n_chunks, 4), dtype=np.float64)
    for c in prange(n_chunks):
        lo = starts[c]
        hi = min(lo + chunk, n)
        f = 0.0
        g = 0.0
        h = 0.0
        wrong = 0.0
        for i in range(lo, hi):
            m = np.float64(z[i, 0])
            for j in range(1, k):
                m = max(m, np.float64(z[i, j]))
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            for j in range(k):
                d = np.float64(z[i, j]) - m
                e = np.exp(beta * d) if beta != 0.0 else 1.0
                s0 += e
                s1 += e * d
                s2 += e * d * d
            zy = np.float64(z[i, y[i]]) - m
            mean = s1 / s0
            f += w[i] * (np.log(s0) - beta * zy)
            g += w[i] * (mean - zy)
            h += w[i] * max(s2 / s0 - mean * mean, 0.0)
            if zy < 0.0:
                wrong += w[i]
        part[c, 0] = f
        part[c, 1] = g
        part[c, 2] = h
        part[c, 3] = wrong
    tot = np.zeros(4)
    for c in range(n_chunks):
        tot += part[c]
    return tot[0], tot[1], tot[2], tot[3]


Derivatives = Callable[[float], tuple[float, float, float, float]]


def _derivatives_function(raw: np.ndarray, y: np.ndarray, weights: np.ndarray) -> Derivatives:
    """``β -> (NLL, dNLL/dβ, d²NLL/dβ²)`` on these data: the fused kernel or the NumPy path."""
    kernel = compiled(_py_nll_derivatives, raw.size, parallel=True, fastmath=True)
    if kernel is not None:
        zc = np.ascontiguousarray(raw)
        yc = np.ascontiguousarray(y, dtype=np.intp)
        wc = np.ascontiguousarray(weights)
        starts = chunk_starts(zc.shape[0])

        def fused(beta: float) -> tuple[float, float, float, float]:
            f, g, h, wrong = kernel(beta, zc, yc, wc, starts, _accel.CHUNK_ROWS)
            return float(f), float(g), float(h), float(wrong)

        return fused
    z = raw.astype(np.float64) - raw.max(axis=1, keepdims=True)
    zy = np.take_along_axis(z, y[:, None], axis=1)[:, 0]
    return lambda beta: _nll_derivatives(beta, z, zy, weights)


def _newton(
    derivs: Derivatives, beta: float, tol: float, max_iter: int
) -> tuple[float, int, float]:
    """Safeguarded Newton on the convex NLL(β), β > 0: returns (β*, iterations, NLL(β*)).

    The NLL returned is the one of the last evaluation, at most one step below the tolerance
    away from β*, so it is exact to that step squared.

    Keeps a bracket ``[lo, hi]`` where the derivative changes sign (``hi`` is infinite until
    a positive derivative is seen) and bisects, or doubles, when a Newton step leaves it.
    """
    lo, hi = 0.0, np.inf
    previous = np.inf
    for n_iter in range(1, max_iter + 1):
        f, g, h, _ = derivs(beta)
        if g < 0:
            lo = beta
        else:
            hi = beta
        newton_step = g / h if h > 0 else -np.inf
        if abs(newton_step) <= tol * beta:  # the Newton step is below the tolerance: done
            return beta - newton_step, n_iter, f
        # Quadratic convergence shown (this step a hundredth of the last or less): the error left
        # after this step is of the order of its square, below the tolerance. Saves one pass.
        if abs(newton_step) <= 0.1 * np.sqrt(tol) * beta and abs(newton_step) <= 0.01 * abs(
            previous
        ):
            return beta - newton_step, n_iter, f
        previous = newton_step
        candidate = beta - newton_step
        if not (lo < candidate < hi):
            candidate = 2.0 * beta if hi == np.inf else 0.5 * (lo + hi)
        if candidate > 1e300:  # pragma: no cover - excluded by the checks in fit
            raise ValidationError("temperature scaling found no optimum (T below 1e-300).")
        if hi - lo <= tol * beta:
            return candidate, n_iter, derivs(candidate)[0]
        beta = candidate
    raise ValidationError(
        f"temperature scaling did not converge in {max_iter} iterations (bracket [{lo!r}, {hi!r}] "
        "on 1/T); raise max_iter or tol."
    )


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
    keeps_float32 = True

    def __init__(self, *, input: str = "logits", tol: float = 1e-12, max_iter: int = 100) -> None:
        super().__init__(input=input)
        self.tol = float(tol)
        self.max_iter = int(max_iter)

    def _config(self) -> dict[str, Any]:
        return {**super()._config(), "tol": self.tol, "max_iter": self.max_iter}

    def _fit(self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> None:
        raw = _as_two_columns(self.log_scores(x))
        weights = np.full(raw.shape[0], 1.0) if w is None else w
        weights = weights / weights.sum()
        derivs = _derivatives_function(raw, y, weights)
        # g(0) >= 0: no β > 0 improves on the uniform prediction.
        _, g0, _, wrong = derivs(0.0)
        if g0 >= 0:
            raise ValidationError(
                "the scores carry no information about the labels (the likelihood improves as the "
                "temperature grows without bound); temperature scaling cannot be fitted. Check that "
                "the scores and labels line up and that input= is right."
            )
        if wrong <= 0:
            raise ValidationError(
                "every calibration prediction is right, so the likelihood keeps improving as the "
                "temperature goes to 0; temperature scaling has no optimum here. Use more (or "
                "harder) calibration data."
            )
        start = 1.0
        if raw.shape[0] > 4 * _accel.CHUNK_ROWS:
            # Warm start from a strided subsample: the full-data Newton steps then start close.
            step = raw.shape[0] // _accel.CHUNK_ROWS
            sub = slice(0, None, step)
            sw = weights[sub] / weights[sub].sum()
            try:
                start, _, _ = _newton(
                    _derivatives_function(raw[sub], y[sub], sw), 1.0, 1e-6, self.max_iter
                )
            except ValidationError:
                start = 1.0
        beta, n_iter, nll = _newton(derivs, start, self.tol, self.max_iter)
        self.n_iter_ = n_iter
        self.temperature_ = 1.0 / beta
        self.nll_ = nll

    def _predict(self, x: np.ndarray) -> np.ndarray:
        z = self.log_scores(x).astype(np.float64) / self.temperature_
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
