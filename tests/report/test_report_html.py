"""The self-contained HTML report."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from confide.exceptions import ShapeError, ValidationError
from confide.report import render_html, write_html

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class Checker(HTMLParser):
    """Checks that every element is closed in order, and collects ids and table rows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "tr":
            self._row = []
        if tag in ("td", "th") and self._row is not None:
            self._cell = []
        if tag == "title" and "svg" not in self.stack:
            self._in_title = True
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id"):
            self.ids.append(a["id"])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        if tag == "title":
            self._in_title = False
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}>, open: {self.stack[-3:]}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in_title:
            self.title += data


def check(page: str) -> Checker:
    c = Checker()
    c.feed(page)
    c.close()
    assert c.errors == []
    assert c.stack == []
    assert len(c.ids) == len(set(c.ids)), "duplicate ids"
    return c


def svgs(page: str) -> dict[str, ET.Element]:
    out = {}
    for m in re.finditer(r"<svg\b.*?</svg>", page, flags=re.S):
        root = ET.fromstring(m.group(0))
        out[root.get("id")] = root
    return out


def rects(root: ET.Element, css: str) -> list[ET.Element]:
    return [e for e in root.iter("rect") if e.get("class") == css]


@dataclass(frozen=True)
class Roc:
    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray


@dataclass(frozen=True)
class RiskCoverage:
    coverage: np.ndarray
    risk: np.ndarray
    thresholds: np.ndarray


ROC = Roc(
    fpr=np.array([0.0, 0.0, 0.1, 0.4, 1.0]),
    tpr=np.array([0.0, 0.5, 0.8, 0.9, 1.0]),
    thresholds=np.array([np.inf, 0.9, 0.7, 0.4, 0.1]),
)
RC = RiskCoverage(
    coverage=np.array([0.1, 0.3, 0.6, 1.0]),
    risk=np.array([0.0, 0.05, 0.1, 0.2]),
    thresholds=np.array([0.95, 0.9, 0.7, 0.3]),
)


def test_page_is_well_formed_and_accessible(report):
    page = render_html(report, title="My <model> & data")
    c = check(page)
    assert page.startswith("<!DOCTYPE html>")
    assert ("html", {"lang": "en"}) in c.tags
    assert c.title == "My <model> & data"
    assert "<model>" not in page
    for tag, attrs in c.tags:
        if tag == "svg":
            assert attrs.get("role") == "img" and attrs.get("aria-labelledby")
    assert any(tag == "th" and attrs.get("scope") == "col" for tag, attrs in c.tags)
    assert any(tag == "th" and attrs.get("scope") == "row" for tag, attrs in c.tags)


def test_page_is_self_contained(report):
    page = render_html(report, roc=ROC, risk_coverage=RC, extra_sections=[("x", "<p>y</p>")])
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"\bsrc\s*=", page)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "@import" not in page and "@font-face" not in page
    assert not re.search(r"url\((?!#)", page)  # only references to ids in the page
    assert "<iframe" not in page and "<img" not in page


def test_header_summarises_the_data(report):
    page = render_html(report)
    c = check(page)
    summary = re.search(r'<dl class="summary">(.*?)</dl>', page, re.S).group(1)
    pairs = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", summary))
    assert pairs == {
        "samples": "34",
        "classes": "3",
        "bins": "5 uniform",
        "intervals": "90% bootstrap",
        "resamples": "200",
    }
    assert c.title == "confide calibration report"


def test_metrics_table_rows(report):
    c = check(render_html(report))
    rows = {r[0]: r for r in c.rows if r and r[0] in report.metrics}
    assert rows["accuracy"] == [
        "accuracy",
        "0.8123",
        "[0.7900, 0.8300]",
        "↑ higher",
        "top-label accuracy",
    ]
    assert rows["ece"] == [
        "ece",
        "0.0312",
        "[0.0251, 0.0388]",
        "↓ lower",
        "top-label ECE <15 bins>",
    ]
    assert rows["log_loss"] == ["log_loss", "0.4568", "—", "↓ lower", "negative log-likelihood"]
    header = next(r for r in c.rows if r and r[0] == "metric")
    assert header == ["metric", "value", "90% CI", "better", "description"]


def test_metrics_table_without_intervals(report_factory):
    c = check(render_html(report_factory(confidence_level=None)))
    header = next(r for r in c.rows if r and r[0] == "metric")
    assert header == ["metric", "value", "better", "description"]
    assert "not computed" in render_html(report_factory(confidence_level=None))


def test_non_finite_metric_values(report_factory, metric_factory):
    metrics = {
        "a": metric_factory("a", float("nan"), None, None, "nan metric", False),
        "b": metric_factory("b", float("inf"), None, None, "inf metric", False),
    }
    c = check(render_html(report_factory(metrics=metrics)))
    rows = {r[0]: r for r in c.rows if r and r[0] in metrics}
    assert rows["a"][1] == "n/a"
    assert rows["b"][1] == "∞"


def test_reliability_svg_bars_and_gaps(report):
    page = render_html(report)
    charts = svgs(page)
    rel = charts["reliability-diagram"]
    hist = charts["confidence-histogram"]
    d = report.reliability
    full = d.count > 0
    assert len(rects(rel, "bar")) == int(full.sum()) == 3
    assert len(rects(rel, "gap")) == 3
    assert len(rects(hist, "count")) == d.count.size == 5
    assert rel.find("title").text == "Reliability diagram"
    assert hist.find("title").text == "Confidence histogram"


def test_empty_bins_are_gaps_not_zeros(report):
    rel = svgs(render_html(report))["reliability-diagram"]
    bars = rects(rel, "bar")
    tips = [b.find("title").text for b in bars]
    # one bar per non-empty bin, none for the empty bins 0.00-0.20 and 0.60-0.80
    assert [t.split(":")[0] for t in tips] == ["bin 0.20–0.40", "bin 0.40–0.60", "bin 0.80–1.00"]
    # the non-empty bin with accuracy 0 is a real zero-height bar, the empty ones are absent
    heights = [float(b.get("height")) for b in bars]
    assert heights[0] == 0.0 and heights[1] > 0 and heights[2] > 0
    xs = [float(b.get("x")) for b in bars]
    width = float(bars[0].get("width"))
    assert xs[1] - xs[0] == pytest.approx(width, abs=0.02)  # adjacent bins
    assert xs[2] - xs[1] == pytest.approx(2 * width, abs=0.02)  # bin 3 skipped
    assert "2 empty bins are left blank" in render_html(report)


def test_reliability_section_prints_ece_mce_and_verdict(report):
    page = render_html(report)
    d = report.reliability
    assert f"ECE {d.ece:.4f}" in page and f"MCE {d.mce:.4f}" in page
    # mean confidence (4*.3 + 10*.5 + 20*.9)/34 = 0.7118 > accuracy (0 + 6 + 16)/34 = 0.6471
    assert "over-confident" in page
    assert "0.7118" in page and "0.6471" in page
    c = check(page)
    per_bin = [r for r in c.rows if r and r[0].startswith("0.")]
    assert per_bin[0] == ["0.000–0.200", "0", "—", "—", "—"]
    assert per_bin[1] == ["0.200–0.400", "4", "0.3000", "0.0000", "−0.3000"]


def test_binary_kind_labels(report_factory, diagram):
    from dataclasses import replace

    binary = replace(diagram, kind="binary")
    page = render_html(report_factory(reliability=binary, n_classes=2, binary=True))
    assert "observed frequency of y = 1" in page
    assert "2 (binary)" in page
    # for P(y = 1), a gap is a bias of the probability, not over-confidence
    assert "P(y = 1) is too high" in page
    assert "confident" not in page


def test_roc_section(report):
    page = render_html(report, roc=ROC)
    check(page)
    roc = svgs(page)["roc-curve"]
    line = next(p for p in roc.iter("path") if p.get("class") == "line")
    n_points = len(re.findall(r"-?\d+(?:\.\d+)?,-?\d+(?:\.\d+)?", line.get("d")))
    assert n_points == 5
    assert len([c for c in roc.iter("circle") if c.get("class") == "point"]) == 1
    auc = float(np.sum(np.diff(ROC.fpr) * (ROC.tpr[1:] + ROC.tpr[:-1]) / 2))
    assert f"AUC {auc:.3f}" in page
    # Youden's J is largest at (0.1, 0.8): threshold 0.7
    assert "threshold 0.700" in page
    assert any(p.get("class") == "diagonal" for p in roc.iter("path"))


def test_curves_are_optional(report):
    page = render_html(report)
    assert 'id="roc"' not in page and 'id="risk-coverage"' not in page
    assert set(svgs(page)) == {"reliability-diagram", "confidence-histogram"}
    page = render_html(report, roc=ROC, risk_coverage=RC)
    assert '<div class="pair">' in page
    assert set(svgs(page)) == {
        "reliability-diagram",
        "confidence-histogram",
        "roc-curve",
        "risk-coverage-curve",
    }


def test_risk_coverage_section_accepts_pairs(report_factory, metric_factory):
    rep = report_factory(
        metrics={"aurc": metric_factory("aurc", 0.0567, None, None, "AURC", False)}
    )
    page = render_html(rep, risk_coverage=(RC.coverage, RC.risk))
    check(page)
    chart = svgs(page)["risk-coverage-curve"]
    line = next(p for p in chart.iter("path") if p.get("class") == "line")
    assert len(re.findall(r"-?\d+(?:\.\d+)?,-?\d+(?:\.\d+)?", line.get("d"))) == 4
    assert any(p.get("class") == "hline" for p in chart.iter("path"))
    assert "Risk at full coverage 0.2000" in page
    assert "AURC 0.0567" in page


def test_bad_curves_raise(report):
    with pytest.raises(ShapeError):
        render_html(report, roc=([0, 1], [0, 0.5, 1]))
    with pytest.raises(ValidationError):
        render_html(report, roc="not a curve")
    with pytest.raises(ValidationError):
        render_html(report, extra_sections=[42])


def test_extra_sections(report):
    @dataclass
    class Section:
        title: str
        html: str

    page = render_html(
        report,
        extra_sections=[
            ("Monitoring <timeline>", "<p class='t'>drift!</p>"),
            Section("Metrics", "<p>again</p>"),
            {"title": "Monitoring <timeline>", "html": "<p>second</p>"},
        ],
    )
    c = check(page)
    assert "Monitoring &lt;timeline&gt;" in page
    assert "<p class='t'>drift!</p>" in page  # trusted html goes in as is
    extra_ids = [a["id"] for t, a in c.tags if t == "section" and "extra" in (a.get("class") or "")]
    assert extra_ids == ["monitoring-timeline", "metrics-2", "monitoring-timeline-2"]
    assert page.index("drift!") > page.index('id="reliability"')


def test_warnings_are_listed(report_factory):
    page = render_html(report_factory(warnings=("roc_auc left out: one class <only>",)))
    check(page)
    assert 'id="warnings"' in page
    assert "roc_auc left out: one class &lt;only&gt;" in page
    assert 'id="warnings"' not in render_html(report_factory())


def test_render_is_deterministic(report):
    kw = dict(roc=ROC, risk_coverage=RC)
    assert render_html(report, **kw) == render_html(report, **kw)


def test_write_html(tmp_path, report):
    path = write_html(tmp_path / "r.html", report, title="T", roc=ROC)
    assert isinstance(path, Path)
    assert path.read_text(encoding="utf-8") == render_html(report, title="T", roc=ROC)


def _calibration_report():
    try:
        from confide.metrics import calibration_report
    except ImportError:
        try:
            from confide.metrics._report import calibration_report
        except ImportError:
            pytest.skip("calibration_report is not importable yet")
    return calibration_report


def test_real_report_and_curves(tmp_path):
    calibration_report = _calibration_report()
    from confide.metrics import risk_coverage_curve, roc_curve

    rng = np.random.default_rng(0)
    n, k = 300, 3
    logits = rng.normal(size=(n, k)) * 2
    prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = (prob.cumsum(1) > rng.random((n, 1))).argmax(1)
    rep = calibration_report(y, prob, n_bins=10, n_resamples=10)
    conf = prob.max(1)
    correct = (prob.argmax(1) == y).astype(int)
    page = render_html(
        rep, roc=roc_curve(correct, conf), risk_coverage=risk_coverage_curve(y, prob)
    )
    c = check(page)
    assert "http" not in page
    rows = {r[0]: r for r in c.rows if r and r[0] in rep.metrics}
    assert set(rows) == set(rep.metrics)
    for name, m in rep.metrics.items():
        assert rows[name][1] == f"{m.value:.4f}"
    charts = svgs(page)
    full = int((rep.reliability.count > 0).sum())
    assert len(rects(charts["reliability-diagram"], "bar")) == full
    assert len(rects(charts["confidence-histogram"], "count")) == 10
