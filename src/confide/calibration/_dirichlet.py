"""Dirichlet calibration with ODIR regularisation (Kull et al. 2019)."""

from __future__ import annotations

import numpy as np

from confide.calibration._affine import _as_two_columns, _FullAffine, _log_softmax_rows

__all__ = ["DirichletCalibration"]


class DirichletCalibration(_FullAffine):
    r"""Dirichlet calibration (Kull et al. 2019): ``softmax(W log p + b)`` on log-probabilities.

    The fit minimises the weighted mean negative log-likelihood plus the ODIR penalty
    (off-diagonal and intercept regularisation),

    .. math:: \frac{1}{W}\sum_i w_i\big[\operatorname{logsumexp}(W \log p_i + b)
              - (W \log p_i + b)_{y_i}\big]
              + \frac{\lambda}{k(k-1)}\sum_{i\neq j} W_{ij}^2 + \frac{\mu}{k}\sum_j b_j^2,

    convex in ``(W, b)``, solved with L-BFGS-B and its analytic gradient in float64 from the
    identity map ``W = I, b = 0``, each row of ``[W | b]`` preconditioned by its own block of
    the Hessian at the start (see ``_FullAffine._reparametrise``), which is what lets the
    ``k² + k`` parameters converge at many classes. ODIR shrinks towards a diagonal ``W`` (per-class
    temperature-like scaling) without penalising the diagonal itself.

    ``log p`` comes from :meth:`~confide.calibration.Calibrator.log_scores` followed by a
    row-wise log-softmax, so ``input="probs"`` (``log p``, zeros moved to the smallest positive
    float) and ``input="logits"`` (``log_softmax(z)``) describe the same model. 1-D binary
    scores become the two-class ``[log(1 − p), log p]``; the result is then 1-D ``P(y = 1)``
    (binary Dirichlet calibration is beta calibration with a free bias). An optimiser that
    does not converge raises :class:`~confide.exceptions.ValidationError`.

    Parameters
    ----------
    input : {"logits", "probs"}
    reg_lambda : float, default 1e-3
        ODIR weight λ >= 0 on the off-diagonal of ``W``.
    reg_mu : float, default 1e-3
        ODIR weight μ >= 0 on the bias. The defaults are a light, fixed regularisation (the
        paper selects λ and μ by cross-validation over ``10^{-5}..10^{-1}``; pass your own
        from a CV, or 0 for plain unregularised Dirichlet calibration). The off-diagonal
        penalty is a mean over the ``k(k−1)`` entries, so a fixed λ is weaker per entry at
        many classes: λ here is dirichletcal's normalised ``λ_ref · k(k−1)``, and the default
        is ``λ_ref ≈ 1e-5`` at k = 10 but ``1e-7`` at k = 100, where ``k² + k`` parameters
        then overfit. Measured on DenseNet-BC-100 / CIFAR-100 (5000 samples to fit, 5000
        held out; uncalibrated NLL 1.226, ECE 0.140): λ = μ = 1e-3 gives held-out NLL 10.5,
        λ = 100 gives 1.16, λ = 1e3 gives 0.900, λ = 1e4 gives 0.874 (ECE 0.017). The default
        is kept (unchanged results at small k); at many classes choose λ by CV.
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
    Kull, Perello-Nieto, Kängsepp, Silva Filho, Song & Flach (2019), "Beyond temperature
    scaling: obtaining well-calibrated multiclass probabilities with Dirichlet calibration",
    NeurIPS.
    """

    method = "dirichlet"

    def __init__(
        self,
        *,
        input: str = "logits",
        reg_lambda: float = 1e-3,
        reg_mu: float = 1e-3,
        tol: float = 1e-10,
        max_iter: int = 2000,
    ) -> None:
        super().__init__(
            input=input, reg_lambda=reg_lambda, reg_mu=reg_mu, tol=tol, max_iter=max_iter
        )

    def _features(self, x: np.ndarray) -> np.ndarray:
        return _log_softmax_rows(_as_two_columns(self.log_scores(x)))
