"""Streaming drift detectors: detection delay at a matched false-alarm rate, and throughput.

Usage::

    python bench/monitor_stream_bench.py           # ARL/ERT 1000, 20 seeds, 10^7 values
    python bench/monitor_stream_bench.py --quick   # ARL/ERT 200, 5 seeds, 10^6 values (smoke run)

Part 1 (delays, in this process): three shifts of a confidence stream after 2000 in-control
values (covariate Beta(5,2) -> Beta(3,2); label shift of a two-class mixture 70/30 -> 30/70;
30 % of values replaced by Uniform(0,1)). Every detector is set for the same in-control run
length A where it can be: confide's CUSUM (h from ``threshold_for_arl``, bootstrap of the
reference), confide's OnlineCramerVonMises and alibi-detect's CVMDriftOnline (window w,
ert=A, same reference and number of bootstraps), and PageHinkley with its threshold tuned by
bisection on null streams to a mean run length of A (river's and confide's, fed the same
values). ADWIN cannot be tuned that far (its false-alarm rate stays far below 1/A even at
delta=0.5), so it runs with river's defaults. Every detector restarts after an alarm (alibi's
by ``reset_state``). alibi-detect runs in its own venv (``/work/venvs/alibi``, or the python
named by ``ALIBI_PYTHON``) because it must not be installed beside confide's test stack; when
it is absent the table says why.

Part 1b (same false-alarm rate as alibi-detect): alibi-detect's null rate is measured on the
first 2*10^5 null values; confide's OnlineCramerVonMises thresholds are shifted by one constant
(bisection) until its alarm count on those same values equals alibi-detect's, and its delays
are measured again on the same seeded streams.

Part 2 (throughput, each case in a fresh process through ``_harness.measure``): one
``update_many`` call over N values against a per-value loop over the same values: river's
``update`` for ADWIN and PageHinkley, a plain-Python loop of the CUSUM recursion for CUSUM
(river 0.26 has no CUSUM), and ``scipy.stats.cramervonmises_2samp`` on each sliding window
for the online CvM (timed on a slice and reported per value).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import fmt_bytes, fmt_seconds, measure, publish
from confide.monitor._adwin import ADWIN
from confide.monitor._cusum import CUSUM, threshold_for_arl
from confide.monitor._online_cvm import OnlineCramerVonMises
from confide.monitor._page_hinkley import PageHinkley

CHANGE, AFTER = 2000, 4000
KINDS = ("covariate", "label", "noise")
ALIBI = os.environ.get("ALIBI_PYTHON", "/work/venvs/alibi/bin/python")


def _mixture(rng: np.random.Generator, n: int, hard: float) -> np.ndarray:
    is_hard = rng.random(n) < hard
    return np.where(is_hard, rng.beta(4, 3, n), rng.beta(9, 2, n))


def in_control(kind: str, rng: np.random.Generator, n: int) -> np.ndarray:
    return _mixture(rng, n, 0.3) if kind == "label" else rng.beta(5, 2, n)


def stream(kind: str, rng: np.random.Generator) -> np.ndarray:
    before = in_control(kind, rng, CHANGE)
    if kind == "label":
        return np.r_[before, _mixture(rng, AFTER, 0.7)]
    if kind == "covariate":
        return np.r_[before, rng.beta(3, 2, AFTER)]
    after = rng.beta(5, 2, AFTER)
    noisy = rng.random(AFTER) < 0.3
    after[noisy] = rng.random(int(noisy.sum()))
    return np.r_[before, after]


def first_late(alarms: list[int] | tuple[int, ...]) -> float:
    late = [a for a in alarms if a >= CHANGE]
    return float(late[0] - CHANGE) if late else float("inf")


def river_alarms(det, xs: np.ndarray) -> list[int]:
    out = []
    for i, v in enumerate(xs.tolist()):
        det.update(v)
        if det.drift_detected:
            out.append(i)
    return out


def tune_page_hinkley(kind: str, arl: float, n: int) -> float:
    """Threshold whose mean null run length (confide's PH, identical to river's) is ``arl``."""
    x = in_control(kind, np.random.default_rng(99), n)
    lo, hi = 0.01, 50.0
    for _ in range(30):
        mid = (lo * hi) ** 0.5
        k = PageHinkley(threshold=mid).update_many(x).n_alarms
        if k and n / k < arl:
            lo = mid
        else:
            hi = mid
    return hi


ALIBI_SCRIPT = r"""
import json, sys, time, numpy as np
from alibi_detect.cd import CVMDriftOnline
d = np.load(sys.argv[1]); cfg = json.loads(sys.argv[2]); out = {}
for kind in cfg["kinds"]:
    t0 = time.perf_counter()
    cd = CVMDriftOnline(d[kind + "_ref"], ert=cfg["ert"], window_sizes=[cfg["w"]],
                        n_bootstraps=cfg["boot"], verbose=False)
    config_s = time.perf_counter() - t0
    def alarms(xs, stop_after=None):
        cd.reset_state(); found = []
        for i, v in enumerate(xs):
            if cd.predict(np.array([v]), return_test_stat=False)["data"]["is_drift"]:
                found.append(i); cd.reset_state()
                if stop_after is not None and i >= stop_after:
                    break
        return found
    t0 = time.perf_counter()
    null = alarms(d[kind + "_null"])
    per_value = (time.perf_counter() - t0) / len(d[kind + "_null"])
    delays = []
    for s in range(cfg["seeds"]):
        late = [a for a in alarms(d[f"{kind}_{s}"], cfg["change"]) if a >= cfg["change"]]
        delays.append(late[0] - cfg["change"] if late else None)
    out[kind] = {"null_alarms": len(null), "null_n": len(d[kind + "_null"]),
                 "delays": delays, "config_s": config_s, "per_value_s": per_value}
print(json.dumps(out))
"""


def run_alibi(streams: dict, refs: dict, nulls: dict, cfg: dict) -> dict:
    if not Path(ALIBI).exists():
        return {
            "skipped": f"no python with alibi-detect at {ALIBI} (create it with: python -m "
            "venv /work/venvs/alibi && /work/venvs/alibi/bin/pip install alibi-detect numpy scipy)"
        }
    with tempfile.TemporaryDirectory() as tmp:
        arrays = {f"{k}_ref": refs[k] for k in KINDS} | {f"{k}_null": nulls[k] for k in KINDS}
        arrays |= {f"{k}_{s}": x for k in KINDS for s, x in enumerate(streams[k])}
        np.savez(Path(tmp) / "streams.npz", **arrays)
        proc = subprocess.run(
            [ALIBI, "-c", ALIBI_SCRIPT, str(Path(tmp) / "streams.npz"), json.dumps(cfg)],
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode != 0:
        return {"skipped": "alibi-detect failed: " + proc.stderr.strip().splitlines()[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def delays_part(quick: bool) -> tuple[dict, list[str]]:
    arl = 200 if quick else 1000
    w = 50 if quick else 100
    seeds = 5 if quick else 20
    boot = 2000 if quick else 10000
    n_null = 2 * 10**5 if quick else 10**6
    n_null_alibi = 2 * 10**4 if quick else 2 * 10**5
    streams = {k: [stream(k, np.random.default_rng(1000 + s)) for s in range(seeds)] for k in KINDS}
    refs = {k: in_control(k, np.random.default_rng(7), 1000) for k in KINDS}
    nulls = {k: in_control(k, np.random.default_rng(8), n_null) for k in KINDS}
    rows: dict[str, dict] = {}
    cvms: dict[str, OnlineCramerVonMises] = {}

    def record(name: str, kind: str, null_alarms: int, null_n: int, delays: list) -> None:
        d = np.asarray([np.inf if v is None else v for v in delays], dtype=float)
        rows.setdefault(name, {})[kind] = {
            "false_alarms_per_1e5": 1e5 * null_alarms / null_n,
            "median_delay": float(np.median(d)),
            "missed": int(np.isinf(d).sum()),
            "delays": [None if np.isinf(v) else float(v) for v in d],
        }

    for kind in KINDS:
        ref, null = refs[kind], nulls[kind]
        print(f"  delays: {kind} ...", file=sys.stderr, flush=True)
        h = threshold_for_arl(arl, 0.5, method="simulation", reference=ref, seed=0)
        cvm = OnlineCramerVonMises(ref, window_size=w, ert=arl, n_bootstraps=boot)
        ph_thr = tune_page_hinkley(kind, arl, n_null)
        cvm_null = cvm.update_many(null).n_alarms
        cvms[kind] = cvm
        detectors = {
            f"confide CUSUM (k=0.5, h from threshold_for_arl({arl}))": lambda h=h, ref=ref: CUSUM(
                h=h
            ).fit(ref),
            f"confide OnlineCramerVonMises (w={w}, ert={arl})": lambda cvm=cvm: (cvm.reset(), cvm)[
                1
            ],
            f"confide PageHinkley (threshold tuned to ARL {arl})": lambda t=ph_thr: PageHinkley(
                threshold=t
            ),
            "confide ADWIN (defaults)": ADWIN,
        }
        for name, make in detectors.items():
            n_fa = cvm_null if "Cramer" in name else make().update_many(null).n_alarms
            record(
                name,
                kind,
                n_fa,
                null.size,
                [first_late(make().update_many(x).alarms) for x in streams[kind]],
            )
        import river.drift as rd

        for name, make in {
            f"river PageHinkley (threshold tuned to ARL {arl})": lambda t=ph_thr: rd.PageHinkley(
                threshold=t
            ),
            "river ADWIN (defaults)": rd.ADWIN,
        }.items():
            record(
                name,
                kind,
                len(river_alarms(make(), null)),
                null.size,
                [first_late(river_alarms(make(), x)) for x in streams[kind]],
            )
        rows.setdefault("_settings", {})[kind] = {"cusum_h": h, "page_hinkley_threshold": ph_thr}
    print("  delays: alibi-detect ...", file=sys.stderr, flush=True)
    cfg = {"kinds": list(KINDS), "ert": arl, "w": w, "boot": boot, "seeds": seeds, "change": CHANGE}
    alibi_nulls = {k: nulls[k][:n_null_alibi] for k in KINDS}
    alibi = run_alibi(streams, refs, alibi_nulls, cfg)
    name = f"alibi-detect CVMDriftOnline (w={w}, ert={arl})"
    if "skipped" not in alibi:
        for kind in KINDS:
            a = alibi[kind]
            record(name, kind, a["null_alarms"], a["null_n"], a["delays"])
    matched = {} if "skipped" in alibi else matched_part(cvms, streams, alibi_nulls, alibi, w, arl)
    md = [
        f"### Detection delay, in-control run length {arl} ({seeds} seeded streams per shift)",
        "",
        "Median values from the change to the first alarm at or after it (missed: no alarm in "
        f"{AFTER} values); false alarms per 10^5 in-control values (nominal 10^5/{arl} = "
        f"{1e5 / arl:.0f} for the calibrated rows).",
        "",
        "| detector | " + " | ".join(f"{k}: delay (missed) | {k}: FA/1e5" for k in KINDS) + " |",
        "|---|" + "---:|" * (2 * len(KINDS)),
    ]
    for name, per in rows.items():
        if name.startswith("_"):
            continue
        cells = [
            f"{per[k]['median_delay']:.0f} ({per[k]['missed']}) | {per[k]['false_alarms_per_1e5']:.1f}"
            for k in KINDS
        ]
        md.append(f"| {name} | " + " | ".join(cells) + " |")
    md += [
        "",
        "The calibrated rows (CUSUM, both CvM) are tuned on one reference sample of 1000 "
        "values, so their false-alarm rates are those of that sample: averaged over reference "
        "samples they sit at the nominal rate (tests/monitor/test_monitor_detectors_null.py). "
        "river's and confide's PageHinkley and ADWIN raise alarms on the same values, so their "
        "rows are equal by construction (tests/monitor/test_monitor_adwin_river.py).",
    ]
    if "skipped" in alibi:
        md += ["", f"alibi-detect: skipped — {alibi['skipped']}"]
    else:
        md += [
            "",
            "alibi-detect: configuration "
            + ", ".join(f"{k} {alibi[k]['config_s']:.1f} s" for k in KINDS)
            + "; per value "
            f"{1e6 * np.mean([alibi[k]['per_value_s'] for k in KINDS]):.0f} µs (its state grows "
            "until reset); null rate over " + f"{n_null_alibi:,} values.",
        ]
        md += matched_markdown(matched, n_null_alibi, seeds, arl)
    return {
        "rows": rows,
        "alibi": alibi,
        "matched": matched,
        "arl": arl,
        "window": w,
        "seeds": seeds,
    }, md


def _alarms_with_offset(cvm: OnlineCramerVonMises, base: np.ndarray, delta: float, x) -> list:
    cvm.thresholds_ = base + delta
    cvm.reset()
    return list(cvm.update_many(x).alarms)


def matched_part(
    cvms: dict, streams: dict, nulls: dict, alibi: dict, w: int, arl: int
) -> dict[str, dict]:
    """confide's online CvM and alibi-detect's at the same measured false-alarm rate.

    The false-alarm measure is the one alibi-detect was given: alarms (with restart) over the
    same ``nulls[kind]`` values. confide's calibrated thresholds are shifted by one constant
    ``delta`` (bisection, 40 halvings) so that its count on those values equals alibi's; the
    delays are then measured on the same seeded streams as every other row.
    """
    out: dict[str, dict] = {}
    for kind in KINDS:
        cvm, null, target = cvms[kind], nulls[kind], alibi[kind]["null_alarms"]
        base = cvm.thresholds_.copy()
        nominal = len(_alarms_with_offset(cvm, base, 0.0, null))
        lo, hi = -2.0, 2.0
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            if len(_alarms_with_offset(cvm, base, mid, null)) > target:
                lo = mid
            else:
                hi = mid
        reached = len(_alarms_with_offset(cvm, base, hi, null))
        delays = [first_late(_alarms_with_offset(cvm, base, hi, x)) for x in streams[kind]]
        cvm.thresholds_ = base
        cvm.reset()
        d = np.asarray(delays, dtype=float)
        a = np.asarray([np.inf if v is None else v for v in alibi[kind]["delays"]], dtype=float)
        out[kind] = {
            "null_n": int(null.size),
            "alibi_null_alarms": int(target),
            "confide_nominal_null_alarms": int(nominal),
            "confide_matched_null_alarms": int(reached),
            "threshold_offset": float(hi),
            "confide_matched_median_delay": float(np.median(d)),
            "confide_matched_missed": int(np.isinf(d).sum()),
            "confide_matched_delays": [None if np.isinf(v) else float(v) for v in d],
            "alibi_median_delay": float(np.median(a)),
            "streams_confide_faster": int(np.sum(d < a)),
            "streams_alibi_faster": int(np.sum(a < d)),
        }
    return out


def matched_markdown(matched: dict, n_null: int, seeds: int, arl: int) -> list[str]:
    md = [
        "",
        "### Online CvM at the same false-alarm rate as alibi-detect",
        "",
        f"False alarms counted, with restart after each, over the same {n_null:,} in-control "
        "values that alibi-detect's null rate above was measured on. confide's thresholds "
        f"(calibrated to ERT {arl} by its own bootstrap) are shifted by one constant, found by "
        "bisection, until its count on those values equals alibi-detect's; delays are then "
        f"measured on the same {seeds} seeded streams per shift as every row above. The "
        "streams per shift on which each detector alarmed first are counted in the last column. "
        "Shifting thresholds by a constant is a bench device to equalise the measured rate; "
        "the detector's own calibration is the nominal row.",
        "",
        "| shift | alibi-detect: FA/1e5 | alibi-detect: delay | confide (nominal): FA/1e5 "
        "| confide (matched): FA/1e5 | offset | confide (matched): delay (missed) "
        "| streams faster: confide / alibi |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, r in matched.items():
        per = 1e5 / r["null_n"]
        md.append(
            f"| {kind} | {per * r['alibi_null_alarms']:.1f} | {r['alibi_median_delay']:.1f} "
            f"| {per * r['confide_nominal_null_alarms']:.1f} "
            f"| {per * r['confide_matched_null_alarms']:.1f} | {r['threshold_offset']:+.4f} "
            f"| {r['confide_matched_median_delay']:.1f} ({r['confide_matched_missed']}) "
            f"| {r['streams_confide_faster']} / {r['streams_alibi_faster']} |"
        )
    return md


DATA = """
import numpy as np
rng = np.random.default_rng(0)
x = np.r_[rng.beta(5, 2, {n} // 2), rng.beta(3, 2, {n} - {n} // 2)]
ref = rng.beta(5, 2, 1000)
"""


def speed_cases(n: int, n_scipy: int) -> dict[str, tuple[str, str, str, int]]:
    data = DATA.format(n=n)
    conf = data + "from confide.monitor._{mod} import {cls}\n"
    loop = "def loop(d, xs):\n    k = 0\n    for v in xs:\n        d.update(v)\n        k += d.drift_detected\n    return k\n"
    cusum_loop = (
        "def loop(xs, m, s, k=0.5, h=5.0):\n    sp = sn = 0.0; a = 0; drift = False\n"
        "    for v in xs:\n        if drift: sp = sn = 0.0\n        z = (v - m) / s\n"
        "        sp = max(0.0, sp + z - k); sn = max(0.0, sn - z - k)\n"
        "        drift = sp > h or sn > h; a += drift\n    return a\n"
    )
    cvm_scipy = (
        f"import scipy.stats as ss\nxs = x[:{n_scipy}]\n"
        "def loop():\n    s = 0.0\n    for i in range(100, xs.size + 1):\n"
        "        s += ss.cramervonmises_2samp(ref, xs[i - 100:i]).statistic\n    return s\n"
    )
    return {
        "ADWIN: confide update_many": (
            conf.format(mod="adwin", cls="ADWIN"),
            "ADWIN().update_many(x).n_alarms",
            "ADWIN().update_many(x[:1000])",
            n,
        ),
        "ADWIN: river per-value update": (
            data + "from river.drift import ADWIN\nxs = x.tolist()\n" + loop,
            "loop(ADWIN(), xs)",
            "",
            n,
        ),
        "PageHinkley: confide update_many": (
            conf.format(mod="page_hinkley", cls="PageHinkley"),
            "PageHinkley().update_many(x).n_alarms",
            "PageHinkley().update_many(x[:1000])",
            n,
        ),
        "PageHinkley: river per-value update": (
            data + "from river.drift import PageHinkley\nxs = x.tolist()\n" + loop,
            "loop(PageHinkley(), xs)",
            "",
            n,
        ),
        "CUSUM: confide update_many": (
            conf.format(mod="cusum", cls="CUSUM"),
            "CUSUM().fit(ref).update_many(x).n_alarms",
            "CUSUM().fit(ref).update_many(x[:1000])",
            n,
        ),
        "CUSUM: plain-Python loop of the recursion": (
            data + "xs = x.tolist()\n" + cusum_loop,
            "loop(xs, float(ref.mean()), float(ref.std(ddof=1)))",
            "",
            n,
        ),
        "CvM (w=100): confide OnlineCramerVonMises.update_many": (
            conf.format(mod="online_cvm", cls="OnlineCramerVonMises")
            + "d = OnlineCramerVonMises(ref, window_size=100, ert=1000, n_bootstraps=1000)\n",
            "d.update_many(x).n_alarms",
            "d.update_many(x[:1000]); d.reset()",
            n,
        ),
        "CvM (w=100): scipy cramervonmises_2samp per window": (
            data + cvm_scipy,
            "loop()",
            "",
            n_scipy,
        ),
    }


def speed_part(quick: bool) -> tuple[dict, list[str]]:
    n = 10**6 if quick else 10**7
    n_scipy = 2000 if quick else 20000
    results: dict = {}
    for label, (setup, run, warmup, size) in speed_cases(n, n_scipy).items():
        print(f"  speed: {label} ...", file=sys.stderr, flush=True)
        repeat = 3 if "confide" in label else 1
        res = measure(setup, run, warmup=warmup, repeat=repeat)
        res["values"] = size
        results[label] = res
        if res.get("error"):
            print(f"    failed: {res['error'][-300:]}", file=sys.stderr)
    md = [
        f"### Throughput: one update_many over {n:,} values vs a per-value loop",
        "",
        "Stream: Beta(5,2) then Beta(3,2), half and half; default settings; one core. The "
        f"scipy CvM loop ran on the first {n_scipy:,} values (its per-value time is what "
        "compares).",
        "",
        "| case | values | time | per value | extra memory | loop / confide (per value) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    labels = list(results)
    for i in range(0, len(labels), 2):
        mine, theirs = results[labels[i]], results[labels[i + 1]]
        for lab, r in ((labels[i], mine), (labels[i + 1], theirs)):
            per = r["seconds"] / r["values"] if r["seconds"] else None
            ratio = ""
            if lab == labels[i + 1] and per and mine["seconds"]:
                ratio = f"{per / (mine['seconds'] / mine['values']):.0f}x"
            per_s = f"{per * 1e9:.0f} ns" if per else "—"
            md.append(
                f"| {lab} | {r['values']:,} | {fmt_seconds(r['seconds'])} | {per_s} | "
                f"{fmt_bytes(r['extra_bytes'])} | {ratio} |"
            )
    return results, md


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-write", action="store_true", help="print only; keep published figures")
    args = ap.parse_args()
    results: dict = {"machine": platform.platform(), "started": time.ctime(), "quick": args.quick}
    results["delays"], md_delay = delays_part(args.quick)
    results["speed"], md_speed = speed_part(args.quick)
    head = ["_Quick run (`--quick`): smaller sizes, fewer seeds._", ""] if args.quick else []
    publish(
        "monitor-stream-bench",
        results,
        "\n".join(head + md_delay + [""] + md_speed),
        heading="## Monitor: streaming drift detectors",
        write_readme=not args.no_write,
    )


if __name__ == "__main__":
    main()
