"""Measure confidence: calibration (ECE family, Brier, log loss), discrimination, selective risk.

Functions follow scikit-learn's argument order ``metric(y_true, y_prob, *, ...)``:
``y_prob`` is 1-D ``P(y = 1)`` for binary problems or ``(n, k)`` probabilities. Binned metrics
use the bin convention documented in :mod:`confide.metrics._binning`; streaming accumulators
share the one-shot functions' kernels.
"""

from confide._accel import accelerator, set_accelerator
from confide.metrics._accumulator import Accumulator
from confide.metrics._auroc_stream import AurocEstimate, BinnedAUROC
from confide.metrics._binning import assign_bins, quantile_edges, uniform_edges
from confide.metrics._bootstrap import ConfidenceInterval, bootstrap_ci
from confide.metrics._calibration import ace, debiased_ece, ece, mce
from confide.metrics._ks import ks_calibration_error
from confide.metrics._proper import accuracy, brier_score, log_loss
from confide.metrics._ranking import (
    PrecisionRecallCurve,
    RocCurve,
    ThresholdMetrics,
    average_precision,
    precision_recall_curve,
    precision_recall_f1_at,
    roc_auc,
    roc_curve,
)
from confide.metrics._regression import (
    crps_gaussian,
    gaussian_nll,
    interval_coverage,
    interval_width,
    regression_calibration_error,
)
from confide.metrics._reliability import ReliabilityDiagram, reliability_diagram
from confide.metrics._report import (
    CalibrationReport,
    MetricEstimate,
    calibration_report,
    confidence_auroc,
)
from confide.metrics._selective import RiskCoverageCurve, aurc, e_aurc, risk_coverage_curve
from confide.metrics._smooth import SmoothECE, smooth_ece, smooth_ece_details
from confide.metrics._streaming import CalibrationAccumulator, CalibrationSummary

__all__ = [
    "Accumulator",
    "AurocEstimate",
    "BinnedAUROC",
    "CalibrationAccumulator",
    "CalibrationReport",
    "CalibrationSummary",
    "ConfidenceInterval",
    "MetricEstimate",
    "PrecisionRecallCurve",
    "ReliabilityDiagram",
    "RiskCoverageCurve",
    "RocCurve",
    "SmoothECE",
    "ThresholdMetrics",
    "accelerator",
    "accuracy",
    "ace",
    "assign_bins",
    "aurc",
    "average_precision",
    "bootstrap_ci",
    "brier_score",
    "calibration_report",
    "confidence_auroc",
    "crps_gaussian",
    "debiased_ece",
    "e_aurc",
    "ece",
    "gaussian_nll",
    "interval_coverage",
    "interval_width",
    "ks_calibration_error",
    "log_loss",
    "mce",
    "precision_recall_curve",
    "precision_recall_f1_at",
    "quantile_edges",
    "regression_calibration_error",
    "reliability_diagram",
    "risk_coverage_curve",
    "roc_auc",
    "roc_curve",
    "set_accelerator",
    "smooth_ece",
    "smooth_ece_details",
    "uniform_edges",
]
