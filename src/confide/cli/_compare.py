"""``confide compare VAL TEST``: every calibrator fitted on VAL, judged on TEST, with intervals."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from confide.calibration._base import _REGISTRY
from confide.cli._calibrate import make_calibrator, scores_of
from confide.cli._console import err, out, print_json, progress
from confide.exceptions import ValidationError
from confide.metrics import accuracy, bootstrap_ci, brier_score, ece, log_loss, reliability_diagram

_METRICS = (
    ("ece", lambda y, p, sample_weight=None: ece(y, p, sample_weight=sample_weight)),
    (
        "nll",
        lambda y, p, sample_weight=None: log_loss(y, p, sample_weight=sample_weight, clip=1e-15),
    ),
    ("brier", brier_score),
    ("accuracy", accuracy),
)


def _scores(y: np.ndarray, p: np.ndarray, n_resamples: int, seed: int) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, fn in _METRICS:
        ci = bootstrap_ci(fn, y, p, n_resamples=n_resamples, seed=seed)
        row[name] = {"value": ci.estimate, "low": ci.low, "high": ci.high}
    return row


def compare_methods(
    val: Any, test: Any, methods: list[str] | None, *, n_resamples: int, seed: int
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Fit each method on ``val``, score on ``test``; returns rows and calibrated test probabilities."""
    y_val, y_test = val.require_labels(), test.require_labels()
    val_scores, kind = scores_of(val)
    test_scores, test_kind = scores_of(test)
    if kind != test_kind:
        raise ValidationError(
            f"VAL holds {kind} but TEST holds {test_kind}: compare like with like."
        )
    binary = val.probs.ndim == 1
    names = methods or [m for m, c in sorted(_REGISTRY.items()) if binary or c.supports_multiclass]
    rows: dict[str, Any] = {"uncalibrated": _scores(y_test, test.probs, n_resamples, seed)}
    probs: dict[str, np.ndarray] = {"uncalibrated": test.probs}
    with progress("fitting calibrators") as update:
        for i, name in enumerate(names):
            try:
                p = make_calibrator(name, kind).fit(val_scores, y_val).predict_proba(test_scores)
            except ValueError as exc:
                rows[name] = {"error": str(exc)}
            else:
                rows[name] = _scores(y_test, p, n_resamples, seed)
                probs[name] = p
            update(i + 1, len(names))
    return rows, probs


def _table(rows: dict[str, Any]) -> Table:
    table = Table(
        title="calibrators fitted on VAL, scored on TEST (95% bootstrap CI)", title_justify="left"
    )
    for col in ("method", "ECE", "NLL", "Brier", "accuracy"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for name, row in rows.items():
        if "error" in row:
            table.add_row(name, f"[red]failed:[/] {row['error'][:80]}", "", "", "")
            continue
        cells = [
            f"{row[m]['value']:.4f} [{row[m]['low']:.4f}, {row[m]['high']:.4f}]"
            for m, _ in _METRICS
        ]
        table.add_row(name, *cells)
    return table


def _html_sections(
    rows: dict[str, Any], probs: dict[str, np.ndarray], y: np.ndarray
) -> list[tuple[str, str]]:
    from confide.report._html import reliability_svgs

    head = "".join(
        f"<th scope='col'>{c}</th>" for c in ("method", "ECE", "NLL", "Brier", "accuracy")
    )
    body = []
    for name, row in rows.items():
        if "error" in row:
            body.append(
                f"<tr><th scope='row'>{html.escape(name)}</th><td colspan='4'>failed: {html.escape(row['error'])}</td></tr>"
            )
            continue
        cells = "".join(
            f"<td>{row[m]['value']:.4f} <small>[{row[m]['low']:.4f}, {row[m]['high']:.4f}]</small></td>"
            for m, _ in _METRICS
        )
        body.append(f"<tr><th scope='row'>{html.escape(name)}</th>{cells}</tr>")
    sections = [
        (
            "Calibrators compared",
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>",
        )
    ]
    for name, p in probs.items():
        if name == "uncalibrated":
            continue
        chart, hist = reliability_svgs(reliability_diagram(y, p))
        sections.append((f"Reliability after {name}", f"<figure>{chart}{hist}</figure>"))
    return sections


def run_compare(
    val_path: Path,
    test_path: Path,
    *,
    methods: list[str] | None,
    n_resamples: int,
    seed: int,
    as_json: bool,
    report: Path | None,
) -> dict[str, Any]:
    from confide.io import read_predictions

    val, test = read_predictions(val_path), read_predictions(test_path)
    rows, probs = compare_methods(val, test, methods, n_resamples=n_resamples, seed=seed)
    if as_json:
        print_json({"val": str(val_path), "test": str(test_path), "methods": rows})
    else:
        out.print(_table(rows))
    if report is not None:
        from confide.cli._evaluate import evaluate_arrays
        from confide.report import write_html

        y = test.require_labels()
        base = evaluate_arrays(
            y, test.probs, n_bins=15, confidence_level=0.95, n_resamples=n_resamples, seed=seed
        )
        write_html(
            report,
            base,
            title=f"confide — calibrators on {test_path.name} (fitted on {val_path.name})",
            extra_sections=_html_sections(rows, probs, y),
        )
        err.print(f"HTML report: {report}")
    return rows
