"""The reference for bench/service_bench.py: the same request and response shapes served by a
bare FastAPI endpoint that only takes the argmax (no calibration, policy, database or auth)."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel


class Item(BaseModel):
    scores: list[float]
    client_id: str | None = None


class Batch(BaseModel):
    input: str = "probabilities"
    items: list[Item]


app = FastAPI()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/api/v1/models/{name}/predictions")
def predict(name: str, batch: Batch) -> dict[str, Any]:
    x = np.asarray([it.scores for it in batch.items], dtype=np.float64)
    label = x.argmax(axis=1)
    conf = x[np.arange(x.shape[0]), label]
    return {
        "items": [
            {"label_index": int(k), "confidence": float(c)}
            for k, c in zip(label, conf, strict=True)
        ]
    }
