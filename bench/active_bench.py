"""Active learning with confide.active: labels saved against random sampling, and selection speed.

Usage::

    python bench/active_bench.py            # 10 seeds, 10^6 x 100 timing (writes the results)
    python bench/active_bench.py --quick    # 3 seeds, 10^5 x 100 timing (prints, writes nothing)

Writes ``bench/results/active.json`` and the tables in ``bench/README.md`` between the
``active-bench`` markers.

Learning curves: scikit-learn's ``LogisticRegression`` on (a) scikit-learn's digits (1,797 8x8
images, 10 classes, pixels / 16) and (b) the 2015 reference year of the US-census employment
data of NannyML (``/work/shared/data/nannyml_census_employment_ma``; a seeded subsample of
12,000 people, AGEP standardised and the 15 categorical columns one-hot encoded; binary
``employed``). Per seed: a 25 % test split, 20 random initial labels, batches of 20 up to the
budget; every strategy sees the same split and initial set (``compare_strategies``). The target
of a seed is the random baseline's final test accuracy on that seed; "labels" is the first label
count at which a strategy reaches it (a seed that never does counts as the budget), "saved" the
paired difference from random, with 95 % Student-t intervals over seeds. BALD uses 5 bootstrap
members (query by bagging). BLAS is limited to one thread (many tiny fits).

Selection timing: each case in its own process (``_harness.py``), best of 2 calls after a
warm-up on a slice; the time includes the input checks.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import fmt_bytes, fmt_seconds, measure, publish
from confide.active import compare_strategies

CENSUS = Path("/work/shared/data/nannyml_census_employment_ma/employment_MA_reference.pq")
STRATS = [
    "least_confidence",
    "margin",
    "entropy",
    "bald",
    "kcenter",
    "weighted_kcenter",
    "margin_kcenter",
]


def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def census(n: int = 12_000) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    frame = pd.read_parquet(CENSUS).sample(n=n, random_state=0)
    y = frame["employed"].to_numpy()
    cats = [
        c
        for c in frame.columns
        if c not in ("id", "AGEP", "employed", "year", "prediction", "predicted_probability")
    ]
    age = frame[["AGEP"]].to_numpy(dtype=float)
    X = np.hstack(
        [(age - age.mean()) / age.std(), pd.get_dummies(frame[cats].astype(str)).to_numpy(float)]
    )
    return X, y


def learning(name: str, X: np.ndarray, y: np.ndarray, *, budget: int, seeds: tuple[int, ...]):
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        cmp = compare_strategies(
            LogisticRegression(max_iter=500),
            X,
            y,
            STRATS,
            budget=budget,
            batch_size=20,
            initial_size=20,
            seeds=seeds,
        )
    seconds = time.perf_counter() - t0
    print(f"{name}: {seconds:.0f} s", file=sys.stderr)
    return cmp, seconds


def _ci(m: float, lo: float, hi: float, digits: int = 0) -> str:
    return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def learning_table(title: str, cmp, n_rows: int, seconds: float) -> str:
    base = cmp.result("random")
    need = base.labels_to_reach(list(base.final_accuracy))
    lines = [
        f"### {title}: {n_rows:,} rows, budget {base.budget}, {len(base.seeds)} seeds "
        f"({seconds:.0f} s)",
        "",
        f"Target: random's final accuracy per seed, mean "
        f"{np.mean(base.final_accuracy):.4f}. Random reaches it at "
        f"{_ci(need.mean, need.low, need.high)} labels.",
        "",
        "| strategy | final accuracy | final ECE | labels to reach target | reached | "
        "fewer labels than random | fewer (%) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    savings = {s.strategy: s for s in cmp.savings}
    for r in cmp.results:
        acc = _ci(r.mean_accuracy[-1], r.accuracy_low[-1], r.accuracy_high[-1], 4)
        cal = _ci(r.mean_ece[-1], r.ece_low[-1], r.ece_high[-1], 4)
        s = savings.get(r.strategy)
        lab = need if s is None else s.labels
        saved = "—" if s is None else _ci(s.saved_mean, s.saved_low, s.saved_high)
        pct = "—" if s is None else f"{100 * s.saved_fraction:.0f} %"
        lines.append(
            f"| {r.strategy} | {acc} | {cal} | {_ci(lab.mean, lab.low, lab.high)} | "
            f"{lab.n_reached}/{len(lab.per_seed)} | {saved} | {pct} |"
        )
    return "\n".join(lines)


SETUP = """
import numpy as np
from confide.active import select
rng = np.random.default_rng(0)
n, k = {n}, 100
p = rng.random((n, k), dtype=np.float32)
p /= p.sum(axis=1, keepdims=True)
"""
SETUP_BALD = """
import numpy as np
from confide.active import select
rng = np.random.default_rng(0)
s = rng.random((5, {n}, 100), dtype=np.float32)
s /= s.sum(axis=2, keepdims=True)
"""
SETUP_KC = """
import numpy as np
from confide.active import select
rng = np.random.default_rng(0)
X = rng.normal(size=({n}, 32)).astype(np.float32)
"""


def timing(n: int) -> dict:
    cases = {
        f"random, k=1000 of {n:,} x 100": (SETUP, "select('random', 1000, probs=p, seed=0)"),
        f"least_confidence, k=1000 of {n:,} x 100": (
            SETUP,
            "select('least_confidence', 1000, probs=p)",
        ),
        f"margin, k=1000 of {n:,} x 100": (SETUP, "select('margin', 1000, probs=p)"),
        f"entropy, k=1000 of {n:,} x 100": (SETUP, "select('entropy', 1000, probs=p)"),
        f"bald, k=1000 of 5 members x {n // 10:,} x 100": (
            SETUP_BALD.replace("{n}", str(n // 10)),
            "select('bald', 1000, samples=s)",
        ),
        f"kcenter, k=100 of {n:,} x 32 features": (
            SETUP_KC.replace("{n}", str(n)),
            "select('kcenter', 100, features=X)",
        ),
        f"kcenter, k=100 of {n:,} x 32 features, 1,000 labelled": (
            SETUP_KC.replace("{n}", str(n)) + "mask = np.zeros(len(X), bool); mask[:1000] = True\n",
            "select('kcenter', 100, features=X, labeled_mask=mask)",
        ),
    }
    out = {}
    for name, (setup, run) in cases.items():
        setup = setup.replace("{n}", str(n))
        warm = run.replace("probs=p", "probs=p[:1000]").replace("samples=s", "samples=s[:, :2000]")
        warm = warm.replace("features=X, labeled_mask=mask", "features=X[:2000]")
        warm = warm.replace("features=X)", "features=X[:2000])")
        out[name] = measure(setup, run + ".indices.size", warmup=warm, repeat=2)
        print(name, out[name], file=sys.stderr)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=10, help="seeds of the full run (at least 5)")
    args = ap.parse_args()
    seeds = (0, 1, 2) if args.quick else tuple(range(max(5, args.seeds)))
    started = time.strftime("%c")
    Xd, yd = digits()
    d_cmp, d_s = learning("digits", Xd, yd, budget=300, seeds=seeds)
    Xc, yc = census(6_000 if args.quick else 12_000)
    c_cmp, c_s = learning("census", Xc, yc, budget=400, seeds=seeds)
    n = 100_000 if args.quick else 1_000_000
    times = timing(n)
    text = "\n\n".join(
        [
            learning_table("Digits, LogisticRegression", d_cmp, Xd.shape[0], d_s),
            learning_table(
                "Census employment (MA 2015), LogisticRegression", c_cmp, Xc.shape[0], c_s
            ),
            "### Selection time (float32 input; checks included)\n\n"
            "| case | time | extra memory |\n|---|---:|---:|\n"
            + "\n".join(
                f"| {name} | {fmt_seconds(r['seconds'])} | {fmt_bytes(r['extra_bytes'])} |"
                for name, r in times.items()
            ),
        ]
    )
    results = {
        "started": started,
        "machine": platform.platform(),
        "digits": d_cmp.to_dict(),
        "census": c_cmp.to_dict(),
        "timing": times,
    }
    publish(
        "active-bench",
        results,
        text,
        heading="## Active learning (`active_bench.py`)",
        write_readme=not args.quick,
    )
    if not args.quick:  # the results file of this bench is results/active.json
        here = Path(__file__).resolve().parent / "results"
        (here / "active-bench.json").replace(here / "active.json")


if __name__ == "__main__":
    main()
