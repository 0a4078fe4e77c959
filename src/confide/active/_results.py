"""Result objects of the active-learning simulations and the t interval over seeds (private)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from confide.exceptions import ShapeError

__all__ = [
    "ActiveLearningResult",
    "LabelsToReach",
    "LearningCurve",
    "first_reaching",
    "t_interval",
]


def t_interval(values: Sequence[float], confidence_level: float) -> tuple[float, float, float]:
    r"""Mean and Student-t interval over seeds: :math:`\bar v \pm t_{(1+c)/2,\,s-1}\, \hat\sigma/\sqrt{s}`.

    With one value the bounds are NaN; with zero spread they equal the mean.
    """
    v = np.asarray(values, dtype=np.float64)
    mean = float(v.mean())
    if v.shape[0] < 2:
        return mean, math.nan, math.nan
    half = (
        float(stats.t.ppf((1.0 + confidence_level) / 2.0, v.shape[0] - 1))
        * float(v.std(ddof=1))
        / math.sqrt(v.shape[0])
    )
    return mean, mean - half, mean + half


def first_reaching(n_labels: Sequence[int], accuracy: Sequence[float], target: float) -> int | None:
    """The first label count whose accuracy is >= ``target`` (None when never reached)."""
    hit = np.flatnonzero(np.asarray(accuracy, dtype=np.float64) >= target)
    return None if hit.shape[0] == 0 else int(n_labels[int(hit[0])])


def _floats(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values]


@dataclass(frozen=True)
class LearningCurve:
    """One seed's learning curve: test accuracy and top-label ECE after each labelling round."""

    seed: int
    n_labels: tuple[int, ...]
    accuracy: tuple[float, ...]
    ece: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe dict."""
        return {
            "seed": self.seed,
            "n_labels": list(self.n_labels),
            "accuracy": _floats(self.accuracy),
            "ece": _floats(self.ece),
        }


@dataclass(frozen=True)
class LabelsToReach:
    """Labels a strategy needed to reach a target accuracy, per seed and averaged.

    ``per_seed`` holds None for a seed that never reached the target within the budget; such
    a seed counts as the full ``budget`` in ``mean``/``low``/``high``, so when
    ``n_reached < len(per_seed)`` the mean is a lower bound on the labels needed.
    """

    strategy: str
    target_accuracy: float
    per_seed: tuple[int | None, ...]
    n_reached: int
    budget: int
    mean: float
    low: float
    high: float
    confidence_level: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe dict."""
        return {
            "strategy": self.strategy,
            "target_accuracy": self.target_accuracy,
            "per_seed": list(self.per_seed),
            "n_reached": self.n_reached,
            "budget": self.budget,
            "mean": self.mean,
            "low": self.low,
            "high": self.high,
            "confidence_level": self.confidence_level,
        }


@dataclass(frozen=True)
class ActiveLearningResult:
    """A simulated active-learning run of one strategy over several seeds.

    Every seed follows the same label schedule ``n_labels`` (initial set, then one batch per
    round up to the budget). ``mean_*`` are the means over seeds of each round and ``*_low`` /
    ``*_high`` their Student-t intervals at ``confidence_level`` (NaN with one seed).
    """

    strategy: str
    seeds: tuple[int, ...]
    n_labels: tuple[int, ...]
    curves: tuple[LearningCurve, ...]
    mean_accuracy: tuple[float, ...]
    accuracy_low: tuple[float, ...]
    accuracy_high: tuple[float, ...]
    mean_ece: tuple[float, ...]
    ece_low: tuple[float, ...]
    ece_high: tuple[float, ...]
    confidence_level: float

    @property
    def budget(self) -> int:
        """Labels used by the last round."""
        return self.n_labels[-1]

    @property
    def final_accuracy(self) -> tuple[float, ...]:
        """Test accuracy of each seed after the last round."""
        return tuple(c.accuracy[-1] for c in self.curves)

    def labels_to_reach(self, target_accuracy: float | Sequence[float]) -> LabelsToReach:
        """Labels needed to reach ``target_accuracy`` (one value, or one per seed), with a t CI."""
        flat = np.asarray(target_accuracy, dtype=np.float64).ravel()
        if np.ndim(target_accuracy) == 0:
            flat = np.repeat(flat, len(self.curves))
        targets = [float(t) for t in flat]
        if len(targets) != len(self.curves):
            raise ShapeError(
                f"target_accuracy has {len(targets)} value(s) for {len(self.curves)} seed(s); "
                "pass one number or one per seed."
            )
        per_seed = tuple(
            first_reaching(c.n_labels, c.accuracy, t)
            for c, t in zip(self.curves, targets, strict=True)
        )
        counted = [self.budget if v is None else v for v in per_seed]
        mean, low, high = t_interval(counted, self.confidence_level)
        return LabelsToReach(
            strategy=self.strategy,
            target_accuracy=float(np.mean(targets)),
            per_seed=per_seed,
            n_reached=sum(v is not None for v in per_seed),
            budget=self.budget,
            mean=mean,
            low=low,
            high=high,
            confidence_level=self.confidence_level,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe dict (the per-seed curves included)."""
        return {
            "strategy": self.strategy,
            "seeds": list(self.seeds),
            "n_labels": list(self.n_labels),
            "curves": [c.to_dict() for c in self.curves],
            "mean_accuracy": _floats(self.mean_accuracy),
            "accuracy_low": _floats(self.accuracy_low),
            "accuracy_high": _floats(self.accuracy_high),
            "mean_ece": _floats(self.mean_ece),
            "ece_low": _floats(self.ece_low),
            "ece_high": _floats(self.ece_high),
            "confidence_level": self.confidence_level,
        }
