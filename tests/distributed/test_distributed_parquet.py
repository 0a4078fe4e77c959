"""Parquet globs and Dask dataframes on Dask, the CLI helper, and bad input."""

from __future__ import annotations

import json
import sys

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from confide.calibration import TemperatureScaling
from confide.cli._evaluate_dask import run_evaluate_dask
from confide.distributed._calibrate import fit_temperature
from confide.distributed._metrics import calibration_summary
from confide.distributed._report import evaluate
from confide.distributed._sources import as_partitions
from confide.exceptions import (
    ConfideTypeError,
    LabelError,
    MissingDependencyError,
    ProbabilityError,
    ShapeError,
    ValidationError,
)
from confide.io import read_predictions
from confide.metrics import calibration_report, ece

RTOL, ATOL = 1e-12, 1e-15
# dask 2026.8 reading Parquet under pandas 3.1 (not confide)
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")
CLASSES = ("cat", "dog", "owl")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[str, pd.DataFrame]:
    """Four Parquet files of logits and text labels, and the whole table."""
    rng = np.random.default_rng(9)
    root = tmp_path_factory.mktemp("preds")
    frames = []
    for i, n in enumerate((1_500, 2_000, 700, 1_800)):
        z = rng.normal(size=(n, 3)) * 2.5
        q = np.exp(z / 2)
        q /= q.sum(axis=1, keepdims=True)
        y = (q.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
        frame = pd.DataFrame({f"logit_{c}": z[:, j] for j, c in enumerate(CLASSES)})
        frame["label"] = np.array(CLASSES)[y]
        frame.to_parquet(root / f"part-{i}.parquet", index=False)
        frames.append(frame)
    return str(root / "part-*.parquet"), pd.concat(frames, ignore_index=True)


def test_parquet_glob_equals_read_predictions(client, files, tmp_path) -> None:
    pattern, whole = files
    whole.to_parquet(tmp_path / "all.parquet", index=False)
    preds = read_predictions(tmp_path / "all.parquet")
    y = preds.require_labels()
    got = calibration_summary(pattern, n_bins=15)
    np.testing.assert_allclose(got.ece, ece(y, preds.probs), rtol=RTOL, atol=ATOL)
    parts = as_partitions(pattern)
    assert parts.classes == CLASSES and parts.n_partitions == 4 and parts.input == "logits"
    assert parts.partition_lengths() == (1_500, 2_000, 700, 1_800)
    rep = evaluate(pattern)
    mem = calibration_report(y, preds.probs, confidence_level=None)
    for name in ("accuracy", "ece", "mce", "classwise_ece", "brier_score", "log_loss"):
        np.testing.assert_allclose(rep[name], mem[name], rtol=RTOL, atol=ATOL)


def test_temperature_from_parquet_logits(client, files) -> None:
    pattern, whole = files
    z = whole[[f"logit_{c}" for c in CLASSES]].to_numpy()
    y = pd.Categorical(whole["label"], categories=CLASSES).codes.astype(int)
    got = fit_temperature(pattern)
    np.testing.assert_allclose(
        got.temperature_, TemperatureScaling().fit(z, y).temperature_, rtol=RTOL
    )


def test_dask_dataframe_with_explicit_columns(client, files) -> None:
    _, whole = files
    ddf = dd.from_pandas(whole, npartitions=3)
    cols = [f"logit_{c}" for c in CLASSES]
    a = calibration_summary(ddf, logit_cols=cols, label_col="label")
    b = calibration_summary(dd.from_pandas(whole, npartitions=7))
    np.testing.assert_allclose(a.ece, b.ece, rtol=RTOL, atol=ATOL)


def test_cli_helper_prints_the_report_as_json(client, files, capsys) -> None:
    pattern, _ = files
    run_evaluate_dask(
        pattern,
        scheduler=client.scheduler.address,
        n_bins=15,
        as_json=True,
        show_progress=True,
    )
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["engine"] == "dask" and doc["n_samples"] == 6_000 and doc["classes"] == list(CLASSES)
    assert doc["metrics"]["ece"]["value"] == pytest.approx(evaluate(pattern)["ece"], rel=RTOL)
    assert "Completed" in captured.err  # Dask's progress bar, on stderr


def test_cli_helper_table(client, files, capsys, tmp_path) -> None:
    pattern, _ = files
    run_evaluate_dask(
        pattern,
        scheduler=client.scheduler.address,
        n_bins=10,
        as_json=False,
        show_progress=False,
        n_resamples=10,
        plot=tmp_path / "rel.png",
    )
    assert (tmp_path / "rel.png").stat().st_size > 0
    out = capsys.readouterr().out
    assert "ece" in out and "6000 samples" in out and "95% CI" in out


def test_bad_input(client, files, tmp_path) -> None:
    pattern, whole = files
    with pytest.raises(ValidationError, match="no Parquet predictions"):
        as_partitions(str(tmp_path / "nothing-*.parquet"))
    with pytest.raises(ValidationError, match="not found"):
        as_partitions(pattern, label_col="nope")
    with pytest.raises(ConfideTypeError, match="Dask arrays"):
        calibration_summary(np.zeros(3))
    with pytest.raises(ShapeError, match="rows"):
        calibration_summary(da.zeros(10, chunks=5, dtype=int), da.zeros(11, chunks=5))
    with pytest.raises(ValidationError, match="y_prob"):
        calibration_summary(da.zeros(10, chunks=5, dtype=int))
    bad = whole.iloc[:100].copy()
    bad["label"] = "emu"
    bad.to_parquet(tmp_path / "bad.parquet", index=False)
    with pytest.raises(LabelError, match="emu"):
        calibration_summary(str(tmp_path / "bad.parquet"))
    probs = pd.DataFrame({"score": [0.2, 1.5], "label": [0, 1]})
    probs.to_parquet(tmp_path / "p.parquet", index=False)
    with pytest.raises(ProbabilityError):
        calibration_summary(str(tmp_path / "p.parquet"))
    pd.DataFrame({"score": [0.2, 0.5], "label": [0, 1]}).to_parquet(tmp_path / "q.parquet")
    with pytest.raises(ValidationError, match="input='probs'"):
        fit_temperature(str(tmp_path / "q.parquet"))


def test_missing_dask_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'confide\[dask\]'"):
        as_partitions("x.parquet")


def test_empty_partitions_after_a_filter(client) -> None:
    rng = np.random.default_rng(11)
    p = rng.random(4_000)
    y = (rng.random(4_000) < p).astype(int)
    frame = pd.DataFrame({"score": p, "label": y, "g": np.repeat([0, 1, 2, 3], 1_000)})
    ddf = dd.from_pandas(frame, npartitions=4)
    ddf = ddf[ddf.g != 1][["score", "label"]]  # the second partition is empty
    keep = frame.g.to_numpy() != 1
    got = calibration_summary(ddf)
    np.testing.assert_allclose(got.ece, ece(y[keep], p[keep]), rtol=RTOL, atol=ATOL)
    t = fit_temperature(ddf, input="probs").temperature_
    ref = TemperatureScaling(input="probs").fit(p[keep], y[keep]).temperature_
    np.testing.assert_allclose(t, ref, rtol=RTOL)
