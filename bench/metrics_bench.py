"""confide's metrics against scikit-learn, netcal and torchmetrics, measured in one run.

Usage::

    python bench/metrics_bench.py            # N = 10^6 and 10^7, float32 and float64
    python bench/metrics_bench.py --quick    # N = 10^5 and 10^6 only
    python bench/metrics_bench.py --stream 100000000   # the 10^8-sample streaming check

Writes ``bench/results/metrics.json`` and the tables in ``bench/README.md`` (between the
``metrics-bench`` markers). Every case runs in its own process (see ``_harness.py``); times are
the best of three calls after one warm-up call, extra memory is the peak resident size during
the calls over the resident size before them.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import fmt_bytes, fmt_seconds, measure, publish

HERE = Path(__file__).resolve().parent
K = 10

PROBS = """
import numpy as np
rng = np.random.default_rng(0)
n, k = {n}, {k}
p = rng.random((n, k), dtype=np.{dtype}) + np.{dtype}(1e-3)  # no exact zeros: finite log loss
p /= p.sum(axis=1, keepdims=True)
y = rng.integers(0, k, n)
"""

SCORES = """
import numpy as np
rng = np.random.default_rng(0)
n = {n}
y = rng.integers(0, 2, n)
s = np.clip(rng.normal(0.5 + 0.2 * (y - 0.5), 0.2), 0, 1).astype(np.{dtype})
"""

TORCH = "import torch\n"


def ece_cases(n: int, dtype: str) -> dict[str, tuple[str, str, str]]:
    data = PROBS.format(n=n, k=K, dtype=dtype)
    return {
        "np.sum (floor)": (data, "p.sum()", "p.sum()"),
        "confide (numba)": (
            data + "from confide.metrics import ece\n",
            "ece(y, p)",
            "ece(y[:300000], p[:300000])",
        ),
        "confide (NumPy)": (
            data + "from confide.metrics import ece, set_accelerator\nset_accelerator('numpy')\n",
            "ece(y, p)",
            "ece(y[:1000], p[:1000])",
        ),
        "torchmetrics": (
            data
            + TORCH
            + "from torchmetrics.functional.classification import multiclass_calibration_error as f\n"
            + "tp, ty = torch.from_numpy(p), torch.from_numpy(y)\n",
            "f(tp, ty, num_classes=k, n_bins=15, norm='l1').item()",
            "f(tp[:1000], ty[:1000], num_classes=k, n_bins=15)",
        ),
        "netcal": (
            data
            + "import warnings; warnings.simplefilter('ignore')\nfrom netcal.metrics import ECE\nm = ECE(15)\n",
            "m.measure(p, y)",
            "m.measure(p[:1000], y[:1000])",
        ),
    }


def proper_cases(n: int, dtype: str) -> dict[str, tuple[str, str, str]]:
    data = PROBS.format(n=n, k=K, dtype=dtype)
    return {
        "brier: confide": (
            data + "from confide.metrics import brier_score\n",
            "brier_score(y, p)",
            "brier_score(y[:300000], p[:300000])",
        ),
        "brier: scikit-learn": (
            data + "from sklearn.metrics import brier_score_loss\n",
            "brier_score_loss(y, p, labels=range(k))",
            "brier_score_loss(y[:1000], p[:1000], labels=range(k))",
        ),
        "log loss: confide": (
            data + "from confide.metrics import log_loss\n",
            "log_loss(y, p)",
            "log_loss(y[:300000], p[:300000])",
        ),
        "log loss: scikit-learn": (
            data + "from sklearn.metrics import log_loss\n",
            "log_loss(y, p, labels=range(k))",
            "log_loss(y[:1000], p[:1000], labels=range(k))",
        ),
    }


def auroc_cases(n: int, dtype: str) -> dict[str, tuple[str, str, str]]:
    data = SCORES.format(n=n, dtype=dtype)
    return {
        "auroc: confide (exact)": (
            data + "from confide.metrics import roc_auc\n",
            "roc_auc(y, s)",
            "roc_auc(y[:1000], s[:1000])",
        ),
        "auroc: confide (histogram)": (
            data + "from confide.metrics import roc_auc\n",
            "roc_auc(y, s, method='histogram')",
            "roc_auc(y[:1000], s[:1000], method='histogram')",
        ),
        "auroc: scikit-learn": (
            data + "from sklearn.metrics import roc_auc_score\n",
            "roc_auc_score(y, s)",
            "roc_auc_score(y[:1000], s[:1000])",
        ),
        "auroc: torchmetrics": (
            data + TORCH + "from torchmetrics.functional.classification import binary_auroc\n"
            "ts, ty = torch.from_numpy(s), torch.from_numpy(y)\n",
            "binary_auroc(ts, ty).item()",
            "binary_auroc(ts[:1000], ty[:1000])",
        ),
    }


STREAM = """
import numpy as np, time
from confide.metrics import CalibrationAccumulator
def rss():
    with open('/proc/self/status') as fh:
        for line in fh:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
rng = np.random.default_rng(0)
acc = CalibrationAccumulator({k})
chunk = {chunk}
rows = []
t0 = time.perf_counter()
for i in range({total} // chunk):
    p = rng.random((chunk, {k}), dtype=np.float32)
    p /= p.sum(axis=1, keepdims=True)
    y = rng.integers(0, {k}, chunk)
    acc.update(y, p)
    if i % max(1, ({total} // chunk) // 10) == 0:
        rows.append(((i + 1) * chunk, rss()))
rows.append(({total}, rss()))
import json
print(json.dumps({{"seconds": time.perf_counter() - t0, "rss": rows, "ece": acc.ece(), "n": acc.n_samples}}))
"""


def run_stream(total: int, chunk: int = 1_000_000) -> dict:
    import subprocess

    code = STREAM.format(k=K, chunk=chunk, total=total)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_group(name: str, cases: dict[str, tuple[str, str, str]], repeat: int) -> dict[str, dict]:
    out = {}
    for label, (setup, run, warmup) in cases.items():
        print(f"  {name} | {label} ...", file=sys.stderr, flush=True)
        out[label] = measure(setup, run, warmup=warmup, repeat=repeat)
        if out[label].get("error"):
            print(f"    failed: {out[label]['error'][-300:]}", file=sys.stderr)
    return out


def table(results: dict[str, dict], reference: str, ratio_label: str) -> list[str]:
    ref = results.get(reference, {}).get("seconds")
    lines = [
        f"| implementation | time | extra memory | {ratio_label} | value |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, r in results.items():
        s = r.get("seconds")
        ratio = f"{s / ref:.2f}x" if s and ref else "—"
        value = f"{r['result']:.10g}" if r.get("result") is not None else "—"
        lines.append(
            f"| {label} | {fmt_seconds(s)} | {fmt_bytes(r.get('extra_bytes'))} | {ratio} | {value} |"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    ap.add_argument(
        "--stream", type=int, default=100_000_000, help="samples for the streaming check (0: skip)"
    )
    ap.add_argument("--no-write", action="store_true", help="print, do not update bench/README.md")
    args = ap.parse_args()
    sizes = [10**5, 10**6] if args.quick else [10**6, 10**7]
    repeat = 3
    results: dict = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "started": time.ctime(),
    }
    md: list[str] = []
    for n in sizes:
        for dtype in ("float32", "float64"):
            key = f"n={n:.0e} k={K} {dtype}"
            print(key, file=sys.stderr)
            ece_r = run_group("ece", ece_cases(n, dtype), repeat)
            proper_r = run_group("proper", proper_cases(n, dtype), repeat)
            results[f"ece {key}"] = ece_r
            results[f"proper {key}"] = proper_r
            md += [f"### Top-label ECE (15 bins), N = {n:,} x {K}, {dtype}", ""]
            md += table(ece_r, "confide (numba)", "time / confide (numba)")
            md += ["", f"### Brier score and log loss, N = {n:,} x {K}, {dtype}", ""]
            md += table(proper_r, "brier: confide", "time / confide brier")
            md.append("")
        for dtype in ("float32", "float64"):
            key = f"n={n:.0e} {dtype}"
            auroc_r = run_group("auroc", auroc_cases(n, dtype), repeat)
            results[f"auroc {key}"] = auroc_r
            md += [f"### Binary AUROC, N = {n:,} scores, {dtype}", ""]
            md += table(auroc_r, "auroc: confide (exact)", "time / confide exact")
            md.append("")
    if args.stream:
        print(f"streaming {args.stream:,} samples", file=sys.stderr)
        st = run_stream(args.stream)
        results["stream"] = st
        if "rss" in st:
            md += [
                f"### Streaming accumulator, {args.stream:,} samples x {K} classes in chunks of 10^6 (float32)",
                "",
                f"Total {st['seconds']:.1f} s; ECE {st['ece']:.6f} over {st['n']:.0f} samples.",
                "",
                "| samples seen | resident memory |",
                "|---:|---:|",
            ]
            md += [f"| {n:,} | {fmt_bytes(b)} |" for n, b in st["rss"]]
            md.append("")
    publish(
        "metrics-bench",
        results,
        "\n".join(md),
        heading="",
        write_readme=not getattr(args, "no_write", False),
    )


if __name__ == "__main__":
    main()
