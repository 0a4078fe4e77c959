"""Scale-out bench: confide on Dask vs one streaming process vs plain NumPy, same Parquet files.

Writes ``--rows`` binary predictions (float32 ``score`` = P(y=1) and int8 ``label``: 5 bytes a
row, 0.5 GB at the default 10^8) as ``--files`` Parquet files under a temporary directory, then
runs each variant in its own subprocess and reports wall time, the ECE (15 uniform bins,
top-label) and peak memory:

* ``dask``: ``confide.distributed.calibration_summary("dir/*.parquet")`` on a
  ``LocalCluster`` of ``--workers`` worker processes (1 thread each); memory is the driver's peak
  RSS plus every worker's own peak RSS (``getrusage`` in each worker);
* ``stream``: one process reading pyarrow record batches of ``--batch-rows`` rows into a
  ``CalibrationAccumulator``;
* ``numpy-batches``: the same batches, ECE by hand with ``np.bincount`` (no confide);
* ``numpy-whole``: ``pyarrow.parquet.read_table`` of every file into memory, then the same
  NumPy ECE: memory grows with the data (skipped above ``--whole-max`` rows).

Peak RSS of each variant is the child's ``ru_maxrss`` (its own, plus its Dask workers'), so the
figures show memory bounded by partition / batch size rather than data size. CPU seconds (user +
system, the process plus its workers) are reported beside wall time, which on a shared machine
mostly measures waiting; imports and numba compilation happen before the clock starts (for Dask,
a tiny run on the same cluster first).

Usage: ``python bench/scale_bench.py [--rows 100000000] [--smoke]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
N_BINS = 15


# -- the variants (run in a child process) -----------------------------------------------------
def _numpy_ece_state(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    edges = (np.arange(N_BINS + 1, dtype=np.float64) / N_BINS).astype(np.float32)
    pred = p > 0.5
    conf = np.where(pred, p, np.float32(1) - p)
    idx = np.searchsorted(edges[1:-1], conf, side="right")
    correct = (pred == (y == 1)).astype(np.float64)
    return np.stack(
        [
            np.bincount(idx, minlength=N_BINS).astype(np.float64),
            np.bincount(idx, weights=conf.astype(np.float64), minlength=N_BINS),
            np.bincount(idx, weights=correct, minlength=N_BINS),
        ]
    )


def _ece_from_state(s: np.ndarray) -> float:
    return float(np.abs(s[2] - s[1]).sum() / s[0].sum())


def _batches(files: list[Path], batch_rows: int):
    import pyarrow.parquet as pq

    for f in files:
        for b in pq.ParquetFile(f).iter_batches(batch_size=batch_rows, columns=["score", "label"]):
            yield b.column(0).to_numpy(), b.column(1).to_numpy()


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _warm() -> float:
    """Import confide and compile its kernels (numba) outside the timed section."""
    from confide.metrics import CalibrationAccumulator

    p = np.linspace(0, 1, 1000, dtype=np.float32)
    CalibrationAccumulator(binary=True).update((p > 0.3).astype(np.int8), p)
    return _cpu_seconds()


def run_variant(name: str, data: Path, workers: int, batch_rows: int) -> dict:
    files = sorted(data.glob("*.parquet"))
    out: dict = {"variant": name}
    if name != "numpy-whole" and name != "numpy-batches":
        _warm()
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    if name == "dask":
        import logging

        from confide.distributed import calibration_summary
        from distributed import Client, LocalCluster

        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            with tempfile.TemporaryDirectory() as warm_dir:  # first-call imports and compiles
                write_data(Path(warm_dir), 4_000, 4)
                calibration_summary(str(Path(warm_dir) / "*.parquet"), n_bins=N_BINS)
            worker_cpu0 = client.run(_cpu_seconds)
            cpu0 = _cpu_seconds()
            t0 = time.perf_counter()
            summary = calibration_summary(str(data / "*.parquet"), n_bins=N_BINS)
            out["seconds"] = time.perf_counter() - t0
            worker_cpu = client.run(_cpu_seconds)
            out["worker_cpu_seconds"] = sum(worker_cpu[w] - worker_cpu0[w] for w in worker_cpu)
            peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
            out["worker_peak_bytes"] = [v * 1024 for v in peaks.values()]
        out["ece"], out["rows"] = summary.ece, summary.n_samples
    elif name == "stream":
        from confide.metrics import CalibrationAccumulator

        acc = CalibrationAccumulator(binary=True, n_bins=N_BINS)
        for p, y in _batches(files, batch_rows):
            acc.update(y, p)
        out["seconds"] = time.perf_counter() - t0
        out["ece"], out["rows"] = acc.ece(), acc.n_samples
    elif name == "numpy-batches":
        state = np.zeros((3, N_BINS))
        for p, y in _batches(files, batch_rows):
            state += _numpy_ece_state(p, y)
        out["seconds"] = time.perf_counter() - t0
        out["ece"], out["rows"] = _ece_from_state(state), float(state[0].sum())
    elif name == "numpy-whole":
        import pyarrow.parquet as pq

        table = pq.read_table(data, columns=["score", "label"])
        p, y = table.column(0).to_numpy(), table.column(1).to_numpy()
        state = _numpy_ece_state(p, y)
        out["seconds"] = time.perf_counter() - t0
        out["ece"], out["rows"] = _ece_from_state(state), float(state[0].sum())
    else:
        raise SystemExit(f"unknown variant {name}")
    out["cpu_seconds"] = _cpu_seconds() - cpu0 + out.get("worker_cpu_seconds", 0.0)
    out["driver_peak_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out["peak_bytes"] = out["driver_peak_bytes"] + sum(out.get("worker_peak_bytes", []))
    return out


# -- the driver --------------------------------------------------------------------------------
def write_data(root: Path, rows: int, files: int, seed: int = 0) -> float:
    import pyarrow as pa
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    per = -(-rows // files)
    for i in range(files):
        n = min(per, rows - i * per)
        if n <= 0:
            break
        rng = np.random.default_rng([seed, i])
        p = rng.random(n, dtype=np.float32)
        y = (rng.random(n, dtype=np.float32) < p**1.2).astype(np.int8)
        table = pa.table({"score": p, "label": y})
        pq.write_table(table, root / f"part-{i:05d}.parquet", row_group_size=1 << 20)
    return time.perf_counter() - t0


def run_child(name: str, data: Path, args: argparse.Namespace) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--variant",
        name,
        "--data",
        str(data),
        "--workers",
        str(args.workers),
        "--batch-rows",
        str(args.batch_rows),
    ]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        return {"variant": name, "error": proc.stderr[-1500:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(results: dict) -> str:
    rows = results["rows"]
    lines = [
        f"{rows:,} binary predictions (float32 P(y=1) + int8 label, {results['data_bytes'] / 2**20:.0f} MiB "
        f"of Parquet in {results['files']} files of {results['rows_per_file']:,} rows); top-label "
        f"ECE, {N_BINS} uniform bins. Dask: LocalCluster of {results['workers']} worker processes "
        f"x 1 thread, one partition per file; single process: pyarrow batches of "
        f"{results['batch_rows']:,} rows. Peak memory: the process's peak RSS plus, for Dask, "
        "every worker's own peak RSS. CPU: user + system seconds of the process and its workers "
        "(imports and numba compilation done before the clock starts: a tiny run first). The machine's 2 cores "
        f"were shared with other jobs (load average {results.get('load', '?')} at the start), "
        "so wall times there are upper bounds; CPU seconds are the fairer comparison.",
        "",
        "| variant | wall time | CPU time | rows/s (wall) | peak memory | (driver / max worker) | ECE |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["variants"]:
        if "error" in r or r.get("skipped"):
            why = r.get("skipped") or "failed"
            lines.append(f"| {r['variant']} | {why} | | | | | |")
            continue
        workers = r.get("worker_peak_bytes", [])
        split = (
            f"{r['driver_peak_bytes'] / 2**20:.0f} / {max(workers) / 2**20:.0f} MiB"
            if workers
            else f"{r['driver_peak_bytes'] / 2**20:.0f} MiB / —"
        )
        lines.append(
            f"| {LABELS[r['variant']]} | {r['seconds']:.1f} s | {r['cpu_seconds']:.1f} s "
            f"| {rows / r['seconds'] / 1e6:.1f} M "
            f"| {r['peak_bytes'] / 2**20:.0f} MiB | {split} | {r['ece']:.12f} |"
        )
    return "\n".join(lines)


LABELS = {
    "dask": "confide.distributed on Dask",
    "stream": "confide CalibrationAccumulator, one process",
    "numpy-batches": "NumPy + pyarrow batches (no confide)",
    "numpy-whole": "NumPy + pyarrow, whole table in memory",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--files", type=int, default=None, help="default: one per 2 million rows")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-rows", type=int, default=1 << 20)
    ap.add_argument("--whole-max", type=int, default=100_000_000)
    ap.add_argument("--smoke", action="store_true", help="10^6 rows, print only")
    ap.add_argument("--variant", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, Path(args.data), args.workers, args.batch_rows)))
        return
    rows = 1_000_000 if args.smoke else args.rows
    files = args.files or max(1, rows // 2_000_000)
    results: dict = {
        "machine": f"{platform.platform()}, {os.cpu_count()} cores",
        "started": time.ctime(),
        "rows": rows,
        "files": files,
        "rows_per_file": -(-rows // files),
        "workers": args.workers,
        "batch_rows": args.batch_rows,
        "variants": [],
        "load": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
    }
    with tempfile.TemporaryDirectory(prefix="confide-scale-") as tmp:
        data = Path(tmp)
        results["write_seconds"] = write_data(data, rows, files)
        results["data_bytes"] = sum(f.stat().st_size for f in data.glob("*.parquet"))
        for name in ("dask", "stream", "numpy-batches", "numpy-whole"):
            if name == "numpy-whole" and rows > args.whole_max:
                results["variants"].append(
                    {"variant": name, "skipped": f"skipped above {args.whole_max:,} rows"}
                )
                continue
            r = run_child(name, data, args)
            results["variants"].append(r)
            print(json.dumps(r), file=sys.stderr)
    from _harness import publish

    publish(
        "scale",
        results,
        table(results),
        heading="## Scale-out on Dask (`scale_bench.py`, scale-bench)",
        write_readme=not args.smoke,
    )


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
