"""ReliabilityDisplay and save_reliability_png (matplotlib, Agg backend)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from confide.exceptions import MissingDependencyError
from confide.metrics import reliability_diagram
from confide.report import ReliabilityDisplay, save_reliability_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def plt():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    n, k = 400, 4
    logits = rng.normal(size=(n, k)) * 2.5
    prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = (prob.cumsum(1) > rng.random((n, 1))).argmax(1)
    return y, prob


def heights(container):
    return np.array([p.get_height() for p in container.patches])


def lefts(container):
    return np.array([p.get_x() for p in container.patches])


def test_from_predictions_draws_the_computed_bins(plt, data):
    y, prob = data
    disp = ReliabilityDisplay.from_predictions(y, prob, n_bins=10)
    d = reliability_diagram(y, prob, n_bins=10)
    full = d.count > 0
    np.testing.assert_allclose(heights(disp.bars_), d.accuracy[full])
    np.testing.assert_allclose(lefts(disp.bars_), d.edges[:-1][full])
    gap_bottoms = np.array([p.get_y() for p in disp.gap_bars_.patches])
    np.testing.assert_allclose(gap_bottoms, d.accuracy[full])
    np.testing.assert_allclose(heights(disp.gap_bars_), d.mean_confidence[full] - d.accuracy[full])
    np.testing.assert_allclose(heights(disp.hist_bars_), d.count)
    np.testing.assert_array_equal(disp.diagram.count, d.count)
    assert disp.ax_hist_ is not None and disp.ax_hist_ is not disp.ax_
    assert disp.figure_ is disp.ax_.figure is disp.ax_hist_.figure
    assert disp.ax_.get_ylim() == (0.0, 1.0)
    assert disp.ax_hist_.get_xlabel() == "confidence"
    assert f"ECE {d.ece:.4f}" in disp.ax_.get_title(loc="left")
    np.testing.assert_allclose(disp.line_.get_xydata(), [[0, 0], [1, 1]])


def test_binning_and_kind_are_passed_on(plt, data):
    y, prob = data
    yb = (y == 0).astype(int)
    disp = ReliabilityDisplay.from_predictions(
        yb, prob[:, 0], n_bins=5, binning="quantile", kind="binary"
    )
    d = reliability_diagram(yb, prob[:, 0], n_bins=5, binning="quantile", kind="binary")
    np.testing.assert_allclose(disp.diagram.edges, d.edges)
    assert disp.diagram.kind == "binary"
    assert disp.ax_.get_ylabel() == "observed frequency of y = 1"


def test_empty_bins_are_not_drawn(plt, diagram):
    disp = ReliabilityDisplay.from_diagram(diagram)
    # bins 0 and 3 are empty: no bar; bin 1 has accuracy 0: a zero-height bar
    np.testing.assert_allclose(lefts(disp.bars_), [0.2, 0.4, 0.8])
    np.testing.assert_allclose(heights(disp.bars_), [0.0, 0.6, 0.8])
    assert np.isfinite(heights(disp.gap_bars_)).all()
    np.testing.assert_allclose(heights(disp.hist_bars_), [0, 4, 10, 0, 20])


def test_plot_on_given_axes(plt, diagram):
    fig, ax = plt.subplots()
    disp = ReliabilityDisplay(diagram).plot(
        ax, show_histogram=False, show_gap=False, name="model A"
    )
    assert disp.ax_ is ax and disp.figure_ is fig
    assert disp.ax_hist_ is None and disp.hist_bars_ is None and disp.gap_bars_ is None
    assert ax.get_xlabel() == "confidence"
    assert "model A" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_histogram_is_appended_below_given_axes(plt, diagram):
    fig, ax = plt.subplots()
    disp = ReliabilityDisplay.from_diagram(diagram, ax=ax)
    assert disp.ax_ is ax
    assert disp.ax_hist_ in fig.axes and len(fig.axes) == 2
    fig.canvas.draw()
    assert disp.ax_hist_.get_position().y1 <= ax.get_position().y0 + 1e-9


def test_bar_kwargs_are_forwarded(plt, diagram):
    from matplotlib.colors import to_rgba

    disp = ReliabilityDisplay.from_diagram(diagram, color="#123456", alpha=0.5)
    for patch in disp.bars_.patches:
        assert patch.get_facecolor() == pytest.approx(to_rgba("#123456", 0.5))


def test_saves_png(plt, tmp_path, diagram):
    disp = ReliabilityDisplay.from_diagram(diagram)
    path = tmp_path / "d.png"
    disp.figure_.savefig(path)
    assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_save_reliability_png(plt, tmp_path, diagram):
    before = plt.get_fignums()
    path = save_reliability_png(diagram, tmp_path / "rel.png", dpi=50, title="t")
    assert path == tmp_path / "rel.png"
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1000
    assert plt.get_fignums() == before  # no pyplot figure left open


def test_missing_matplotlib_names_the_plot_extra(monkeypatch, tmp_path, diagram, data):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError) as exc:
        ReliabilityDisplay.from_diagram(diagram)
    assert exc.value.extra == "plot" and exc.value.package == "matplotlib"
    assert "confide[plot]" in str(exc.value)
    with pytest.raises(MissingDependencyError):
        ReliabilityDisplay.from_predictions(*data)
    with pytest.raises(MissingDependencyError):
        ReliabilityDisplay(diagram).plot()
    with pytest.raises(ImportError):  # also an ImportError, for code that catches that
        save_reliability_png(diagram, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_importing_the_report_does_not_import_matplotlib():
    code = "import sys, confide.report; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
