"""confide's window drift tests against scipy.stats on the same data, measured in one run.

Usage::

    python bench/monitor_window_bench.py            # 10^6 reference vs 10^6 current float64 scores
    python bench/monitor_window_bench.py --quick    # 10^5 vs 10^5 (a smoke run)
    python bench/monitor_window_bench.py --quick --no-write   # print only

Writes ``bench/results/monitor-window-bench.json`` and the tables in ``bench/README.md`` between
the ``monitor-window-bench`` markers. Each case runs in its own process (``_harness.py``); times
are the best of three calls after a warm-up call. The value column is the test statistic (KS
distance, standardised AD statistic, CvM ``T``, chi-square statistic, Wasserstein-1 distance,
PSI), so equal values show that both sides computed the same thing. scipy's histogram test is
given the same bins as confide's (pooled deciles, built with ``np.histogram``) so that only the
work differs; the PSI baseline is the bare formula on NumPy histograms (no threshold). The
confide histogram tests also return the Wasserstein-1 effect size. confide sorts each window once
and merges the two sorted runs; scipy's ``ks_2samp`` and ``wasserstein_distance`` search every
pooled value in each sorted sample, ``cramervonmises_2samp`` ranks the pooled sample and
``anderson_ksamp`` searches it once per sample. Both KS rows pay the same
``scipy.stats.kstwo.sf`` for the asymptotic p-value (tens of ms at these sizes).
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
import numpy as np, warnings
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
n = {n}
x = rng.beta(5, 2, n)
y = np.minimum(rng.beta(5, 2, n) + 0.002, 1.0)
"""

SCIPY_TABLE = """
from scipy import stats
def scipy_chi2(x, y, b=10):
    z = np.sort(np.concatenate([x, y]))
    inner = np.unique(z[(np.arange(1, b) * z.size) // b])
    edges = np.concatenate(([-np.inf], inner[inner > z[0]], [np.inf]))
    table = np.array([np.histogram(x, edges)[0], np.histogram(y, edges)[0]])
    return stats.chi2_contingency(table).statistic
def numpy_psi(x, y, b=10):
    xs = np.sort(x)
    inner = np.unique(xs[(np.arange(1, b) * x.size) // b])  # confide's quantile positions
    edges = np.concatenate(([-np.inf], inner[inner > xs[0]], [np.inf]))
    r = np.histogram(x, edges)[0] / x.size
    c = np.histogram(y, edges)[0] / y.size
    return np.sum((c - r) * np.log(c / r))
"""

CONFIDE = """
from confide.monitor._window import ks_test, wasserstein_distance
from confide.monitor._window_ad import anderson_darling_test
from confide.monitor._window_cvm import cramer_von_mises_test
from confide.monitor._window_hist import chi_square_test
from confide.monitor._psi import psi_test
from confide.monitor._window_report import run_window_tests
"""

SMALL = "x[:1000], y[:1000]"


def cases(n: int) -> dict[str, dict[str, tuple[str, str, str]]]:
    data = DATA.format(n=n)
    ours = data + CONFIDE
    ref = data + SCIPY_TABLE
    return {
        "Kolmogorov-Smirnov": {
            "confide ks_test": (ours, "ks_test(x, y).statistic", f"ks_test({SMALL})"),
            "scipy ks_2samp": (ref, "stats.ks_2samp(x, y).statistic", ""),
        },
        "Anderson-Darling (2 samples, mid-rank)": {
            "confide anderson_darling_test": (
                ours,
                "anderson_darling_test(x, y).statistic",
                f"anderson_darling_test({SMALL})",
            ),
            "scipy anderson_ksamp": (
                ref,
                "stats.anderson_ksamp([x, y], variant='midrank').statistic",
                "",
            ),
        },
        "Cramér-von Mises (2 samples)": {
            "confide cramer_von_mises_test": (
                ours,
                "cramer_von_mises_test(x, y).statistic",
                f"cramer_von_mises_test({SMALL})",
            ),
            "scipy cramervonmises_2samp": (ref, "stats.cramervonmises_2samp(x, y).statistic", ""),
        },
        "Chi-square on pooled deciles (histogram + test)": {
            "confide chi_square_test": (
                ours,
                "chi_square_test(x, y).statistic",
                f"chi_square_test({SMALL})",
            ),
            "np.histogram + scipy chi2_contingency": (ref, "scipy_chi2(x, y)", ""),
        },
        "Wasserstein-1 distance": {
            "confide wasserstein_distance": (
                ours,
                "wasserstein_distance(x, y)",
                f"wasserstein_distance({SMALL})",
            ),
            "scipy wasserstein_distance": (ref, "stats.wasserstein_distance(x, y)", ""),
        },
        "PSI on reference deciles (value: PSI)": {
            "confide psi_test (size-aware threshold, cached law)": (
                ours,
                "psi_test(x, y).statistic",
                "psi_test(x, y)",
            ),
            "NumPy np.sort + np.histogram (PSI value only)": (ref, "numpy_psi(x, y)", ""),
        },
        "All five tests + W1 on one pair (value: KS distance)": {
            "confide run_window_tests (one sort shared)": (
                ours,
                "run_window_tests(x, y, methods=('ks', 'ad', 'cvm', 'chi2', 'psi'))"
                ".results[0].statistic",
                "run_window_tests(x, y, methods=('psi',))",
            ),
            "scipy, one call per test": (
                ref,
                "[stats.ks_2samp(x, y).statistic, stats.anderson_ksamp([x, y], "
                "variant='midrank').statistic, stats.cramervonmises_2samp(x, y).statistic, "
                "scipy_chi2(x, y), stats.wasserstein_distance(x, y)][0]",
                "",
            ),
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="10^5 scores per window (a smoke run)")
    ap.add_argument("--no-write", action="store_true", help="print, do not update bench/README.md")
    args = ap.parse_args()
    n = 10**5 if args.quick else 10**6
    results: dict = {"machine": platform.platform(), "started": time.ctime(), "n": n}
    md: list[str] = [f"{n:,} reference vs {n:,} current float64 scores.", ""]
    for title, group_cases in cases(n).items():
        group = {}
        for label, (setup, run, warmup) in group_cases.items():
            print(f"  {title}: {label} ...", file=sys.stderr, flush=True)
            group[label] = measure(setup, run, warmup=warmup, repeat=3)
            if group[label].get("error"):
                print(f"    failed: {group[label]['error'][-300:]}", file=sys.stderr)
        results[title] = group
        first = next(iter(group_cases))
        md += [f"### {title}", "", *table(group, first, "time / confide"), ""]
    publish(
        "monitor-window-bench",
        results,
        "\n".join(md),
        heading="## Window drift tests (`monitor_window_bench.py`)",
        write_readme=not args.no_write,
    )


if __name__ == "__main__":
    main()
