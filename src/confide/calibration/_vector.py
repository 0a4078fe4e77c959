"""Vector and matrix scaling: an affine map of the logits, then softmax, fitted by L-BFGS-B."""

from __future__ import annotations

from typing import Any

import numpy as np

from confide.calibration._affine import _AffineSoftmax, _FullAffine

__all__ = ["MatrixScaling", "VectorScaling"]


class VectorScaling(_AffineSoftmax):
    r"""Vector scaling (Guo et al. 2017): ``softmax(W ⊙ z + b)`` with a per-class scale and bias.

    The fit minimises the weighted mean negative log-likelihood plus an optional L2 pull
    towards the identity map,

    .. math:: \frac{1}{W}\sum_i w_i\big[\operatorname{logsumexp}(W\odot z_i + b)
              - (W_{y_i} z_{i y_i} + b_{y_i})\big]
              + \frac{\lambda}{k}\Big(\sum_j (W_j - 1)^2 + \sum_j b_j^2\Big),

    a convex problem, solved with L-BFGS-B and its analytic gradient in float64 from
    ``W = 1, b = 0``. With ``input="probs"`` the log-probabilities serve as logits; 1-D binary
    scores become two-class logits ``[0, z]`` (the scale of the first column then has no
    effect and stays at 1) and the result is 1-D ``P(y = 1)``. An optimiser that does not
    converge raises :class:`~confide.exceptions.ValidationError`.

    Parameters
    ----------
    input : {"logits", "probs"}
    reg_lambda : float, default 0.0
        Weight λ >= 0 of the L2 penalty on ``W − 1`` and ``b``.
    tol : float, default 1e-10
        L-BFGS-B relative tolerance on the objective (``ftol``).
    max_iter : int, default 2000

    Attributes
    ----------
    weights_ : ndarray (k,)
        Per-class scale ``W``.
    bias_ : ndarray (k,)
    objective_ : float
        Regularised objective at the optimum.
    nll_ : float
        Weighted mean NLL at the optimum on the calibration data (no penalty).
    n_iter_ : int

    References
    ----------
    Guo, Pleiss, Sun & Weinberger (2017), "On calibration of modern neural networks", ICML.
    """

    method = "vector"

    def _initial(self, k: int) -> np.ndarray:
        return np.concatenate([np.ones(k), np.zeros(k)])

    def _unpack(self, theta: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return theta[:k], theta[k:]

    def _forward(self, scale: np.ndarray, bias: np.ndarray, z: np.ndarray) -> np.ndarray:
        out: np.ndarray = z * scale + bias
        return out

    def _backward(self, z: np.ndarray, g: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return np.concatenate([np.einsum("ij,ij->j", g, z), g.sum(axis=0)])

    def _penalty(self, scale: np.ndarray, bias: np.ndarray) -> tuple[float, np.ndarray]:
        c = self.reg_lambda / scale.shape[0]
        d = scale - 1.0
        r = c * (float(np.dot(d, d)) + float(np.dot(bias, bias)))
        return r, 2.0 * c * np.concatenate([d, bias])

    def _set_params(self, params: dict[str, Any]) -> None:
        k = self.n_classes_
        w = np.asarray(params["weights"], dtype=np.float64)
        b = np.asarray(params["bias"], dtype=np.float64)
        if w.shape != (k,) or b.shape != (k,):
            raise ValueError(
                f"expected weights and bias of shape ({k},), got {w.shape} and {b.shape}"
            )
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise ValueError("weights and bias must be finite")
        self.weights_, self.bias_ = w, b
        self._set_common(params)


class MatrixScaling(_FullAffine):
    r"""Matrix scaling (Guo et al. 2017): ``softmax(W z + b)`` with a full ``k × k`` matrix ``W``.

    The fit minimises the weighted mean NLL plus the optional ODIR penalty of Kull et al.
    (2019) — off-diagonal entries of ``W`` and the bias, not the diagonal —

    .. math:: \frac{1}{W}\sum_i w_i\big[\operatorname{logsumexp}(W z_i + b) - (W z_i + b)_{y_i}\big]
              + \frac{\lambda}{k(k-1)}\sum_{i\neq j} W_{ij}^2 + \frac{\mu}{k}\sum_j b_j^2,

    convex in ``(W, b)``, solved with L-BFGS-B and its analytic gradient in float64 from
    ``W = I, b = 0`` (rows preconditioned as in
    :class:`~confide.calibration.DirichletCalibration`). Without regularisation ``(W, b)`` is identified only up to adding the
    same row to every row of ``W`` and the same constant to every ``b_j`` (the softmax does not
    see it); predictions are unique. With ``input="probs"`` the log-probabilities serve as
    logits; 1-D binary scores become two-class logits ``[0, z]`` and the result is 1-D
    ``P(y = 1)``. An optimiser that does not converge raises
    :class:`~confide.exceptions.ValidationError`.

    Parameters
    ----------
    input : {"logits", "probs"}
    reg_lambda : float, default 0.0
        ODIR weight λ >= 0 on the off-diagonal of ``W``.
    reg_mu : float, default 0.0
        ODIR weight μ >= 0 on the bias.
    tol : float, default 1e-10
        L-BFGS-B relative tolerance on the objective (``ftol``).
    max_iter : int, default 2000

    Attributes
    ----------
    weights_ : ndarray (k, k)
    bias_ : ndarray (k,)
    objective_ : float
        Regularised objective at the optimum.
    nll_ : float
        Weighted mean NLL at the optimum on the calibration data (no penalty).
    n_iter_ : int

    References
    ----------
    Guo, Pleiss, Sun & Weinberger (2017), "On calibration of modern neural networks", ICML.
    Kull, Perello-Nieto, Kängsepp, Silva Filho, Song & Flach (2019), "Beyond temperature
    scaling: obtaining well-calibrated multiclass probabilities with Dirichlet calibration",
    NeurIPS (ODIR).
    """

    method = "matrix"
