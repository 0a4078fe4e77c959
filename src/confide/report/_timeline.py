"""The monitoring timeline: inline SVG charts and a table, per chunk, as self-contained HTML.

:func:`timeline_section` renders the chunk rows of ``confide monitor`` (plain dicts, as
:func:`confide.cli._monitor_run.run_monitor_arrays` returns them; missing values None) and the
alert events:

* the mean confidence per chunk against the reference mean;
* the accuracy estimated without labels (CBPE, with its band; ATC) against the realised
  accuracy where labels exist and the reference accuracy;
* the PSI of each chunk with its size-aware threshold, and the Benjamini-Hochberg adjusted
  p-values of the KS and PSI tests on a ``-log10`` scale with the level ``alpha``;
* chunks where an alert is active are shaded on every chart, firing events are marked;
* a table of every chunk and the list of alert events.

:func:`write_monitor_report` wraps the section in a whole page (the report's CSS, no script,
no external resource).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from confide.report._html import _CSS, _num, _version
from confide.report._svg import BLUE, GREEN, GREY, INK, PURPLE, RED, Chart, escape_text

__all__ = ["timeline_section", "write_monitor_report"]

_WIDTH = 760
_P_FLOOR = 1e-16  # -log10 of adjusted p-values is capped at 16


def _col(rows: Sequence[Mapping[str, Any]], name: str) -> np.ndarray:
    return np.array(
        [np.nan if r.get(name) is None else float(r[name]) for r in rows], dtype=np.float64
    )


def _chart(chart_id: str, title: str, y_label: str, n: int, y_range: tuple[float, float]) -> Chart:
    ticks = None if n > 12 else [float(i) for i in range(n)]
    return Chart(
        chart_id=chart_id,
        title=title,
        description=f"{title}, one point per chunk (chunk number on the x axis).",
        x_label="chunk",
        y_label=y_label,
        x_range=(-0.5, n - 0.5),
        y_range=y_range,
        width=_WIDTH,
        height=250,
        x_ticks=ticks,
        margins=(62.0, 16.0),
    )


def _shade(chart: Chart, active: np.ndarray, y_range: tuple[float, float]) -> None:
    if active.any():
        idx = np.flatnonzero(active).astype(np.float64)
        chart.bars(
            idx - 0.5,
            idx + 0.5,
            np.full(idx.shape, y_range[1]),
            np.full(idx.shape, y_range[0]),
            label="alert active",
            color=RED,
            opacity=0.12,
            css_class="alert-span",
        )


def _padded(
    values: list[np.ndarray], low: float | None = None, high: float | None = None
) -> tuple[float, float]:
    v = np.concatenate([np.ravel(x) for x in values])
    v = v[np.isfinite(v)]
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)
    pad = max((hi - lo) * 0.08, 1e-3)
    lo, hi = lo - pad, hi + pad
    if low is not None:
        lo = max(lo, low)
    if high is not None:
        hi = min(hi, high)
    return (lo, hi) if hi > lo else (lo - 0.5, lo + 0.5)


def _charts(
    rows: Sequence[Mapping[str, Any]],
    fired: Sequence[int],
    reference: Mapping[str, Any],
    alpha: float | None,
) -> list[str]:
    n = len(rows)
    x = np.arange(n, dtype=np.float64)
    active = np.array([bool(r.get("alerts")) for r in rows])
    ref_conf, ref_acc = reference.get("mean_confidence"), reference.get("accuracy")
    out = []

    conf = _col(rows, "mean_confidence")
    extra = [np.array([ref_conf], dtype=np.float64)] if ref_conf is not None else []
    yr = _padded([conf, *extra], 0.0, 1.0)
    c = _chart("timeline-confidence", "Mean confidence per chunk", "mean confidence", n, yr)
    _shade(c, active, yr)
    if ref_conf is not None:
        c.hline(float(ref_conf), label="reference mean", color=GREY)
    c.line(x, conf, label="mean confidence", color=BLUE, markers=True)
    out.append(c.to_svg(standalone=False))

    est, lo, hi = (
        _col(rows, k) for k in ("estimated_accuracy", "estimated_lower", "estimated_upper")
    )
    atc, real = _col(rows, "atc_accuracy"), _col(rows, "realised_accuracy")
    extra = [np.array([ref_acc], dtype=np.float64)] if ref_acc is not None else []
    yr = _padded([est, lo, hi, atc, real, *extra], 0.0, 1.0)
    c = _chart("timeline-accuracy", "Estimated and realised accuracy", "accuracy", n, yr)
    _shade(c, active, yr)
    c.bars(x - 0.3, x + 0.3, hi, lo, label="CBPE band", color=BLUE, opacity=0.25, css_class="band")
    if ref_acc is not None:
        c.hline(float(ref_acc), label="reference accuracy", color=GREY)
    c.line(x, est, label="CBPE estimate", color=BLUE, markers=True)
    c.line(x, atc, label="ATC estimate", color=PURPLE, dash="6 3", markers=True)
    if np.isfinite(real).any():
        c.line(x, real, label="realised", color=INK, markers=True)
    for j, i in enumerate(fired):
        if 0 <= i < n and np.isfinite(est[i]):
            c.point(float(i), float(est[i]), label="alert fired" if j == 0 else None, color=RED)
    out.append(c.to_svg(standalone=False))

    psi, thr = _col(rows, "psi"), _col(rows, "psi_threshold")
    yr = (0.0, max(float(np.nanmax(np.concatenate([psi, thr, [1e-3]]))) * 1.12, 1e-3))
    c = _chart("timeline-psi", "PSI per chunk and its size-aware threshold", "PSI", n, yr)
    _shade(c, active, yr)
    c.line(x, thr, label="threshold", color=RED, dash="5 4")
    c.line(x, psi, label="PSI", color=GREEN, markers=True)
    out.append(c.to_svg(standalone=False))

    ks = -np.log10(np.maximum(_col(rows, "ks_p_adjusted"), _P_FLOOR))
    ps = -np.log10(np.maximum(_col(rows, "psi_p_adjusted"), _P_FLOOR))
    level = -math.log10(alpha) if alpha else 2.0
    top = max(float(np.nanmax(np.concatenate([ks, ps, [level]]))) * 1.12, 1.0)
    yr = (0.0, top)
    c = _chart("timeline-pvalues", "Drift tests, BH-adjusted p-values", "−log10 adjusted p", n, yr)
    _shade(c, active, yr)
    c.hline(level, label=f"alpha = {alpha:g}" if alpha else "p = 0.01", color=RED)
    c.line(x, ks, label="KS", color=BLUE, markers=True)
    c.line(x, ps, label="PSI", color=GREEN, dash="6 3", markers=True)
    out.append(c.to_svg(standalone=False))
    return out


_COLUMNS = (
    ("chunk", "key"),
    ("n", "n"),
    ("mean conf.", "mean_confidence"),
    ("KS p (BH)", "ks_p_adjusted"),
    ("PSI / thr.", "psi"),
    ("CBPE acc. [band]", "estimated_accuracy"),
    ("ATC acc.", "atc_accuracy"),
    ("realised", "realised_accuracy"),
    ("CUSUM", "cusum_statistic"),
    ("alerts", "alerts"),
)


def _p(value: Any) -> str:
    if value is None:
        return "—"
    v = float(value)
    return f"{v:.2e}" if v < 1e-3 else f"{v:.3f}"


def _cell(row: Mapping[str, Any], key: str) -> str:
    if key == "key":
        return f"<th scope='row'>{escape_text(row.get('key'))}</th>"
    if key == "n":
        return f"<td class='num'>{int(row['n']):,}</td>"
    if key == "ks_p_adjusted":
        text = _p(row.get(key)) + (" ⚑" if row.get("drift") else "")
    elif key == "psi":
        text = f"{_num(row.get('psi'))} / {_num(row.get('psi_threshold'))}"
    elif key == "estimated_accuracy":
        text = (
            f"{_num(row.get(key))} <small>[{_num(row.get('estimated_lower'))}, "
            f"{_num(row.get('estimated_upper'))}]</small>"
        )
    elif key == "cusum_statistic":
        text = _num(row.get(key), 2) + (" ⚑" if row.get("cusum_alarm") else "")
    elif key == "alerts":
        return f"<td>{escape_text(', '.join(row.get('alerts') or []))}</td>"
    else:
        text = _num(row.get(key))
    return f"<td class='num'>{text}</td>"


def timeline_section(
    rows: Sequence[Mapping[str, Any]],
    alerts: Sequence[Mapping[str, Any]],
    *,
    reference: Mapping[str, Any] | None = None,
    alpha: float | None = None,
) -> str:
    """HTML (inline SVG charts, a table and the alert list) for the monitored chunks.

    Parameters
    ----------
    rows : sequence of dict
        One per chunk, with the fields of ``run_monitor_arrays``'s ``"chunks"`` (``key``,
        ``n``, ``mean_confidence``, ``estimated_accuracy`` ...; None where missing).
    alerts : sequence of dict
        Alert events (``rule``, ``state``, ``at`` = chunk position, ``message``).
    reference : dict, optional
        ``mean_confidence`` and ``accuracy`` of the reference, drawn as reference lines.
    alpha : float, optional
        Level of the drift tests, drawn on the p-value chart.

    Returns
    -------
    str
        Trusted markup: every text is escaped; no script, no external resource.
    """
    if not rows:
        return "<p class='empty'>No chunk to show.</p>"
    fired = [int(e["at"]) for e in alerts if e.get("state") == "fired"]
    charts = "".join(
        f"<figure>{svg}</figure>" for svg in _charts(rows, fired, reference or {}, alpha)
    )
    head = "".join(f"<th scope='col'>{escape_text(h)}</th>" for h, _ in _COLUMNS)
    body = "".join("<tr>" + "".join(_cell(r, key) for _, key in _COLUMNS) + "</tr>" for r in rows)
    table = (
        "<div class='table-wrap'><table><caption>Per chunk: ⚑ marks drift after the "
        "Benjamini-Hochberg correction or a CUSUM alarm.</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )
    if alerts:
        items = "".join(
            f"<li><strong>{escape_text(e.get('state'))}</strong> at chunk "
            f"{escape_text(e.get('chunk', e.get('at')))}: {escape_text(e.get('message'))}</li>"
            for e in alerts
        )
        events = f"<h3>Alert events</h3><ul>{items}</ul>"
    else:
        events = "<p class='empty'>No alert fired.</p>"
    return charts + table + events


def _summary(rows: Sequence[Mapping[str, Any]], reference: Mapping[str, Any]) -> str:
    items = [
        ("chunks", f"{len(rows):,}"),
        ("monitored rows", f"{sum(int(r['n']) for r in rows):,}"),
        ("drifted chunks", f"{sum(bool(r.get('drift')) for r in rows):,}"),
    ]
    if reference.get("n") is not None:
        items.append(("reference rows", f"{int(reference['n']):,}"))
    if reference.get("accuracy") is not None:
        items.append(("reference accuracy", _num(reference["accuracy"])))
    return (
        "<dl class='summary'>"
        + "".join(
            f"<div><dt>{escape_text(k)}</dt><dd>{escape_text(v)}</dd></div>" for k, v in items
        )
        + "</dl>"
    )


def write_monitor_report(
    path: str | Path,
    rows: Sequence[Mapping[str, Any]],
    alerts: Sequence[Mapping[str, Any]],
    title: str = "confide monitoring report",
    *,
    reference: Mapping[str, Any] | None = None,
    alpha: float | None = None,
) -> Path:
    """Write a whole self-contained HTML page with :func:`timeline_section`; return the path."""
    ref = reference or {}
    generator = f"confide {_version()}".strip()
    body = (
        f"<header><h1>{escape_text(title)}</h1><p class='lede'>Confidence drift, accuracy "
        "estimated without labels and alerts, chunk by chunk.</p>"
        f"{_summary(rows, ref)}</header>"
        "<section id='timeline' aria-labelledby='timeline-h'><h2 id='timeline-h'>Timeline</h2>"
        f"{timeline_section(rows, alerts, reference=ref, alpha=alpha)}</section>"
    )
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="{escape_text(generator)}">\n'
        f"<title>{escape_text(title)}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n<main>\n{body}\n"
        f"<footer>Generated by {escape_text(generator)}. A self-contained page: no scripts, "
        "no external resources.</footer>\n</main>\n</body>\n</html>\n"
    )
    out = Path(path)
    out.write_text(page, encoding="utf-8")
    return out
