"""Fixtures for the report tests: a hand-made diagram and reports (real and stand-in)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from confide.metrics import ReliabilityDiagram


@dataclass(frozen=True)
class StandInMetric:
    name: str
    value: float
    low: float | None
    high: float | None
    description: str
    higher_is_better: bool


@dataclass(frozen=True)
class StandInReport:
    """The attributes of CalibrationReport that the report code may rely on."""

    n_samples: int
    n_classes: int
    binary: bool
    n_bins: int
    confidence_level: float | None
    n_resamples: int
    metrics: dict[str, Any]
    reliability: Any
    warnings: tuple[str, ...] = field(default=())


def make_diagram() -> ReliabilityDiagram:
    """5 bins: bins 0 and 3 empty, bin 1 non-empty with accuracy exactly 0."""
    count = np.array([0.0, 4.0, 10.0, 0.0, 20.0])
    conf = np.array([np.nan, 0.3, 0.5, np.nan, 0.9])
    acc = np.array([np.nan, 0.0, 0.6, np.nan, 0.8])
    full = count > 0
    gaps = np.abs(acc[full] - conf[full])
    return ReliabilityDiagram(
        edges=np.linspace(0.0, 1.0, 6),
        count=count,
        mean_confidence=conf,
        accuracy=acc,
        kind="top_label",
        ece=float(np.sum(count[full] * gaps) / count.sum()),
        mce=float(gaps.max()),
    )


def make_report(confidence_level: float | None = 0.9, **overrides: Any) -> StandInReport:
    metrics = {
        "accuracy": StandInMetric("accuracy", 0.8123456, 0.79, 0.83, "top-label accuracy", True),
        "ece": StandInMetric("ece", 0.0312345, 0.0251, 0.03881, "top-label ECE <15 bins>", False),
        "log_loss": StandInMetric(
            "log_loss", 0.45678, None, None, "negative log-likelihood", False
        ),
    }
    if confidence_level is None:
        metrics = {
            k: StandInMetric(m.name, m.value, None, None, m.description, m.higher_is_better)
            for k, m in metrics.items()
        }
    fields_: dict[str, Any] = dict(
        n_samples=34,
        n_classes=3,
        binary=False,
        n_bins=5,
        confidence_level=confidence_level,
        n_resamples=200 if confidence_level else 0,
        metrics=metrics,
        reliability=make_diagram(),
        warnings=(),
    )
    fields_.update(overrides)
    return StandInReport(**fields_)


@pytest.fixture
def diagram() -> ReliabilityDiagram:
    return make_diagram()


@pytest.fixture
def report() -> StandInReport:
    return make_report()


@pytest.fixture
def report_factory():
    """``report_factory(confidence_level=..., **attribute_overrides)`` -> a stand-in report."""
    return make_report


@pytest.fixture
def metric_factory():
    return StandInMetric
