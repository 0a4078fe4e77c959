"""A tiny, dependency-free SVG chart writer for the HTML report.

:class:`Chart` draws one x-y plot with axes, nice ticks, axis labels, a legend above the plot
area and any number of layers: bars (histograms, reliability bars, hatched gap bars), lines
(broken at non-finite values, so missing data show as gaps, never as zeros), the ``y = x``
reference diagonal, horizontal reference lines and marked operating points.

The output is compact and deterministic: coordinates are rounded to 2 decimals, text is
escaped, styling is done with presentation attributes (no ``<style>``, no web fonts, no
scripts), and element ids carry the chart's id so several charts can share one HTML page.
Every chart has a ``<title>`` and a ``<desc>`` for screen readers; bars may carry their own
``<title>`` (a tooltip in browsers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from itertools import pairwise
from typing import Any

import numpy as np

__all__ = [
    "BLUE",
    "CYAN",
    "GREEN",
    "GREY",
    "INK",
    "PURPLE",
    "RED",
    "YELLOW",
    "Chart",
    "escape_text",
    "fmt",
    "nice_ticks",
    "nice_upper",
    "tick_label",
]

# Paul Tol's "bright" scheme: distinguishable with the common colour-vision deficiencies.
BLUE = "#4477aa"
CYAN = "#66ccee"
GREEN = "#228833"
YELLOW = "#ccbb44"
RED = "#ee6677"
PURPLE = "#aa3377"
GREY = "#777777"
INK = "#222222"
_AXIS = "#444444"
_GRID = "#e4e4e4"

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
_FONT_SIZE = 11.0
_CHAR_WIDTH = 0.58  # average glyph width of a sans-serif font, in em


def fmt(value: float) -> str:
    """A coordinate rounded to 2 decimals, without trailing zeros (``"-0"`` becomes ``"0"``)."""
    r = round(float(value), 2)
    if r == 0:
        return "0"
    return f"{r:.2f}".rstrip("0").rstrip(".")


def escape_text(text: object) -> str:
    """Escape text for SVG/HTML character data and attribute values."""
    return escape(str(text), quote=True)


def _step_for(span: float, target: int) -> float:
    raw = span / max(target, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= m * mag * (1 + 1e-9):
            return m * mag
    return 10.0 * mag  # pragma: no cover - the loop always returns


def nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """About ``target`` round tick values (steps of 1, 2, 2.5 or 5 times a power of 10) in range."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [float(low)] if math.isfinite(low) else []
    step = _step_for(high - low, target)
    k = math.ceil(low / step - 1e-9)
    ticks = []
    while k * step <= high + step * 1e-9:
        ticks.append(round(k * step, 12) + 0.0)
        k += 1
    return ticks


def nice_upper(high: float, target: int = 5) -> float:
    """``high`` rounded up to the next tick of :func:`nice_ticks` (for axes starting at 0)."""
    if not math.isfinite(high) or high <= 0:
        return 1.0
    step = _step_for(high, target)
    return round(math.ceil(high / step - 1e-9) * step, 12)


def tick_label(value: float, step: float) -> str:
    """A tick label with just the decimals ``step`` needs; 12000 becomes ``12k``."""
    if step >= 1000 and abs(value) >= 10000:
        for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= div:
                return tick_label(value / div, step / div) + suffix
    decimals = 0
    while decimals < 10 and abs(round(step, decimals) - step) > 1e-9 * max(abs(step), 1e-12):
        decimals += 1
    text = f"{value:.{decimals}f}"
    return "0" if float(text) == 0 else text


def _width(text: str, size: float) -> float:
    return len(text) * size * _CHAR_WIDTH


@dataclass
class _Legend:
    kind: str  # "bar", "line", "point"
    label: str
    color: str
    dash: str | None = None
    hatch: bool = False
    opacity: float = 1.0


@dataclass
class _Layer:
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


class Chart:
    """One x-y chart, built layer by layer and written with :meth:`to_svg`.

    Parameters
    ----------
    chart_id : prefix of every id in the SVG (unique within a page), also its ``id``.
    title, description : the accessible name and description (``<title>``, ``<desc>``).
    x_label, y_label : axis labels.
    x_range, y_range : data ranges of the axes; ``y_range=None`` fits ``[0, max]`` on the data.
    width, height : size in CSS pixels (the SVG scales down with its container).
    heading : optional visible title drawn above the legend.
    x_ticks, y_ticks : tick values; by default about 5 round values per axis.
    margins : ``(left, right)`` space in pixels, so stacked charts can align their plot areas.
    """

    def __init__(
        self,
        *,
        chart_id: str,
        title: str,
        description: str = "",
        x_label: str = "",
        y_label: str = "",
        x_range: tuple[float, float] = (0.0, 1.0),
        y_range: tuple[float, float] | None = (0.0, 1.0),
        width: float = 480,
        height: float = 360,
        heading: str | None = None,
        x_ticks: Sequence[float] | None = None,
        y_ticks: Sequence[float] | None = None,
        margins: tuple[float, float] = (58.0, 16.0),
    ) -> None:
        self.chart_id = chart_id
        self.title = title
        self.description = description
        self.x_label = x_label
        self.y_label = y_label
        self.x_range = (float(x_range[0]), float(x_range[1]))
        self.y_range = None if y_range is None else (float(y_range[0]), float(y_range[1]))
        self.width = float(width)
        self.height = float(height)
        self.heading = heading
        self.x_ticks = None if x_ticks is None else [float(t) for t in x_ticks]
        self.y_ticks = None if y_ticks is None else [float(t) for t in y_ticks]
        self.margins = margins
        self._layers: list[_Layer] = []
        self._legend: list[_Legend] = []
        self._data_max = 0.0

    # ------------------------------------------------------------------ layers
    def bars(
        self,
        left: Any,
        right: Any,
        top: Any,
        bottom: Any = None,
        *,
        label: str | None = None,
        color: str = BLUE,
        opacity: float = 1.0,
        hatch: bool = False,
        css_class: str = "bar",
        tooltips: Sequence[str] | None = None,
    ) -> Chart:
        """Rectangles spanning ``[left, right]`` by ``[bottom, top]`` (``bottom`` defaults to 0).

        A bar whose ``top`` or ``bottom`` is not finite is not drawn: missing data stay a gap.
        """
        lft, rgt, tp = (np.asarray(a, dtype=np.float64).ravel() for a in (left, right, top))
        bot = np.zeros_like(tp) if bottom is None else np.asarray(bottom, np.float64).ravel()
        if not (lft.shape == rgt.shape == tp.shape == bot.shape):
            raise ValueError("bars: left, right, top and bottom must have the same length.")
        if tooltips is not None and len(tooltips) != tp.size:
            raise ValueError("bars: give one tooltip per bar.")
        self._note_max(np.concatenate([tp, bot]))
        self._layers.append(
            _Layer(
                "bars",
                dict(
                    left=lft,
                    right=rgt,
                    top=tp,
                    bottom=bot,
                    color=color,
                    opacity=opacity,
                    hatch=hatch,
                    css_class=css_class,
                    tooltips=tooltips,
                ),
            )
        )
        if label:
            self._legend.append(_Legend("bar", label, color, hatch=hatch, opacity=opacity))
        return self

    def line(
        self,
        x: Any,
        y: Any,
        *,
        label: str | None = None,
        color: str = BLUE,
        width: float = 2.0,
        dash: str | None = None,
        css_class: str = "line",
        markers: bool = False,
    ) -> Chart:
        """A polyline through ``(x, y)``, broken where a value is not finite."""
        xs = np.asarray(x, dtype=np.float64).ravel()
        ys = np.asarray(y, dtype=np.float64).ravel()
        if xs.shape != ys.shape:
            raise ValueError(f"line: x and y differ in length ({xs.size} != {ys.size}).")
        self._note_max(ys)
        self._layers.append(
            _Layer(
                "line",
                dict(
                    x=xs,
                    y=ys,
                    color=color,
                    width=width,
                    dash=dash,
                    css_class=css_class,
                    markers=markers,
                ),
            )
        )
        if label:
            self._legend.append(_Legend("line", label, color, dash=dash))
        return self

    def diagonal(
        self, *, label: str | None = "perfect calibration", color: str = GREY, dash: str = "5 4"
    ) -> Chart:
        """The reference line ``y = x`` across the plot area."""
        self._layers.append(_Layer("diagonal", dict(color=color, dash=dash)))
        if label:
            self._legend.append(_Legend("line", label, color, dash=dash))
        return self

    def hline(
        self,
        y: float,
        *,
        label: str | None = None,
        color: str = GREY,
        dash: str | None = "5 4",
    ) -> Chart:
        """A horizontal reference line at ``y``."""
        self._note_max(np.array([y], dtype=np.float64))
        self._layers.append(_Layer("hline", dict(y=float(y), color=color, dash=dash)))
        if label:
            self._legend.append(_Legend("line", label, color, dash=dash))
        return self

    def point(
        self,
        x: float,
        y: float,
        *,
        label: str | None = None,
        annotation: str | None = None,
        color: str = INK,
    ) -> Chart:
        """A marked point (an operating point), with an optional text annotation beside it."""
        self._layers.append(
            _Layer("point", dict(x=float(x), y=float(y), color=color, annotation=annotation))
        )
        if label:
            self._legend.append(_Legend("point", label, color))
        return self

    def _note_max(self, values: np.ndarray) -> None:
        finite = values[np.isfinite(values)]
        if finite.size:
            self._data_max = max(self._data_max, float(finite.max()))

    # ------------------------------------------------------------------ layout
    def _legend_rows(self, avail: float) -> list[list[tuple[_Legend, float]]]:
        rows: list[list[tuple[_Legend, float]]] = []
        used = avail + 1
        for item in self._legend:
            w = 26 + _width(item.label, _FONT_SIZE) + 16
            if used + w > avail and (not rows or rows[-1]):
                rows.append([])
                used = 0
            rows[-1].append((item, used))
            used += w
        return rows

    def to_svg(self, *, standalone: bool = True) -> str:
        """The chart as an SVG string; ``standalone=False`` omits ``xmlns`` (for inline HTML)."""
        left_m, right_m = self.margins
        plot_w = self.width - left_m - right_m
        legend_rows = self._legend_rows(plot_w)
        top_m = 10.0 + (20.0 if self.heading else 0.0) + 18.0 * len(legend_rows)
        top_m = max(top_m, 14.0)
        bottom_m = 24.0 + (18.0 if self.x_label else 0.0)
        plot_h = self.height - top_m - bottom_m
        x0, x1 = self.x_range
        if self.y_range is None:
            y0, y1 = 0.0, nice_upper(self._data_max)
        else:
            y0, y1 = self.y_range
        if not x1 > x0 or not y1 > y0:
            raise ValueError(f"empty axis range: x {self.x_range}, y {(y0, y1)}.")

        def px(v: Any) -> Any:
            return left_m + (np.asarray(v, dtype=np.float64) - x0) / (x1 - x0) * plot_w

        def py(v: Any) -> Any:
            return top_m + (1.0 - (np.asarray(v, dtype=np.float64) - y0) / (y1 - y0)) * plot_h

        cid = escape_text(self.chart_id)
        out: list[str] = []
        ns = f' xmlns="{SVG_NS}"' if standalone else ""
        out.append(
            f'<svg{ns} id="{cid}" class="chart" width="{fmt(self.width)}" '
            f'height="{fmt(self.height)}" viewBox="0 0 {fmt(self.width)} {fmt(self.height)}" '
            f'role="img" aria-labelledby="{cid}-title {cid}-desc" '
            f'font-family="{escape_text(FONT)}" font-size="{fmt(_FONT_SIZE)}" fill="{INK}">'
        )
        out.append(f'<title id="{cid}-title">{escape_text(self.title)}</title>')
        out.append(f'<desc id="{cid}-desc">{escape_text(self.description)}</desc>')
        clip = f"{cid}-clip"
        pad = 3.0  # lines along an axis keep their full width
        defs = [
            f'<clipPath id="{clip}"><rect x="{fmt(left_m - pad)}" y="{fmt(top_m - pad)}" '
            f'width="{fmt(plot_w + 2 * pad)}" height="{fmt(plot_h + 2 * pad)}"/></clipPath>'
        ]
        hatch_colors = sorted(
            {layer.data["color"] for layer in self._layers if layer.data.get("hatch")}
        )
        for i, color in enumerate(hatch_colors):
            defs.append(
                f'<pattern id="{cid}-hatch{i}" width="6" height="6" patternUnits="userSpaceOnUse" '
                f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{color}" '
                f'fill-opacity="0.25"/><line x1="0" y1="0" x2="0" y2="6" stroke="{color}" '
                f'stroke-width="2.5"/></pattern>'
            )
        hatch_ids = {c: f"url(#{cid}-hatch{i})" for i, c in enumerate(hatch_colors)}
        out.append("<defs>" + "".join(defs) + "</defs>")
        out.append(
            f'<rect class="plot-area" x="{fmt(left_m)}" y="{fmt(top_m)}" '
            f'width="{fmt(plot_w)}" height="{fmt(plot_h)}" fill="#ffffff"/>'
        )

        # grid and ticks
        xt = self.x_ticks if self.x_ticks is not None else nice_ticks(x0, x1)
        yt = self.y_ticks if self.y_ticks is not None else nice_ticks(y0, y1)
        xt = [t for t in xt if x0 - 1e-9 <= t <= x1 + 1e-9]
        yt = [t for t in yt if y0 - 1e-9 <= t <= y1 + 1e-9]
        x_step = min((b - a for a, b in pairwise(xt)), default=1.0)
        y_step = min((b - a for a, b in pairwise(yt)), default=1.0)
        grid = []
        for t in xt:
            x = fmt(px(t))
            grid.append(f"M{x},{fmt(top_m)}V{fmt(top_m + plot_h)}")
        for t in yt:
            y = fmt(py(t))
            grid.append(f"M{fmt(left_m)},{y}H{fmt(left_m + plot_w)}")
        out.append(f'<path class="grid" d="{"".join(grid)}" stroke="{_GRID}" stroke-width="1"/>')

        out.append(f'<g class="data" clip-path="url(#{clip})">')
        for layer in self._layers:
            out.extend(self._render_layer(layer, px, py, hatch_ids, (x0, x1, y0, y1)))
        out.append("</g>")

        # axes frame, ticks and labels
        bottom = top_m + plot_h
        out.append(
            f'<path class="axes" d="M{fmt(left_m)},{fmt(top_m)}V{fmt(bottom)}'
            f'H{fmt(left_m + plot_w)}" fill="none" stroke="{_AXIS}" stroke-width="1"/>'
        )
        ticks = [f"M{fmt(px(t))},{fmt(bottom)}v4" for t in xt]
        ticks += [f"M{fmt(left_m)},{fmt(py(t))}h-4" for t in yt]
        out.append(f'<path class="ticks" d="{"".join(ticks)}" stroke="{_AXIS}"/>')
        labels = [
            f'<text x="{fmt(px(t))}" y="{fmt(bottom + 16)}" text-anchor="middle">'
            f"{escape_text(tick_label(t, x_step))}</text>"
            for t in xt
        ]
        labels += [
            f'<text x="{fmt(left_m - 7)}" y="{fmt(py(t) + 3.8)}" text-anchor="end">'
            f"{escape_text(tick_label(t, y_step))}</text>"
            for t in yt
        ]
        out.append('<g class="tick-labels" fill="#555555">' + "".join(labels) + "</g>")
        if self.x_label:
            out.append(
                f'<text class="x-label" x="{fmt(left_m + plot_w / 2)}" y="{fmt(self.height - 6)}" '
                f'text-anchor="middle" font-size="12">{escape_text(self.x_label)}</text>'
            )
        if self.y_label:
            cx, cy = 14.0, top_m + plot_h / 2
            out.append(
                f'<text class="y-label" x="{fmt(cx)}" y="{fmt(cy)}" text-anchor="middle" '
                f'font-size="12" transform="rotate(-90 {fmt(cx)} {fmt(cy)})">'
                f"{escape_text(self.y_label)}</text>"
            )
        if self.heading:
            out.append(
                f'<text class="heading" x="{fmt(left_m)}" y="22" font-size="13" '
                f'font-weight="600">{escape_text(self.heading)}</text>'
            )
        legend_top = 10.0 + (20.0 if self.heading else 0.0)
        out.extend(self._render_legend(legend_rows, left_m, legend_top, hatch_ids))
        out.append("</svg>")
        return "".join(out)

    # ------------------------------------------------------------------ rendering
    def _render_layer(
        self,
        layer: _Layer,
        px: Any,
        py: Any,
        hatch_ids: dict[str, str],
        box: tuple[float, float, float, float],
    ) -> list[str]:
        d = layer.data
        if layer.kind == "bars":
            return _render_bars(d, px, py, hatch_ids)
        if layer.kind == "line":
            return _render_line(d, px, py)
        if layer.kind == "diagonal":
            x0, x1, y0, y1 = box
            lo, hi = max(x0, y0), min(x1, y1)
            dash = f' stroke-dasharray="{d["dash"]}"' if d["dash"] else ""
            return [
                f'<path class="diagonal" d="M{fmt(px(lo))},{fmt(py(lo))}L{fmt(px(hi))},'
                f'{fmt(py(hi))}" stroke="{d["color"]}" stroke-width="1.5"{dash} fill="none"/>'
            ]
        if layer.kind == "hline":
            x0, x1, _, _ = box
            dash = f' stroke-dasharray="{d["dash"]}"' if d["dash"] else ""
            y = fmt(py(d["y"]))
            return [
                f'<path class="hline" d="M{fmt(px(x0))},{y}H{fmt(px(x1))}" '
                f'stroke="{d["color"]}" stroke-width="1.5"{dash} fill="none"/>'
            ]
        if layer.kind == "point":
            if not (math.isfinite(d["x"]) and math.isfinite(d["y"])):
                return []
            cx, cy = float(px(d["x"])), float(py(d["y"]))
            parts = [
                f'<circle class="point" cx="{fmt(cx)}" cy="{fmt(cy)}" r="5" fill="{d["color"]}" '
                f'stroke="#ffffff" stroke-width="1.5"/>'
            ]
            if d["annotation"]:
                text = d["annotation"]
                right_room = self.width - self.margins[1] - cx
                anchor, dx = ("start", 9.0)
                if right_room < _width(text, _FONT_SIZE) + 12:
                    anchor, dx = ("end", -9.0)
                parts.append(
                    f'<text class="annotation" x="{fmt(cx + dx)}" y="{fmt(cy + 14)}" '
                    f'text-anchor="{anchor}" stroke="#ffffff" stroke-width="3" '
                    f'paint-order="stroke">{escape_text(text)}</text>'
                )
            return parts
        raise ValueError(f"unknown layer kind {layer.kind!r}")  # pragma: no cover

    def _render_legend(
        self,
        rows: list[list[tuple[_Legend, float]]],
        left: float,
        top: float,
        hatch_ids: dict[str, str],
    ) -> list[str]:
        if not rows:
            return []
        out = ['<g class="legend">']
        for r, row in enumerate(rows):
            cy = top + 9 + 18 * r
            for item, offset in row:
                x = left + offset
                if item.kind == "bar":
                    fill = hatch_ids.get(item.color, item.color) if item.hatch else item.color
                    op = f' fill-opacity="{fmt(item.opacity)}"' if item.opacity < 1 else ""
                    stroke = f' stroke="{item.color}"' if item.hatch else ""
                    out.append(
                        f'<rect x="{fmt(x)}" y="{fmt(cy - 6)}" width="20" height="12" '
                        f'fill="{fill}"{op}{stroke}/>'
                    )
                elif item.kind == "line":
                    dash = f' stroke-dasharray="{item.dash}"' if item.dash else ""
                    out.append(
                        f'<path d="M{fmt(x)},{fmt(cy)}h20" stroke="{item.color}" '
                        f'stroke-width="2"{dash}/>'
                    )
                else:
                    out.append(
                        f'<circle cx="{fmt(x + 10)}" cy="{fmt(cy)}" r="5" fill="{item.color}"/>'
                    )
                out.append(
                    f'<text x="{fmt(x + 26)}" y="{fmt(cy + 3.8)}">{escape_text(item.label)}</text>'
                )
        out.append("</g>")
        return out


def _render_bars(d: dict[str, Any], px: Any, py: Any, hatch_ids: dict[str, str]) -> list[str]:
    xl, xr = px(d["left"]), px(d["right"])
    yt, yb = py(d["top"]), py(d["bottom"])
    fill = hatch_ids[d["color"]] if d["hatch"] else d["color"]
    attrs = f'fill="{fill}"'
    if d["opacity"] < 1:
        attrs += f' fill-opacity="{fmt(d["opacity"])}"'
    if d["hatch"]:
        attrs += f' stroke="{d["color"]}" stroke-width="1"'
    else:
        attrs += ' stroke="#ffffff" stroke-width="1"'
    out = [f'<g class="{escape_text(d["css_class"])}s" {attrs}>']
    tips = d["tooltips"]
    for i in range(xl.size):
        if not (np.isfinite(yt[i]) and np.isfinite(yb[i]) and np.isfinite(xl[i] + xr[i])):
            continue  # missing data: leave a gap
        x, w = min(xl[i], xr[i]), abs(xr[i] - xl[i])
        y, h = min(yt[i], yb[i]), abs(yb[i] - yt[i])
        rect = (
            f'<rect class="{escape_text(d["css_class"])}" x="{fmt(x)}" y="{fmt(y)}" '
            f'width="{fmt(w)}" height="{fmt(h)}"'
        )
        if tips is not None:
            out.append(f"{rect}><title>{escape_text(tips[i])}</title></rect>")
        else:
            out.append(rect + "/>")
    out.append("</g>")
    return out


def _thin(
    xs: np.ndarray, ys: np.ndarray, tol: float = 0.35, simplify: bool = True
) -> list[tuple[str, str]]:
    """Pixel points rounded to 2 decimals, without repeats, sub-``tol`` steps or collinear runs.

    Visually lossless (the dropped points lie within ``tol`` pixels of the drawn line) and it
    keeps a 100 000-point ROC curve down to a few hundred points.
    """
    n = xs.size
    if n == 0:
        return []
    kept = [0]
    lx, ly = xs[0], ys[0]
    if not simplify:
        tol = 0.0
    for i in range(1, n - 1):
        if tol == 0.0 or abs(xs[i] - lx) >= tol or abs(ys[i] - ly) >= tol:
            kept.append(i)
            lx, ly = xs[i], ys[i]
    if n > 1:
        kept.append(n - 1)
    pts = [(round(float(xs[i]), 2), round(float(ys[i]), 2)) for i in kept]
    dedup = [pts[0]]
    for p in pts[1:]:
        if p != dedup[-1]:
            dedup.append(p)
    if (
        simplify and len(dedup) > 2
    ):  # drop the middle of exactly collinear triples (steps of a ROC curve)
        simple = [dedup[0]]
        for j in range(1, len(dedup) - 1):
            (ax, ay), (bx, by), (cx, cy) = simple[-1], dedup[j], dedup[j + 1]
            cross = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
            same_way = (bx - ax) * (cx - bx) + (by - ay) * (cy - by) > 0
            if abs(cross) > 1e-9 or not same_way:
                simple.append(dedup[j])
        simple.append(dedup[-1])
        dedup = simple
    return [(fmt(x), fmt(y)) for x, y in dedup]


def _render_line(d: dict[str, Any], px: Any, py: Any) -> list[str]:
    xs, ys = d["x"], d["y"]
    ok = np.isfinite(xs) & np.isfinite(ys)
    segments: list[list[tuple[str, str]]] = []
    if ok.any():
        # split into runs of finite points
        idx = np.flatnonzero(ok)
        breaks = np.flatnonzero(np.diff(idx) > 1) + 1
        for run in np.split(idx, breaks):
            segments.append(_thin(px(xs[run]), py(ys[run]), simplify=not d["markers"]))
    path = []
    for seg in segments:
        if len(seg) == 1:
            x, y = seg[0]
            path.append(f"M{x},{y}h0")  # a lone point: drawn as a dot by the round cap
        else:
            path.append(f"M{seg[0][0]},{seg[0][1]}L" + " ".join(f"{x},{y}" for x, y in seg[1:]))
    dash = f' stroke-dasharray="{d["dash"]}"' if d["dash"] else ""
    css = escape_text(d["css_class"])
    out = [
        f'<path class="{css}" d="{"".join(path)}" fill="none" stroke="{d["color"]}" '
        f'stroke-width="{fmt(d["width"])}" stroke-linejoin="round" stroke-linecap="round"{dash}/>'
    ]
    if d["markers"]:
        out.append(f'<g class="{css}-markers" fill="{d["color"]}">')
        for seg in segments:
            out.extend(f'<circle cx="{x}" cy="{y}" r="3"/>' for x, y in seg)
        out.append("</g>")
    return out
