"""`confide evaluate GLOB --engine dask --scheduler ADDRESS` gives the one-process figures."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

pd = pytest.importorskip("pandas")


def test_evaluate_engine_dask_equals_the_numpy_engine(client: Any, tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from confide.cli._app import app

    rng = np.random.default_rng(3)
    frames = []
    for i in range(3):
        p = rng.random(5000)
        frame = pd.DataFrame({"p": p, "y": (rng.random(5000) < p).astype(int)})
        frame.to_parquet(tmp_path / f"part{i}.parquet")
        frames.append(frame)
    pd.concat(frames, ignore_index=True).to_parquet(tmp_path / "all.parquet")
    runner = CliRunner()
    common = ["--score-col", "p", "--label-col", "y", "--json", "--n-resamples", "0"]
    dask = runner.invoke(
        app,
        [
            "evaluate",
            str(tmp_path / "part*.parquet"),
            "--engine",
            "dask",
            "--scheduler",
            client.scheduler.address,
            *common,
        ],
    )
    assert dask.exit_code == 0, dask.output
    local = runner.invoke(app, ["evaluate", str(tmp_path / "all.parquet"), *common])
    assert local.exit_code == 0, local.output
    d, m = json.loads(dask.stdout), json.loads(local.stdout)
    d = d.get("metrics", d)
    m = m.get("metrics", m)
    for key in ("ece", "brier_score", "log_loss", "accuracy"):
        dv = d[key]["value"] if isinstance(d[key], dict) else d[key]
        mv = m[key]["value"] if isinstance(m[key], dict) else m[key]
        assert dv == pytest.approx(mv, rel=1e-12, abs=1e-15), key
    bad = runner.invoke(app, ["evaluate", str(tmp_path / "all.parquet"), "--engine", "spark"])
    assert bad.exit_code == 2 and "unknown engine" in bad.output
