"""``confide policy`` (fit a decision policy with guarantees) and ``confide decide`` (apply it).

:func:`register` adds both commands to a Typer app; the work is in :func:`run_policy` and
:func:`run_decide`.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from confide.cli._console import err, handle_errors, out, print_json
from confide.decision._policy import (
    ACTIONS,
    Policy,
    ThreeWayPolicy,
    ThresholdPolicy,
    evaluate_policy,
    load_policy,
)
from confide.exceptions import ShapeError, ValidationError

__all__ = ["register", "run_decide", "run_policy"]


def _read(file: Path, read_options: dict[str, Any]) -> Any:
    from confide.io import read_predictions

    return read_predictions(file, **{k: v for k, v in read_options.items() if v is not None})


def _p_positive(probs: np.ndarray, file: Path) -> np.ndarray:
    if probs.ndim == 1:
        return probs.astype(np.float64)
    if probs.shape[1] == 2:
        return probs[:, 1].astype(np.float64)
    raise ShapeError(
        f"a three-way policy (--max-error-reject) needs binary predictions, but {file} holds "
        f"{probs.shape[1]} classes. Drop --max-error-reject for a threshold on the top-label "
        "confidence."
    )


def _top_label(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if probs.ndim == 1:
        pred = (probs > 0.5).astype(np.intp)
        return np.where(pred == 1, probs, 1.0 - probs).astype(np.float64), pred
    pred = np.argmax(probs, axis=1)
    return np.take_along_axis(probs, pred[:, None], axis=1)[:, 0].astype(np.float64), pred


def policy_scores(policy: Policy, probs: np.ndarray, file: Path) -> np.ndarray:
    """The score a saved policy reads: ``P(y=1)`` for three-way, else the top-label confidence."""
    if isinstance(policy, ThreeWayPolicy):
        return _p_positive(probs, file)
    if isinstance(policy, ThresholdPolicy):
        return _top_label(probs)[0]
    raise ValidationError(
        f"confide decide applies threshold and three-way policies; a {policy.type!r} policy "
        "needs two models' confidences: use CascadePolicy.decide from Python."
    )


def run_policy(
    file: Path,
    *,
    max_error: float,
    delta: float,
    review_budget: float | None,
    max_error_reject: float | None,
    out_path: Path,
    as_json: bool,
    report: Path | None,
    read_options: dict[str, Any],
) -> dict[str, Any]:
    """Fit the policy on FILE, print its operating point, save it (and an HTML report)."""
    preds = _read(file, read_options)
    y = np.asarray(preds.require_labels())
    probs = np.asarray(preds.probs)
    policy: Policy
    if max_error_reject is not None:
        p = _p_positive(probs, file)
        err.print("certifying both sides of a three-way policy ...")
        tw = ThreeWayPolicy.fit(
            y,
            p,
            max_error=max_error,
            max_error_reject=max_error_reject,
            delta=delta,
            review_budget=review_budget,
        )
        policy, correct, conf = tw, (y == 1), p
        evaluation = evaluate_policy(tw, y, p, delta=delta)
        threshold = tw.accept_threshold
        bound = tw.accept_guarantee_.error_upper_bound if tw.accept_guarantee_ else None
    else:
        conf, pred = _top_label(probs)
        correct = pred == y
        tp = ThresholdPolicy.fit(
            correct, conf, max_error=max_error, delta=delta, review_budget=review_budget
        )
        policy, threshold = tp, tp.threshold
        bound = tp.guarantee_.error_upper_bound if tp.guarantee_ else None
        evaluation = evaluate_policy(tp, correct, conf, delta=delta)
    policy.save(out_path)
    summary = {
        "file": str(file),
        "out": str(out_path),
        "policy": policy.to_dict(),
        "evaluation": evaluation.to_dict(),
    }
    if report is not None:
        _write_report(report, preds, correct, conf, threshold, max_error, bound, summary)
        summary["report"] = str(report)
    if as_json:
        print_json(summary)
    else:
        _print_policy(policy, evaluation.to_dict(), file)
        err.print(f"saved: {out_path}")
        if report is not None:
            err.print(f"report: {report}")
    return summary


def _print_policy(policy: Policy, ev: dict[str, Any], file: Path) -> None:
    table = Table(title=f"{type(policy).__name__} on {file.name} (n = {ev['n']:,})")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for k, v in policy.params().items():
        table.add_row(k, f"{v:.6g}" if isinstance(v, float) else str(v))
    for k in ("accept_rate", "review_rate", "reject_rate"):
        table.add_row(k.replace("_", " "), f"{ev[k]:.2%}")
    table.add_row("error among accepted", f"{ev['error']:.4g}" if ev["n_accepted"] else "n/a")
    g = policy.guarantee() or {}
    sides = [("", g)] if "max_error" in g else [(f" ({s})", g[s]) for s in ("accept", "reject")]
    for label, side in sides:
        if side:
            table.add_row(f"certified upper bound{label}", f"{side['error_upper_bound']:.4g}")
            table.add_row(f"target max error{label}", f"{side['max_error']:.4g}")
    table.add_row("delta", f"{ev['delta']:.4g}")
    out.print(table)


def _write_report(
    report: Path,
    preds: Any,
    correct: np.ndarray,
    conf: np.ndarray,
    threshold: float,
    max_error: float,
    bound: float | None,
    summary: dict[str, Any],
) -> None:
    from confide.metrics import calibration_report
    from confide.report import write_html
    from confide.report._decision import decision_section

    cal = calibration_report(preds.require_labels(), preds.probs, confidence_level=None)
    section = decision_section(
        correct, conf, threshold=threshold, max_error=max_error, error_upper_bound=bound
    )
    write_html(report, cal, title="confide decision policy", extra_sections=[section])


def run_decide(
    policy_path: Path,
    file: Path,
    *,
    out_path: Path | None,
    as_json: bool,
    read_options: dict[str, Any],
) -> dict[str, Any]:
    """Apply a saved policy to FILE: counts per action, and per-row decisions to ``out_path``."""
    policy = load_policy(policy_path)
    preds = _read(file, read_options)
    scores = policy_scores(policy, np.asarray(preds.probs), file)
    decisions = policy.decide(scores)
    counts = decisions.counts
    summary: dict[str, Any] = {
        "policy": str(policy_path),
        "file": str(file),
        "n": decisions.n,
        "counts": counts,
        "rates": decisions.rates,
        "out": None if out_path is None else str(out_path),
    }
    if out_path is not None:
        _write_decisions(out_path, scores, decisions.actions, decisions.reasons())
    if as_json:
        print_json(summary)
    else:
        table = Table(title=f"{type(policy).__name__} on {file.name}")
        table.add_column("action")
        table.add_column("items", justify="right")
        table.add_column("share", justify="right")
        for a in ACTIONS:
            if counts[a] or a != "fallback":
                table.add_row(a, f"{counts[a]:,}", f"{decisions.rates[a]:.2%}")
        out.print(table)
        if out_path is not None:
            err.print(f"decisions: {out_path}")
    return summary


def _write_decisions(
    path: Path, conf: np.ndarray, actions: np.ndarray, reasons: np.ndarray
) -> None:
    columns = ("row", "confidence", "action", "reason")
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix in (".parquet", ".pq"):
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is installed with the io extra
            from confide.exceptions import MissingDependencyError

            raise MissingDependencyError("pandas", "io", "Writing Parquet decisions") from None
        frame = pd.DataFrame(
            {
                "row": np.arange(conf.size),
                "confidence": conf,
                "action": actions.astype(str),
                "reason": reasons.astype(str),
            }
        )
        frame.to_parquet(path, index=False)
        return
    if suffix != ".csv":
        raise ValidationError(f"--out must end in .csv, .parquet or .pq (got {path.name!r}).")
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows(
            zip(
                range(conf.size),
                map(repr, conf.tolist()),
                actions.tolist(),
                reasons.tolist(),
                strict=True,
            )
        )


_READ_HELP = {
    "label_col": "Label column (default: detected).",
    "score_col": "Binary P(y=1) column.",
}


def register(app: typer.Typer) -> None:
    """Add ``policy`` and ``decide`` to ``app``."""

    @app.command("policy")
    @handle_errors
    def policy_cmd(
        val: Annotated[Path, typer.Argument(help="Validation predictions with labels.")],
        max_error: Annotated[
            float, typer.Option(help="Target error rate among auto-accepted items.")
        ] = 0.02,
        delta: Annotated[
            float, typer.Option(help="Allowed probability that the guarantee fails.")
        ] = 0.05,
        review_budget: Annotated[
            float | None, typer.Option(help="Largest fraction of items sent to review.")
        ] = None,
        max_error_reject: Annotated[
            float | None,
            typer.Option(help="Binary: target error among rejected items (a three-way policy)."),
        ] = None,
        out_path: Annotated[
            Path, typer.Option("--out", help="Where to save the policy (JSON).")
        ] = Path("policy.json"),
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
        report: Annotated[
            Path | None, typer.Option(help="Write an HTML report with the operating point.")
        ] = None,
        label_col: Annotated[str | None, typer.Option(help=_READ_HELP["label_col"])] = None,
        score_col: Annotated[str | None, typer.Option(help=_READ_HELP["score_col"])] = None,
    ) -> None:
        """Fit an accept / review (/ reject) policy on VAL with a certified error rate."""
        run_policy(
            val,
            max_error=max_error,
            delta=delta,
            review_budget=review_budget,
            max_error_reject=max_error_reject,
            out_path=out_path,
            as_json=as_json,
            report=report,
            read_options={"label_col": label_col, "score_col": score_col},
        )

    @app.command("decide")
    @handle_errors
    def decide_cmd(
        policy: Annotated[Path, typer.Argument(help="A policy saved by `confide policy`.")],
        file: Annotated[Path, typer.Argument(help="Predictions to decide on (labels optional).")],
        out_path: Annotated[
            Path | None, typer.Option("--out", help="Per-row decisions: .csv or .parquet.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
        label_col: Annotated[str | None, typer.Option(help=_READ_HELP["label_col"])] = None,
        score_col: Annotated[str | None, typer.Option(help=_READ_HELP["score_col"])] = None,
    ) -> None:
        """Apply a saved policy to FILE: counts per action, and per-row decisions with reasons."""
        run_decide(
            policy,
            file,
            out_path=out_path,
            as_json=as_json,
            read_options={"label_col": label_col, "score_col": score_col},
        )
