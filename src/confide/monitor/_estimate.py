"""The result of a label-free performance estimate: one row per (chunk, metric)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from confide.exceptions import ValidationError

__all__ = ["EstimateRow", "PerformanceEstimate", "json_float"]


def json_float(v: float) -> float | str:
    """A float as JSON: finite values as they are, else "nan", "inf" or "-inf"."""
    v = float(v)
    if math.isfinite(v):
        return v
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def _read_float(v: Any) -> float:
    return float(v)  # "nan", "inf" and "-inf" parse as floats too


@dataclass(frozen=True)
class EstimateRow:
    """The estimate of one metric on one chunk.

    Attributes
    ----------
    chunk : int, float or str
        The chunk key.
    n : int
        Samples in the chunk.
    metric : str
    estimate : float
        The label-free estimate (NaN when the metric is undefined on the chunk, e.g. precision
        without any predicted positive).
    std : float
        Standard deviation of the realised value around the estimate that the method expects
        from sampling alone (see the method's notes).
    lower, upper : float
        The band at the result's ``confidence_level``, clipped to [0, 1].
    realised : float
        The metric computed from ``y_true`` when it was given; NaN otherwise or when undefined.
    """

    chunk: int | float | str
    n: int
    metric: str
    estimate: float
    std: float
    lower: float
    upper: float
    realised: float = float("nan")

    @property
    def covered(self) -> bool:
        """Whether the realised value lies inside ``[lower, upper]`` (False without labels)."""
        return bool(self.lower <= self.realised <= self.upper)

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunk": self.chunk,
            "n": self.n,
            "metric": self.metric,
            "estimate": json_float(self.estimate),
            "std": json_float(self.std),
            "lower": json_float(self.lower),
            "upper": json_float(self.upper),
            "realised": json_float(self.realised),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EstimateRow:
        return cls(
            chunk=d["chunk"],
            n=int(d["n"]),
            metric=str(d["metric"]),
            estimate=_read_float(d["estimate"]),
            std=_read_float(d["std"]),
            lower=_read_float(d["lower"]),
            upper=_read_float(d["upper"]),
            realised=_read_float(d["realised"]),
        )


@dataclass(frozen=True)
class PerformanceEstimate:
    """Per-chunk label-free estimates of several metrics.

    Attributes
    ----------
    method : str
        ``"cbpe"`` or ``"atc"``.
    metrics : tuple of str
    confidence_level : float
        Level of the ``[lower, upper]`` bands.
    interval : str
        How the bands were made (``"analytic"``, ``"bootstrap"``, ``"binomial"``).
    rows : tuple of EstimateRow
        Chunk-major: every metric of the first chunk, then of the second, ...
    """

    method: str
    metrics: tuple[str, ...]
    confidence_level: float
    interval: str
    rows: tuple[EstimateRow, ...]

    @property
    def chunk_keys(self) -> list[int | float | str]:
        """The chunk keys in order."""
        seen: list[int | float | str] = []
        for r in self.rows:
            if not seen or seen[-1] != r.chunk:
                seen.append(r.chunk)
        return seen

    def _rows(self, metric: str) -> list[EstimateRow]:
        if metric not in self.metrics:
            raise ValidationError(
                f"metric {metric!r} was not estimated; this result holds {list(self.metrics)}."
            )
        return [r for r in self.rows if r.metric == metric]

    def column(self, metric: str, field: str = "estimate") -> np.ndarray:
        """One field (``"estimate"``, ``"lower"``, ``"upper"``, ``"realised"``, ``"std"``, ``"n"``)
        of ``metric`` across chunks, as a float64 array."""
        if field not in ("estimate", "std", "lower", "upper", "realised", "n"):
            raise ValidationError(
                f"field must be one of estimate, std, lower, upper, realised, n; got {field!r}."
            )
        return np.array([getattr(r, field) for r in self._rows(metric)], dtype=np.float64)

    def mean_absolute_error(self, metric: str) -> float:
        """Mean over chunks of ``|estimate - realised|`` (chunks without a realised value are
        skipped; NaN when none has one)."""
        err = np.abs(self.column(metric) - self.column(metric, "realised"))
        err = err[np.isfinite(err)]
        return float(err.mean()) if err.size else float("nan")

    def coverage(self, metric: str) -> float:
        """Fraction of chunks (with a realised value) whose realised value is inside the band."""
        rows = [r for r in self._rows(metric) if np.isfinite(r.realised)]
        return float(np.mean([r.covered for r in rows])) if rows else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "metrics": list(self.metrics),
            "confidence_level": self.confidence_level,
            "interval": self.interval,
            "rows": [r.to_dict() for r in self.rows],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PerformanceEstimate:
        return cls(
            method=str(d["method"]),
            metrics=tuple(d["metrics"]),
            confidence_level=float(d["confidence_level"]),
            interval=str(d["interval"]),
            rows=tuple(EstimateRow.from_dict(r) for r in d["rows"]),
        )
