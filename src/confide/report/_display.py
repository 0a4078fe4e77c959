"""Matplotlib reliability diagrams in scikit-learn's Display style (the optional ``plot`` extra).

Matplotlib is imported only inside the functions that draw, so ``import confide.report`` works
without it; drawing without it raises :class:`~confide.exceptions.MissingDependencyError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from confide.exceptions import MissingDependencyError
from confide.metrics import ReliabilityDiagram, reliability_diagram

__all__ = ["ReliabilityDisplay", "save_reliability_png"]

_BLUE = "#4477aa"
_RED = "#ee6677"
_GREY = "#777777"
_HIST = "#8fa3b8"


def _require_matplotlib(purpose: str) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError("matplotlib", "plot", purpose) from exc


def _labels(kind: str) -> tuple[str, str]:
    if kind == "binary":
        return "predicted probability P(y = 1)", "observed frequency of y = 1"
    return "confidence", "accuracy"


def _new_axes(fig: Any, show_histogram: bool) -> tuple[Any, Any]:
    if not show_histogram:
        return fig.add_subplot(), None
    gs = fig.add_gridspec(2, 1, height_ratios=(3, 1))
    ax = fig.add_subplot(gs[0])
    ax_hist = fig.add_subplot(gs[1], sharex=ax)
    return ax, ax_hist


class ReliabilityDisplay:
    """Reliability diagram: accuracy per confidence bin, the gap to the diagonal, the histogram.

    Build it with :meth:`from_predictions` or :meth:`from_diagram` (which compute and plot),
    or with ``ReliabilityDisplay(diagram).plot()``. Empty bins are left blank, not drawn as 0.

    Parameters
    ----------
    diagram : ReliabilityDiagram
        The bins to draw (from :func:`confide.metrics.reliability_diagram`).
    name : str, optional
        Legend label of the bars (e.g. the model's name).

    Attributes
    ----------
    ax_ : matplotlib Axes of the diagram.
    ax_hist_ : matplotlib Axes of the confidence histogram, or None.
    figure_ : the matplotlib Figure.
    bars_ : BarContainer of the accuracy bars (one per non-empty bin).
    gap_bars_ : BarContainer of the gap bars (bottom at the accuracy, top at the mean
        confidence), or None.
    hist_bars_ : BarContainer of the histogram (one per bin), or None.
    line_ : Line2D of the ``y = x`` diagonal.

    Examples
    --------
    >>> disp = ReliabilityDisplay.from_predictions(y_true, y_prob, n_bins=10)  # doctest: +SKIP
    >>> disp.figure_.savefig("reliability.png")  # doctest: +SKIP
    """

    def __init__(self, diagram: ReliabilityDiagram, *, name: str | None = None) -> None:
        self.diagram = diagram
        self.name = name

    @classmethod
    def from_predictions(
        cls,
        y_true: Any,
        y_prob: Any,
        *,
        n_bins: int = 15,
        binning: str = "uniform",
        kind: str = "top_label",
        sample_weight: Any = None,
        ax: Any = None,
        show_histogram: bool = True,
        show_gap: bool = True,
        name: str | None = None,
        **kwargs: Any,
    ) -> ReliabilityDisplay:
        """Compute the diagram with :func:`confide.metrics.reliability_diagram` and plot it.

        ``kwargs`` are passed to ``Axes.bar`` for the accuracy bars.
        """
        _require_matplotlib("ReliabilityDisplay")
        diagram = reliability_diagram(
            y_true, y_prob, n_bins=n_bins, binning=binning, kind=kind, sample_weight=sample_weight
        )
        return cls(diagram, name=name).plot(
            ax, show_histogram=show_histogram, show_gap=show_gap, **kwargs
        )

    @classmethod
    def from_diagram(
        cls,
        diagram: ReliabilityDiagram,
        *,
        ax: Any = None,
        show_histogram: bool = True,
        show_gap: bool = True,
        name: str | None = None,
        **kwargs: Any,
    ) -> ReliabilityDisplay:
        """Plot an already computed :class:`~confide.metrics.ReliabilityDiagram`."""
        return cls(diagram, name=name).plot(
            ax, show_histogram=show_histogram, show_gap=show_gap, **kwargs
        )

    def plot(
        self,
        ax: Any = None,
        *,
        show_histogram: bool = True,
        show_gap: bool = True,
        name: str | None = None,
        **kwargs: Any,
    ) -> ReliabilityDisplay:
        """Draw on ``ax`` (a new figure when None) and return ``self``.

        With ``show_histogram``, the histogram goes in a new axes beneath the diagram (appended
        to ``ax`` when one is given). ``kwargs`` are passed to ``Axes.bar`` for the bars.
        """
        _require_matplotlib("ReliabilityDisplay.plot")
        if name is not None:
            self.name = name
        if ax is None:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=(5.6, 6.4 if show_histogram else 5.2), layout="constrained")
            ax, ax_hist = _new_axes(fig, show_histogram)
        elif show_histogram:
            from mpl_toolkits.axes_grid1 import make_axes_locatable

            ax_hist = make_axes_locatable(ax).append_axes("bottom", size="32%", pad=0.15, sharex=ax)
        else:
            ax_hist = None
        self._draw(ax, ax_hist, show_gap=show_gap, bar_kwargs=kwargs)
        return self

    def _draw(self, ax: Any, ax_hist: Any, *, show_gap: bool, bar_kwargs: dict[str, Any]) -> None:
        d = self.diagram
        edges = np.asarray(d.edges, dtype=np.float64)
        count = np.asarray(d.count, dtype=np.float64)
        acc = np.asarray(d.accuracy, dtype=np.float64)
        conf = np.asarray(d.mean_confidence, dtype=np.float64)
        lo, width = edges[:-1], np.diff(edges)
        full = (count > 0) & np.isfinite(acc) & np.isfinite(conf)
        x_name, y_name = _labels(d.kind)
        style = {"color": _BLUE, "edgecolor": "white", "linewidth": 0.8, "zorder": 2}
        style.update(bar_kwargs)
        self.bars_ = ax.bar(
            lo[full],
            acc[full],
            width=width[full],
            align="edge",
            label=self.name or f"{y_name} per bin",
            **style,
        )
        self.gap_bars_ = None
        if show_gap:
            self.gap_bars_ = ax.bar(
                lo[full],
                conf[full] - acc[full],
                bottom=acc[full],
                width=width[full],
                align="edge",
                facecolor=(*_rgb(_RED), 0.25),
                edgecolor=_RED,
                hatch="//",
                linewidth=0.8,
                label="gap to mean confidence",
                zorder=3,
            )
        x0, x1 = min(0.0, float(edges[0])), max(1.0, float(edges[-1]))
        (self.line_,) = ax.plot(
            [x0, x1], [x0, x1], linestyle="--", color=_GREY, label="perfect calibration", zorder=4
        )
        ax.set_xlim(x0, x1)
        ax.set_ylim(0.0, 1.0)
        ax.set_ylabel(y_name)
        ax.set_title(f"ECE {d.ece:.4f}   MCE {d.mce:.4f}", loc="left", fontsize="medium")
        ax.legend(loc="upper left", frameon=False)
        ax.grid(True, color="#e4e4e4", linewidth=0.8, zorder=0)
        ax.set_axisbelow(True)
        self.hist_bars_ = None
        if ax_hist is not None:
            self.hist_bars_ = ax_hist.bar(
                lo, count, width=width, align="edge", color=_HIST, edgecolor="white", linewidth=0.6
            )
            ax_hist.set_xlim(x0, x1)
            ax_hist.set_xlabel(x_name)
            ax_hist.set_ylabel("count")
            ax_hist.grid(True, axis="y", color="#e4e4e4", linewidth=0.8)
            ax_hist.set_axisbelow(True)
            ax.tick_params(labelbottom=False)
        else:
            ax.set_xlabel(x_name)
        self.ax_ = ax
        self.ax_hist_ = ax_hist
        self.figure_ = ax.figure


def _rgb(color: str) -> tuple[float, float, float]:
    h = color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4))
    return r, g, b


def save_reliability_png(
    diagram: ReliabilityDiagram,
    path: str | Path,
    *,
    dpi: int = 150,
    title: str | None = None,
    show_histogram: bool = True,
) -> Path:
    """Draw ``diagram`` (with its histogram) to a PNG file without touching pyplot's state.

    Used by ``confide evaluate --plot``; needs the ``plot`` extra (matplotlib).
    """
    _require_matplotlib("save_reliability_png")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.6, 6.4 if show_histogram else 5.2), layout="constrained")
    ax, ax_hist = _new_axes(fig, show_histogram)
    display = ReliabilityDisplay(diagram)
    display._draw(ax, ax_hist, show_gap=True, bar_kwargs={})
    if title:
        fig.suptitle(title)
    path = Path(path)
    fig.savefig(path, dpi=dpi, format="png")
    return path
