"""Scaling-binning (Kumar, Liang & Ma 2019): Platt scaling, then equal-mass bins of its output."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

from confide._validation import check_choice, check_positive_int
from confide.calibration._base import Calibrator
from confide.calibration._platt import (
    check_vector,
    columns,
    finish,
    fit_platt,
    n_columns,
    ovr_log_pair,
    ovr_logits,
    targets,
)
from confide.exceptions import ValidationError
from confide.metrics._binning import assign_bins, bin_sums, quantile_edges

__all__ = ["ScalingBinning"]


class ScalingBinning(Calibrator):
    r"""Scaling-binning calibrator (Kumar, Liang & Ma 2019, "Verified uncertainty calibration").

    The calibration set is split in two halves by a seeded permutation (``seed``): on the
    first, Platt scaling ``g(s) = sigmoid(a s + b)`` is fitted on the logit ``s`` of the score
    (as :class:`PlattScaling`); on the second, the scaled values ``g(s)`` are cut into
    ``n_bins`` equal-mass bins (:func:`confide.metrics._binning.quantile_edges`, weighted), and
    each bin outputs the (weighted) mean scaled value of its samples. The output therefore takes
    at most ``n_bins`` distinct values (per class), which is what makes its calibration error
    measurable. Needs at least ``2·n_bins`` samples.

    Repeated quantile edges (ties in ``g``) give empty bins that no score can reach; they
    store their edge value.

    Multiclass ``(n, k)`` scores, ``multiclass="top_label"`` (default): the confidence of the
    predicted class (``argmax``, ties to the lowest index) is calibrated against correctness, as
    in Kumar et al.'s top-label calibrator; the predicted class gets the binned confidence
    ``c`` and the other classes share ``1 − c`` in proportion to their original probabilities.
    The predicted class stays the argmax unless ``c`` falls below such a share (only when ``c``
    is below ``p_2 (1 − c) / (1 − p_max)``; rare, as ``c`` tracks accuracy). With
    ``multiclass="marginal"`` every class is calibrated one-vs-rest (same split for every
    class) and the rows renormalised; its binned values tie across classes, and at many classes
    (100 on CIFAR-100) the argmax of tied rows — the lowest index — costs much accuracy.

    Attributes
    ----------
    a_, b_ : ndarray of shape (m,)
        Platt parameters per calibrated column (``m = 1`` for binary, ``k`` otherwise).
    edges_ : ndarray of shape (m, n_bins + 1)
        Bin edges on the scaled values.
    bin_values_ : ndarray of shape (m, n_bins)
        Mean scaled value per bin (the output).

    References
    ----------
    Kumar, Liang & Ma (2019), "Verified uncertainty calibration", NeurIPS.
    """

    method = "scaling_binning"
    min_samples = 4

    def __init__(
        self,
        *,
        input: str = "logits",
        n_bins: int = 15,
        seed: int = 0,
        target_smoothing: bool = False,
        tol: float = 1e-12,
        max_iter: int = 100,
        multiclass: str = "top_label",
    ) -> None:
        super().__init__(input=input)
        self.multiclass = check_choice(multiclass, "multiclass", ("top_label", "marginal"))
        self.n_bins = check_positive_int(n_bins, "n_bins")
        self.seed = check_positive_int(seed, "seed", minimum=0)
        self.target_smoothing = bool(target_smoothing)
        self.tol = float(tol)
        self.max_iter = int(max_iter)

    def _config(self) -> dict[str, Any]:
        return {
            **super()._config(),
            "n_bins": self.n_bins,
            "seed": self.seed,
            "target_smoothing": self.target_smoothing,
            "tol": self.tol,
            "max_iter": self.max_iter,
            "multiclass": self.multiclass,
        }

    def _top_label(self, x: np.ndarray) -> bool:
        return x.ndim == 2 and self.multiclass == "top_label"

    def _columns(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Scores in logit space, one column per calibrated score, and the predicted class."""
        if not self._top_label(x):
            return columns(ovr_logits(self, x)), None
        s = ovr_logits(self, x)
        pred = np.argmax(s, axis=1)
        top = s[np.arange(s.shape[0]), pred]
        return np.clip(top, -1e300, 1e300)[:, None], pred

    def _n_columns(self) -> int:
        return 1 if self.multiclass == "top_label" else n_columns(self)

    def _fit(self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> None:
        n, b = x.shape[0], self.n_bins
        if n < 2 * b:
            raise ValidationError(
                f"ScalingBinning with n_bins={b} needs at least {2 * b} calibration samples "
                f"(n_bins per half), got {n}. Lower n_bins or add data."
            )
        perm = np.random.default_rng(self.seed).permutation(n)
        first, second = perm[: n // 2], perm[n // 2 :]
        s, pred = self._columns(x)
        m = s.shape[1]
        t = (
            (pred == y)[:, None].astype(np.float64)
            if pred is not None
            else targets(y, x.ndim == 1, m)
        )
        w1 = None if w is None else w[first]
        w2 = None if w is None else w[second]
        if w1 is not None and not w1.sum() > 0:
            raise ValidationError("the scaling half of the calibration data has zero total weight.")
        a, c = np.empty(m), np.empty(m)
        edges, values = np.empty((m, b + 1)), np.empty((m, b))
        for j in range(m):
            t1 = t[first, j]
            present = t1 if w1 is None else t1[w1 > 0]
            if present.min() == present.max():
                raise ValidationError(
                    f"the scaling half of the calibration data (seed={self.seed}) holds only one "
                    "class"
                    + ("" if self.binary_ else f" for the one-vs-rest target of class {j}")
                    + "; use more calibration data or another seed."
                )
            a[j], c[j], _, _ = fit_platt(
                s[first, j],
                t1,
                w1,
                target_smoothing=self.target_smoothing,
                tol=self.tol,
                max_iter=self.max_iter,
            )
            g = expit(a[j] * s[second, j] + c[j])
            e = quantile_edges(g, b, w2)
            count, total, _ = bin_sums(assign_bins(g, e), g, g, b, w2)
            fallback = 0.5 * (e[:-1] + e[1:])
            values[j] = np.where(count > 0, total / np.where(count > 0, count, 1.0), fallback)
            edges[j] = e
        self.a_, self.b_, self.edges_, self.bin_values_ = a, c, edges, values

    def _predict(self, x: np.ndarray) -> np.ndarray:
        s, pred = self._columns(x)
        g = expit(s * self.a_ + self.b_)
        q = np.empty_like(g)
        for j in range(g.shape[1]):
            q[:, j] = self.bin_values_[j][assign_bins(g[:, j], self.edges_[j])]
        if pred is None:
            return finish(q, self.binary_)
        return _complete_rows(np.exp(ovr_log_pair(self, x)[0]), pred, q[:, 0])

    def _params(self) -> dict[str, Any]:
        return {
            "a": self.a_.tolist(),
            "b": self.b_.tolist(),
            "edges": self.edges_.tolist(),
            "bin_values": self.bin_values_.tolist(),
        }

    def _set_params(self, params: dict[str, Any]) -> None:
        m, b = (1 if self.binary_ else self._n_columns()), self.n_bins
        self.a_, self.b_ = check_vector(params, "a", m), check_vector(params, "b", m)
        edges = np.asarray(params["edges"], dtype=np.float64)
        values = np.asarray(params["bin_values"], dtype=np.float64)
        if edges.shape != (m, b + 1) or values.shape != (m, b):
            raise ValueError(
                f"expected edges ({m}, {b + 1}) and bin values ({m}, {b}), got {edges.shape} "
                f"and {values.shape}"
            )
        if not (np.all(np.isfinite(edges)) and np.all(np.isfinite(values))):
            raise ValueError("edges and bin values must be finite")
        if np.any(np.diff(edges, axis=1) < 0) or np.any((values < 0) | (values > 1)):
            raise ValueError("edges must not decrease and bin values must lie in [0, 1]")
        self.edges_, self.bin_values_ = edges, values


def _complete_rows(p: np.ndarray, pred: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Rows with ``c`` at the predicted class and ``1 − c`` shared as the other classes' ``p``."""
    n, k = p.shape
    rows = np.arange(n)
    rest = p.copy()
    rest[rows, pred] = 0.0
    total = rest.sum(axis=1)
    share = np.where(
        (total > 0)[:, None], rest / np.where(total > 0, total, 1.0)[:, None], 1.0 / (k - 1)
    )
    share[rows, pred] = 0.0
    out: np.ndarray = share * (1.0 - c)[:, None]
    out[rows, pred] = c
    return out
