"""Worker processes: the states really cross process boundaries (the CLI's own LocalCluster)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from confide.cli._evaluate_dask import run_evaluate_dask
from confide.metrics import CalibrationAccumulator

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")


@pytest.mark.slow
def test_cli_without_scheduler_starts_a_local_cluster(tmp_path, capsys) -> None:
    rng = np.random.default_rng(10)
    ys, ps = [], []
    for i in range(3):
        p = rng.random(2_000).astype(np.float32)
        y = (rng.random(2_000) < p).astype(np.int64)
        pd.DataFrame({"score": p, "label": y}).to_parquet(tmp_path / f"{i}.parquet")
        ys.append(y)
        ps.append(p)
    run_evaluate_dask(
        str(tmp_path / "*.parquet"), scheduler=None, n_bins=15, as_json=True, show_progress=False
    )
    doc = json.loads(capsys.readouterr().out)
    ref = CalibrationAccumulator(binary=True).update(np.concatenate(ys), np.concatenate(ps))
    assert doc["n_samples"] == 6_000
    assert doc["metrics"]["ece"]["value"] == pytest.approx(ref.ece(), rel=1e-12)
    assert doc["metrics"]["log_loss"]["value"] == pytest.approx(ref.compute().log_loss, rel=1e-12)
