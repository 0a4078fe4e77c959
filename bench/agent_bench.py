"""Overhead of the confidence gate around a no-op step, against calling the step directly.

Usage::

    python bench/agent_bench.py           # full run, writes bench/README.md and results/agent.json
    python bench/agent_bench.py --quick   # fewer calls, print only

Each case calls a step that returns a constant answer with confidence 0.9 (so the gate accepts at
the first attempt): the direct call, ``Gate.run`` (trace, budget, policy), ``Gate.run`` with a
circuit breaker, and the async ``Gate.arun`` against ``await step()``. The ratio says how many
no-op calls the gate's bookkeeping costs; beside any model call (milliseconds to seconds) it is
what matters.
"""

from __future__ import annotations

import asyncio
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import publish
from confide.agent import CircuitBreaker, Gate, StepResult


def _step(x: Any) -> StepResult:
    return StepResult(output=x, confidence=0.9)


async def _astep(x: Any) -> StepResult:
    return StepResult(output=x, confidence=0.9)


def _per_call(fn: Any, n: int, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for i in range(n):
            fn(i)
        best = min(best, time.perf_counter() - t0)
    return best / n


def _per_call_async(fn: Any, n: int, repeats: int = 5) -> float:
    async def loop() -> float:
        t0 = time.perf_counter()
        for i in range(n):
            await fn(i)
        return time.perf_counter() - t0

    return min(asyncio.run(loop()) for _ in range(repeats)) / n


def main() -> None:
    quick = "--quick" in sys.argv
    n = 2_000 if quick else 20_000
    gate = Gate(_step, policy=0.8)
    with_breaker = Gate(_step, policy=0.8, breakers=CircuitBreaker())
    agate = Gate(_astep, policy=0.8)
    rows = []
    direct = _per_call(_step, n)
    rows.append(("step(x) directly", direct, 1.0))
    for name, fn in (
        ("Gate.run(x)", gate.run),
        ("Gate.run(x) with a circuit breaker", with_breaker.run),
    ):
        t = _per_call(fn, n)
        rows.append((name, t, t / direct))
    adirect = _per_call_async(_astep, n)
    rows.append(("await step(x) directly", adirect, 1.0))
    t = _per_call_async(agate.arun, n)
    rows.append(("await Gate.arun(x)", t, t / adirect))
    lines = [
        f"{n:,} calls of a no-op step (best of 5 loops); the gate accepts at the first attempt.",
        "",
        "| call | per call | / direct call | share of a 50 ms model call |",
        "|---|---:|---:|---:|",
    ]
    for name, per, ratio in rows:
        lines.append(f"| {name} | {per * 1e6:.1f} µs | {ratio:.1f}x | {per / 0.05:.3%} |")
    results = {
        "started": time.ctime(),
        "machine": platform.platform(),
        "calls": n,
        "rows": [{"case": r[0], "seconds_per_call": r[1], "ratio": r[2]} for r in rows],
    }
    publish(
        "agent-bench",
        results,
        "\n".join(lines),
        heading="## Agent gate overhead (`agent_bench.py`)",
        write_readme=not quick,
    )


if __name__ == "__main__":
    main()
