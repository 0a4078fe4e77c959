"""Measure confidence: calibration (ECE family, Brier, log loss), discrimination, selective risk.

Functions follow scikit-learn's argument order ``metric(y_true, y_prob, *, ...)``:
``y_prob`` is 1-D ``P(y = 1)`` for binary problems or ``(n, k)`` probabilities. Binned metrics
use the bin convention documented in :mod:`confide.metrics._binning`; streaming accumulators
share the one-shot functions' kernels.
"""

from confide._accel import accelerator, set_accelerator
from confide.metrics._accumulator import Accumulator
from confide.metrics._binning import assign_bins, quantile_edges, uniform_edges
from confide.metrics._bootstrap import ConfidenceInterval, bootstrap_ci
from confide.metrics._calibration import ace, debiased_ece, ece, mce
from confide.metrics._proper import accuracy, brier_score, log_loss
from confide.metrics._reliability import ReliabilityDiagram, reliability_diagram
from confide.metrics._streaming import CalibrationAccumulator, CalibrationSummary

__all__ = [
    "Accumulator",
    "CalibrationAccumulator",
    "CalibrationSummary",
    "ConfidenceInterval",
    "ReliabilityDiagram",
    "accelerator",
    "accuracy",
    "ace",
    "assign_bins",
    "bootstrap_ci",
    "brier_score",
    "debiased_ece",
    "ece",
    "log_loss",
    "mce",
    "quantile_edges",
    "reliability_diagram",
    "set_accelerator",
    "uniform_edges",
]
