"""Bootstrap confidence intervals for any metric that accepts ``sample_weight``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from confide._validation import (
    check_choice,
    check_consistent_length,
    check_fraction,
    check_positive_int,
)
from confide.exceptions import ValidationError

__all__ = ["ConfidenceInterval", "bootstrap_ci"]


@dataclass(frozen=True)
class ConfidenceInterval:
    """A point estimate with a bootstrap interval ``[low, high]``."""

    estimate: float
    low: float
    high: float
    confidence_level: float
    standard_error: float
    n_resamples: int
    method: str
    n_failed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        pct = round(self.confidence_level * 100)
        return f"{self.estimate:.4f} [{self.low:.4f}, {self.high:.4f}] ({pct}% CI)"


def _std(values: np.ndarray) -> float:
    with np.errstate(invalid="ignore"):
        return float(np.std(values, ddof=1)) if values.shape[0] > 1 else float("nan")


def bootstrap_ci(
    metric: Callable[..., float],
    y_true: Any,
    y_prob: Any,
    *,
    n_resamples: int = 1000,
    confidence_level: float = 0.95,
    method: str = "percentile",
    seed: int | np.random.Generator | None = 0,
    sample_weight: Any = None,
    **metric_kwargs: Any,
) -> ConfidenceInterval:
    r"""Non-parametric bootstrap interval for ``metric(y_true, y_prob, **metric_kwargs)``.

    Each resample draws ``n`` rows with replacement; instead of copying the data, the draw is
    passed to the metric as integer ``sample_weight`` (row multiplicities, multiplied by any
    weights given), so every metric that honours weights as repetitions works unchanged and the
    data are never copied. Seeded: the same ``seed`` gives the same interval.

    * ``method="percentile"``: :math:`[q_{\alpha/2}, q_{1-\alpha/2}]` of the resampled values.
    * ``method="basic"``: :math:`[2\hat\theta - q_{1-\alpha/2}, 2\hat\theta - q_{\alpha/2}]`.

    Resamples on which the metric is undefined (it raises a ``ValueError``, e.g. AUROC of a
    resample with one class) are dropped and counted in ``n_failed``; more than 10 % fail → error.

    References
    ----------
    Efron & Tibshirani (1993), *An Introduction to the Bootstrap*, Chapman & Hall, ch. 13.
    """
    n_res = check_positive_int(n_resamples, "n_resamples", minimum=10)
    level = check_fraction(confidence_level, "confidence_level")
    check_choice(method, "method", ("percentile", "basic"))
    n = check_consistent_length(y_true=y_true, y_prob=y_prob, sample_weight=sample_weight)
    base = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    estimate = float(metric(y_true, y_prob, sample_weight=base, **metric_kwargs))
    rng = np.random.default_rng(seed)
    values = np.empty(n_res)
    failed = 0
    for r in range(n_res):  # a loop over resamples; each resample is vectorised
        counts = np.bincount(rng.integers(0, n, size=n), minlength=n).astype(np.float64)
        w = counts if base is None else counts * base
        try:
            values[r] = metric(y_true, y_prob, sample_weight=w, **metric_kwargs)
        except ValueError:
            values[r] = np.nan
            failed += 1
    if failed > 0.1 * n_res:
        raise ValidationError(
            f"the metric was undefined on {failed} of {n_res} bootstrap resamples; the sample is too "
            "small (or too unbalanced) for a bootstrap interval."
        )
    ok = values[~np.isnan(values)]
    alpha = 1.0 - level
    q_low, q_high = np.quantile(ok, [alpha / 2, 1 - alpha / 2])
    if method == "basic":
        q_low, q_high = 2 * estimate - q_high, 2 * estimate - q_low
    return ConfidenceInterval(
        estimate=estimate,
        low=float(q_low),
        high=float(q_high),
        confidence_level=level,
        standard_error=_std(ok),
        n_resamples=n_res,
        method=method,
        n_failed=failed,
    )
