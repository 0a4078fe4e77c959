"""confide's calibrators against scikit-learn and netcal, measured in one run.

Usage::

    python bench/calibration_bench.py           # temperature on 10^6 x 10 float32 logits,
                                                # isotonic on 10^6 binary scores
    python bench/calibration_bench.py --quick   # 10^5 rows (a smoke run)

Writes ``bench/results/calibration.json`` and the tables in ``bench/README.md`` between the
``calibration-bench`` markers. Each case runs in its own process (``_harness.py``); the value
column is the fitted temperature T (netcal's ``.temperature`` attribute is 1/T and is inverted
here), or the mean calibrated probability for isotonic regression.
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

HERE = Path(__file__).resolve().parent

LOGITS = """
import numpy as np, warnings
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
n, k = {n}, 10
z = (rng.normal(size=(n, k)) * 2.0).astype(np.float64)
q = np.exp(z - z.max(1, keepdims=True)); q /= q.sum(1, keepdims=True)
y = (q.cumsum(1) > rng.random((n, 1))).argmax(1)
z = (3.0 * z).astype(np.float32)      # the model is three times too sharp
zd = z.astype(np.float64)
p = np.exp(zd - zd.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
"""

SCORES = """
import numpy as np
rng = np.random.default_rng(0)
n = {n}
s = rng.random(n)
y = (rng.random(n) < s ** 2).astype(np.int64)
"""


def temperature_cases(n: int) -> dict[str, tuple[str, str, str]]:
    data = LOGITS.format(n=n)
    return {
        "temperature: confide": (
            data + "from confide.calibration import TemperatureScaling\n",
            "TemperatureScaling().fit(z, y).temperature_",
            "TemperatureScaling().fit(z[:300000], y[:300000])",
        ),
        "temperature: scikit-learn": (
            data + "from sklearn.calibration import _TemperatureScaling\n",
            "1.0 / _TemperatureScaling().fit(z, y).beta_",
            "_TemperatureScaling().fit(z[:1000], y[:1000])",
        ),
        "temperature: netcal": (
            data + "from netcal.scaling import TemperatureScaling as T\n"
            "def fit():\n    m = T(); m.fit(p, y); return 1.0 / float(np.asarray(m.temperature).ravel()[0])\n",
            "fit()",
            "",
        ),
    }


def isotonic_cases(n: int) -> dict[str, tuple[str, str, str]]:
    data = SCORES.format(n=n)
    return {
        "isotonic: confide": (
            data + "from confide.calibration import IsotonicCalibration\n",
            "IsotonicCalibration(input='probs').fit(s, y).predict_proba(s).mean()",
            "IsotonicCalibration(input='probs').fit(s[:1000], y[:1000])",
        ),
        "isotonic: scikit-learn": (
            data + "from sklearn.isotonic import IsotonicRegression\n",
            "IsotonicRegression(out_of_bounds='clip').fit(s, y).predict(s).mean()",
            "IsotonicRegression(out_of_bounds='clip').fit(s[:1000], y[:1000])",
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    n = 10**5 if args.quick else 10**6
    results: dict = {"machine": platform.platform(), "started": time.ctime()}
    md: list[str] = []
    for title, cases, ref in (
        (
            f"Temperature scaling fit, {n:,} x 10 float32 logits (value: T)",
            temperature_cases(n),
            "temperature: confide",
        ),
        (
            f"Isotonic calibration fit + predict, {n:,} binary scores (value: mean output)",
            isotonic_cases(n),
            "isotonic: confide",
        ),
    ):
        group = {}
        for label, (setup, run, warmup) in cases.items():
            print(f"  {label} ...", file=sys.stderr, flush=True)
            group[label] = measure(setup, run, warmup=warmup, repeat=3)
            if group[label].get("error"):
                print(f"    failed: {group[label]['error'][-300:]}", file=sys.stderr)
        results[title] = group
        md += [f"### {title}", "", *table(group, ref, "time / confide"), ""]
    publish(
        "calibration-bench",
        results,
        "\n".join(md),
        heading="## Calibration",
        write_readme=not getattr(args, "no_write", False),
    )


if __name__ == "__main__":
    main()
