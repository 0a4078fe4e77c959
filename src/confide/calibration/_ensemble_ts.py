"""Ensemble temperature scaling (Mix-n-Match, Zhang, Kailkhura & Han 2020)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize

from confide.calibration._affine import _as_two_columns, _log_softmax_rows
from confide.calibration._base import Calibrator
from confide.calibration._temperature import TemperatureScaling
from confide.exceptions import ValidationError

__all__ = ["EnsembleTemperatureScaling"]

_TINY = np.finfo(np.float64).tiny


def _mixture_nll_grad(wts: np.ndarray, q: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """``−Σ_i w_i log(q_i · wts)`` and its gradient; ``q`` holds each component's P(true class)."""
    mix = np.maximum(q @ wts, _TINY)
    return -float(np.dot(w, np.log(mix))), -(q.T @ (w / mix))


class EnsembleTemperatureScaling(Calibrator):
    r"""Ensemble temperature scaling (Zhang, Kailkhura & Han 2020, "Mix-n-Match").

    A convex combination of the temperature-scaled, the uncalibrated and the uniform
    prediction,

    .. math:: p(z) = w_1\,\operatorname{softmax}(z / T) + w_2\,\operatorname{softmax}(z)
              + w_3\,\tfrac{1}{k}, \qquad w \in \Delta^2 .

    ``T`` is the exact temperature-scaling optimum
    (:class:`~confide.calibration.TemperatureScaling`, same ``input`` and sample weights);
    the weights then minimise the weighted mean NLL ``−Σ_i w_i log p_{y_i}(z_i)``, a convex
    problem on the simplex, solved with SLSQP (bounds ``0 <= w_j <= 1``, ``Σ w_j = 1``,
    analytic gradient) from ``w = (1, 0, 0)``. The uniform component keeps every probability
    positive. With ``input="probs"`` the log-probabilities serve as logits; 1-D binary scores
    become two-class logits ``[0, z]`` and the result is 1-D ``P(y = 1)``. An optimiser that
    does not converge raises :class:`~confide.exceptions.ValidationError`.

    The paper fits the weights with the NLL or the squared error; this class uses the NLL.

    Parameters
    ----------
    input : {"logits", "probs"}
    tol : float, default 1e-12
        SLSQP tolerance on the objective (``ftol``).
    max_iter : int, default 500

    Attributes
    ----------
    temperature_ : float
    weights_ : ndarray (3,)
        ``(w_1, w_2, w_3)``: temperature-scaled, uncalibrated, uniform.
    nll_ : float
        Weighted mean NLL at the optimum on the calibration data.
    n_iter_ : int

    References
    ----------
    Zhang, Kailkhura & Han (2020), "Mix-n-Match: ensemble and compositional methods for
    uncertainty calibration in deep learning", ICML.
    """

    method = "ensemble_temperature"

    def __init__(self, *, input: str = "logits", tol: float = 1e-12, max_iter: int = 500) -> None:
        super().__init__(input=input)
        self.tol = float(tol)
        self.max_iter = int(max_iter)
        if not (np.isfinite(self.tol) and self.tol > 0):
            raise ValidationError(f"tol must be a finite number > 0, got {tol!r}.")
        if self.max_iter < 1:
            raise ValidationError(f"max_iter must be >= 1, got {max_iter!r}.")

    def _config(self) -> dict[str, Any]:
        return {**super()._config(), "tol": self.tol, "max_iter": self.max_iter}

    def _components(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(temperature-scaled, uncalibrated) probabilities, both (n, k)."""
        z = _as_two_columns(self.log_scores(x))
        with np.errstate(under="ignore"):
            p_t = np.exp(_log_softmax_rows(z / self.temperature_))
            p_1 = np.exp(_log_softmax_rows(z))
        return p_t, p_1

    def _fit(self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> None:
        ts = TemperatureScaling(input=self.input).fit(x, y, sample_weight=w)
        self.temperature_ = float(ts.temperature_)
        p_t, p_1 = self._components(x)
        n, k = p_t.shape
        rows = np.arange(n)
        q = np.column_stack([p_t[rows, y], p_1[rows, y], np.full(n, 1.0 / k)])
        weights = np.full(n, 1.0 / n) if w is None else w / w.sum()
        res = minimize(
            _mixture_nll_grad,
            np.array([1.0, 0.0, 0.0]),
            args=(q, weights),
            jac=True,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * 3,
            constraints=[
                {"type": "eq", "fun": lambda v: v.sum() - 1.0, "jac": lambda v: np.ones(3)}
            ],
            options={"maxiter": self.max_iter, "ftol": self.tol},
        )
        if not res.success:
            raise ValidationError(
                f"{type(self).__name__} (method {self.method!r}): SLSQP did not converge after "
                f"{res.nit} iterations: {res.message}. Raise max_iter or tol."
            )
        wts = np.clip(res.x, 0.0, None)
        self.weights_ = wts / wts.sum()
        self.nll_ = _mixture_nll_grad(self.weights_, q, weights)[0]
        self.n_iter_ = int(res.nit)

    def _predict(self, x: np.ndarray) -> np.ndarray:
        p_t, p_1 = self._components(x)
        k = p_t.shape[1]
        w1, w2, w3 = self.weights_
        p = w1 * p_t + w2 * p_1 + w3 / k
        p /= p.sum(axis=1, keepdims=True)
        return p[:, 1].copy() if x.ndim == 1 else p

    def _params(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature_,
            "weights": self.weights_.tolist(),
            "nll": self.nll_,
            "n_iter": self.n_iter_,
        }

    def _set_params(self, params: dict[str, Any]) -> None:
        t = float(params["temperature"])
        if not (np.isfinite(t) and t > 0):
            raise ValueError(f"temperature must be a finite number > 0, got {t!r}")
        wts = np.asarray(params["weights"], dtype=np.float64)
        if wts.shape != (3,):
            raise ValueError(f"expected 3 mixture weights, got shape {wts.shape}")
        if not (np.all(np.isfinite(wts)) and np.all(wts >= 0) and abs(wts.sum() - 1.0) <= 1e-9):
            raise ValueError(f"mixture weights must be >= 0 and sum to 1, got {wts.tolist()}")
        self.temperature_ = t
        self.weights_ = wts
        self.nll_ = float(params["nll"])
        self.n_iter_ = int(params["n_iter"])
