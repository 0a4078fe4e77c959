"""``confide calibrate`` and ``confide apply``: fit a calibrator on a file, save it, apply it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from confide.calibration import Calibrator, load
from confide.calibration._base import _REGISTRY
from confide.cli._console import err, out, print_json
from confide.exceptions import ValidationError
from confide.metrics import ece, log_loss


def scores_of(preds: Any) -> tuple[np.ndarray, str]:
    """The scores a calibrator should see, and their kind: logits when the file has them."""
    if preds.logits is not None:
        return preds.logits, "logits"
    return preds.probs, "probs"


def make_calibrator(method: str, input_kind: str) -> Calibrator:
    if method not in _REGISTRY:
        raise ValidationError(
            f"unknown calibration method {method!r}; choose one of {', '.join(sorted(_REGISTRY))}."
        )
    return _REGISTRY[method](input=input_kind)


def run_calibrate(
    file: Path, *, method: str, out_path: Path, as_json: bool, read_options: dict[str, Any]
) -> dict[str, Any]:
    from confide.io import read_predictions

    preds = read_predictions(file, **{k: v for k, v in read_options.items() if v is not None})
    y = preds.require_labels()
    scores, kind = scores_of(preds)
    selection = None
    if method == "auto":
        from confide.calibration import select_calibrator

        err.print("cross-validating every method (5 folds) ...")
        selection = select_calibrator(scores, y, input=kind)
        cal, method = selection.best, selection.method
    else:
        cal = make_calibrator(method, kind).fit(scores, y)
    cal.save(out_path)
    calibrated = cal.predict_proba(scores)
    summary = {
        "file": str(file),
        "method": method,
        "input": kind,
        "out": str(out_path),
        "classes": list(preds.classes),
        "n_samples": int(y.shape[0]),
        "before": {"ece": ece(y, preds.probs), "nll": log_loss(y, preds.probs, clip=1e-15)},
        "after (same data)": {
            "ece": ece(y, calibrated),
            "nll": log_loss(y, calibrated, clip=1e-15),
        },
        "params": cal.to_dict()["payload"]["params"],
        "selection": selection.to_dict() if selection is not None else None,
    }
    if as_json:
        print_json(summary)
    else:
        out.print(
            f"{method} calibrator fitted on {summary['n_samples']} samples of {file.name} ({kind})"
        )
        b, a = summary["before"], summary["after (same data)"]
        out.print(
            f"ECE {b['ece']:.4f} -> {a['ece']:.4f}   NLL {b['nll']:.4f} -> {a['nll']:.4f} (on the fitting data)"
        )
        err.print(f"saved: {out_path}")
    return summary


def run_apply(
    calibrator_path: Path, file: Path, *, out_path: Path, read_options: dict[str, Any]
) -> None:
    from confide.io import read_predictions, write_predictions

    cal = load(calibrator_path)
    preds = read_predictions(file, **{k: v for k, v in read_options.items() if v is not None})
    scores, kind = scores_of(preds)
    if cal.input == "logits" and kind != "logits":
        raise ValidationError(
            f"{calibrator_path} was fitted on logits, but {file} holds probabilities; apply it to "
            "the same kind of scores it was fitted on."
        )
    if cal.input == "probs":
        scores = preds.probs
    calibrated = cal.predict_proba(scores)
    write_predictions(out_path, preds.y_true, calibrated, classes=list(preds.classes))
    err.print(f"calibrated predictions ({calibrated.shape[0]} rows): {out_path}")
