"""``confide evaluate FILE --engine dask``: the evaluate report computed on a Dask cluster.

Predictions are read by the workers from Parquet (a file, a directory or a glob; local paths
every worker can see, or object-store URLs) and only per-bin accumulator states come back, so
the client's memory does not grow with the data. Without ``--scheduler`` a
``distributed.LocalCluster`` sized to this machine is started (and closed) for the run. Dask's
own progress bar goes to stderr; the report goes to stdout (a table, or JSON with ``--json``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from confide.cli._console import err, out, print_json
from confide.cli._evaluate import metrics_table
from confide.exceptions import MissingDependencyError, ValidationError

__all__ = ["dask_client", "run_evaluate_dask"]


@contextlib.contextmanager
def dask_client(scheduler: str | None) -> Iterator[Any]:
    """A ``distributed.Client`` on ``scheduler`` (an address such as ``tcp://host:8786``), or
    on a fresh ``LocalCluster`` sized to the machine when ``scheduler`` is None."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise MissingDependencyError("distributed", "dask", "--engine dask") from None
    if scheduler is None:
        with (
            LocalCluster(dashboard_address=":0", silence_logs=logging.ERROR) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise ValidationError(
            f"could not connect to the Dask scheduler at {scheduler!r}: {exc}. Pass the address "
            "the scheduler prints (e.g. tcp://10.0.0.5:8786)."
        ) from None
    with client:
        yield client


def run_evaluate_dask(
    pattern: str,
    *,
    scheduler: str | None,
    n_bins: int,
    as_json: bool,
    confidence_level: float = 0.95,
    n_resamples: int = 0,
    seed: int = 0,
    read_options: dict[str, Any] | None = None,
    show_progress: bool = True,
    plot: Path | None = None,
) -> None:
    """Evaluate the Parquet predictions matching ``pattern`` on Dask and print the report.

    ``n_resamples > 0`` adds Poisson-bootstrap intervals at ``confidence_level`` (a second pass
    over the data). ``read_options`` are the column options of ``confide evaluate``
    (``label_col``, ``prob_cols``, ``logit_cols``, ``score_col``, ``classes``, ``input``,
    ``sum_tolerance``); None values are ignored. ``plot`` writes the reliability diagram as a
    PNG (the HTML report of ``confide evaluate`` needs the rows themselves for its curves and
    is not available with ``--engine dask``).
    """
    from confide.distributed._dask import progress_on_stderr
    from confide.distributed._report import evaluate
    from confide.distributed._sources import as_partitions

    options = {k: v for k, v in (read_options or {}).items() if v is not None}
    level = confidence_level if n_resamples > 0 else None
    with dask_client(scheduler) as client, progress_on_stderr(show_progress):
        where = scheduler or f"LocalCluster {client.scheduler_info().get('address', '')}"
        err.print(f"evaluating {pattern} on Dask ({where})")
        parts = as_partitions(pattern, **options)
        result = evaluate(
            parts,
            n_bins=n_bins,
            confidence_level=level,
            n_resamples=max(n_resamples, 10),
            seed=seed,
        )
    if as_json:
        print_json(
            {
                "file": pattern,
                "classes": list(parts.classes),
                "engine": "dask",
                "n_partitions": parts.n_partitions,
                **result.to_dict(),
            }
        )
    else:
        title = (
            f"{pattern}: {result.n_samples} samples, {result.n_classes} classes, "
            f"{parts.n_partitions} partitions (Dask)"
        )
        out.print(metrics_table(result, title))
        for w in result.warnings:
            err.print(f"[yellow]warning:[/] {w}")
    if plot is not None:
        from confide.report import save_reliability_png

        save_reliability_png(result.reliability, plot)
        err.print(f"reliability diagram: {plot}")
