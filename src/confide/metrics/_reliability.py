"""Reliability diagram data: what is drawn, computed apart from any drawing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from confide._validation import check_choice
from confide.metrics._binning import BinStats
from confide.metrics._calibration import binned_stats, gap_from_stats
from confide.metrics._inputs import check_classification

__all__ = ["ReliabilityDiagram", "reliability_diagram"]


@dataclass(frozen=True)
class ReliabilityDiagram:
    """Per-bin calibration data.

    Attributes
    ----------
    edges : (B + 1,) bin edges
    count : (B,) weight in each bin (the number of samples without weights)
    mean_confidence : (B,) mean score in each bin, NaN where empty
    accuracy : (B,) accuracy of the top label in each bin (``kind="top_label"``) or the observed
        fraction of positives (``kind="binary"``), NaN where empty
    kind : "top_label" or "binary"
    ece, mce : the L1 and max calibration errors of these bins
    """

    edges: np.ndarray
    count: np.ndarray
    mean_confidence: np.ndarray
    accuracy: np.ndarray
    kind: str
    ece: float
    mce: float

    @classmethod
    def from_stats(cls, stats: BinStats, kind: str) -> ReliabilityDiagram:
        with np.errstate(invalid="ignore", divide="ignore"):
            conf = np.where(stats.count > 0, stats.sum_score / stats.count, np.nan)
            acc = np.where(stats.count > 0, stats.sum_target / stats.count, np.nan)
        return cls(
            edges=stats.edges,
            count=stats.count,
            mean_confidence=conf,
            accuracy=acc,
            kind=kind,
            ece=gap_from_stats(stats, "l1"),
            mce=gap_from_stats(stats, "max"),
        )

    @property
    def gap(self) -> np.ndarray:
        """``accuracy - mean_confidence`` per bin (negative: over-confident)."""
        return self.accuracy - self.mean_confidence

    @property
    def n_samples(self) -> float:
        return float(self.count.sum())

    def to_dict(self) -> dict[str, Any]:
        def clean(a: np.ndarray) -> list[float | None]:
            return [None if not np.isfinite(v) else float(v) for v in a]

        return {
            "kind": self.kind,
            "edges": self.edges.tolist(),
            "count": self.count.tolist(),
            "mean_confidence": clean(self.mean_confidence),
            "accuracy": clean(self.accuracy),
            "ece": self.ece,
            "mce": self.mce,
        }


def reliability_diagram(
    y_true: Any,
    y_prob: Any,
    *,
    n_bins: int = 15,
    binning: str = "uniform",
    kind: str = "top_label",
    sample_weight: Any = None,
) -> ReliabilityDiagram:
    """Bin the scores and return, per bin, the edges, mean confidence, accuracy and count.

    The bins follow confide's convention (see :func:`confide.metrics.ece`).

    References
    ----------
    DeGroot & Fienberg (1983), "The comparison and evaluation of forecasters", The Statistician;
    Niculescu-Mizil & Caruana (2005), "Predicting good probabilities with supervised learning", ICML.
    """
    check_choice(kind, "kind", ("top_label", "binary"))
    data = check_classification(y_true, y_prob, sample_weight)
    (stats,) = binned_stats(data, kind, n_bins, binning)
    return ReliabilityDiagram.from_stats(stats, kind)
