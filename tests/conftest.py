"""Shared fixtures: seeded data and the location of ../shared/data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """Path inside ../shared/data, or skip the test with the reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"{path} is absent (../shared/data ships with the team checkout, not a fresh clone)"
        )
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def make_multiclass(rng: np.random.Generator, n: int = 2000, k: int = 5, dtype: type = np.float64):
    """Over-confident synthetic predictions: labels drawn from a flatter distribution."""
    logits = rng.normal(size=(n, k)) * 2.0
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    q = np.exp(logits / 2.0 - (logits / 2.0).max(1, keepdims=True))
    q /= q.sum(1, keepdims=True)
    y = (q.cumsum(1) > rng.random((n, 1))).argmax(1)
    return y, p.astype(dtype)
