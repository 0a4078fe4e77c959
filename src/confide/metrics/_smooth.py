r"""Smooth ECE: calibration error of kernel-smoothed residuals (Błasiok & Nakkiran 2023).

With scores :math:`f_i \in [0, 1]`, targets :math:`y_i \in \{0, 1\}`, weights :math:`w_i`
(:math:`W = \sum_i w_i`) and residuals :math:`r_i = y_i - f_i`,

.. math::

    \hat g_\sigma(t) = \frac{1}{W} \sum_i w_i K_\sigma(t, f_i)\, r_i, \qquad
    \mathrm{smECE}_\sigma = \int_0^1 \lvert \hat g_\sigma(t) \rvert \, dt ,

where :math:`K_\sigma` is the *reflected* Gaussian kernel on [0, 1]: the Gaussian of standard
deviation :math:`\sigma` on the real line folded onto [0, 1] by reflecting at 0 and 1 as often as
needed, :math:`K_\sigma(t, f) = \sum_{m \in \mathbb{Z}} \varphi_\sigma(t - f + 2m) +
\varphi_\sigma(t + f + 2m)`. It is the heat kernel of [0, 1] with reflecting ends, so every score
keeps its whole unit of mass inside [0, 1] and :math:`\mathrm{smECE}_\sigma` is non-increasing in
:math:`\sigma`. The default bandwidth is the fixed point :math:`\sigma^*` with
:math:`\mathrm{smECE}_{\sigma^*} = \sigma^*`, unique because :math:`\sigma - \mathrm{smECE}_\sigma`
is increasing and changes sign on (0, 1].

Computation. The weighted masses are spread to the grid :math:`t_j = j/G`, ``j = 0..G``, by
linear binning (mass and first moment kept), reflected into an even sequence of period ``2G``
and convolved with the sampled kernel by FFT (a DCT-I, the sequence being even), then :math:`\int |\hat g|` is taken by the trapezoidal
rule: cost :math:`O(n + G \log G)` per bandwidth. ``G`` is the smallest power of two with
:math:`h = 1/G \le \sigma / 64` and ``G >= 1024``. The discretisation error is bounded by about
:math:`0.33\,(h/\sigma)^2 \le 8 \cdot 10^{-5}`: linear binning moves the smoothed residual by at
most :math:`\tfrac{h^2}{8}\lVert\partial^2\varphi_\sigma\rVert_1 \approx 0.12 (h/\sigma)^2` in
:math:`L^1`, the trapezoidal rule on :math:`|\hat g|` errs by at most about
:math:`0.2 (h/\sigma)^2` (its kinks at the zeros of :math:`\hat g`), and the sampled kernel is
exact on the grid. The tests pin the result to within :math:`2 \cdot 10^{-6}` of a
direct :math:`O(n\,T)` evaluation of the integral.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.fft import dct, idct

from confide._validation import check_choice
from confide.exceptions import ConfideTypeError, ValidationError
from confide.metrics._inputs import check_classification, top_label

__all__ = ["SmoothECE", "smooth_ece", "smooth_ece_details"]

KINDS = ("top_label", "binary", "classwise")

_GRID_PER_SIGMA = 64  # grid spacing h <= sigma / 64
_MIN_GRID = 1024
_SIGMA_MIN = 1e-3  # floor of the fixed-point search (G = 2**16 there), as in relplot
_SIGMA_SMALLEST = 1e-4  # smallest bandwidth accepted (G = 2**20 there)
_SIGMA_XTOL = 1e-6  # bisection stops when the bracket is this narrow
_DENSITY_FLOOR = 1e-9  # relative density below which the smoothed residual is undefined (NaN)

Pairs = list[tuple[np.ndarray, np.ndarray]]


def _score_target_pairs(
    y_true: Any,
    y_prob: Any,
    kind: str,
    sample_weight: Any = None,
    *,
    kinds: tuple[str, ...] = KINDS,
) -> tuple[Pairs, np.ndarray | None]:
    """Validate the inputs and return the (score, target) problems that ``kind`` defines.

    Scores and targets are float64 arrays of shape (n,); targets are 0 or 1. ``top_label`` gives
    one problem (the top-label confidence against whether the prediction was right), ``binary``
    one (``p = P(y = 1)`` against ``y``; 1-D input only) and ``classwise`` one per class (``p_k``
    against ``[y = k]``; for 1-D input the classes are 0 and 1). The weights come back as given
    (float64 or None); a zero total weight is refused.
    """
    check_choice(kind, "kind", kinds)
    data = check_classification(y_true, y_prob, sample_weight)
    if kind == "binary" and not data.binary:
        raise ValidationError(
            f"kind='binary' measures P(y=1) of 1-D binary input, but y_prob has shape "
            f"{data.prob.shape}. Use kind='top_label' or kind='classwise' for k classes."
        )
    if data.weight is not None and not float(data.weight.sum()) > 0:
        raise ValidationError("cannot measure calibration on zero samples (all weights are 0).")
    if kind == "top_label":
        conf, pred = top_label(data.prob)
        pairs = [(conf.astype(np.float64), (pred == data.y).astype(np.float64))]
    elif kind == "binary":
        pairs = [(data.prob.astype(np.float64), data.y.astype(np.float64))]
    else:
        pairs = [
            (data.class_scores(k).astype(np.float64), (data.y == k).astype(np.float64))
            for k in range(data.n_classes)
        ]
    return pairs, data.weight


def _grid_size(sigma: float) -> int:
    """Smallest power of two ``G >= 1024`` with ``1/G <= sigma / 64``."""
    need = max(_MIN_GRID, math.ceil(_GRID_PER_SIGMA / sigma))
    return 1 << (need - 1).bit_length()


def _kernel_spectrum(sigma: float, G: int) -> np.ndarray:
    """DFT, at frequencies ``0..G``, of the Gaussian wrapped on the circle of length 2 and
    sampled at spacing ``h = 1/G`` (normalised so that ``h * sum = 1``).

    The wrapped Gaussian has Fourier coefficients ``exp(-(pi sigma k)^2 / 2) / 2``; sampling
    aliases frequency ``k`` with ``k - 2G``, whose coefficient is below ``exp(-2 pi^2 64^2)``
    (zero in float64) when ``h <= sigma / 64``, so the DFT is ``G exp(-(pi sigma k)^2 / 2)``.
    """
    k = np.arange(G + 1)
    return G * np.exp(-0.5 * (math.pi * sigma * k) ** 2)


class _Problem:
    """One (score, target, weight) problem with its grid binnings cached per grid size."""

    def __init__(self, score: np.ndarray, target: np.ndarray, weight: np.ndarray | None) -> None:
        w = np.ones_like(score) if weight is None else weight
        total = float(w.sum())
        self.score = score
        self.mass = w / total
        self.residual_mass = self.mass * (target - score)
        self._spectra: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _spectra_for(self, G: int) -> tuple[np.ndarray, np.ndarray]:
        """Spectra of the binned mass and residual mass, reflected into period ``2G``.

        A mass at grid point ``j`` also sits at ``-j (mod 2G)``: the sequence is even, so its DFT
        is the DCT-I of the ``G + 1`` grid values with the two end values doubled (they are
        their own mirror images).
        """
        cached = self._spectra.get(G)
        if cached is not None:
            return cached
        pos = self.score * G
        lo = np.minimum(np.floor(pos).astype(np.intp), G - 1)
        frac = pos - lo
        out = []
        for m in (self.mass, self.residual_mass):
            v = np.bincount(lo, m * (1.0 - frac), minlength=G + 1)
            v += np.bincount(lo + 1, m * frac, minlength=G + 1)
            v[0] *= 2.0
            v[G] *= 2.0
            out.append(dct(v, type=1))
        spectra = (out[0], out[1])
        self._spectra[G] = spectra
        return spectra

    def _smooth(self, sigma: float, which: int) -> np.ndarray:
        """Smoothed mass (``which=0``) or residual mass (``which=1``) at ``t_j = j/G``."""
        G = _grid_size(sigma)
        return idct(self._spectra_for(G)[which] * _kernel_spectrum(sigma, G), type=1)

    def smoothed(self, sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(grid, density, g)`` on ``t_j = j/G``: the smoothed mass and residual mass."""
        g = self._smooth(sigma, 1)
        return np.arange(g.size) / (g.size - 1), self._smooth(sigma, 0), g

    def value(self, sigma: float) -> float:
        """smECE at bandwidth ``sigma`` (trapezoidal rule on the grid)."""
        a = np.abs(self._smooth(sigma, 1))
        return float((a.sum() - 0.5 * (a[0] + a[-1])) / (a.size - 1))

    def fixed_point(self) -> float:
        """The bandwidth ``sigma*`` with ``smECE(sigma*) = sigma*``, by bisection.

        ``smECE(1) <= mean |r| <= 1`` so the root lies in (0, 1]. The bracket's lower end starts
        at 1e-3 unchecked; when the upper end comes within a factor 2 of it, it is checked once,
        and if ``smECE(1e-3) <= 1e-3`` (residuals that cancel at that scale already, e.g. all
        zero) 1e-3 is returned.
        """
        lo, hi = _SIGMA_MIN, 1.0
        lo_checked = False
        while hi - lo > _SIGMA_XTOL:
            if not lo_checked and hi <= 2.0 * lo:
                # the search is heading for the floor: look there once before bisecting on
                if self.value(lo) <= lo:
                    return lo
                lo_checked = True
            mid = 0.5 * (lo + hi)
            if self.value(mid) <= mid:
                hi = mid
            else:
                lo, lo_checked = mid, True
        return hi


def _check_sigma(sigma: Any) -> float | None:
    if sigma is None:
        return None
    if isinstance(sigma, bool) or not isinstance(sigma, int | float | np.integer | np.floating):
        raise ConfideTypeError(f"sigma must be a positive number or None, got {sigma!r}.")
    s = float(sigma)
    if not (math.isfinite(s) and s >= _SIGMA_SMALLEST):
        raise ValidationError(
            f"sigma must be a finite bandwidth of at least {_SIGMA_SMALLEST:g} (or None for the "
            f"fixed point), got {sigma!r}; smaller ones would need a grid of over a million points."
        )
    return s


def _solve(problem: _Problem, sigma: float | None) -> tuple[float, float]:
    s = problem.fixed_point() if sigma is None else sigma
    return problem.value(s), s


def smooth_ece(
    y_true: Any,
    y_prob: Any,
    *,
    kind: str = "top_label",
    sigma: float | None = None,
    sample_weight: Any = None,
) -> float:
    r"""Smooth ECE: the L1 norm of the kernel-smoothed residuals ``y - f``.

    .. math:: \mathrm{smECE}_\sigma = \int_0^1 \Bigl\lvert \tfrac{1}{W} \textstyle\sum_i w_i
        K_\sigma(t, f_i)\,(y_i - f_i) \Bigr\rvert\, dt

    with the reflected Gaussian kernel :math:`K_\sigma` on [0, 1] (the Gaussian folded back at 0
    and 1, so that each score keeps a unit of mass in [0, 1]). With ``sigma=None`` the bandwidth
    is the fixed point :math:`\sigma^* = \mathrm{smECE}_{\sigma^*}`, found by bisection on
    [1e-3, 1] to within 1e-6; when :math:`\mathrm{smECE}_{0.001} \le 0.001` already (for example
    residuals that are all zero) ``sigma`` is 1e-3. Unlike binned ECE it needs no bin choice and
    is continuous in the predictions, and it is a consistent calibration measure: small exactly
    when the predictor is close to a perfectly calibrated one (Błasiok & Nakkiran 2023). The kernel sums are computed on the grid
    ``j / G``, ``G`` the smallest power of two with ``G >= 1024`` and ``1 / G <= sigma / 64``,
    by linear binning and an FFT: cost ``O(n + G log G)`` per bandwidth, discretisation error
    below 1e-4 (see :mod:`confide.metrics._smooth`).

    Parameters
    ----------
    y_true : array of shape (n,)
        Labels in ``0..k-1`` (or {0, 1} for 1-D ``y_prob``).
    y_prob : array of shape (n,) or (n, k)
        ``P(y = 1)`` for binary problems, else class probabilities whose rows sum to 1.
    kind : {"top_label", "binary", "classwise"}
        As in :func:`confide.metrics.ece`: the top-label confidence against correctness; ``p``
        itself against ``y`` (1-D input only); or the mean over classes ``k`` of the binary
        smooth ECE of ``p_k`` against ``[y = k]``, each class at its own fixed point when
        ``sigma`` is None.
    sigma : float, optional
        Kernel bandwidth, at least 1e-4; None (default) for the fixed point.
    sample_weight : array of shape (n,), optional

    Returns
    -------
    float in [0, 1]

    References
    ----------
    Błasiok & Nakkiran (2023), "Smooth ECE: Principled reliability diagrams via kernel smoothing",
    arXiv:2309.12236 (reference implementation: the ``relplot`` package).

    Notes
    -----
    confide computes the paper's definition; ``relplot`` (the authors' package, whose
    ``smECE(f, y)`` is the reference) approximates it in three ways that can matter:

    * Scores at or within 1/1000 of 0 or 1. relplot spreads scores onto a 1001-point grid and
      mirrors the grid without its end points, so a score there keeps only about half of its
      kernel mass near the end, and relplot then renormalises by the total mass. The paper's
      kernel has :math:`\int_0^1 K_\sigma(t, f)\,dt = 1` for every ``f``, and so does confide.
      Over-confident networks put most top-label confidences there: on CIFAR-10 VGG-16 outputs
      (74 % of confidences >= 0.999) relplot gives 0.055 where confide, and a direct evaluation
      of the paper's integral, give 0.040.
    * Large bandwidths. relplot reflects the Gaussian once at each end and cuts it at
      ``|t - f| > 1/2``; the paper's kernel folds the whole Gaussian, which is what makes
      :math:`\mathrm{smECE}_\sigma` non-increasing in :math:`\sigma` (the fixed point relies on
      it). The two part from about ``sigma = 0.2`` when the residual changes sign: for uniform
      scores and ``y ~ Bernoulli(1/2)`` at ``sigma = 0.4`` the population value is 0.117, which
      confide reproduces within sampling error on 20 000 rows, and relplot gives 0.185.
    * Quadrature. relplot sums the smoothed curves on a 200-point (or ``10 / sigma``) grid with
      both end points at full weight, an ``O(1/200)`` relative bias when the smoothed residual is
      large at the ends; its bisection takes 10 steps (bandwidth to about 1e-3).

    Where none of these applies (scores in [0.001, 0.999], fixed point below about 0.2 or a
    residual of one sign), the two agree to within 5e-4 in value and 1e-3 in bandwidth.
    """
    s = _check_sigma(sigma)
    pairs, weight = _score_target_pairs(y_true, y_prob, kind, sample_weight)
    values = [_solve(_Problem(score, target, weight), s)[0] for score, target in pairs]
    return float(np.clip(np.mean(values), 0.0, 1.0))


@dataclass(frozen=True)
class SmoothECE:
    """A smooth ECE with the curves of its smooth reliability diagram.

    Attributes
    ----------
    value : float
        The smooth ECE, ``∫ |smoothed_residual| * density dt``.
    sigma : float
        The kernel bandwidth used (the fixed point unless one was given).
    grid : (G + 1,) array
        Evaluation points ``j / G`` in [0, 1].
    smoothed_residual : (G + 1,) array
        Kernel-weighted mean of ``y - f`` near each grid point; NaN where ``density`` is below
        1e-9 of its maximum (no data within reach of the kernel).
    density : (G + 1,) array
        Kernel density of the scores (weighted), integrating to 1 over [0, 1].
    """

    value: float
    sigma: float
    grid: np.ndarray
    smoothed_residual: np.ndarray
    density: np.ndarray

    @property
    def calibration_curve(self) -> np.ndarray:
        """``grid + smoothed_residual``: the smoothed observed frequency, the diagram's curve."""
        return self.grid + self.smoothed_residual

    def to_dict(self) -> dict[str, Any]:
        def clean(a: np.ndarray) -> list[float | None]:
            return [None if not np.isfinite(v) else float(v) for v in a]

        return {
            "value": self.value,
            "sigma": self.sigma,
            "grid": self.grid.tolist(),
            "smoothed_residual": clean(self.smoothed_residual),
            "density": self.density.tolist(),
        }


def smooth_ece_details(
    y_true: Any,
    y_prob: Any,
    *,
    kind: str = "top_label",
    sigma: float | None = None,
    sample_weight: Any = None,
) -> SmoothECE:
    """Smooth ECE with the smoothed residual and score density on its grid (for a diagram).

    Arguments as :func:`smooth_ece`, except that ``kind`` is ``"top_label"`` or ``"binary"``: a
    diagram shows one (score, target) problem (call it per class for a classwise view).
    ``value`` equals ``smooth_ece(...)`` with the same arguments.
    """
    s = _check_sigma(sigma)
    pairs, weight = _score_target_pairs(
        y_true, y_prob, kind, sample_weight, kinds=("top_label", "binary")
    )
    ((score, target),) = pairs
    problem = _Problem(score, target, weight)
    value, used = _solve(problem, s)
    grid, density, g = problem.smoothed(used)
    density = np.maximum(density, 0.0)  # FFT rounding can leave -1e-17 far from the data
    defined = density > _DENSITY_FLOOR * float(density.max())
    residual = np.full_like(g, np.nan)
    np.divide(g, density, out=residual, where=defined)
    return SmoothECE(
        value=float(min(max(value, 0.0), 1.0)),
        sigma=float(used),
        grid=grid,
        smoothed_residual=residual,
        density=density,
    )
