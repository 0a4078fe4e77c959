"""Throughput and latency of the confidence service against a bare model endpoint.

Usage::

    python bench/service_bench.py                 # SQLite, and PostgreSQL when CONFIDE_TEST_PG_URL is set
    python bench/service_bench.py --quick         # fewer requests, print only

Each server is a real uvicorn process (one worker) on 127.0.0.1; one client sends requests one
after another (so the figures are latency-bound, not a load test) with batches of 1 and of 100
items (10 classes, logits). The confide service validates, calibrates (temperature scaling),
decides (a threshold policy), updates the drift detector and commits the batch with fsync
(SQLite WAL ``synchronous=FULL``; PostgreSQL ``fsync=on``) before it answers; the reference
answers with the argmax and stores nothing. The ratio is the price of a durable, decided,
auditable prediction.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import publish

HERE = Path(__file__).resolve().parent


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(target: str, env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            "--port",
            str(port),
            "--log-level",
            "warning",
            *(["--factory"] if target.endswith("create_app") else []),
        ],
        env={**os.environ, **env, "PYTHONPATH": str(HERE)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{target} did not start; see {log}")


def _setup_confide(db_url: str) -> str:
    from confide.calibration import TemperatureScaling
    from confide.decision import ThresholdPolicy
    from confide.store import create_engine, keys, registry, upgrade

    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 2000)
    logits = rng.normal(size=(2000, 10)) + 3 * np.eye(10)[y]
    cal = TemperatureScaling().fit(logits, y)
    engine = create_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        _, secret = keys.create_key(conn, name="bench", role="admin")
        registry.register_model(
            conn,
            name="m",
            classes=[str(i) for i in range(10)],
            calibrator=cal.to_dict(),
            policy=ThresholdPolicy(0.8).to_dict(),
            actor="bench",
        )
    engine.dispose()
    return secret


def _run(url: str, key: str | None, batch: int, n: int) -> dict[str, float]:
    rng = np.random.default_rng(1)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    lat = []
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for r in range(n + 5):
            logits = rng.normal(size=(batch, 10)) * 2
            body = {
                "input": "logits",
                "items": [
                    {"scores": row.tolist(), "client_id": f"{uuid.uuid4().hex}"} for row in logits
                ],
            }
            t0 = time.perf_counter()
            resp = client.post("/api/v1/models/m/predictions", json=body)
            dt = time.perf_counter() - t0
            resp.raise_for_status()
            if r >= 5:  # warm-up requests are not counted
                lat.append(dt)
    a = np.array(lat)
    return {
        "requests": n,
        "batch": batch,
        "p50_ms": float(np.median(a) * 1e3),
        "p95_ms": float(np.percentile(a, 95) * 1e3),
        "items_per_s": float(batch * n / a.sum()),
    }


def main() -> None:
    quick = "--quick" in sys.argv
    n = 40 if quick else 300
    tmp = Path(tempfile.mkdtemp(prefix="confide-service-bench-"))
    targets: list[tuple[str, str, dict[str, str], str | None]] = [
        ("bare FastAPI argmax (reference)", "service_app_bare:app", {}, None)
    ]
    sqlite_url = f"sqlite:///{tmp / 'bench.db'}"
    targets.append(
        (
            "confide service, SQLite",
            "confide.service:create_app",
            {"CONFIDE_DB_URL": sqlite_url},
            _setup_confide(sqlite_url),
        )
    )
    pg = os.environ.get("CONFIDE_TEST_PG_URL")
    if pg:
        import sqlalchemy as sa

        name = f"confide_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(
            pg.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        pg_url = f"{pg.rsplit('/', 1)[0]}/{name}"
        targets.append(
            (
                "confide service, PostgreSQL",
                "confide.service:create_app",
                {"CONFIDE_DB_URL": pg_url},
                _setup_confide(pg_url),
            )
        )
    rows = []
    for label, target, env, key in targets:
        proc, url = _serve(target, env, tmp / f"{len(rows)}.log")
        try:
            for batch in (1, 100):
                rows.append({"server": label, **_run(url, key, batch, n if batch == 1 else n // 3)})
                print(rows[-1], file=sys.stderr)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    ref = {r["batch"]: r for r in rows if r["server"].startswith("bare")}
    lines = [
        "One client, requests one after another, 10-class logits; uvicorn with one worker on the "
        "same 2-core machine. p50/p95: request latency; ratio: the reference's items/s over the "
        "server's.",
        "",
        "| server | items per request | requests | p50 | p95 | items/s | reference / server |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = ref[r["batch"]]["items_per_s"] / r["items_per_s"]
        lines.append(
            f"| {r['server']} | {r['batch']} | {r['requests']} | {r['p50_ms']:.1f} ms | "
            f"{r['p95_ms']:.1f} ms | {r['items_per_s']:,.0f} | {ratio:.1f}x |"
        )
    results = {"started": time.ctime(), "machine": platform.platform(), "rows": rows}
    publish(
        "service-bench",
        results,
        "\n".join(lines),
        heading="## Confidence service (`service_bench.py`)",
        write_readme=not quick,
    )


if __name__ == "__main__":
    main()
