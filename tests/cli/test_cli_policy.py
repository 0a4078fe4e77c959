"""``confide policy`` and ``confide decide`` through a Typer app built with ``register``."""

from __future__ import annotations

import csv
import json

import pytest

pytest.importorskip("typer")
import typer
from tests.conftest import make_multiclass
from typer.testing import CliRunner

from confide.cli._policy import register
from confide.decision._policy import ThresholdPolicy, load_policy
from confide.io import write_predictions

runner = CliRunner()
app = typer.Typer()
register(app)


def test_policy_then_decide_multiclass(tmp_path, rng):
    y, p = make_multiclass(rng, n=3000, k=3)
    val, pol = tmp_path / "val.npz", tmp_path / "policy.json"
    write_predictions(val, y, p)
    html = tmp_path / "r.html"
    res = runner.invoke(
        app,
        [
            "policy",
            str(val),
            "--max-error",
            "0.2",
            "--out",
            str(pol),
            "--json",
            "--report",
            str(html),
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    conf, pred = p.max(1), p.argmax(1)
    ref = ThresholdPolicy.fit(pred == y, conf, max_error=0.2)
    assert data["policy"]["params"]["threshold"] == ref.threshold
    assert load_policy(pol) == ref
    assert "policy-risk-coverage" in html.read_text()
    out_csv = tmp_path / "d.csv"
    res = runner.invoke(app, ["decide", str(pol), str(val), "--out", str(out_csv), "--json"])
    assert res.exit_code == 0, res.output
    counts = json.loads(res.stdout)["counts"]
    assert counts["accept"] == int((conf >= ref.threshold).sum())
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == 3000 and rows[0]["action"] in ("accept", "review")
    assert rows[0]["reason"].startswith("confidence ")


def test_three_way_and_table_output(tmp_path, rng):
    pr = rng.random(4000)
    y = (rng.random(4000) < pr).astype(int)
    val = tmp_path / "bin.npz"
    write_predictions(val, y, pr)
    res = runner.invoke(
        app,
        [
            "policy",
            str(val),
            "--max-error",
            "0.15",
            "--max-error-reject",
            "0.15",
            "--out",
            str(tmp_path / "tw.json"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "ThreeWayPolicy" in res.stdout and "reject rate" in res.stdout
    res = runner.invoke(app, ["decide", str(tmp_path / "tw.json"), str(val)])
    assert res.exit_code == 0 and "reject" in res.stdout


def test_infeasible_and_budget_errors_exit_2(tmp_path, rng):
    y, p = make_multiclass(rng, n=300, k=3)
    val = tmp_path / "v.npz"
    write_predictions(val, y, p)
    res = runner.invoke(app, ["policy", str(val), "--max-error", "0.001"])
    assert res.exit_code == 2 and "samples" in res.stderr and "Traceback" not in res.output
    y, p = make_multiclass(rng, n=3000, k=3)
    write_predictions(val, y, p)
    res = runner.invoke(
        app,
        [
            "policy",
            str(val),
            "--max-error",
            "0.2",
            "--review-budget",
            "0.05",
            "--out",
            str(tmp_path / "x.json"),
        ],
    )
    assert res.exit_code == 2 and "budget" in res.stderr
    assert not (tmp_path / "x.json").exists()
