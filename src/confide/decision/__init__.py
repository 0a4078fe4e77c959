"""Decide: thresholds with guarantees, accept / review / reject policies, conformal sets.

- Thresholds: :func:`threshold_for_error` (Learn then Test, exact binomial tests),
  :func:`threshold_for_coverage`, :func:`threshold_for_cost` (Chow's rule or empirical cost),
  :func:`threshold_for_precision`, :func:`threshold_for_recall`, :func:`threshold_max_f1`.
- Conformal prediction: :class:`ConformalClassifier` (LAC, APS, RAPS, top-k, margin; Mondrian),
  :class:`SplitConformalRegressor`, :class:`ConformalizedQuantileRegressor`,
  :class:`AdaptiveConformalInference` for streams under drift.
- Policies as data: :class:`ThresholdPolicy`, :class:`ThreeWayPolicy` (review budget),
  :class:`CascadePolicy`; ``decide`` gives accept / review / reject / fallback with reasons;
  :func:`evaluate_policy`; saved as versioned JSON (:func:`load_policy`).
"""

from confide.decision._adaptive_conformal import AdaptiveConformalInference, AdaptiveConformalRun
from confide.decision._bounds import (
    ProportionInterval,
    binomial_p_value,
    clopper_pearson_interval,
    clopper_pearson_lower,
    clopper_pearson_upper,
    min_samples_for_zero_errors,
)
from confide.decision._conformal_classification import (
    ConformalClassifier,
    SetEvaluation,
    evaluate_sets,
)
from confide.decision._conformal_regression import (
    ConformalizedQuantileRegressor,
    SplitConformalRegressor,
)
from confide.decision._conformal_scores import (
    aps_scores,
    conformal_quantile,
    lac_scores,
    margin_scores,
    min_calibration_size,
    raps_scores,
    top_k_scores,
)
from confide.decision._policy import (
    ACTIONS,
    CascadeGuarantee,
    CascadePolicy,
    Decisions,
    Policy,
    PolicyEvaluation,
    ReviewBudgetError,
    ThreeWayPolicy,
    ThresholdPolicy,
    evaluate_policy,
    load_policy,
)
from confide.decision._thresholds import (
    CostThresholds,
    CoverageThreshold,
    ErrorThreshold,
    InfeasibleTargetError,
    InsufficientSamplesError,
    OperatingPoint,
    threshold_for_cost,
    threshold_for_coverage,
    threshold_for_error,
    threshold_for_precision,
    threshold_for_recall,
    threshold_max_f1,
)
from confide.exceptions import NotFittedError

__all__ = [
    "ACTIONS",
    "AdaptiveConformalInference",
    "AdaptiveConformalRun",
    "CascadeGuarantee",
    "CascadePolicy",
    "ConformalClassifier",
    "ConformalizedQuantileRegressor",
    "CostThresholds",
    "CoverageThreshold",
    "Decisions",
    "ErrorThreshold",
    "InfeasibleTargetError",
    "InsufficientSamplesError",
    "NotFittedError",
    "OperatingPoint",
    "Policy",
    "PolicyEvaluation",
    "ProportionInterval",
    "ReviewBudgetError",
    "SetEvaluation",
    "SplitConformalRegressor",
    "ThreeWayPolicy",
    "ThresholdPolicy",
    "aps_scores",
    "binomial_p_value",
    "clopper_pearson_interval",
    "clopper_pearson_lower",
    "clopper_pearson_upper",
    "conformal_quantile",
    "evaluate_policy",
    "evaluate_sets",
    "lac_scores",
    "load_policy",
    "margin_scores",
    "min_calibration_size",
    "min_samples_for_zero_errors",
    "raps_scores",
    "threshold_for_cost",
    "threshold_for_coverage",
    "threshold_for_error",
    "threshold_for_precision",
    "threshold_for_recall",
    "threshold_max_f1",
    "top_k_scores",
]
