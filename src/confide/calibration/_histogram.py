"""Histogram binning: each score is replaced by the frequency of positives in its bin."""

from __future__ import annotations

from typing import Any

import numpy as np

from confide._validation import check_choice, check_positive_int
from confide.calibration._base import Calibrator
from confide.calibration._platt import columns, finish, n_columns, ovr_probs, targets
from confide.metrics._binning import assign_bins, bin_sums, quantile_edges, uniform_edges

__all__ = ["HistogramBinning"]


class HistogramBinning(Calibrator):
    r"""Histogram binning (Zadrozny & Elkan 2001): the (weighted) positive rate per score bin.

    The probability score ``p`` is cut into ``n_bins`` bins — equal-width (``"uniform"``) or
    equal-mass on the calibration scores (``"quantile"``) — with confide's bin convention
    (:mod:`confide.metrics._binning`: half-open ``[e_i, e_{i+1})``, last bin closed, an edge value
    in the upper bin), so the bins are exactly the ones the ECE of :mod:`confide.metrics` uses
    with the same ``n_bins`` and ``binning``. A score is mapped to the weighted frequency of
    positives among the calibration samples of its bin.

    **Empty bins** get the bin's centre ``(e_i + e_{i+1}) / 2``. An empty bin holds no evidence,
    so we keep what the model itself claims there (up to the bin's resolution) rather than
    borrowing a neighbour's frequency, which can be far from the score and from the bin range;
    the centre is also order-free and does not depend on other bins' data. (With quantile bins,
    empty bins only arise from repeated edges, which no score can fall into.)

    Multiclass ``(n, k)`` scores are binned one-vs-rest on each class's probability and the rows
    renormalised to sum to 1; a row whose calibrated scores are all 0 becomes uniform.

    Attributes
    ----------
    edges_ : ndarray of shape (m, n_bins + 1)
        Bin edges per calibrated column (``m = 1`` for binary, ``k`` otherwise).
    bin_values_ : ndarray of shape (m, n_bins)
        Calibrated probability of each bin.
    bin_weights_ : ndarray of shape (m, n_bins)
        Calibration weight (count, without weights) in each bin.

    References
    ----------
    Zadrozny & Elkan (2001), "Obtaining calibrated probability estimates from decision trees
    and naive Bayesian classifiers", ICML.
    """

    method = "histogram"

    def __init__(
        self, *, input: str = "logits", n_bins: int = 15, binning: str = "uniform"
    ) -> None:
        super().__init__(input=input)
        self.n_bins = check_positive_int(n_bins, "n_bins")
        self.binning = check_choice(binning, "binning", ("uniform", "quantile"))

    def _config(self) -> dict[str, Any]:
        return {**super()._config(), "n_bins": self.n_bins, "binning": self.binning}

    def _fit(self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> None:
        p = columns(ovr_probs(self, x))
        m = p.shape[1]
        t = targets(y, x.ndim == 1, m)
        b = self.n_bins
        edges = np.empty((m, b + 1))
        values = np.empty((m, b))
        weights = np.empty((m, b))
        for j in range(m):
            e = uniform_edges(b) if self.binning == "uniform" else quantile_edges(p[:, j], b, w)
            idx = assign_bins(p[:, j], e)
            count, _, pos = bin_sums(idx, p[:, j], t[:, j], b, w)
            centre = 0.5 * (e[:-1] + e[1:])
            values[j] = np.where(count > 0, pos / np.where(count > 0, count, 1.0), centre)
            edges[j], weights[j] = e, count
        self.edges_ = edges
        self.bin_values_ = values
        self.bin_weights_ = weights

    def _predict(self, x: np.ndarray) -> np.ndarray:
        p = columns(ovr_probs(self, x))
        q = np.empty_like(p)
        for j in range(p.shape[1]):
            q[:, j] = self.bin_values_[j][assign_bins(p[:, j], self.edges_[j])]
        return finish(q, self.binary_)

    def _params(self) -> dict[str, Any]:
        return {
            "edges": self.edges_.tolist(),
            "bin_values": self.bin_values_.tolist(),
            "bin_weights": self.bin_weights_.tolist(),
        }

    def _set_params(self, params: dict[str, Any]) -> None:
        m, b = n_columns(self), self.n_bins
        edges = np.asarray(params["edges"], dtype=np.float64)
        values = np.asarray(params["bin_values"], dtype=np.float64)
        weights = np.asarray(params["bin_weights"], dtype=np.float64)
        if edges.shape != (m, b + 1) or values.shape != (m, b) or weights.shape != (m, b):
            raise ValueError(
                f"expected edges ({m}, {b + 1}) and bin values/weights ({m}, {b}), got "
                f"{edges.shape}, {values.shape}, {weights.shape}"
            )
        if not (np.all(np.isfinite(edges)) and np.all(np.isfinite(values))):
            raise ValueError("edges and bin values must be finite")
        if np.any(np.diff(edges, axis=1) < 0) or np.any((values < 0) | (values > 1)):
            raise ValueError("edges must not decrease and bin values must lie in [0, 1]")
        self.edges_, self.bin_values_, self.bin_weights_ = edges, values, weights
