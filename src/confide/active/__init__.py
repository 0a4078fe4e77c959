"""Active learning: which unlabelled items to label next, and how many labels that saves.

Query strategies over a model's probabilities ``(n, k)`` or ensemble / MC-dropout samples
``(m, n, k)`` (least confidence, margin, entropy, BALD), batch-mode diversity (greedy k-center,
uncertainty-weighted k-center, margin-then-k-center) and a seeded random baseline, all behind
:func:`select`; the uncertainty decomposition is :func:`confide.scores.ensemble_uncertainty`.
:func:`simulate_active_learning` and :func:`compare_strategies` replay a labelling budget
with any ``fit`` / ``predict_proba`` classifier and report learning curves (accuracy, ECE)
with Student-t intervals over seeds.
"""

from __future__ import annotations

from confide.active._compare import (
    StrategyComparison,
    StrategySavings,
    compare_strategies,
    savings_against,
)
from confide.active._results import ActiveLearningResult, LabelsToReach, LearningCurve
from confide.active._scores import (
    bald_score,
    entropy_score,
    least_confidence_score,
    margin_score,
    mean_probs,
    uncertainty_decomposition,
)
from confide.active._select import (
    STRATEGIES,
    UNCERTAINTY_STRATEGIES,
    Selection,
    select,
)
from confide.active._simulate import estimator_factory, simulate_active_learning

__all__ = [
    "STRATEGIES",
    "UNCERTAINTY_STRATEGIES",
    "ActiveLearningResult",
    "LabelsToReach",
    "LearningCurve",
    "Selection",
    "StrategyComparison",
    "StrategySavings",
    "bald_score",
    "compare_strategies",
    "entropy_score",
    "estimator_factory",
    "least_confidence_score",
    "margin_score",
    "mean_probs",
    "savings_against",
    "select",
    "simulate_active_learning",
    "uncertainty_decomposition",
]
