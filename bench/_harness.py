"""Measurement harness shared by the benchmarks: each case runs in a fresh subprocess.

A case is a Python snippet with a ``setup`` part (build the input) and a ``run`` part (the call
measured). The child process builds the input, resets its peak-RSS counter
(``/proc/self/clear_refs``), runs the call ``repeat`` times and reports the best wall time and the
extra peak memory over the resident size just before the first call. Running every library in
its own process keeps one library's caches and allocator from charging another.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

CHILD = r"""
import json, os, time, gc
def _rss(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0
{setup}
{warmup}
gc.collect()
try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    peak_ok = True
except OSError:
    peak_ok = False
base = _rss("VmRSS:")
times = []
for _ in range({repeat}):
    t0 = time.perf_counter()
    result = ({run})
    times.append(time.perf_counter() - t0)
peak = _rss("VmHWM:") if peak_ok else 0
print(json.dumps({{"seconds": min(times), "extra_bytes": max(peak - base, 0) if peak_ok else None,
                  "result": float(result) if result is not None else None}}))
"""


def measure(
    setup: str, run: str, *, warmup: str = "", repeat: int = 3, timeout: float = 1800
) -> dict:
    """Run one case in a subprocess; return seconds (best of ``repeat``), extra_bytes, result."""
    code = CHILD.format(
        setup=textwrap.dedent(setup), warmup=textwrap.dedent(warmup), run=run, repeat=repeat
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        return {"seconds": None, "extra_bytes": None, "result": None, "error": proc.stderr[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "—"
    return f"{s * 1000:.0f} ms" if s < 10 else f"{s:.1f} s"


def fmt_bytes(b: float | None) -> str:
    if b is None:
        return "—"
    return f"{b / 2**20:.0f} MiB"


def publish(
    name: str, results: dict, text: str, *, heading: str = "", write_readme: bool = True
) -> None:
    """Print ``text``; unless this is a smoke run, save ``results`` as ``results/<name>.json`` and
    put ``text`` between the ``<name>`` markers of ``bench/README.md`` (appended under
    ``heading`` the first time)."""
    import re
    from pathlib import Path

    here = Path(__file__).resolve().parent
    print(text)
    if not write_readme:  # a smoke run: print only, keep the published figures
        return
    (here / "results").mkdir(exist_ok=True)
    (here / "results" / f"{name}.json").write_text(json.dumps(results, indent=2))
    readme = here / "README.md"
    body = readme.read_text() if readme.exists() else ""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n_Run {results.get('started', '')} on {results.get('machine', '')}_\n\n{text}\n{end}"
    if start in body:
        body = re.sub(re.escape(start) + ".*" + re.escape(end), lambda _: block, body, flags=re.S)
    else:
        body += f"\n{heading}\n\n{block}\n" if heading else f"\n{block}\n"
    readme.write_text(body)
