"""One self-contained HTML page for a calibration report.

The page has inline CSS and inline SVG only: no script, no external stylesheet, font, image or
URL, so it can be mailed, archived or opened offline and prints as it shows. It relies only on
the attributes of :class:`confide.metrics.CalibrationReport` (duck typing), and takes curves as
objects with the usual attributes (``fpr``/``tpr`` for ROC, ``coverage``/``risk`` for
risk-coverage) or as plain ``(x, y)`` pairs of arrays.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from confide.exceptions import ShapeError, ValidationError
from confide.report._svg import BLUE, GREY, RED, Chart, escape_text, nice_upper

__all__ = ["render_html", "write_html"]

_HIST = "#8fa3b8"
_WIDE = 620  # width of the reliability diagram and of the histogram beneath it
_NARROW = 440  # width of the ROC and risk-coverage charts

_CSS = """
:root{color-scheme:light;--ink:#222;--muted:#5c6166;--rule:#dcdcd8;--soft:#f1f1ee}
*{box-sizing:border-box}
body{margin:0;background:#f7f7f5;color:var(--ink);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:1000px;margin:0 auto;padding:28px 24px 40px}
header{margin-bottom:20px;padding-bottom:12px;border-bottom:2px solid var(--ink)}
h1{font-size:1.55rem;line-height:1.25;margin:0 0 4px}
h2{font-size:1.15rem;margin:0 0 10px}
p{margin:0 0 10px;max-width:72ch}
.lede{color:var(--muted)}
dl.summary{display:flex;flex-wrap:wrap;gap:10px 36px;margin:14px 0 4px}
dl.summary dt{font-size:.72rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
dl.summary dd{margin:0;font-size:1.05rem;font-weight:600;font-variant-numeric:tabular-nums}
section{background:#fff;border:1px solid var(--rule);border-radius:6px;padding:18px 22px;
margin:0 0 20px}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(400px,100%),1fr));gap:20px;
margin:0 0 20px}
.pair>section{margin:0}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
caption{text-align:left;color:var(--muted);font-size:.85rem;padding-bottom:6px}
th,td{padding:5px 10px;border-bottom:1px solid #ebebe8;text-align:left;vertical-align:baseline}
thead th{border-bottom:2px solid var(--ink);font-size:.75rem;text-transform:uppercase;
letter-spacing:.04em;color:var(--muted);font-weight:600}
tbody th{font-weight:600;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
font-size:.88rem;white-space:nowrap}
tbody tr:nth-child(even){background:#fafaf8}
.num{text-align:right;white-space:nowrap}
.better{white-space:nowrap;color:var(--muted)}
.better span{color:var(--ink);font-weight:700}
.desc{color:var(--muted)}
.rel{display:grid;grid-template-columns:minmax(0,620px) minmax(200px,1fr);gap:12px 28px;
align-items:start}
.side p{font-size:.92rem}
.verdict{font-weight:600}
dl.stats{display:grid;grid-template-columns:auto auto;gap:2px 16px;margin:6px 0 14px;
font-variant-numeric:tabular-nums;justify-content:start}
dl.stats div{display:contents}
dl.stats dt{color:var(--muted)}
dl.stats dd{margin:0;font-weight:700;text-align:right}
@media (max-width:860px){.rel{grid-template-columns:1fr}.side{order:-1}}
@media (max-width:560px){main{padding:16px 10px}section{padding:14px 12px}}
figure{margin:0}
figure svg{display:block;max-width:100%;height:auto}
figcaption{color:var(--muted);font-size:.88rem;margin-top:6px}
details{margin-top:12px}
summary{cursor:pointer;color:var(--muted)}
.notice{border-left:4px solid #ccbb44;background:#fffcee}
.notice ul{margin:0;padding-left:20px}
.empty{color:var(--muted)}
footer{color:var(--muted);font-size:.8rem;text-align:center;margin-top:8px}
@media print{
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{background:#fff;font-size:10.5pt}
main{max-width:none;padding:0}
section{border:0;border-radius:0;padding:0;margin:0 0 14pt}
h2{break-after:avoid}
figure,table,.side{break-inside:avoid}
.rel{display:flex;flex-direction:column}
.side{order:-1}
.pair{display:block}
.pair>section{margin:0 0 14pt}
tbody tr:nth-child(even){background:none}
summary{display:none}
}
"""


def _version() -> str:
    try:
        return metadata.version("confide")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return ""


def _num(value: Any, digits: int = 4) -> str:
    """A number with ``digits`` decimals; NaN as "n/a", infinities as "∞"."""
    if value is None:
        return "—"
    v = float(value)
    if math.isnan(v):
        return "n/a"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    text = f"{v:.{digits}f}"
    return text.replace("-", "−") if v < 0 and float(text) != 0 else text.lstrip("-")


def _count(value: float) -> str:
    v = float(value)
    return f"{int(v):,}" if v == int(v) else f"{v:,.2f}"


def _percent(level: float) -> str:
    return f"{level * 100:g}%"


def _slug(text: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    slug, i = base, 2
    while slug in used:
        slug, i = f"{base}-{i}", i + 1
    used.add(slug)
    return slug


def _curve(obj: Any, names: tuple[str, str], what: str) -> tuple[np.ndarray, np.ndarray, Any]:
    """``(x, y, thresholds or None)`` of a curve object, a mapping or an ``(x, y[, t])`` tuple."""
    if all(hasattr(obj, n) for n in names):
        parts = [getattr(obj, n) for n in names] + [getattr(obj, "thresholds", None)]
    elif isinstance(obj, Mapping) and all(n in obj for n in names):
        parts = [obj[n] for n in names] + [obj.get("thresholds")]
    elif isinstance(obj, tuple | list) and len(obj) in (2, 3):
        parts = [*obj, None][:3]
    else:
        raise ValidationError(
            f"{what} must have attributes {names[0]!r} and {names[1]!r} (the result of "
            f"confide.metrics) or be a pair of arrays ({names[0]}, {names[1]}); "
            f"got a {type(obj).__name__}."
        )
    x = np.asarray(parts[0], dtype=np.float64).ravel()
    y = np.asarray(parts[1], dtype=np.float64).ravel()
    if x.size != y.size:
        raise ShapeError(
            f"{what}: {names[0]} and {names[1]} differ in length ({x.size} != {y.size})."
        )
    if x.size == 0:
        raise ShapeError(f"{what} has no points.")
    thresholds = None if parts[2] is None else np.asarray(parts[2]).ravel()
    if thresholds is not None and thresholds.size != x.size:
        thresholds = None
    return x, y, thresholds


def _trapezoid(x: np.ndarray, y: np.ndarray) -> float:
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0)) if x.size > 1 else float("nan")


# --------------------------------------------------------------------------- sections
def _header(report: Any, title: str, diagram: Any) -> str:
    n_classes = int(report.n_classes)
    binary = bool(getattr(report, "binary", n_classes == 2))
    n_bins = int(getattr(report, "n_bins", len(diagram.count)))
    level = getattr(report, "confidence_level", None)
    n_res = int(getattr(report, "n_resamples", 0) or 0)
    classes = f"{n_classes} (binary)" if binary else str(n_classes)
    ci = f"{_percent(level)} bootstrap" if level else "not computed"
    items = [
        ("samples", _count(report.n_samples)),
        ("classes", classes),
        ("bins", f"{n_bins} {_binning_name(diagram.edges)}"),
        ("intervals", ci),
    ]
    if level and n_res:
        items.append(("resamples", f"{n_res:,}"))
    summary = "".join(
        f"<div><dt>{escape_text(k)}</dt><dd>{escape_text(v)}</dd></div>" for k, v in items
    )
    kind = "binary" if binary else f"{n_classes}-class"
    lede = (
        f"Calibration and discrimination of {_count(report.n_samples)} {kind} predictions: "
        "how far the confidence can be trusted, and how well it ranks right above wrong."
    )
    return (
        f'<header id="summary"><h1>{escape_text(title)}</h1>'
        f'<p class="lede">{escape_text(lede)}</p>'
        f'<dl class="summary">{summary}</dl></header>'
    )


def _binning_name(edges: Any) -> str:
    e = np.asarray(edges, dtype=np.float64)
    w = np.diff(e)
    if w.size and np.allclose(w, w[0], rtol=1e-6, atol=1e-9):
        return "uniform"
    return "variable-width"


def _warnings(report: Any) -> str:
    warnings = tuple(getattr(report, "warnings", ()) or ())
    if not warnings:
        return ""
    items = "".join(f"<li>{escape_text(w)}</li>" for w in warnings)
    return (
        '<section id="warnings" class="notice" aria-labelledby="warnings-h">'
        f'<h2 id="warnings-h">Warnings</h2><ul>{items}</ul></section>'
    )


def _metrics_table(report: Any) -> str:
    level = getattr(report, "confidence_level", None)
    metrics = list(report.metrics.values())
    head = ['<th scope="col">metric</th>', '<th scope="col" class="num">value</th>']
    if level:
        head.append(f'<th scope="col" class="num">{escape_text(_percent(level))} CI</th>')
    head += ['<th scope="col">better</th>', '<th scope="col">description</th>']
    rows = []
    for m in metrics:
        hib = bool(m.higher_is_better)
        cells = [
            f'<th scope="row">{escape_text(m.name)}</th>',
            f'<td class="num">{_num(m.value)}</td>',
        ]
        if level:
            ci = (
                f"[{_num(m.low)}, {_num(m.high)}]"
                if m.low is not None and m.high is not None
                else "—"
            )
            cells.append(f'<td class="num">{ci}</td>')
        arrow, word = ("↑", "higher") if hib else ("↓", "lower")
        cells.append(
            f'<td class="better" title="{word} is better">'
            f'<span aria-hidden="true">{arrow}</span> {word}</td>'
        )
        cells.append(f'<td class="desc">{escape_text(m.description)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    if not rows:
        body = '<p class="empty">No metric could be computed on these data.</p>'
    else:
        caption = "Every metric on the full data"
        if level:
            caption += f", with its {_percent(level)} bootstrap confidence interval"
        caption += ". The arrow says which direction is better."
        body = (
            f'<div class="table-wrap"><table><caption>{escape_text(caption)}</caption>'
            f"<thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )
    return (
        '<section id="metrics" aria-labelledby="metrics-h">'
        f'<h2 id="metrics-h">Metrics</h2>{body}</section>'
    )


def reliability_svgs(diagram: Any, *, standalone: bool = False) -> tuple[str, str]:
    """The reliability diagram and the confidence histogram beneath it, as two SVG strings."""
    edges = np.asarray(diagram.edges, dtype=np.float64)
    count = np.asarray(diagram.count, dtype=np.float64)
    conf = np.asarray(diagram.mean_confidence, dtype=np.float64)
    acc = np.asarray(diagram.accuracy, dtype=np.float64)
    empty = ~(count > 0)
    acc = np.where(empty, np.nan, acc)
    conf = np.where(empty, np.nan, conf)
    binary = diagram.kind == "binary"
    x_name = "predicted probability P(y = 1)" if binary else "confidence (top-label probability)"
    y_name = "observed frequency of y = 1" if binary else "accuracy"
    x_range = (min(0.0, float(edges[0])), max(1.0, float(edges[-1])))
    lo, hi = edges[:-1], edges[1:]
    tips = []
    for i in range(count.size):
        where = f"bin {_num(lo[i], 2)}–{_num(hi[i], 2)}"
        if empty[i]:
            tips.append(f"{where}: empty")
        else:
            tips.append(
                f"{where}: {_count(count[i])} samples, mean confidence {_num(conf[i], 3)}, "
                f"{y_name} {_num(acc[i], 3)}, gap {_num(acc[i] - conf[i], 3)}"
            )
    n_empty = int(empty.sum())
    desc = (
        f"Bars: {y_name} in each of {count.size} bins of {x_name}"
        + (f" ({n_empty} empty bins are left blank)" if n_empty else "")
        + "; hatched: the gap to the mean confidence of the bin; dashed diagonal: perfect "
        f"calibration. ECE {_num(diagram.ece)}, MCE {_num(diagram.mce)}."
    )
    rel = Chart(
        chart_id="reliability-diagram",
        title="Reliability diagram",
        description=desc,
        x_label=x_name,
        y_label=y_name,
        x_range=x_range,
        y_range=(0.0, 1.0),
        width=_WIDE,
        height=470,
    )
    short = "observed frequency" if binary else "accuracy"
    rel.bars(lo, hi, acc, label=f"{short} per bin", color=BLUE, tooltips=tips)
    rel.bars(
        lo,
        hi,
        conf,
        acc,
        label="gap to mean confidence",
        color=RED,
        hatch=True,
        css_class="gap",
        tooltips=tips,
    )
    rel.diagonal(label="perfect calibration")
    hist = Chart(
        chart_id="confidence-histogram",
        title="Confidence histogram",
        description=f"Number of samples in each of the {count.size} bins of {x_name}.",
        x_label=x_name,
        y_label="count",
        x_range=x_range,
        y_range=(0.0, nice_upper(float(count.max()) if count.size else 1.0, 4)),
        width=_WIDE,
        height=190,
    )
    hist.bars(
        lo,
        hi,
        count,
        color=_HIST,
        css_class="count",
        tooltips=[
            f"bin {_num(a, 2)}–{_num(b, 2)}: {_count(c)}"
            for a, b, c in zip(lo, hi, count, strict=True)
        ],
    )
    return rel.to_svg(standalone=standalone), hist.to_svg(standalone=standalone)


def _reliability(diagram: Any) -> str:
    count = np.asarray(diagram.count, dtype=np.float64)
    conf = np.asarray(diagram.mean_confidence, dtype=np.float64)
    acc = np.asarray(diagram.accuracy, dtype=np.float64)
    full = count > 0
    total = float(count[full].sum())
    binary = diagram.kind == "binary"
    if total > 0:
        mean_conf = float(np.sum(count[full] * conf[full]) / total)
        mean_acc = float(np.sum(count[full] * acc[full]) / total)
    else:
        mean_conf = mean_acc = float("nan")
    gap = mean_acc - mean_conf
    conf_name = "mean P(y = 1)" if binary else "mean confidence"
    acc_name = "observed frequency" if binary else "accuracy"
    over, under = (
        ("P(y = 1) is too high", "P(y = 1) is too low")
        if binary
        else ("the predictions are over-confident", "the predictions are under-confident")
    )
    if not math.isfinite(gap):
        verdict = ""
    elif abs(gap) < 0.005:
        verdict = f"On average the {conf_name} matches the {acc_name} (within 0.005)."
    elif gap < 0:
        verdict = f"On average {over}: the {conf_name} exceeds the {acc_name} by {_num(-gap, 3)}."
    else:
        verdict = f"On average {under}: the {acc_name} exceeds the {conf_name} by {_num(gap, 3)}."
    n_empty = int((~full).sum())
    stats = [
        ("ECE", _num(diagram.ece)),
        ("MCE", _num(diagram.mce)),
        (conf_name, _num(mean_conf)),
        (acc_name, _num(mean_acc)),
    ]
    stats_html = "".join(f"<div><dt>{escape_text(k)}</dt><dd>{v}</dd></div>" for k, v in stats)
    rel_svg, hist_svg = reliability_svgs(diagram)
    score = "probability" if binary else "confidence"
    over_short = "P(y = 1) too high" if binary else "over-confident"
    how = (
        f"Each bar is the {acc_name} of the predictions whose {score} falls in that bin; "
        f"the hatched part is the gap to the bin's mean {score}. Hatching above a bar (bar "
        f"below the diagonal) means {over_short}, "
        f"hatching inside a bar means {'P(y = 1) too low' if binary else 'under-confident'}. "
        "The histogram shows how many samples each bin holds: gaps in thin bins are noisy."
    )
    caption = (
        f"Reliability diagram, {count.size} bins: ECE {_num(diagram.ece)} "
        f"(bin-weighted mean |gap|), MCE {_num(diagram.mce)} (largest |gap|)."
    )
    if n_empty:
        caption += f" {n_empty} empty bin{'s are' if n_empty > 1 else ' is'} left blank."
    rows = []
    lo, hi = diagram.edges[:-1], diagram.edges[1:]
    for i in range(count.size):
        g = acc[i] - conf[i] if full[i] else float("nan")
        rows.append(
            f'<tr><th scope="row">{_num(lo[i], 3)}–{_num(hi[i], 3)}</th>'
            f'<td class="num">{_count(count[i])}</td>'
            f'<td class="num">{_num(conf[i], 4) if full[i] else "—"}</td>'
            f'<td class="num">{_num(acc[i], 4) if full[i] else "—"}</td>'
            f'<td class="num">{_num(g, 4) if full[i] else "—"}</td></tr>'
        )
    table = (
        '<details><summary>Values per bin</summary><div class="table-wrap"><table>'
        f"<caption>{escape_text(acc_name.capitalize())} minus {escape_text(conf_name)} "
        f"is the gap; negative means {escape_text(over_short)}.</caption><thead><tr>"
        '<th scope="col">bin</th><th scope="col" class="num">count</th>'
        f'<th scope="col" class="num">{escape_text(conf_name)}</th>'
        f'<th scope="col" class="num">{escape_text(acc_name)}</th>'
        '<th scope="col" class="num">gap</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></details>"
    )
    return (
        '<section id="reliability" aria-labelledby="reliability-h">'
        '<h2 id="reliability-h">Reliability</h2><div class="rel">'
        f"<figure>{rel_svg}{hist_svg}<figcaption>{escape_text(caption)}</figcaption></figure>"
        f'<div class="side"><dl class="stats">{stats_html}</dl>'
        + (f'<p class="verdict">{escape_text(verdict)}</p>' if verdict else "")
        + f"<p>{escape_text(how)}</p></div></div>{table}</section>"
    )


def _roc(roc: Any) -> str:
    fpr, tpr, thr = _curve(roc, ("fpr", "tpr"), "roc")
    auc = _trapezoid(fpr, tpr)
    chart = Chart(
        chart_id="roc-curve",
        title="ROC curve",
        description=(
            f"True-positive rate against false-positive rate over all thresholds, "
            f"{fpr.size} points; area under the curve {_num(auc)}. Dashed diagonal: chance."
        ),
        x_label="false-positive rate",
        y_label="true-positive rate",
        width=_NARROW,
        height=440,
    )
    chart.line(fpr, tpr, label=f"ROC (AUC {_num(auc, 3)})", color=BLUE)
    chart.diagonal(label="chance")
    caption = f"Area under the curve (trapezoidal) {_num(auc)}."
    ok = np.isfinite(fpr) & np.isfinite(tpr)
    if ok.any():
        j = np.where(ok, tpr - fpr, -np.inf)
        best = int(np.argmax(j))
        t = None if thr is None else thr[best]
        t_text = ""
        if t is not None and np.isfinite(float(t)):
            t_text = f"threshold {_num(float(t), 3)}"
        chart.point(
            float(fpr[best]),
            float(tpr[best]),
            label="max TPR − FPR",
            annotation=t_text or None,
        )
        caption += (
            f" The marked point maximises TPR − FPR (Youden's J = {_num(j[best], 3)}): "
            f"TPR {_num(tpr[best], 3)} at FPR {_num(fpr[best], 3)}"
            + (f", {t_text}" if t_text else "")
            + "."
        )
    return (
        '<section id="roc" aria-labelledby="roc-h"><h2 id="roc-h">ROC curve</h2>'
        f"<figure>{chart.to_svg(standalone=False)}"
        f"<figcaption>{escape_text(caption)}</figcaption></figure></section>"
    )


def _risk_coverage(curve: Any, report: Any) -> str:
    coverage, risk, _ = _curve(curve, ("coverage", "risk"), "risk_coverage")
    finite = risk[np.isfinite(risk)]
    top = nice_upper(max(float(finite.max()) if finite.size else 0.0, 1e-3), 5)
    chart = Chart(
        chart_id="risk-coverage-curve",
        title="Risk-coverage curve",
        description=(
            "Error rate among the most confident predictions (risk) against the fraction of "
            f"predictions kept (coverage), {coverage.size} points."
        ),
        x_label="coverage (fraction of predictions kept)",
        y_label="risk (error rate among kept)",
        y_range=(0.0, top),
        width=_NARROW,
        height=440,
    )
    chart.line(coverage, risk, label="selective risk", color=BLUE)
    caption = (
        "Keeping only the most confident predictions should lower the error rate: "
        "the curve should rise from left to right."
    )
    ok = np.isfinite(coverage) & np.isfinite(risk)
    if ok.any():
        last = np.flatnonzero(ok)[np.argmax(coverage[ok])]
        full_risk = float(risk[last])
        at = "full coverage" if coverage[last] == 1 else f"coverage {_num(coverage[last], 2)}"
        chart.hline(full_risk, label=f"risk at {at}", color=GREY)
        caption += f" Risk at full coverage {_num(full_risk)}."
    metrics = getattr(report, "metrics", {}) or {}
    quoted = [
        f"{name} {_num(metrics[key].value)}"
        for key, name in (("aurc", "AURC"), ("e_aurc", "excess AURC"))
        if key in metrics
    ]
    if quoted:
        caption += " " + ", ".join(quoted) + "."
    return (
        '<section id="risk-coverage" aria-labelledby="risk-coverage-h">'
        '<h2 id="risk-coverage-h">Risk-coverage curve</h2>'
        f"<figure>{chart.to_svg(standalone=False)}"
        f"<figcaption>{escape_text(caption)}</figcaption></figure></section>"
    )


def _extra(sections: Iterable[Any], used: set[str]) -> str:
    out = []
    for item in sections:
        if hasattr(item, "title") and hasattr(item, "html"):
            title, body = item.title, item.html
        elif isinstance(item, Mapping):
            title, body = item["title"], item["html"]
        else:
            try:
                title, body = item
            except (TypeError, ValueError):
                raise ValidationError(
                    "extra_sections must hold (title, html) pairs or objects with .title and "
                    f".html; got a {type(item).__name__}."
                ) from None
        sid = _slug(str(title), used)
        out.append(
            f'<section id="{sid}" class="extra" aria-labelledby="{sid}-h">'
            f'<h2 id="{sid}-h">{escape_text(title)}</h2>{body}</section>'
        )
    return "".join(out)


def render_html(
    report: Any,
    *,
    title: str = "confide calibration report",
    roc: Any = None,
    risk_coverage: Any = None,
    extra_sections: Iterable[Any] = (),
) -> str:
    """A self-contained HTML page for a :class:`~confide.metrics.CalibrationReport`.

    Parameters
    ----------
    report : CalibrationReport
        Or any object with its attributes (``n_samples``, ``n_classes``, ``metrics``,
        ``reliability`` and, optionally, ``binary``, ``n_bins``, ``confidence_level``,
        ``n_resamples``, ``warnings``).
    title : str
        Page title and heading.
    roc : RocCurve or (fpr, tpr) or None
        Drawn with the chance diagonal and the point that maximises TPR − FPR.
    risk_coverage : RiskCoverageCurve or (coverage, risk) or None
        Drawn with the risk at full coverage; AURC is quoted from ``report.metrics``.
    extra_sections : iterable of (title, html)
        Further sections appended in order (objects with ``.title`` and ``.html`` work too).
        The title is escaped; the html is inserted as is, so it must be trusted markup.

    Returns
    -------
    str
        The page: inline CSS and inline SVG only, no script and no external resource.
    """
    diagram = report.reliability
    used = {"summary", "warnings", "metrics", "reliability", "roc", "risk-coverage"}
    used |= {"reliability-diagram", "confidence-histogram", "roc-curve", "risk-coverage-curve"}
    curves = []
    if roc is not None:
        curves.append(_roc(roc))
    if risk_coverage is not None:
        curves.append(_risk_coverage(risk_coverage, report))
    curves_html = ""
    if len(curves) == 2:
        curves_html = f'<div class="pair">{"".join(curves)}</div>'
    elif curves:
        curves_html = curves[0]
    version = _version()
    generator = f"confide {version}".strip()
    body = (
        _header(report, title, diagram)
        + _warnings(report)
        + _metrics_table(report)
        + _reliability(diagram)
        + curves_html
        + _extra(extra_sections, used)
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="{escape_text(generator)}">\n'
        f"<title>{escape_text(title)}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n<main>\n{body}\n"
        f"<footer>Generated by {escape_text(generator)}. A self-contained page: no scripts, "
        "no external resources.</footer>\n</main>\n</body>\n</html>\n"
    )


def write_html(
    path: str | Path,
    report: Any,
    *,
    title: str = "confide calibration report",
    roc: Any = None,
    risk_coverage: Any = None,
    extra_sections: Iterable[Any] = (),
) -> Path:
    """Write :func:`render_html` to ``path`` as UTF-8 and return the path."""
    page = render_html(
        report, title=title, roc=roc, risk_coverage=risk_coverage, extra_sections=extra_sections
    )
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path
