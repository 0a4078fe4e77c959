"""Streaming calibration metrics with fixed-size state (per-bin sums), mergeable exactly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import numpy as np

from confide._validation import check_choice, check_positive_int
from confide.exceptions import ValidationError
from confide.metrics._accumulator import Accumulator
from confide.metrics._binning import BinStats, uniform_edges
from confide.metrics._calibration import NORMS, binned_stats, debiased_from_stats, gap_from_stats
from confide.metrics._inputs import check_classification
from confide.metrics._proper import _brier, _log_loss
from confide.metrics._reliability import ReliabilityDiagram

__all__ = ["CalibrationAccumulator", "CalibrationSummary"]


@dataclass(frozen=True)
class CalibrationSummary:
    """Everything a :class:`CalibrationAccumulator` can compute (uniform bins)."""

    n_samples: float
    accuracy: float
    ece: float
    ece_l2: float
    mce: float
    classwise_ece: float
    brier_score: float
    log_loss: float
    reliability: ReliabilityDiagram

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            k: getattr(self, k) for k in self.__dataclass_fields__ if k != "reliability"
        }
        out["reliability"] = self.reliability.to_dict()
        return out


class CalibrationAccumulator(Accumulator):
    """Accumulate ECE (top-label, binary, classwise; L1, L2, max), Brier, log loss and accuracy.

    Memory is ``O(n_bins x n_classes)`` whatever the number of samples. Metrics that need the
    samples themselves (equal-mass bins, ``ace``, ``smooth_ece``, ``ks_calibration_error``,
    exact AUROC) have no exact fixed-size state and so no accumulator; :class:`BinnedAUROC`
    gives AUROC within a stated bound. After updates over any
    split of the data, :meth:`compute` equals the one-shot functions with ``binning="uniform"``
    (to float64 rounding of the sums).

    Parameters
    ----------
    n_classes : int
        Number of classes of 2-D input; use ``binary=True`` (and leave this at 2) for 1-D ``P(y=1)``.
    n_bins : int, default 15
    binary : bool, default False
        Updates take 1-D probabilities ``P(y = 1)``.
    """

    kind = "calibration_accumulator"

    def __init__(self, n_classes: int = 2, *, n_bins: int = 15, binary: bool = False) -> None:
        self.n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
        if binary and self.n_classes != 2:
            raise ValidationError(f"binary=True means 2 classes, got n_classes={n_classes}.")
        self.n_bins = check_positive_int(n_bins, "n_bins")
        self.binary = bool(binary)
        self._edges = uniform_edges(self.n_bins)
        b, k = self.n_bins, self.n_classes
        self._top = np.zeros((3, b))
        self._cw = np.zeros((3, k, b))
        self._totals = np.zeros(3)  # weight, brier sum, nll sum

    def _config(self) -> dict[str, Any]:
        return {"n_classes": self.n_classes, "n_bins": self.n_bins, "binary": self.binary}

    def _state(self) -> dict[str, np.ndarray]:
        return {"top_label": self._top, "classwise": self._cw, "totals": self._totals}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self._top = np.asarray(state["top_label"], dtype=np.float64)
        self._cw = np.asarray(state["classwise"], dtype=np.float64)
        self._totals = np.asarray(state["totals"], dtype=np.float64)

    def update(self, y_true: Any, y_prob: Any, sample_weight: Any = None) -> Self:
        """Add a batch of labels and probabilities."""
        data = check_classification(y_true, y_prob, sample_weight, allow_empty=True)
        if data.binary != self.binary or data.n_classes != self.n_classes:
            want = "1-D P(y=1)" if self.binary else f"(n, {self.n_classes}) probabilities"
            raise ValidationError(
                f"this accumulator takes {want}; the batch has y_prob of shape {data.prob.shape}."
            )
        if data.y.shape[0] == 0:
            return self
        (top,) = binned_stats(data, "top_label", self.n_bins, "uniform")
        self._top += np.stack([top.count, top.sum_score, top.sum_target])
        for k, s in enumerate(binned_stats(data, "classwise", self.n_bins, "uniform")):
            self._cw[:, k, :] += np.stack([s.count, s.sum_score, s.sum_target])
        weight = top.total
        self._totals += [weight, _brier(data) * weight, _log_loss(data, None) * weight]
        return self

    @property
    def n_samples(self) -> float:
        return float(self._totals[0])

    def _require_data(self) -> None:
        if self.n_samples <= 0:
            raise ValidationError("the accumulator has seen no samples yet: call update() first.")

    def _problems(self, kind: str) -> list[BinStats]:
        check_choice(kind, "kind", ("top_label", "binary", "classwise"))
        if kind == "top_label":
            return [BinStats(self._edges, *self._top)]
        if kind == "binary":
            if not self.binary:
                raise ValidationError(
                    "kind='binary' needs an accumulator of 1-D input (binary=True)."
                )
            return [BinStats(self._edges, *self._cw[:, 1, :])]
        return [BinStats(self._edges, *self._cw[:, k, :]) for k in range(self.n_classes)]

    def ece(self, *, norm: str = "l1", kind: str = "top_label") -> float:
        """Same as :func:`confide.metrics.ece` with uniform bins over all data seen."""
        check_choice(norm, "norm", NORMS)
        self._require_data()
        return float(np.mean([gap_from_stats(s, norm) for s in self._problems(kind)]))

    def debiased_ece(self, *, kind: str = "top_label", squared: bool = False) -> float:
        """Same as :func:`confide.metrics.debiased_ece` with ``binning="uniform"``."""
        self._require_data()
        return debiased_from_stats(self._problems(kind), squared=squared)

    def reliability_diagram(self, *, kind: str = "top_label") -> ReliabilityDiagram:
        check_choice(kind, "kind", ("top_label", "binary"))
        self._require_data()
        return ReliabilityDiagram.from_stats(self._problems(kind)[0], kind)

    def compute(self) -> CalibrationSummary:
        self._require_data()
        w, brier, nll = self._totals
        return CalibrationSummary(
            n_samples=float(w),
            accuracy=float(self._top[2].sum() / w),
            ece=self.ece(),
            ece_l2=self.ece(norm="l2"),
            mce=self.ece(norm="max"),
            classwise_ece=self.ece(kind="classwise"),
            brier_score=float(brier / w),
            log_loss=float(nll / w),
            reliability=self.reliability_diagram(),
        )
