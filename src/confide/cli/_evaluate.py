"""``confide evaluate``: read predictions, measure, print, and optionally plot and report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from confide.cli._console import err, out, print_json, progress
from confide.metrics import (
    CalibrationReport,
    RocCurve,
    calibration_report,
    risk_coverage_curve,
    roc_curve,
)
from confide.metrics._inputs import top_label


def metrics_table(report: CalibrationReport, title: str) -> Table:
    """A rich table of every metric with its interval."""
    level = report.confidence_level
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    if level is not None:
        table.add_column(f"{round(level * 100)}% CI", justify="right")
    table.add_column("", style="dim")
    for m in report.metrics.values():
        row = [m.name, f"{m.value:.4f}"]
        if level is not None:
            row.append(f"[{m.low:.4f}, {m.high:.4f}]" if m.low is not None else "")
        row.append(("↑ " if m.higher_is_better else "↓ ") + m.description)
        table.add_row(*row)
    return table


def curves(y: np.ndarray, prob: np.ndarray) -> dict[str, Any]:
    """ROC (of P(y=1) for binary, of confidence for right vs wrong otherwise) and risk-coverage."""
    roc: RocCurve | None
    if prob.ndim == 1:
        roc = roc_curve(y, prob.astype(np.float64))
    else:
        conf, pred = top_label(prob)
        correct = (pred == y).astype(np.intp)
        roc = (
            roc_curve(correct, conf.astype(np.float64))
            if 0 < correct.sum() < correct.size
            else None
        )
    return {"roc": roc, "risk_coverage": risk_coverage_curve(y, prob)}


def evaluate_arrays(
    y: np.ndarray,
    prob: np.ndarray,
    *,
    n_bins: int,
    confidence_level: float | None,
    n_resamples: int,
    seed: int,
    show_progress: bool = True,
) -> CalibrationReport:
    with progress("bootstrapping metrics", enabled=show_progress) as update:
        return calibration_report(
            y,
            prob,
            n_bins=n_bins,
            confidence_level=confidence_level,
            n_resamples=max(n_resamples, 10),
            seed=seed,
            progress=update,
        )


def write_outputs(
    report: CalibrationReport,
    y: np.ndarray,
    prob: np.ndarray,
    *,
    title: str,
    plot: Path | None,
    html: Path | None,
) -> None:
    if plot is not None:
        from confide.report import save_reliability_png

        save_reliability_png(report.reliability, plot)
        err.print(f"reliability diagram: {plot}")
    if html is not None:
        from confide.report import write_html

        c = curves(y, prob)
        write_html(html, report, title=title, roc=c["roc"], risk_coverage=c["risk_coverage"])
        err.print(f"HTML report: {html}")


def run_evaluate(
    file: Path,
    *,
    n_bins: int,
    confidence_level: float,
    n_resamples: int,
    seed: int,
    as_json: bool,
    plot: Path | None,
    report: Path | None,
    read_options: dict[str, Any],
) -> None:
    from confide.io import read_predictions

    options = {k: v for k, v in read_options.items() if v is not None}
    preds = read_predictions(file, **options)
    y = preds.require_labels()
    level = confidence_level if n_resamples > 0 else None
    result = evaluate_arrays(
        y, preds.probs, n_bins=n_bins, confidence_level=level, n_resamples=n_resamples, seed=seed
    )
    if as_json:
        print_json({"file": str(file), "classes": list(preds.classes), **result.to_dict()})
    else:
        title = f"{file.name}: {result.n_samples} samples, {result.n_classes} classes"
        out.print(metrics_table(result, title))
        for w in result.warnings:
            err.print(f"[yellow]warning:[/] {w}")
    write_outputs(result, y, preds.probs, title=f"confide — {file.name}", plot=plot, html=report)
