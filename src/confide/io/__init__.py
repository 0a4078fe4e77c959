"""Read and write a model's predictions: CSV, Parquet and NPZ files.

::

    from confide.io import read_predictions
    preds = read_predictions("val.csv")            # label, p_cat, p_dog, ... detected
    metrics.ece(preds.require_labels(), preds.probs)

CSV and Parquet need the optional extra ``io`` (pandas, pyarrow), imported only when such a
file is read or written; NPZ needs NumPy alone.
"""

from __future__ import annotations

from confide.io._predictions import Predictions
from confide.io._read import read_predictions
from confide.io._write import write_predictions

__all__ = ["Predictions", "read_predictions", "write_predictions"]
