"""Mergeable metrics on Dask: per-partition accumulator states, tree-reduced by ``merge``.

Each partition is read and binned where it lives; only the accumulators' fixed-size states
(per-bin counts and sums, a few kilobytes) travel, and are merged in a tree of Dask tasks
(:func:`confide.distributed._dask.tree_reduce`). The merged state is the one a single pass over
all rows would hold (up to float64 rounding of the sums), so every result equals the in-memory
function on the same data: :class:`~confide.metrics.CalibrationAccumulator` for ECE (top-label,
binary, classwise; L1, L2, max), Brier, log loss, accuracy and the reliability diagram;
:class:`~confide.metrics._auroc_stream.BinnedAUROC` for AUROC with its guaranteed bracket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from confide._validation import check_choice, check_positive_int
from confide.distributed._dask import compute, import_dask, tree_reduce
from confide.distributed._sources import Batch, PartitionedPredictions, as_partitions
from confide.exceptions import ValidationError
from confide.metrics._accumulator import Accumulator
from confide.metrics._auroc_stream import AurocEstimate, BinnedAUROC
from confide.metrics._inputs import top_label
from confide.metrics._reliability import ReliabilityDiagram
from confide.metrics._streaming import CalibrationAccumulator, CalibrationSummary

__all__ = [
    "StateSpec",
    "accumulate",
    "binned_auroc",
    "calibration_accumulator",
    "calibration_summary",
    "confidence_binned_auroc",
    "merge_states",
    "partition_states",
    "reliability_diagram",
]


@dataclass(frozen=True)
class StateSpec:
    """Which accumulators one pass fills: calibration, AUROC of P(y=1), AUROC of confidence."""

    n_classes: int
    binary: bool
    n_bins: int
    auroc_bins: int = 4096
    calibration: bool = True
    auroc: bool = False
    confidence_auroc: bool = False


def partition_states(
    batch: Batch, spec: StateSpec, weight: np.ndarray | None = None
) -> dict[str, Any]:
    """The accumulators of ``spec`` updated with one partition (optionally weighted)."""
    out: dict[str, Any] = {}
    y = batch.labels("evaluating the predictions")
    if spec.calibration:
        out["calibration"] = CalibrationAccumulator(
            spec.n_classes, n_bins=spec.n_bins, binary=spec.binary
        ).update(y, batch.probs, sample_weight=weight)
    if spec.auroc and spec.binary:
        out["auroc"] = BinnedAUROC(spec.auroc_bins).update(y, batch.probs, sample_weight=weight)
    elif spec.auroc:  # one-vs-rest: class c's probability against [y = c]
        out["auroc"] = [
            BinnedAUROC(spec.auroc_bins).update(
                (y == c).astype(np.intp), batch.probs[:, c], sample_weight=weight
            )
            for c in range(spec.n_classes)
        ]
    if spec.confidence_auroc:
        acc = BinnedAUROC(spec.auroc_bins)
        if batch.n:
            conf, pred = top_label(batch.probs)
            acc.update((pred == y).astype(np.intp), conf, sample_weight=weight)
        out["confidence_auroc"] = acc
    return out


def merge_states(states: list[Any]) -> Any:
    """Merge a list of states: accumulators, dicts of them, or lists of those (element-wise)."""
    first = states[0]
    if isinstance(first, Accumulator):
        merged = first + states[1] if len(states) > 1 else first
        for s in states[2:]:
            merged.merge(s)
        return merged
    if isinstance(first, dict):
        return {k: merge_states([s[k] for s in states]) for k in first}
    if isinstance(first, list):
        return [merge_states([s[i] for s in states]) for i in range(len(first))]
    raise TypeError(f"cannot merge states of type {type(first).__name__}")  # pragma: no cover


def accumulate(parts: PartitionedPredictions, spec: StateSpec) -> dict[str, Any]:
    """One pass over the partitions: map to accumulator states, tree-reduce, return merged."""
    dask = import_dask()
    states = [dask.delayed(partition_states, pure=True)(p, spec) for p in parts.partitions]
    (merged,) = compute(tree_reduce(states, merge_states))
    out: dict[str, Any] = merged
    return out


def _spec(parts: PartitionedPredictions, n_bins: int, **flags: Any) -> StateSpec:
    return StateSpec(parts.n_classes, parts.binary, check_positive_int(n_bins, "n_bins"), **flags)


def calibration_accumulator(
    data: Any, y_prob: Any = None, *, n_bins: int = 15, **read_options: Any
) -> CalibrationAccumulator:
    """The merged :class:`~confide.metrics.CalibrationAccumulator` over all partitions.

    Parameters
    ----------
    data, y_prob
        Dask arrays ``(y_true, y_prob)``, a Dask dataframe or Parquet path(s); see
        :func:`confide.distributed.as_partitions`.
    n_bins : int, default 15
        Uniform bins.
    **read_options
        Column options for tables (``label_col``, ``prob_cols``, ``score_col``, ...).

    Returns
    -------
    CalibrationAccumulator
        Its state equals one accumulator updated with every row; save it with ``to_dict()``.
    """
    parts = as_partitions(data, y_prob, **read_options)
    acc = accumulate(parts, _spec(parts, n_bins))["calibration"]
    assert isinstance(acc, CalibrationAccumulator)
    return acc


def calibration_summary(
    data: Any, y_prob: Any = None, *, n_bins: int = 15, **read_options: Any
) -> CalibrationSummary:
    r"""ECE (L1, L2, max; top-label and classwise), Brier, log loss and accuracy on Dask.

    .. math:: \mathrm{ECE} = \sum_b \frac{n_b}{n}\,\big|\bar y_b - \bar p_b\big|

    from the merged per-bin sums (uniform bins), so the values equal
    ``CalibrationAccumulator(...).update(y, p).compute()`` and the one-shot
    :func:`confide.metrics.ece` (``binning="uniform"``) on all rows.

    References
    ----------
    Naeini, Cooper & Hauskrecht (2015), "Obtaining well calibrated probabilities using Bayesian
    binning", AAAI; Guo et al. (2017), "On calibration of modern neural networks", ICML.
    """
    return calibration_accumulator(data, y_prob, n_bins=n_bins, **read_options).compute()


def reliability_diagram(
    data: Any,
    y_prob: Any = None,
    *,
    n_bins: int = 15,
    kind: str = "top_label",
    **read_options: Any,
) -> ReliabilityDiagram:
    """The reliability diagram (uniform bins) of all partitions, as
    :func:`confide.metrics.reliability_diagram` gives in memory.

    ``kind="binary"`` needs 1-D ``P(y = 1)`` data.

    References
    ----------
    DeGroot & Fienberg (1983), "The comparison and evaluation of forecasters", The Statistician.
    """
    check_choice(kind, "kind", ("top_label", "binary"))
    acc = calibration_accumulator(data, y_prob, n_bins=n_bins, **read_options)
    return acc.reliability_diagram(kind=kind)


def binned_auroc(
    data: Any, y_prob: Any = None, *, n_bins: int = 4096, **read_options: Any
) -> AurocEstimate:
    r"""AUROC of binary ``P(y = 1)`` from per-bin label weights, with its guaranteed bracket.

    .. math:: \mathrm{AUC} = \frac{1}{PN}\sum_b p_b\Big(\sum_{c<b} n_c + \tfrac12 n_b\Big),
        \quad |\mathrm{AUC}_{\mathrm{exact}} - \mathrm{AUC}| \le \frac{1}{2PN}\sum_b p_b n_b

    Equals ``confide.metrics.roc_auc(y, p, method="histogram", n_bins=n_bins)`` in memory.

    References
    ----------
    Hanley & McNeil (1982), "The meaning and use of the area under a receiver operating
    characteristic (ROC) curve", Radiology 143(1).
    """
    parts = as_partitions(data, y_prob, **read_options)
    if not parts.binary:
        raise ValidationError(
            f"binned_auroc takes 1-D binary scores P(y=1); {parts.source} holds "
            f"{parts.n_classes} class columns. Use confidence_binned_auroc for the AUROC of the "
            "top-label confidence."
        )
    spec = StateSpec(
        parts.n_classes,
        parts.binary,
        15,
        auroc_bins=check_positive_int(n_bins, "n_bins"),
        calibration=False,
        auroc=True,
    )
    acc = accumulate(parts, spec)["auroc"]
    assert isinstance(acc, BinnedAUROC)
    return acc.compute()


def confidence_binned_auroc(
    data: Any, y_prob: Any = None, *, n_bins: int = 4096, **read_options: Any
) -> AurocEstimate:
    """AUROC of the top-label confidence for telling right predictions from wrong ones
    (:func:`confide.metrics.confidence_auroc` with histogram bins), with its bracket.

    References
    ----------
    Hendrycks & Gimpel (2017), "A baseline for detecting misclassified and out-of-distribution
    examples in neural networks", ICLR.
    """
    parts = as_partitions(data, y_prob, **read_options)
    spec = StateSpec(
        parts.n_classes,
        parts.binary,
        15,
        auroc_bins=check_positive_int(n_bins, "n_bins"),
        calibration=False,
        confidence_auroc=True,
    )
    acc = accumulate(parts, spec)["confidence_auroc"]
    assert isinstance(acc, BinnedAUROC)
    return acc.compute()
