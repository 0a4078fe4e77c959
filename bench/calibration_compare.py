"""Every confide calibrator on real model outputs: test-split ECE, NLL, Brier and accuracy.

Usage::

    python bench/calibration_compare.py      # needs ../shared/data (the team's data folder)

* ``sctl_cifar10_lt_logits``: fitted on the authors' validation split, scored on the test split.
* ``netcal_cifar_probs``: no validation split ships, so (as netcal's own example does) the test
  set is split in two halves with a fixed seed; fitted on one half, scored on the other. The
  scores are probabilities (``input="probs"``).

Writes the tables into ``bench/README.md`` between the ``calibration-compare`` markers and the
numbers into ``bench/results/calibration_compare.json``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import publish
from confide.calibration import registered_methods
from confide.calibration._base import _REGISTRY
from confide.metrics import accuracy, brier_score, ece, log_loss

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"


def evaluate(y, p):
    return {
        "ece": ece(y, p),
        "nll": log_loss(y, p, clip=1e-15),
        "brier": brier_score(y, p),
        "accuracy": accuracy(y, p),
    }


def compare(name, fit_scores, fit_y, test_scores, test_y, test_probs, input_kind):
    rows = {"uncalibrated": {**evaluate(test_y, test_probs), "seconds": 0.0}}
    for method in registered_methods():
        print(f"  {name} | {method} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            cal = _REGISTRY[method](input=input_kind).fit(fit_scores, fit_y)
            p = cal.predict_proba(test_scores)
            rows[method] = {**evaluate(test_y, p), "seconds": time.perf_counter() - t0}
        except ValueError as exc:
            rows[method] = {"error": str(exc)[:200]}
    return rows


def markdown(name, rows):
    lines = [
        f"### {name}",
        "",
        "| method | ECE % | NLL | Brier | accuracy % | fit + predict |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for method, r in rows.items():
        if "error" in r:
            lines.append(f"| {method} | failed: {r['error']} | | | | |")
        else:
            lines.append(
                f"| {method} | {100 * r['ece']:.2f} | {r['nll']:.4f} | {r['brier']:.4f} | "
                f"{100 * r['accuracy']:.2f} | {r['seconds']:.2f} s |"
            )
    return [*lines, ""]


def main() -> None:
    if not DATA.exists():
        sys.exit(f"{DATA} is absent: this comparison needs the team's shared data folder.")
    results, md = {}, []
    for f in sorted((DATA / "sctl_cifar10_lt_logits").glob("*.npz")):
        d = np.load(f)
        zt = d["test_logits"].astype(np.float64)
        pt = np.exp(zt - zt.max(1, keepdims=True))
        pt /= pt.sum(1, keepdims=True)
        name = f"SCTL {f.stem} (fit: val logits, score: test)"
        results[name] = compare(
            name, d["val_logits"], d["val_labels"], d["test_logits"], d["test_labels"], pt, "logits"
        )
        md += markdown(name, results[name])
    rng = np.random.default_rng(0)
    for f in sorted((DATA / "netcal_cifar_probs").glob("*.npz")):
        d = np.load(f)
        p, y = d["predictions"].astype(np.float64), d["ground_truth"]
        p /= p.sum(1, keepdims=True)
        idx = rng.permutation(len(y))
        a, b = idx[: len(y) // 2], idx[len(y) // 2 :]
        name = f"netcal {f.stem} (probs; fit: random half, score: other half)"
        results[name] = compare(name, p[a], y[a], p[b], y[b], p[b], "probs")
        md += markdown(name, results[name])
    results["started"] = time.ctime()
    publish(
        "calibration-compare",
        results,
        "\n".join(md),
        heading="## Calibrators compared on real data (`calibration_compare.py`)",
    )


if __name__ == "__main__":
    main()
