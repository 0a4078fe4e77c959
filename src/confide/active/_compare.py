"""Several strategies on the same seeds and splits, against a baseline (private)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from confide._validation import check_choice
from confide.active._results import ActiveLearningResult, LabelsToReach, t_interval
from confide.active._select import STRATEGIES
from confide.active._simulate import simulate_active_learning
from confide.exceptions import ValidationError

__all__ = ["StrategyComparison", "StrategySavings", "compare_strategies", "savings_against"]


@dataclass(frozen=True)
class StrategySavings:
    """Labels a strategy needs to reach the baseline's final accuracy, and how many fewer.

    Paired per seed: the target of seed ``s`` is the baseline's final test accuracy on seed
    ``s`` (same split, same initial set). ``saved`` is the baseline's labels to reach that
    accuracy minus the strategy's; a seed where the strategy never reached it counts its
    full budget (so ``saved`` is then conservative for the strategy).
    """

    strategy: str
    labels: LabelsToReach
    baseline_labels: LabelsToReach
    saved_per_seed: tuple[int, ...]
    saved_mean: float
    saved_low: float
    saved_high: float

    @property
    def saved_fraction(self) -> float:
        """``saved_mean`` over the baseline's mean labels to reach."""
        return self.saved_mean / self.baseline_labels.mean

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe dict."""
        return {
            "strategy": self.strategy,
            "labels": self.labels.to_dict(),
            "baseline_labels": self.baseline_labels.to_dict(),
            "saved_per_seed": list(self.saved_per_seed),
            "saved_mean": self.saved_mean,
            "saved_low": self.saved_low,
            "saved_high": self.saved_high,
            "saved_fraction": self.saved_fraction,
        }


@dataclass(frozen=True)
class StrategyComparison:
    """Every strategy's run and its savings against ``baseline``."""

    baseline: str
    results: tuple[ActiveLearningResult, ...]
    savings: tuple[StrategySavings, ...]

    def result(self, strategy: str) -> ActiveLearningResult:
        """The run of one strategy."""
        for r in self.results:
            if r.strategy == strategy:
                return r
        raise ValidationError(
            f"no run of strategy {strategy!r}; the runs are {[r.strategy for r in self.results]}."
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe dict."""
        return {
            "baseline": self.baseline,
            "results": [r.to_dict() for r in self.results],
            "savings": [s.to_dict() for s in self.savings],
        }


def savings_against(
    result: ActiveLearningResult, baseline: ActiveLearningResult
) -> StrategySavings:
    """Paired labels-to-reach of ``result`` against the final accuracy of ``baseline``."""
    if result.seeds != baseline.seeds or result.budget != baseline.budget:
        raise ValidationError(
            "the runs must share seeds and budget to be compared: "
            f"{result.seeds}/{result.budget} against {baseline.seeds}/{baseline.budget}."
        )
    targets = list(baseline.final_accuracy)
    base = baseline.labels_to_reach(targets)
    mine = result.labels_to_reach(targets)
    saved = tuple(
        (result.budget if b is None else b) - (result.budget if m is None else m)
        for b, m in zip(base.per_seed, mine.per_seed, strict=True)
    )
    mean, low, high = t_interval(saved, result.confidence_level)
    return StrategySavings(result.strategy, mine, base, saved, mean, low, high)


def compare_strategies(
    estimator: Any,
    X: Any,
    y: Any,
    strategies: Sequence[str],
    *,
    baseline: str = "random",
    **options: Any,
) -> StrategyComparison:
    """Run :func:`simulate_active_learning` for each strategy and the baseline on the same seeds.

    ``options`` are passed to :func:`simulate_active_learning` (``budget``, ``batch_size``,
    ``initial_size``, ``seeds``, ``X_test``/``y_test`` ...); the split and initial labelled set
    of a seed are the same for every strategy. Each non-baseline strategy gets a
    :class:`StrategySavings`: labels to reach the baseline's final accuracy, seed by seed, and
    the paired difference with a Student-t interval.

    Returns
    -------
    StrategyComparison
    """
    check_choice(baseline, "baseline", STRATEGIES)
    names = list(dict.fromkeys([baseline, *strategies]))
    for name in names:
        check_choice(name, "strategies", STRATEGIES)
    runs = tuple(simulate_active_learning(estimator, X, y, name, **options) for name in names)
    savings = tuple(savings_against(r, runs[0]) for r in runs[1:])
    return StrategyComparison(baseline=baseline, results=runs, savings=savings)
