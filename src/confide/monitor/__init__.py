"""Monitor: drift in confidence, accuracy without labels, out-of-distribution scores, alerts.

- Window tests (reference sample vs current window): :func:`ks_test`,
  :func:`anderson_darling_test`, :func:`cramer_von_mises_test`, :func:`chi_square_test`,
  :func:`g_test`, :func:`psi_test` (size-aware threshold), :func:`wasserstein_distance`;
  :func:`drift_report` runs several with Bonferroni / Benjamini-Hochberg control.
- Streaming detectors (one value or a batch at a time, state saved as JSON): :class:`CUSUM`,
  :class:`PageHinkley`, :class:`ADWIN`, :class:`OnlineCramerVonMises`.
- Accuracy without labels: :class:`CBPE` / :func:`estimate_performance` and :class:`ATC`.
  No label-free method sees a change of P(y|x) with unchanged inputs (concept shift).
- Out-of-distribution scores: :func:`msp_score`, :func:`max_logit_score`, :func:`energy_score`,
  :class:`MahalanobisDetector`, :class:`KNNDetector`, evaluated by :func:`evaluate_ood`.
- Alerts: :class:`AlertRule` (hysteresis, consecutive breaches, cool-down) and
  :class:`AlertManager`, events as JSON lines.
"""

from confide.exceptions import NotFittedError
from confide.monitor._adwin import ADWIN
from confide.monitor._alerts import (
    AlertEvent,
    AlertManager,
    AlertRule,
    read_events_jsonl,
    write_events_jsonl,
)
from confide.monitor._atc import ATC, atc_scores
from confide.monitor._cbpe import CBPE, estimate_performance
from confide.monitor._chunks import Chunk, make_chunks
from confide.monitor._cusum import CUSUM, threshold_for_arl
from confide.monitor._detector_base import (
    DetectionResult,
    DetectorStep,
    DriftDetector,
    load_detector,
)
from confide.monitor._estimate import EstimateRow, PerformanceEstimate
from confide.monitor._multiple_testing import (
    MultipleTestingResult,
    benjamini_hochberg,
    benjamini_yekutieli,
    bonferroni,
    correct_p_values,
)
from confide.monitor._online_cvm import OnlineCramerVonMises
from confide.monitor._ood import (
    KNNDetector,
    MahalanobisDetector,
    energy_score,
    max_logit_score,
    msp_score,
)
from confide.monitor._ood_eval import OODEvaluation, evaluate_ood
from confide.monitor._page_hinkley import PageHinkley
from confide.monitor._psi import psi, psi_band, psi_test
from confide.monitor._window import ks_test, wasserstein_distance
from confide.monitor._window_ad import anderson_darling_test
from confide.monitor._window_base import DriftTestResult
from confide.monitor._window_cvm import cramer_von_mises_test
from confide.monitor._window_hist import chi_square_test, g_test
from confide.monitor._window_report import (
    WINDOW_TESTS,
    DriftReport,
    drift_report,
    run_window_tests,
    window_test,
)

__all__ = [
    "ADWIN",
    "ATC",
    "CBPE",
    "CUSUM",
    "WINDOW_TESTS",
    "AlertEvent",
    "AlertManager",
    "AlertRule",
    "Chunk",
    "DetectionResult",
    "DetectorStep",
    "DriftDetector",
    "DriftReport",
    "DriftTestResult",
    "EstimateRow",
    "KNNDetector",
    "MahalanobisDetector",
    "MultipleTestingResult",
    "NotFittedError",
    "OODEvaluation",
    "OnlineCramerVonMises",
    "PageHinkley",
    "PerformanceEstimate",
    "anderson_darling_test",
    "atc_scores",
    "benjamini_hochberg",
    "benjamini_yekutieli",
    "bonferroni",
    "chi_square_test",
    "correct_p_values",
    "cramer_von_mises_test",
    "drift_report",
    "energy_score",
    "estimate_performance",
    "evaluate_ood",
    "g_test",
    "ks_test",
    "load_detector",
    "make_chunks",
    "max_logit_score",
    "msp_score",
    "psi",
    "psi_band",
    "psi_test",
    "read_events_jsonl",
    "run_window_tests",
    "threshold_for_arl",
    "wasserstein_distance",
    "window_test",
    "write_events_jsonl",
]
