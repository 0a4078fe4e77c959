"""Choosing a threshold with confide.decision, against scikit-learn's precision_recall_curve.

Usage::

    python bench/decision_bench.py            # 10^7 float32 scores
    python bench/decision_bench.py --quick    # 10^6 scores (a smoke run: prints, writes nothing)

Writes ``bench/results/decision-bench.json`` and the table in ``bench/README.md`` between the
``decision-bench`` markers. Each case runs in its own process (``_harness.py``): the best of
three calls after one warm-up call on a small slice. The reference is one call of
``sklearn.metrics.precision_recall_curve`` on the same labels and scores — the curve from which a
precision, recall or F1 threshold is usually read; every confide case does its own input checks,
sorting and search. The value column is the threshold chosen (the number of curve points for
scikit-learn). Goal (issue #4): each threshold on 10^7 scores in a few seconds at most.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import measure, publish
from metrics_bench import table

DATA = """
import numpy as np
rng = np.random.default_rng(0)
n = {n}
y = rng.integers(0, 2, n)
s = np.clip(rng.normal(0.5 + 0.2 * (y - 0.5), 0.2), 0, 1).astype(np.float32)
conf = np.maximum(s, 1 - s)             # top-label confidence of the binary prediction
correct = (s > 0.5) == (y == 1)
"""

CONFIDE = "from confide.decision._thresholds import *\n"

REFERENCE = "scikit-learn precision_recall_curve"


def cases(n: int) -> dict[str, tuple[str, str, str]]:
    data = DATA.format(n=n)
    small = "[:10000]"

    def case(call: str, warm: str) -> tuple[str, str, str]:
        return data + CONFIDE, f"{call}.threshold", warm

    return {
        REFERENCE: (
            data + "from sklearn.metrics import precision_recall_curve\n",
            "precision_recall_curve(y, s)[2].size",
            f"precision_recall_curve(y{small}, s{small})",
        ),
        "error <= 0.2, delta 0.05 (LTT)": case(
            "threshold_for_error(correct, conf, max_error=0.2, delta=0.05)",
            f"threshold_for_error(correct{small}, conf{small}, max_error=0.2)",
        ),
        "coverage 0.8 (expectation)": case(
            "threshold_for_coverage(conf, coverage=0.8)",
            f"threshold_for_coverage(conf{small}, coverage=0.8)",
        ),
        "coverage 0.8, delta 0.05": case(
            "threshold_for_coverage(conf, coverage=0.8, delta=0.05)",
            f"threshold_for_coverage(conf{small}, coverage=0.8, delta=0.05)",
        ),
        "cost fp=1 fn=2 (empirical)": case(
            "threshold_for_cost(y, s, cost_fp=1, cost_fn=2)",
            f"threshold_for_cost(y{small}, s{small}, cost_fp=1, cost_fn=2)",
        ),
        "cost fp=1 fn=2 review=0.3 (empirical)": case(
            "threshold_for_cost(y, s, cost_fp=1, cost_fn=2, cost_review=0.3)",
            f"threshold_for_cost(y{small}, s{small}, cost_fp=1, cost_fn=2, cost_review=0.3)",
        ),
        "precision >= 0.8": case(
            "threshold_for_precision(y, s, min_precision=0.8)",
            f"threshold_for_precision(y{small}, s{small}, min_precision=0.8)",
        ),
        "precision >= 0.8, delta 0.05 (LTT)": case(
            "threshold_for_precision(y, s, min_precision=0.8, delta=0.05)",
            f"threshold_for_precision(y{small}, s{small}, min_precision=0.8, delta=0.05)",
        ),
        "recall >= 0.8": case(
            "threshold_for_recall(y, s, min_recall=0.8)",
            f"threshold_for_recall(y{small}, s{small}, min_recall=0.8)",
        ),
        "max F1": case("threshold_max_f1(y, s)", f"threshold_max_f1(y{small}, s{small})"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="10^6 scores; print only")
    ap.add_argument("--no-write", action="store_true", help="print, do not update bench/README.md")
    args = ap.parse_args()
    n = 10**6 if args.quick else 10**7
    results: dict = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "started": time.ctime(),
    }
    group: dict[str, dict] = {}
    for label, (setup, run, warmup) in cases(n).items():
        print(f"  {label} ...", file=sys.stderr, flush=True)
        group[label] = measure(setup, run, warmup=warmup, repeat=3)
        if group[label].get("error"):
            print(f"    failed: {group[label]['error'][-300:]}", file=sys.stderr)
    title = f"Threshold choice, {n:,} float32 binary scores (value: the threshold)"
    results[title] = group
    md = [f"### {title}", "", *table(group, REFERENCE, "time / scikit-learn PR curve"), ""]
    publish(
        "decision-bench",
        results,
        "\n".join(md),
        heading="## Decision thresholds",
        write_readme=not (args.quick or args.no_write),
    )


if __name__ == "__main__":
    main()
