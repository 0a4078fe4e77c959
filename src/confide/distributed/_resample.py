"""Per-resample accumulator states of one partition, without re-reading or re-binning it.

The Poisson bootstrap (:mod:`confide.distributed._bootstrap`) needs, for every resample, the
accumulator states the partition's rows would give with integer weights ``w``. Updating the
accumulators ``n_resamples`` times would check and bin the rows each time; here the rows are
checked once, every bin index and per-row quantity (confidence, correctness, class scores,
Brier and log-loss terms) is computed once, and each resample is a handful of weighted
``np.bincount`` calls. The sums are the ones :meth:`CalibrationAccumulator.update` and
:meth:`BinnedAUROC.update` form with ``sample_weight=w`` (same products, same row order).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from confide.distributed._sources import Batch
from confide.metrics._auroc_stream import BinnedAUROC
from confide.metrics._binning import assign_bins, uniform_edges
from confide.metrics._inputs import check_classification, top_label
from confide.metrics._proper import true_class_probability
from confide.metrics._streaming import CalibrationAccumulator

__all__ = ["ResampleFeatures"]

_Problem = tuple[np.ndarray, np.ndarray, np.ndarray]  # bin index, score (f64), target (f64)


def _problem(score: np.ndarray, target: np.ndarray, edges: np.ndarray) -> _Problem:
    return (
        assign_bins(score, edges),
        score.astype(np.float64, copy=False),
        target.astype(np.float64, copy=False),
    )


def _sums(p: _Problem, w: np.ndarray, b: int) -> np.ndarray:
    idx, s, t = p
    return np.stack(
        [
            np.bincount(idx, weights=w, minlength=b),
            np.bincount(idx, weights=s * w, minlength=b),
            np.bincount(idx, weights=t * w, minlength=b),
        ]
    )


class ResampleFeatures:
    """What one partition contributes to any weighted accumulator state, computed once.

    ``spec`` is a :class:`confide.distributed._metrics.StateSpec`; :meth:`states` returns the
    same dictionary as ``partition_states(batch, spec, weight=w)``.
    """

    def __init__(self, batch: Batch, spec: Any) -> None:
        self.spec = spec
        y = batch.labels("the bootstrap")
        data = check_classification(y, batch.probs, None, allow_empty=True)
        edges = uniform_edges(spec.n_bins)
        conf, pred = top_label(data.prob)
        correct = pred == data.y
        self.top: _Problem | None = None
        if spec.calibration:
            self.top = _problem(conf, correct, edges)
            self.classwise = [
                _problem(data.class_scores(k), data.y == k, edges) for k in range(data.n_classes)
            ]
            if data.binary:
                d = data.prob.astype(np.float64) - data.y
                self.brier = d * d
            else:
                sq = np.einsum("ij,ij->i", data.prob, data.prob, dtype=np.float64)
                self.brier = sq - 2.0 * true_class_probability(data) + 1.0
            with np.errstate(divide="ignore"):
                self.nll = -np.log(true_class_probability(data))
        a_edges = uniform_edges(spec.auroc_bins)
        self.auroc: list[np.ndarray] = []
        if spec.auroc:
            pairs = (
                [(data.prob, data.y)]
                if data.binary
                else [(data.prob[:, c], data.y == c) for c in range(data.n_classes)]
            )
            self.auroc = [
                assign_bins(s, a_edges) + spec.auroc_bins * t.astype(np.intp) for s, t in pairs
            ]
        self.conf_auroc: np.ndarray | None = None
        if spec.confidence_auroc:
            self.conf_auroc = assign_bins(conf, a_edges) + spec.auroc_bins * correct.astype(np.intp)

    def _binned_auroc(self, flat: np.ndarray, w: np.ndarray) -> BinnedAUROC:
        b = self.spec.auroc_bins
        counts = np.bincount(flat, weights=w, minlength=2 * b)
        acc = BinnedAUROC(b)
        acc._set_state({"negative": counts[:b], "positive": counts[b:]})
        return acc

    def states(self, w: np.ndarray) -> dict[str, Any]:
        """The accumulator states of the partition with row weights ``w``."""
        spec, b = self.spec, self.spec.n_bins
        out: dict[str, Any] = {}
        if self.top is not None:
            acc = CalibrationAccumulator(spec.n_classes, n_bins=b, binary=spec.binary)
            total = float(w.sum())
            acc._set_state(
                {
                    "top_label": _sums(self.top, w, b),
                    "classwise": np.stack([_sums(p, w, b) for p in self.classwise], axis=1),
                    "totals": np.array(
                        [total, float(np.dot(self.brier, w)), float(np.dot(self.nll, w))]
                    ),
                }
            )
            out["calibration"] = acc
        if spec.auroc:
            accs = [self._binned_auroc(flat, w) for flat in self.auroc]
            out["auroc"] = accs[0] if spec.binary else accs
        if self.conf_auroc is not None:
            out["confidence_auroc"] = self._binned_auroc(self.conf_auroc, w)
        return out
