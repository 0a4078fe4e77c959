"""The dependency-free SVG chart writer."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from confide.report._svg import Chart, escape_text, fmt, nice_ticks, nice_upper, tick_label

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def rects(root: ET.Element, css: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{NS}rect") if e.get("class") == css]


def path_points(d: str) -> list[list[tuple[float, float]]]:
    """Subpaths of an "M x,y L x,y x,y" path as lists of points."""
    out = []
    for sub in re.findall(r"M[^M]*", d):
        nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", sub.replace("h0", ""))]
        out.append(list(zip(nums[::2], nums[1::2], strict=True)))
    return out


def test_fmt_rounds_to_two_decimals_without_noise():
    assert fmt(1.0) == "1"
    assert fmt(1.23456) == "1.23"
    assert fmt(1.005000001) == "1.01"
    assert fmt(2.50) == "2.5"
    assert fmt(-0.001) == "0"
    assert fmt(-12.3449) == "-12.34"
    assert fmt(-12.5) == "-12.5"
    assert fmt(100) == "100"


def test_escape_text():
    assert escape_text("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#x27;"


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.0, 1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0.0, 1000.0, [0.0, 200.0, 400.0, 600.0, 800.0, 1000.0]),
        (0.0, 0.08, [0.0, 0.02, 0.04, 0.06, 0.08]),
    ],
)
def test_nice_ticks(low, high, expected):
    assert nice_ticks(low, high) == pytest.approx(expected)


def test_nice_upper_and_labels():
    assert nice_upper(1234) == 1250
    assert nice_upper(0.137) == pytest.approx(0.15)
    assert nice_upper(0.0) == 1.0
    assert tick_label(0.5, 0.25) == "0.50"
    assert tick_label(0.4, 0.2) == "0.4"
    assert tick_label(12000, 2000) == "12k"
    assert tick_label(800, 200) == "800"
    assert tick_label(-0.0, 0.2) == "0"


def basic_chart(**kw) -> Chart:
    return Chart(chart_id="c1", title="A <chart> & co", description="desc", **kw)


def test_chart_is_valid_xml_with_title_desc_and_namespace():
    svg = basic_chart(x_label="x <1>", y_label="y & z").diagonal().to_svg()
    root = parse(svg)
    assert root.tag == f"{NS}svg"
    assert root.find(f"{NS}title").text == "A <chart> & co"
    assert root.find(f"{NS}desc").text == "desc"
    assert root.get("role") == "img"
    texts = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
    assert "x <1>" in texts and "y & z" in texts
    assert "<1>" not in svg  # escaped in the source


def test_inline_svg_has_no_namespace_url():
    svg = basic_chart().line([0, 1], [0, 1]).to_svg(standalone=False)
    assert "http" not in svg
    assert parse(svg).tag == "svg"


def test_numbers_are_rounded_to_two_decimals():
    svg = basic_chart().line(np.linspace(0, 1, 7), np.linspace(0, 1, 7) ** 2).to_svg()
    numbers = re.findall(r"\d+\.\d+", svg)
    assert numbers and all(len(n.split(".")[1]) <= 2 for n in numbers)


def test_bars_skip_non_finite_values_and_keep_zeros():
    chart = basic_chart().bars(
        [0, 0.25, 0.5, 0.75], [0.25, 0.5, 0.75, 1.0], [0.5, np.nan, 0.0, 1.0]
    )
    root = parse(chart.to_svg())
    bars = rects(root, "bar")
    assert len(bars) == 3  # the NaN bar is a gap
    heights = sorted(float(b.get("height")) for b in bars)
    assert heights[0] == 0.0  # a real zero is drawn (with zero height)
    xs = [float(b.get("x")) for b in bars]
    assert xs == sorted(xs) and len(set(xs)) == 3


def test_bar_geometry_matches_data():
    chart = Chart(chart_id="g", title="t", width=300, height=200, margins=(50, 50))
    chart.bars([0.0], [0.5], [0.5])
    root = parse(chart.to_svg())
    (bar,) = rects(root, "bar")
    plot = next(r for r in root.iter(f"{NS}rect") if r.get("class") == "plot-area")
    pw, ph = float(plot.get("width")), float(plot.get("height"))
    assert float(bar.get("x")) == pytest.approx(float(plot.get("x")), abs=0.01)
    assert float(bar.get("width")) == pytest.approx(pw / 2, abs=0.01)
    assert float(bar.get("height")) == pytest.approx(ph / 2, abs=0.01)


def test_bar_tooltips_and_length_checks():
    chart = basic_chart().bars([0], [1], [0.5], tooltips=["bin <0-1>"])
    (bar,) = rects(parse(chart.to_svg()), "bar")
    assert bar.find(f"{NS}title").text == "bin <0-1>"
    with pytest.raises(ValueError):
        basic_chart().bars([0, 1], [1], [0.5])
    with pytest.raises(ValueError):
        basic_chart().bars([0], [1], [0.5], tooltips=["a", "b"])
    with pytest.raises(ValueError):
        basic_chart().line([0, 1], [0])


def test_line_breaks_at_nan_instead_of_dropping_to_zero():
    x = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    y = np.array([0.1, 0.5, np.nan, 0.3, 0.9, 0.2])
    root = parse(basic_chart().line(x, y, css_class="series").to_svg())
    (path,) = [p for p in root.iter(f"{NS}path") if p.get("class") == "series"]
    subpaths = path_points(path.get("d"))
    assert [len(s) for s in subpaths] == [2, 3]


def test_line_keeps_every_distinct_point_of_a_small_curve():
    x = np.array([0.0, 0.1, 0.3, 0.6, 1.0])
    y = np.array([0.0, 0.5, 0.7, 0.9, 1.0])
    root = parse(basic_chart().line(x, y, css_class="series").to_svg())
    (path,) = [p for p in root.iter(f"{NS}path") if p.get("class") == "series"]
    assert [len(s) for s in path_points(path.get("d"))] == [5]


def test_long_curves_are_thinned_to_a_compact_svg():
    rng = np.random.default_rng(0)
    x = np.r_[0.0, np.sort(rng.random(100_000)), 1.0]
    y = np.sqrt(x)
    svg = basic_chart().line(x, y, css_class="series").to_svg()
    assert len(svg) < 30_000
    root = parse(svg)
    (path,) = [p for p in root.iter(f"{NS}path") if p.get("class") == "series"]
    (pts,) = path_points(path.get("d"))
    assert 20 < len(pts) < 2000
    # the end points are kept exactly
    plot = next(r for r in root.iter(f"{NS}rect") if r.get("class") == "plot-area")
    left, top = float(plot.get("x")), float(plot.get("y"))
    right, bottom = left + float(plot.get("width")), top + float(plot.get("height"))
    assert pts[0] == pytest.approx((left, bottom))
    assert pts[-1] == pytest.approx((right, top))


def test_markers_draw_one_circle_per_point():
    root = parse(basic_chart().line([0, 0.5, 1], [0, 0.5, 1], markers=True).to_svg())
    group = next(g for g in root.iter(f"{NS}g") if g.get("class") == "line-markers")
    assert len(list(group)) == 3


def test_legend_lists_labelled_layers_only():
    chart = basic_chart()
    chart.bars([0], [1], [0.5], label="bars").line([0, 1], [0, 1]).diagonal(label="ref")
    chart.point(0.5, 0.5, label="op")
    root = parse(chart.to_svg())
    legend = next(g for g in root.iter(f"{NS}g") if g.get("class") == "legend")
    assert [t.text for t in legend.iter(f"{NS}text")] == ["bars", "ref", "op"]


def test_legend_wraps_into_rows():
    chart = Chart(chart_id="w", title="t", width=200, height=200)
    for i in range(4):
        chart.line([0, 1], [0, 1], label=f"a fairly long label {i}")
    root = parse(chart.to_svg())
    legend = next(g for g in root.iter(f"{NS}g") if g.get("class") == "legend")
    ys = {t.get("y") for t in legend.iter(f"{NS}text")}
    assert len(ys) == 4


def test_point_and_annotation_stay_inside():
    chart = Chart(chart_id="p", title="t", width=300, height=300)
    chart.point(0.95, 0.5, annotation="threshold 0.5")
    chart.point(0.05, 0.5, annotation="left")
    root = parse(chart.to_svg())
    circles = [c for c in root.iter(f"{NS}circle") if c.get("class") == "point"]
    assert len(circles) == 2
    anchors = [
        t.get("text-anchor") for t in root.iter(f"{NS}text") if t.get("class") == "annotation"
    ]
    assert anchors == ["end", "start"]


def test_every_url_reference_resolves_inside_the_svg():
    chart = basic_chart().bars([0], [1], [1], [0.5], hatch=True, color="#ee6677", label="gap")
    svg = chart.to_svg()
    root = parse(svg)
    ids = {e.get("id") for e in root.iter() if e.get("id")}
    refs = re.findall(r"url\(#([^)]+)\)", svg)
    assert refs and set(refs) <= ids
    assert "c1-hatch0" in refs


def test_auto_y_range_fits_the_data():
    chart = Chart(chart_id="h", title="t", y_range=None)
    chart.bars([0, 0.5], [0.5, 1], [120, 37])
    root = parse(chart.to_svg())
    labels = [t.text for g in root.iter(f"{NS}g") if g.get("class") == "tick-labels" for t in g]
    values = [float(t) for t in labels]
    assert max(values) >= 120  # the top tick covers the tallest bar
    assert max(values) <= 150  # and the axis is not much taller


def test_empty_range_is_an_error():
    with pytest.raises(ValueError, match="empty axis range"):
        Chart(chart_id="e", title="t", x_range=(1, 1)).to_svg()


def test_output_is_deterministic():
    def build():
        c = basic_chart().bars([0, 0.5], [0.5, 1], [0.3, 0.6], label="b")
        return c.line([0, 0.3, 1], [0, 0.4, 1], label="l").diagonal().to_svg()

    assert build() == build()
