"""Calibrate: fit a map from a model's scores to calibrated probabilities, save it, apply it.

One class per method, one protocol (:class:`Calibrator`): explicit ``input="logits"|"probs"``,
``fit(scores, y)``, ``predict_proba(scores)``, fitted attributes with a trailing underscore,
``save(path)`` and :func:`load` as versioned JSON.
"""

from confide.calibration._base import Calibrator, NotFittedError, load, registered_methods
from confide.calibration._beta import BetaCalibration
from confide.calibration._dirichlet import DirichletCalibration
from confide.calibration._ensemble_ts import EnsembleTemperatureScaling
from confide.calibration._histogram import HistogramBinning
from confide.calibration._isotonic import IsotonicCalibration
from confide.calibration._platt import PlattScaling
from confide.calibration._regression import GaussianVarianceScaling, IsotonicQuantileRecalibration
from confide.calibration._scaling_binning import ScalingBinning
from confide.calibration._select import CalibratorSelection, CandidateScore, select_calibrator
from confide.calibration._temperature import TemperatureScaling
from confide.calibration._vector import MatrixScaling, VectorScaling

__all__ = [
    "BetaCalibration",
    "Calibrator",
    "CalibratorSelection",
    "CandidateScore",
    "DirichletCalibration",
    "EnsembleTemperatureScaling",
    "GaussianVarianceScaling",
    "HistogramBinning",
    "IsotonicCalibration",
    "IsotonicQuantileRecalibration",
    "MatrixScaling",
    "NotFittedError",
    "PlattScaling",
    "ScalingBinning",
    "TemperatureScaling",
    "VectorScaling",
    "load",
    "registered_methods",
    "select_calibrator",
]
