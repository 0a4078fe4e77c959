"""Random request bodies never break the service: a 200 with every item stored, or a 4xx
problem with nothing stored — never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from confide.calibration import TemperatureScaling
from confide.decision import ThresholdPolicy

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.floats(min_value=-30, max_value=30),
    st.integers(min_value=-5, max_value=5),
    st.sampled_from([0.0, 1.0, 0.5, 1e-300, -0.0]),
)
items = st.fixed_dictionaries(
    {"scores": st.lists(numbers, min_size=0, max_size=5)},
    optional={
        "client_id": st.one_of(st.none(), st.text(max_size=12)),
        "payload": st.one_of(
            st.none(), st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2)
        ),
        "escalate": st.one_of(st.none(), st.text(max_size=20)),
        "extra": st.integers(),
    },
)
bodies = st.fixed_dictionaries(
    {"items": st.lists(items, min_size=0, max_size=6)},
    optional={"input": st.sampled_from(["logits", "probabilities", "odds", ""])},
)


@pytest.fixture
def fuzz_service(make_service: Any) -> Any:
    import numpy as np

    svc = make_service()
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    logits = rng.normal(size=(300, 3)) + 2 * np.eye(3)[y]
    body = {
        "name": "m",
        "classes": ["a", "b", "c"],
        "calibrator": TemperatureScaling().fit(logits, y).to_dict(),
        "policy": ThresholdPolicy(0.7).to_dict(),
    }
    assert svc.client.post("/api/v1/models", json=body, headers=svc.h()).status_code == 201
    return svc


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the same code serves PostgreSQL
def test_random_bodies_are_answered_or_refused_cleanly(fuzz_service: Any) -> None:
    svc = fuzz_service

    def count() -> int:
        with svc.engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT COUNT(*) FROM predictions")).scalar() or 0)

    @settings(
        max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
    )
    @given(bodies)
    def check(body: dict[str, Any]) -> None:
        before = count()
        text = json.dumps(body, allow_nan=True)  # NaN and Infinity as Python's json writes them
        r = svc.client.post(
            "/api/v1/models/m/predictions",
            content=text,
            headers={**svc.h(), "content-type": "application/json"},
        )
        assert r.status_code in (200, 400, 409, 413, 422), (r.status_code, r.text)
        if r.status_code == 200:
            out = r.json()
            assert len(out["items"]) == len(body["items"])
            assert count() == before + out["stored"]
            for it in out["items"]:
                assert 0.0 <= it["confidence"] <= 1.0 and it["decision"] in (
                    "accept",
                    "review",
                    "reject",
                )
        else:
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["detail"]
            assert count() == before

    check()
