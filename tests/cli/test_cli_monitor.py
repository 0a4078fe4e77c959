"""``confide monitor``: chunks, realised accuracy, alerts after a shift, report, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("typer")
from typer.testing import CliRunner

from confide.cli._monitor import register
from confide.cli._monitor_run import parse_alert, run_monitor_arrays
from confide.datasets._stream import monitor_demo_stream
from confide.io import write_predictions

runner = CliRunner()


def _app():
    import typer

    app = typer.Typer()
    register(app)

    @app.command()
    def _other() -> None:  # a second command, so that "monitor" is a subcommand as in confide
        pass

    return app


def _draw(rng, n, k=3, sharp=4.0, shift=0.0):
    """Multiclass predictions whose labels follow the probabilities (calibrated)."""
    logits = rng.normal(size=(n, k)) * sharp
    logits[:, 0] += 2.0 - shift
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    return np.minimum(y, k - 1), p


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    ry, rp = _draw(rng, 3000)
    y1, p1 = _draw(rng, 2000)
    y2, p2 = _draw(rng, 1500, sharp=1.0)  # after row 2000: much less confident
    y, p = np.concatenate([y1, y2]), np.concatenate([p1, p2])
    ref = write_predictions(tmp_path / "ref.npz", ry, rp)
    cur = write_predictions(tmp_path / "cur.npz", y, p)
    return ref, cur, y, p


def test_json_chunks_realised_accuracy_and_alerts(files):
    ref, cur, y, p = files
    res = runner.invoke(
        _app(), ["monitor", str(cur), "--reference", str(ref), "--chunk", "500", "--json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    rows = data["chunks"]
    assert len(rows) == 7 and [r["n"] for r in rows] == [500] * 7
    right = np.argmax(p, axis=1) == y
    for i, r in enumerate(rows):
        assert r["realised_accuracy"] == pytest.approx(
            right[500 * i : 500 * (i + 1)].mean(), abs=1e-12
        )
        assert r["estimated_lower"] <= r["estimated_accuracy"] <= r["estimated_upper"]
    fired = [e["at"] for e in data["alerts"] if e["state"] == "fired" and e["rule"] == "drift"]
    assert fired and min(fired) == 4  # the shift starts at row 2000 = chunk 4
    assert not any(r["drift"] for r in rows[:4]) and all(r["drift"] for r in rows[4:])
    assert data["detectors"]["cusum"]["first_alarm"] >= 4


def test_without_labels_and_custom_alert(tmp_path, files):
    ref, _, _, p = files
    nolab = tmp_path / "nolab.npz"
    np.savez(nolab, probs=p)
    res = runner.invoke(
        _app(),
        [
            "monitor",
            str(nolab),
            "--reference",
            str(ref),
            "--json",
            "--alert",
            "mean_confidence<0.75",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert len(data["chunks"]) == 4  # 3500 rows in chunks of 1000: the last holds 500
    assert all(r["realised_accuracy"] is None for r in data["chunks"])
    conf = p.max(axis=1)
    hand = [conf[i * 1000 : (i + 1) * 1000].mean() < 0.75 for i in range(4)]
    custom = [
        e["at"]
        for e in data["alerts"]
        if e["rule"] == "mean_confidence<0.75" and e["state"] == "fired"
    ]
    assert custom == [hand.index(True)]


def test_time_column_csv_and_table(tmp_path, files):
    pd = pytest.importorskip("pandas")
    ref, _, y, p = files
    days = np.repeat(np.arange(7), 500)
    ts = (
        pd.Timestamp("2024-03-01")
        + pd.to_timedelta(days, unit="D")
        + pd.to_timedelta(np.arange(3500) % 500, unit="min")
    )
    frame = pd.DataFrame(
        {"label": y, **{f"p_{k}": p[:, k] for k in range(3)}, "ts": ts.astype(str)}
    )
    path = tmp_path / "cur.csv"
    frame.to_csv(path, index=False)
    res = runner.invoke(
        _app(),
        [
            "monitor",
            str(path),
            "--reference",
            str(ref),
            "--time-col",
            "ts",
            "--period",
            "day",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["chunks"]
    assert [r["key"] for r in rows] == [f"2024-03-0{d}" for d in range(1, 8)]
    assert [r["n"] for r in rows] == [500] * 7
    res = runner.invoke(
        _app(),
        ["monitor", str(path), "--reference", str(ref), "--time-col", "ts", "--period", "day"],
    )
    assert res.exit_code == 0, res.output
    assert "7 chunks" in res.stdout
    assert "fired chunk 2024-03-05" in " ".join(res.stdout.split())


def test_report_is_self_contained(tmp_path, files):
    ref, cur, _, _ = files
    html = tmp_path / "m.html"
    res = runner.invoke(
        _app(),
        ["monitor", str(cur), "--reference", str(ref), "--chunk", "700", "--report", str(html)],
    )
    assert res.exit_code == 0, res.output
    page = html.read_text(encoding="utf-8")
    assert page.count("<svg") == 4 and "<script" not in page
    for attr in ("src=", "href="):
        for scheme in ('"http://', '"https://', "'http://", "'https://"):
            assert attr + scheme not in page
    assert "@import" not in page and "url(http" not in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--chunk", "100"], "--reference is required"),
        (["--reference", "{missing}"], "does not exist"),
        (["--reference", "{ref}", "--chunk", "0"], "chunk"),
        (["--reference", "{ref}", "--time-col", "ts"], "time column 'ts' not found"),
        (["--reference", "{ref}", "--alert", "bogus>1"], "unknown metric 'bogus'"),
        (["--reference", "{ref}", "--alert", "psi=3"], "not of the form"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(tmp_path, files, args, message):
    ref, cur, _, _ = files
    args = [a.format(ref=ref, missing=tmp_path / "nope.npz") for a in args]
    res = runner.invoke(_app(), ["monitor", str(cur), *args])
    assert res.exit_code == 2
    assert message in " ".join(res.stderr.split())


def test_reference_without_labels_is_refused(tmp_path, files):
    _, cur, _, p = files
    nolab = tmp_path / "ref_nolab.npz"
    np.savez(nolab, probs=p)
    res = runner.invoke(_app(), ["monitor", str(cur), "--reference", str(nolab)])
    assert res.exit_code == 2 and "without true labels" in " ".join(res.stderr.split())


def test_parse_alert():
    rule = parse_alert(" psi >= 0.2 ")
    assert (rule.metric, rule.op, rule.threshold) == ("psi", ">=", 0.2)


def test_demo_stream_flags_drift_after_the_change_only():
    s = monitor_demo_stream(seed=0)
    assert s.change_index == 5000 and s.probs.shape == (9000, 10)
    info = s.to_dict()
    assert info["accuracy_before"] - info["accuracy_after"] > 0.08
    res = run_monitor_arrays(s.reference_probs, s.reference_y, s.probs, s.y_true, chunk=1000)
    drift = [r["drift"] for r in res["chunks"]]
    assert drift == [False] * 5 + [True] * 4
    fired = [e["at"] for e in res["alerts"] if e["state"] == "fired"]
    assert fired and min(fired) >= 5
    assert json.loads(json.dumps(res, allow_nan=False)) == res  # plain JSON types
