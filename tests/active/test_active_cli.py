"""``confide active simulate`` through its own tiny Typer app calling register()."""

from __future__ import annotations

import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from confide.cli._active import register

pd = pytest.importorskip("pandas")
pytest.importorskip("sklearn")


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test app."""

    register(app)
    return app


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 240)
    frame = pd.DataFrame(rng.normal(size=(240, 3)) + y[:, None], columns=["a", "b", "c"])
    frame["target"] = np.where(y == 1, "yes", "no")
    frame["note"] = "x"
    path = tmp_path / "pool.csv"
    frame.to_csv(path, index=False)
    return path


def test_json_output(table) -> None:
    res = CliRunner().invoke(
        _app(),
        [
            "active",
            "simulate",
            str(table),
            "--label-col",
            "target",
            "--strategy",
            "margin",
            "--budget",
            "40",
            "--batch-size",
            "10",
            "--initial-size",
            "10",
            "--seeds",
            "2",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["baseline"] == "random"
    assert [r["strategy"] for r in data["results"]] == ["random", "margin"]
    assert data["results"][0]["n_labels"] == [10, 20, 30, 40]
    assert data["savings"][0]["strategy"] == "margin"


def test_table_output(table) -> None:
    res = CliRunner().invoke(
        _app(),
        [
            "active",
            "simulate",
            str(table),
            "--label-col",
            "target",
            "--strategy",
            "kcenter",
            "--budget",
            "30",
            "--seeds",
            "2",
            "--batch-size",
            "10",
            "--initial-size",
            "10",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "kcenter" in res.stdout and "random" in res.stdout
    assert "labels to reach" in res.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--label-col", "nope"], "not found"),
        (["--label-col", "target", "--strategy", "bogus"], "--strategy"),
        (["--label-col", "target", "--budget", "100000"], "budget"),
    ],
)
def test_errors_exit_2(table, args, message) -> None:
    res = CliRunner().invoke(_app(), ["active", "simulate", str(table), *args])
    assert res.exit_code == 2
    assert message in res.output
