"""``evaluate`` on Dask: the mergeable part of :func:`confide.metrics.calibration_report`.

One pass fills a :class:`~confide.metrics.CalibrationAccumulator` and histogram AUROC states in
every partition, tree-reduced; with ``confidence_level`` the Poisson bootstrap
(:mod:`confide.distributed._bootstrap`) adds intervals in a second pass. The metrics that need
the samples themselves (equal-mass bins, smooth ECE, KS error, exact ranking metrics) have no
fixed-size state: they are left out and named in ``warnings``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from confide._validation import check_choice, check_fraction, check_positive_int
from confide.distributed._bootstrap import (
    bootstrap_states,
    check_resamples,
    interval,
    resample_values,
)
from confide.distributed._metrics import StateSpec, accumulate
from confide.distributed._sources import as_partitions
from confide.exceptions import ValidationError
from confide.metrics._auroc_stream import BinnedAUROC, auroc_from_bins
from confide.metrics._bootstrap import ConfidenceInterval
from confide.metrics._ranking_core import one_vs_rest
from confide.metrics._report import CalibrationReport, MetricEstimate
from confide.metrics._streaming import CalibrationAccumulator

__all__ = ["LEFT_OUT", "bootstrap_ci", "evaluate", "state_metrics"]

States = dict[str, Any]
_MetricRow = tuple[str, Callable[[States], float], str, bool]

#: Metrics of ``calibration_report`` with no fixed-size mergeable state.
LEFT_OUT = ("ace", "smooth_ece", "ks_error", "average_precision", "aurc", "e_aurc")


def _cal(s: States) -> CalibrationAccumulator:
    acc = s["calibration"]
    assert isinstance(acc, CalibrationAccumulator)
    return acc


def _auc(key: str, s: States) -> float:
    acc = s[key]
    if isinstance(acc, list):  # one-vs-rest, macro average over the classes where defined
        per_class = np.array([auroc_from_bins(a._neg, a._pos)[0] for a in acc])
        prevalence = np.array([a._pos.sum() for a in acc])
        value = one_vs_rest(
            "AUROC", per_class, prevalence, "macro", "both positive and negative samples"
        )
        return float(value)
    assert isinstance(acc, BinnedAUROC)
    return acc.compute().value


def _accuracy(s: States) -> float:
    acc = _cal(s)
    acc._require_data()
    return float(acc._top[2].sum() / acc.n_samples)


def _total(index: int, s: States) -> float:
    acc = _cal(s)
    acc._require_data()
    return float(acc._totals[index] / acc._totals[0])


def state_metrics(n_bins: int, binary: bool, auroc_bins: int = 4096) -> list[_MetricRow]:
    """``(name, metric of merged states, description, higher is better)`` rows of the report."""
    rows: list[_MetricRow] = [
        ("accuracy", _accuracy, "top-label accuracy", True),
        ("ece", lambda s: _cal(s).ece(), f"top-label ECE, {n_bins} uniform bins", False),
    ]
    if binary:
        rows.append(("ece_binary", lambda s: _cal(s).ece(kind="binary"), "ECE of P(y=1)", False))
    rows += [
        ("mce", lambda s: _cal(s).ece(norm="max"), "maximum calibration error", False),
        (
            "classwise_ece",
            lambda s: _cal(s).ece(kind="classwise"),
            "classwise ECE (Kull 2019)",
            False,
        ),
        (
            "debiased_ece",
            lambda s: _cal(s).debiased_ece(),
            "debiased L2 ECE (Kumar 2019), uniform bins",
            False,
        ),
        ("brier_score", partial(_total, 1), "Brier score", False),
        ("log_loss", partial(_total, 2), "negative log-likelihood", False),
    ]
    rows.append(
        (
            "roc_auc",
            partial(_auc, "auroc"),
            f"AUROC{'' if binary else ' (one-vs-rest, macro)'}, histogram of {auroc_bins} bins",
            True,
        )
    )
    rows.append(
        (
            "confidence_auroc",
            partial(_auc, "confidence_auroc"),
            f"AUROC of confidence for right vs wrong, histogram of {auroc_bins} bins",
            True,
        )
    )
    return rows


def evaluate(
    data: Any,
    y_prob: Any = None,
    *,
    n_bins: int = 15,
    confidence_level: float | None = None,
    n_resamples: int = 200,
    seed: int = 0,
    auroc_bins: int = 4096,
    **read_options: Any,
) -> CalibrationReport:
    """A :class:`~confide.metrics.CalibrationReport` of partitioned predictions, on Dask.

    Every metric is computed from merged per-bin states: accuracy, top-label / binary /
    classwise ECE and MCE (uniform bins), debiased ECE (uniform bins, where the in-memory
    report uses quantile bins), Brier score, log loss, and AUROC of ``P(y = 1)`` (binary) and of
    the confidence from ``auroc_bins`` histogram bins. Each equals its in-memory value on the
    same rows. With ``confidence_level`` the intervals come from the Poisson bootstrap
    (``n_resamples`` resamples, seeded per partition).

    References
    ----------
    Guo et al. (2017), ICML; Kumar, Liang & Ma (2019), "Verified uncertainty calibration",
    NeurIPS; Hanley & MacGibbon (2006), Comput. Methods Programs Biomed. 83(1).
    """
    parts = as_partitions(data, y_prob, **read_options)
    b = check_positive_int(n_bins, "n_bins")
    spec = StateSpec(
        parts.n_classes,
        parts.binary,
        b,
        auroc_bins=check_positive_int(auroc_bins, "auroc_bins"),
        auroc=True,
        confidence_auroc=True,
    )
    if confidence_level is not None:
        confidence_level = check_fraction(confidence_level, "confidence_level")
        n_resamples = check_resamples(n_resamples)
    states = accumulate(parts, spec)
    cal = _cal(states)
    if cal.n_samples <= 0:
        raise ValidationError(f"{parts.source} holds no rows.")
    rows = state_metrics(b, parts.binary, spec.auroc_bins)
    resampled = (
        bootstrap_states(parts.partitions, spec, n_resamples, seed)
        if confidence_level is not None
        else None
    )
    metrics: dict[str, MetricEstimate] = {}
    warnings = [
        f"{name} left out: it needs the samples themselves (no Dask state)." for name in LEFT_OUT
    ]
    for name, fn, desc, hib in rows:
        try:
            value = fn(states)
            low = high = None
            if resampled is not None and confidence_level is not None:
                ci = interval(
                    value, resample_values(resampled, fn), confidence_level=confidence_level
                )
                low, high = ci.low, ci.high
        except ValueError as exc:
            warnings.append(f"{name} left out: {exc}")
        else:
            metrics[name] = MetricEstimate(name, float(value), low, high, desc, hib)
    return CalibrationReport(
        n_samples=round(cal.n_samples),
        n_classes=parts.n_classes,
        binary=parts.binary,
        n_bins=b,
        confidence_level=confidence_level,
        n_resamples=n_resamples if confidence_level is not None else 0,
        metrics=metrics,
        reliability=cal.reliability_diagram(),
        warnings=tuple(warnings),
    )


def bootstrap_ci(
    data: Any,
    y_prob: Any = None,
    *,
    metric: str = "ece",
    n_bins: int = 15,
    n_resamples: int = 200,
    confidence_level: float = 0.95,
    method: str = "percentile",
    seed: int = 0,
    auroc_bins: int = 4096,
    **read_options: Any,
) -> ConfidenceInterval:
    r"""Poisson-bootstrap interval of one mergeable metric on Dask.

    ``metric`` is a name of :func:`evaluate`'s report (``"ece"``, ``"brier_score"``,
    ``"roc_auc"``, ...). Resample ``r`` gives row ``i`` of partition ``j`` the weight
    :math:`w_{ri} \sim \mathrm{Poisson}(1)` drawn from ``default_rng([seed, j])``; the interval
    is the percentile (or basic) interval of the resampled values, equal to the in-memory
    metric with ``sample_weight=poisson_weights(sizes, n_resamples, seed)[r]``.

    References
    ----------
    Hanley & MacGibbon (2006), Comput. Methods Programs Biomed. 83(1), 57-62; Efron &
    Tibshirani (1993), An Introduction to the Bootstrap, ch. 13.
    """
    parts = as_partitions(data, y_prob, **read_options)
    b = check_positive_int(n_bins, "n_bins")
    n_res = check_resamples(n_resamples)
    level = check_fraction(confidence_level, "confidence_level")
    check_choice(method, "method", ("percentile", "basic"))
    rows = {r[0]: r[1] for r in state_metrics(b, parts.binary, auroc_bins)}
    name = check_choice(metric, "metric", tuple(rows))
    spec = StateSpec(
        parts.n_classes,
        parts.binary,
        b,
        auroc_bins=check_positive_int(auroc_bins, "auroc_bins"),
        calibration=name not in ("roc_auc", "confidence_auroc"),
        auroc=name == "roc_auc",
        confidence_auroc=name == "confidence_auroc",
    )
    estimate = rows[name](accumulate(parts, spec))
    values = resample_values(bootstrap_states(parts.partitions, spec, n_res, seed), rows[name])
    return interval(estimate, np.asarray(values), confidence_level=level, method=method)
