r"""Poisson bootstrap on Dask: confidence intervals from per-partition, per-resample bin sums.

The ordinary bootstrap draws ``n`` rows with replacement: multinomial row counts, which need
the whole sample at once. The Poisson bootstrap (Hanley & MacGibbon 2006; Chamandy et al.
2012) gives every row an independent weight :math:`w_{ri} \sim \mathrm{Poisson}(1)` in
resample :math:`r`; as ``n`` grows it is the same law, and it splits over partitions:

* partition ``j`` (in the order of :attr:`PartitionedPredictions.partitions`) draws its weights
  from ``numpy.random.default_rng([seed, j])``, one resample after the other
  (``rng.poisson(1.0, n_j)`` for ``r = 0, 1, ...``), so the draw depends only on the seed and
  the partition index, never on which worker runs it or in which order;
* for each resample it forms the accumulator states with those weights (integer weights are
  repetitions, so each resample's state is the state of that resampled data set); the rows
  are checked and binned once, and each resample is a few weighted ``np.bincount`` calls
  (:mod:`confide.distributed._resample`);
* the per-resample states are merged across partitions exactly like the point estimate.

A metric of resample ``r`` therefore equals the in-memory metric with
``sample_weight = poisson_weights(sizes, n_resamples, seed)[r]`` (the same draws, concatenated
in partition order), and the interval equals :func:`confide.metrics.bootstrap_ci`'s percentile
or basic rule applied to those values. Memory per partition: the rows plus ``n_resamples``
accumulator states; the traffic: ``n_resamples`` states per partition.

References
----------
Hanley & MacGibbon (2006), "Creating non-parametric bootstrap samples using Poisson
frequencies", Computer Methods and Programs in Biomedicine 83(1), 57-62.
Chamandy, Muralidharan, Najmi & Naidu (2012), "Estimating uncertainty for massive data
streams", Google technical report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from confide._validation import check_choice, check_fraction, check_positive_int
from confide.distributed._dask import compute, import_dask, tree_reduce
from confide.distributed._metrics import StateSpec, merge_states, partition_states
from confide.distributed._resample import ResampleFeatures
from confide.distributed._sources import Batch
from confide.exceptions import ValidationError
from confide.metrics._accumulator import Accumulator
from confide.metrics._bootstrap import ConfidenceInterval

__all__ = ["bootstrap_states", "interval", "partition_bootstrap", "poisson_weights"]

Metric = Callable[[dict[str, Accumulator]], float]


def partition_bootstrap(
    batch: Batch, spec: StateSpec, n_resamples: int, seed: int, index: int
) -> list[dict[str, Accumulator]]:
    """Per-resample accumulator states of one partition, Poisson(1) weights seeded by ``index``."""
    rng = np.random.default_rng([seed, index])
    if batch.n == 0:
        return [partition_states(batch, spec) for _ in range(n_resamples)]
    features = ResampleFeatures(batch, spec)
    out = []
    for _ in range(n_resamples):  # a loop over resamples; each is a few weighted bincounts
        w = rng.poisson(1.0, batch.n).astype(np.float64)
        out.append(features.states(w))
    return out


def poisson_weights(sizes: Sequence[int], n_resamples: int, seed: int) -> np.ndarray:
    """The ``(n_resamples, sum(sizes))`` weights the distributed bootstrap uses, in memory.

    Partition ``j`` of ``sizes[j]`` rows draws from ``default_rng([seed, j])``; columns are in
    partition order. For checking and for reproducing a distributed interval on one machine.
    """
    blocks = []
    for j, n in enumerate(sizes):
        rng = np.random.default_rng([seed, j])
        blocks.append(np.stack([rng.poisson(1.0, int(n)) for _ in range(n_resamples)]))
    return np.concatenate(blocks, axis=1).astype(np.float64)


def bootstrap_states(
    partitions: Sequence[Any], spec: StateSpec, n_resamples: int, seed: int
) -> list[dict[str, Accumulator]]:
    """Merged per-resample states over all partitions (one Dask pass)."""
    dask = import_dask()
    states = [
        dask.delayed(partition_bootstrap, pure=True)(p, spec, n_resamples, seed, j)
        for j, p in enumerate(partitions)
    ]
    (merged,) = compute(tree_reduce(states, merge_states))
    out: list[dict[str, Accumulator]] = merged
    return out


def interval(
    estimate: float,
    values: np.ndarray,
    *,
    confidence_level: float,
    method: str = "percentile",
) -> ConfidenceInterval:
    """The percentile or basic interval of resampled ``values`` (NaN: undefined resample),
    by the rule of :func:`confide.metrics.bootstrap_ci` (more than 10 % undefined: error)."""
    level = check_fraction(confidence_level, "confidence_level")
    check_choice(method, "method", ("percentile", "basic"))
    n_res = values.shape[0]
    ok = values[~np.isnan(values)]
    failed = int(n_res - ok.shape[0])
    if failed > 0.1 * n_res:
        raise ValidationError(
            f"the metric was undefined on {failed} of {n_res} bootstrap resamples; the sample is "
            "too small (or too unbalanced) for a bootstrap interval."
        )
    alpha = 1.0 - level
    q_low, q_high = np.quantile(ok, [alpha / 2, 1 - alpha / 2])
    if method == "basic":
        q_low, q_high = 2 * estimate - q_high, 2 * estimate - q_low
    with np.errstate(invalid="ignore"):
        se = float(np.std(ok, ddof=1)) if ok.shape[0] > 1 else float("nan")
    return ConfidenceInterval(
        estimate=float(estimate),
        low=float(q_low),
        high=float(q_high),
        confidence_level=level,
        standard_error=se,
        n_resamples=n_res,
        method=method,
        n_failed=failed,
    )


def resample_values(states: list[dict[str, Accumulator]], metric: Metric) -> np.ndarray:
    """``metric`` of every resample's merged state; NaN where it is undefined (ValueError)."""
    values = np.empty(len(states))
    for r, s in enumerate(states):  # a loop over resamples
        try:
            values[r] = metric(s)
        except ValueError:
            values[r] = np.nan
    return values


def check_resamples(n_resamples: Any) -> int:
    return check_positive_int(n_resamples, "n_resamples", minimum=10)
