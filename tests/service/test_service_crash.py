"""Crash test: SIGKILL the server while predictions stream in, restart it, check nothing is lost.

Every batch whose 200 response reached the client is stored in full (same ids, same decisions);
no batch is ever half-stored. Runs on a SQLite file and, when ``CONFIDE_TEST_PG_URL`` is set
(``scripts/services.sh``), on PostgreSQL.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import sqlalchemy as sa
from tests.service.live_server import LiveServer, create_keys, register_model, unique_name

from confide.store import create_engine
from confide.store._schema import models, predictions

pytestmark = pytest.mark.slow

BATCH = 10
N_WORKERS = 3
KILLS = 3


def _batch(rng: np.random.Generator, tag: str) -> dict[str, Any]:
    probs = rng.dirichlet(np.ones(3), size=BATCH)
    return {
        "input": "probabilities",
        "items": [
            {"scores": [float(x) for x in p / p.sum()], "client_id": f"{tag}-{j}"}
            for j, p in enumerate(probs)
        ],
    }


class _Stream:
    """Worker threads posting batches in turn; the killer fires after ``kill_after`` responses."""

    def __init__(self, url: str, key: str, model: str, rnd: int, rng: np.random.Generator):
        self.url, self.key, self.model, self.rnd = url, key, model, rnd
        self.rng = rng
        self.lock = threading.Lock()
        self.next_batch = 0
        self.sent: dict[str, dict[str, Any]] = {}  # tag -> request body (every attempted batch)
        self.received: dict[str, dict[str, Any]] = {}  # tag -> 200 response body
        self.failed: list[str] = []  # tags whose request died with the server
        self.errors: list[str] = []  # answers other than 200 (the test fails on any)
        self.reached = threading.Event()
        self.kill_after = 0

    def _take(self) -> tuple[str, dict[str, Any]] | None:
        with self.lock:
            if self.next_batch >= 500:
                return None
            tag = f"r{self.rnd}-b{self.next_batch}"
            self.next_batch += 1
            body = _batch(self.rng, tag)
            self.sent[tag] = body
            return tag, body

    def worker(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=30.0) as client:
            while True:
                job = self._take()
                if job is None:
                    return
                tag, body = job
                try:
                    r = client.post(f"/api/v1/models/{self.model}/predictions", json=body)
                except httpx.TransportError:
                    with self.lock:
                        self.failed.append(tag)
                    return
                with self.lock:
                    if r.status_code != 200:
                        self.errors.append(f"{tag}: {r.status_code} {r.text[:300]}")
                        self.reached.set()  # fail fast
                        return
                    self.received[tag] = r.json()
                    if len(self.received) >= self.kill_after:
                        self.reached.set()


def _stored(engine: sa.Engine, model: str) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                predictions.c.id,
                predictions.c.client_id,
                predictions.c.batch_id,
                predictions.c.decision,
                predictions.c.label,
            )
            .join(models, models.c.id == predictions.c.model_id)
            .where(models.c.name == model)
        )
        return {r.client_id: dict(r._mapping) for r in rows}


def _check(stored: dict[str, dict[str, Any]], streams: list[_Stream]) -> None:
    """Every received batch stored as answered; every batch all-or-nothing; nothing unknown."""
    sent = {tag: body for s in streams for tag, body in s.sent.items()}
    received = {tag: resp for s in streams for tag, resp in s.received.items()}
    for tag, resp in received.items():
        for item in resp["items"]:
            row = stored.get(item["client_id"])
            assert row is not None, f"{item['client_id']} was answered 200 but is not stored"
            assert row["id"] == item["id"]
            assert row["decision"] == item["decision"]
            assert row["label"] == item["label_index"]
            assert row["batch_id"] == resp["batch_id"] or item["replayed"]
    for tag, body in sent.items():
        cids = [it["client_id"] for it in body["items"]]
        present = [c in stored for c in cids]
        assert all(present) or not any(present), f"batch {tag} is half-stored: {present}"
        if all(present):
            assert len({stored[c]["batch_id"] for c in cids}) == 1, f"batch {tag} split"
    known = {it["client_id"] for body in sent.values() for it in body["items"]}
    assert set(stored) <= known, "rows stored that no request sent"
    by_batch: dict[str, int] = {}
    for row in stored.values():
        by_batch[row["batch_id"]] = by_batch.get(row["batch_id"], 0) + 1
    assert set(by_batch.values()) <= {BATCH}, f"a batch_id with a partial batch: {by_batch}"


def test_sigkill_mid_stream_loses_no_answered_batch(db_url: str, tmp_path: Path) -> None:
    """``db_url`` (tests/service/conftest.py): a fresh SQLite file, and a fresh PostgreSQL
    database when ``CONFIDE_TEST_PG_URL`` is set (skipped with the reason otherwise)."""
    url = db_url
    secrets = create_keys(url, **{unique_name("admin"): "admin", unique_name("ingest"): "ingest"})
    admin, ingest = secrets.values()
    model = unique_name("crash")
    rng = np.random.default_rng(20261129)
    server = LiveServer(url, tmp_path / "server.log")
    streams: list[_Stream] = []
    engine = create_engine(url)
    try:
        server.start()
        register_model(server.url, admin, model)
        for rnd in range(KILLS):
            stream = _Stream(server.url, ingest, model, rnd, rng)
            stream.kill_after = int(rng.integers(5, 30))
            streams.append(stream)
            workers = [threading.Thread(target=stream.worker) for _ in range(N_WORKERS)]
            for w in workers:
                w.start()
            assert stream.reached.wait(60), server.log()
            threading.Event().wait(float(rng.uniform(0.0, 0.02)))  # land mid-request
            server.kill()
            for w in workers:
                w.join(30)
                assert not w.is_alive()
            assert not stream.errors, stream.errors
            assert stream.failed, "no request was in flight when the server died"
            server.start()  # same database: SQLite recovers its WAL, PostgreSQL its log
            _check(_stored(engine, model), streams)
            assert len(stream.received) >= stream.kill_after

            # a client retrying the batches that died in flight gets each stored exactly once
            with httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {ingest}"}, timeout=30.0
            ) as client:
                for tag in stream.failed:
                    before = _stored(engine, model)
                    r = client.post(f"/api/v1/models/{model}/predictions", json=stream.sent[tag])
                    assert r.status_code == 200, r.text
                    body = r.json()
                    was_stored = stream.sent[tag]["items"][0]["client_id"] in before
                    assert body["stored"] == (0 if was_stored else BATCH)
                    assert all(it["replayed"] is was_stored for it in body["items"])
                    stream.received[tag] = body
            _check(_stored(engine, model), streams)
        total = sum(len(s.received) for s in streams)
        assert len(_stored(engine, model)) == total * BATCH
    finally:
        server.stop()
        engine.dispose()
