"""``calibration_report``: every calibration and discrimination metric in one frozen result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from confide._validation import check_fraction, check_positive_int
from confide.exceptions import ValidationError
from confide.metrics._bootstrap import bootstrap_ci
from confide.metrics._calibration import ace, debiased_ece, ece, mce
from confide.metrics._inputs import check_classification, top_label
from confide.metrics._ks import ks_calibration_error
from confide.metrics._proper import accuracy, brier_score, log_loss
from confide.metrics._ranking import average_precision, roc_auc
from confide.metrics._reliability import ReliabilityDiagram, reliability_diagram
from confide.metrics._selective import aurc, e_aurc
from confide.metrics._smooth import smooth_ece

__all__ = ["CalibrationReport", "MetricEstimate", "calibration_report", "confidence_auroc"]


def confidence_auroc(y_true: Any, y_prob: Any, *, sample_weight: Any = None) -> float:
    """AUROC of the top-label confidence for telling right predictions from wrong ones.

    0.5 means the confidence carries no information about correctness; 1.0 means every right
    prediction is more confident than every wrong one. Also called failure-prediction AUROC.

    References
    ----------
    Hendrycks & Gimpel (2017), "A baseline for detecting misclassified and out-of-distribution
    examples in neural networks", ICLR.
    """
    data = check_classification(y_true, y_prob, sample_weight)
    conf, pred = top_label(data.prob)
    correct = (pred == data.y).astype(np.intp)
    if correct.min() == correct.max():
        raise ValidationError(
            "confidence_auroc needs both right and wrong predictions; all predictions are "
            + ("right." if correct[0] else "wrong.")
        )
    return float(roc_auc(correct, conf.astype(np.float64), sample_weight=data.weight))


@dataclass(frozen=True)
class MetricEstimate:
    """One metric's value, with its bootstrap interval when one was computed."""

    name: str
    value: float
    low: float | None
    high: float | None
    description: str
    higher_is_better: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "description": self.description,
            "higher_is_better": self.higher_is_better,
        }


@dataclass(frozen=True)
class CalibrationReport:
    """Calibration and discrimination of a set of predictions (see :func:`calibration_report`)."""

    n_samples: int
    n_classes: int
    binary: bool
    n_bins: int
    confidence_level: float | None
    n_resamples: int
    metrics: dict[str, MetricEstimate]
    reliability: ReliabilityDiagram
    warnings: tuple[str, ...] = field(default=())

    def __getitem__(self, name: str) -> float:
        return self.metrics[name].value

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_samples": self.n_samples,
            "n_classes": self.n_classes,
            "binary": self.binary,
            "n_bins": self.n_bins,
            "confidence_level": self.confidence_level,
            "n_resamples": self.n_resamples,
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
            "reliability": self.reliability.to_dict(),
            "warnings": list(self.warnings),
        }

    def render(self) -> str:
        """A plain-text table for terminals and logs."""
        level = f"{round(self.confidence_level * 100)}% CI" if self.confidence_level else ""
        lines = [
            f"{self.n_samples} samples, {self.n_classes} classes, {self.n_bins} bins",
            f"{'metric':<22} {'value':>9}  {level}",
        ]
        for m in self.metrics.values():
            ci = f"[{m.low:.4f}, {m.high:.4f}]" if m.low is not None and m.high is not None else ""
            lines.append(f"{m.name:<22} {m.value:>9.4f}  {ci}")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


_Metric = tuple[str, Callable[..., Any], str, bool]


def _metric_table(n_bins: int, binary: bool) -> list[_Metric]:
    table: list[_Metric] = [
        ("accuracy", accuracy, "top-label accuracy", True),
        ("ece", partial(ece, n_bins=n_bins), f"top-label ECE, {n_bins} uniform bins", False),
    ]
    if binary:
        table.append(
            ("ece_binary", partial(ece, n_bins=n_bins, kind="binary"), "ECE of P(y=1)", False)
        )
    table += [
        ("mce", partial(mce, n_bins=n_bins), "maximum calibration error", False),
        (
            "classwise_ece",
            partial(ece, n_bins=n_bins, kind="classwise"),
            "classwise ECE (Kull 2019)",
            False,
        ),
        ("ace", partial(ace, n_bins=n_bins), "adaptive calibration error (Nixon 2019)", False),
        (
            "debiased_ece",
            partial(debiased_ece, n_bins=n_bins),
            "debiased L2 ECE (Kumar 2019)",
            False,
        ),
        ("smooth_ece", smooth_ece, "smooth ECE (Blasiok & Nakkiran 2023)", False),
        ("ks_error", ks_calibration_error, "KS calibration error (Gupta 2021)", False),
        ("brier_score", brier_score, "Brier score", False),
        ("log_loss", log_loss, "negative log-likelihood", False),
        ("roc_auc", roc_auc, "AUROC" + ("" if binary else " (one-vs-rest, macro)"), True),
        (
            "average_precision",
            average_precision,
            "average precision" + ("" if binary else " (macro)"),
            True,
        ),
        ("confidence_auroc", confidence_auroc, "AUROC of confidence for right vs wrong", True),
        ("aurc", aurc, "area under the risk-coverage curve", False),
        ("e_aurc", e_aurc, "excess AURC over an oracle ranking", False),
    ]
    return table


def calibration_report(
    y_true: Any,
    y_prob: Any,
    *,
    n_bins: int = 15,
    confidence_level: float | None = 0.95,
    n_resamples: int = 200,
    seed: int = 0,
    sample_weight: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> CalibrationReport:
    """Every metric, with bootstrap intervals, and the reliability diagram, as one frozen result.

    A metric that is undefined on these data (e.g. AUROC when one class is absent) is left out
    and named in ``warnings``. Set ``confidence_level=None`` to skip the intervals.
    ``progress(done, total)`` is called after each metric, for progress bars.
    """
    data = check_classification(y_true, y_prob, sample_weight)
    check_positive_int(n_bins, "n_bins")
    if confidence_level is not None:
        check_fraction(confidence_level, "confidence_level")
        check_positive_int(n_resamples, "n_resamples", minimum=10)
    table = _metric_table(n_bins, data.binary)
    metrics: dict[str, MetricEstimate] = {}
    warnings: list[str] = []
    for i, (name, fn, desc, hib) in enumerate(table):
        try:
            if confidence_level is None:
                value, low, high = fn(data.y, data.prob, sample_weight=data.weight), None, None
            else:
                ci = bootstrap_ci(
                    fn,
                    data.y,
                    data.prob,
                    n_resamples=n_resamples,
                    confidence_level=confidence_level,
                    seed=seed,
                    sample_weight=data.weight,
                )
                value, low, high = ci.estimate, ci.low, ci.high
        except ValueError as exc:
            warnings.append(f"{name} left out: {exc}")
        else:
            metrics[name] = MetricEstimate(name, float(value), low, high, desc, hib)
        if progress is not None:
            progress(i + 1, len(table))
    return CalibrationReport(
        n_samples=int(data.y.shape[0]),
        n_classes=data.n_classes,
        binary=data.binary,
        n_bins=n_bins,
        confidence_level=confidence_level,
        n_resamples=n_resamples if confidence_level is not None else 0,
        metrics=metrics,
        reliability=reliability_diagram(
            data.y, data.prob, n_bins=n_bins, sample_weight=data.weight
        ),
        warnings=tuple(warnings),
    )
