"""Confidence and uncertainty scores from a model's raw outputs.

Logits to probabilities (:func:`softmax`, :func:`log_softmax`, :func:`sigmoid`, :func:`logit`),
per-sample scores (:func:`max_prob`, :func:`margin`, :func:`entropy`, :func:`energy`),
ensemble decompositions for classifiers (:func:`ensemble_uncertainty`) and Gaussian
regressors (:func:`gaussian_interval`, :func:`gaussian_mixture_moments`).

Everything is computed and returned in float64; float32 input is cast first. Probability
inputs follow the package convention: 1-D is binary ``P(y=1)``, 2-D ``(n, k)`` rows sum to 1.
Bad input raises a :mod:`confide.exceptions` error that names the problem.
"""

from __future__ import annotations

from confide.scores._ensemble import EnsembleUncertainty, ensemble_uncertainty
from confide.scores._logits import log_softmax, logit, sigmoid, softmax
from confide.scores._regression import (
    GaussianEnsembleMoments,
    PredictionInterval,
    gaussian_interval,
    gaussian_mixture_moments,
)
from confide.scores._uncertainty import energy, entropy, margin, max_prob

__all__ = [
    "EnsembleUncertainty",
    "GaussianEnsembleMoments",
    "PredictionInterval",
    "energy",
    "ensemble_uncertainty",
    "entropy",
    "gaussian_interval",
    "gaussian_mixture_moments",
    "log_softmax",
    "logit",
    "margin",
    "max_prob",
    "sigmoid",
    "softmax",
]
