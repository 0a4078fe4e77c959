"""The command line: data on stdout, messages on stderr, JSON equal to the library's result."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("typer")
from tests.conftest import make_multiclass
from typer.testing import CliRunner

from confide.cli._app import app
from confide.io import write_predictions
from confide.metrics import calibration_report

runner = CliRunner()


@pytest.fixture
def predictions_file(tmp_path, rng):
    y, p = make_multiclass(rng, n=400, k=3)
    path = tmp_path / "preds.npz"
    write_predictions(path, y, p)
    return path, y, p


def test_evaluate_json_equals_library(predictions_file):
    path, y, p = predictions_file
    result = runner.invoke(app, ["evaluate", str(path), "--json", "--n-resamples", "20"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected = calibration_report(y, p, n_resamples=20).to_dict()
    assert data["metrics"]["ece"]["value"] == pytest.approx(
        expected["metrics"]["ece"]["value"], rel=1e-12
    )
    assert data["metrics"]["ece"]["low"] == pytest.approx(
        expected["metrics"]["ece"]["low"], rel=1e-12
    )
    assert data["n_samples"] == 400


def test_evaluate_table_plot_and_report(predictions_file, tmp_path):
    path, _, _ = predictions_file
    html, png = tmp_path / "r.html", tmp_path / "r.png"
    result = runner.invoke(
        app,
        ["evaluate", str(path), "--n-resamples", "20", "--report", str(html), "--plot", str(png)],
    )
    assert result.exit_code == 0, result.output
    assert "ece" in result.stdout and "brier_score" in result.stdout
    page = html.read_text()
    assert "<svg" in page and "http://" not in page.replace("http://www.w3.org", "")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_file_is_one_clear_line(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, probs=np.array([[0.5, 0.6], [0.2, 0.8]]), labels=np.array([0, 1]))
    result = runner.invoke(app, ["evaluate", str(bad)])
    assert result.exit_code == 2
    assert "sum to 1" in result.stderr
    assert "Traceback" not in result.output


def test_missing_file(tmp_path):
    result = runner.invoke(app, ["evaluate", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "nope.csv" in result.stderr


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    result = runner.invoke(app, ["demo", "--out", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    return folder, json.loads(result.stdout)


def test_demo_runs_end_to_end(demo_run):
    folder, data = demo_run
    names = [s["dataset"]["name"] for s in data["steps"]]
    assert names == ["cifar10_vgg16_test", "cifar10_lt_densenet40_test"]
    vgg, densenet = (s["report"]["metrics"] for s in data["steps"])
    assert vgg["accuracy"]["value"] == pytest.approx(0.9359)
    assert vgg["ece"]["value"] == pytest.approx(0.0398, abs=5e-5)
    assert densenet["ece"]["value"] == pytest.approx(0.2108, abs=5e-5)
    for step in data["steps"]:
        assert folder.joinpath(step["html"].split("/")[-1]).exists()


def test_version():
    from confide import __version__

    result = runner.invoke(app, ["version"])
    assert result.stdout.strip() == __version__


def test_demo_calibration_step(demo_run):
    step = demo_run[1]["calibration"]
    assert step["temperature"] == pytest.approx(3.090, abs=5e-4)  # shared/data README: T=3.090
    assert step["test_ece_after"] == pytest.approx(0.0610, abs=5e-4)
    assert step["test_ece_before"] > 3 * step["test_ece_after"]
    from confide.calibration import load

    assert load(step["calibrator"]).temperature_ == step["temperature"]


@pytest.mark.parametrize("method", ["temperature", "dirichlet", "isotonic", "auto"])
def test_calibrate_then_apply(tmp_path, rng, method):
    z = rng.normal(size=(600, 3)) * 4
    q = np.exp(z / 4 - (z / 4).max(1, keepdims=True))
    q /= q.sum(1, keepdims=True)
    y = (q.cumsum(1) > rng.random((600, 1))).argmax(1)
    val, test = tmp_path / "val.npz", tmp_path / "test.npz"
    write_predictions(val, y[:300], logits=z[:300])
    write_predictions(test, y[300:], logits=z[300:])
    cal = tmp_path / "cal.json"
    result = runner.invoke(
        app, ["calibrate", str(val), "--method", method, "--out", str(cal), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["input"] == "logits"
    assert summary["after (same data)"]["nll"] < summary["before"]["nll"]
    out = tmp_path / "calibrated.npz"
    result = runner.invoke(app, ["apply", str(cal), str(test), "--out", str(out)])
    assert result.exit_code == 0, result.output
    from confide.calibration import load
    from confide.io import read_predictions

    got = read_predictions(out)
    np.testing.assert_allclose(got.probs, load(cal).predict_proba(z[300:]), rtol=1e-12)
    np.testing.assert_array_equal(got.y_true, y[300:])


def test_calibrate_unknown_method_is_named(tmp_path, predictions_file):
    path, _, _ = predictions_file
    result = runner.invoke(
        app, ["calibrate", str(path), "--method", "magic", "--out", str(tmp_path / "c.json")]
    )
    assert result.exit_code == 2
    assert "unknown calibration method 'magic'" in result.stderr


def test_compare_fits_on_val_and_scores_on_test(tmp_path, rng):
    z = rng.normal(size=(1200, 3)) * 4
    q = np.exp(z / 4 - (z / 4).max(1, keepdims=True))
    q /= q.sum(1, keepdims=True)
    y = (q.cumsum(1) > rng.random((1200, 1))).argmax(1)
    val, test = tmp_path / "val.npz", tmp_path / "test.npz"
    write_predictions(val, y[:600], logits=z[:600])
    write_predictions(test, y[600:], logits=z[600:])
    html_path = tmp_path / "compare.html"
    result = runner.invoke(
        app,
        [
            "compare",
            str(val),
            str(test),
            "--methods",
            "temperature,isotonic",
            "--n-resamples",
            "20",
            "--json",
            "--report",
            str(html_path),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["methods"]
    assert list(rows) == ["uncalibrated", "temperature", "isotonic"]
    from confide.calibration import TemperatureScaling
    from confide.metrics import ece

    expected = ece(y[600:], TemperatureScaling().fit(z[:600], y[:600]).predict_proba(z[600:]))
    assert rows["temperature"]["ece"]["value"] == pytest.approx(expected, rel=1e-12)
    assert rows["temperature"]["nll"]["value"] < rows["uncalibrated"]["nll"]["value"]
    for row in rows.values():
        assert row["ece"]["low"] <= row["ece"]["high"]
    page = html_path.read_text()
    assert "Reliability after temperature" in page and "Reliability after isotonic" in page
    assert "<script" not in page


def test_compare_rejects_mixed_score_kinds(tmp_path, rng, predictions_file):
    path, y, p = predictions_file
    logits = tmp_path / "logits.npz"
    write_predictions(logits, y, logits=np.log(p))
    result = runner.invoke(app, ["compare", str(path), str(logits)])
    assert result.exit_code == 2
    assert "compare like with like" in result.stderr
