"""Scale out on Dask: the same metrics, calibrators and drift checks over partitioned data.

Needs the optional extra ``dask`` (``pip install 'confide[dask]'``), imported only when a
function here runs. Every function takes Dask arrays ``(y_true, y_prob)``, a Dask dataframe, or
Parquet path(s) / a glob (with the column options of :func:`confide.io.read_predictions`),
maps each partition to a fixed-size state (per-bin sums, accumulator states) where it lives,
tree-reduces the states, and returns the same result objects as the in-memory API:

- metrics: :func:`calibration_summary`, :func:`calibration_accumulator`,
  :func:`reliability_diagram`, :func:`binned_auroc`, :func:`confidence_binned_auroc`,
  :func:`evaluate` (a :class:`~confide.metrics.CalibrationReport`), :func:`bootstrap_ci`
  (Poisson bootstrap, seeded per partition; :func:`poisson_weights` reproduces its weights);
- calibrators: :func:`fit_temperature`, :func:`fit_histogram_binning`,
  :func:`fit_binned_isotonic` (ordinary calibrator objects, saved as the same JSON);
- monitoring: :func:`monitor_chunks` (per-chunk confidence histograms, PSI, chi-square, G).

See ``docs/distributed.md`` for running against a real cluster.
"""

from confide.distributed._bootstrap import poisson_weights
from confide.distributed._calibrate import (
    fit_binned_isotonic,
    fit_histogram_binning,
    fit_temperature,
)
from confide.distributed._metrics import (
    binned_auroc,
    calibration_accumulator,
    calibration_summary,
    confidence_binned_auroc,
    reliability_diagram,
)
from confide.distributed._monitor import ChunkDrift, ChunkedDrift, monitor_chunks
from confide.distributed._report import bootstrap_ci, evaluate
from confide.distributed._sources import Batch, PartitionedPredictions, as_partitions

__all__ = [
    "Batch",
    "ChunkDrift",
    "ChunkedDrift",
    "PartitionedPredictions",
    "as_partitions",
    "binned_auroc",
    "bootstrap_ci",
    "calibration_accumulator",
    "calibration_summary",
    "confidence_binned_auroc",
    "evaluate",
    "fit_binned_isotonic",
    "fit_histogram_binning",
    "fit_temperature",
    "monitor_chunks",
    "poisson_weights",
    "reliability_diagram",
]
