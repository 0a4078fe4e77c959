"""The API on SQLite and PostgreSQL: registration, decisions, idempotency, bad input, auth,
feedback metrics, recalibration, drift alerts, and the append-only audit trail."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from confide.calibration import TemperatureScaling
from confide.decision import ThreeWayPolicy, ThresholdPolicy
from confide.metrics import ece

CLASSES = ["cat", "dog", "fox"]


def _data(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    logits = rng.normal(size=(n, 3)) * 1.5 + np.eye(3)[y] * 2.5
    return logits, y


def _register(
    svc: Any, name: str = "m", *, threshold: float = 0.7, cal: Any = None
) -> dict[str, Any]:
    logits, y = _data()
    cal = cal or TemperatureScaling(input="logits").fit(logits, y)
    body = {
        "name": name,
        "classes": CLASSES,
        "calibrator": cal.to_dict(),
        "policy": ThresholdPolicy(threshold).to_dict(),
    }
    r = svc.client.post("/api/v1/models", json=body, headers=svc.h())
    assert r.status_code == 201, r.text
    return r.json()


def _batch(
    logits: np.ndarray, *, prefix: str | None = "c", start: int = 0, payload: bool = False
) -> dict[str, Any]:
    items = []
    for i, row in enumerate(logits):
        item: dict[str, Any] = {"scores": [float(v) for v in row]}
        if prefix is not None:
            item["client_id"] = f"{prefix}{start + i}"
        if payload:
            item["payload"] = {"text": f"item {start + i}"}
        items.append(item)
    return {"input": "logits", "items": items}


def _count(svc: Any, table: str = "predictions") -> int:
    with svc.engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar() or 0)


def _is_problem(r: Any, status: int, *needles: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    for needle in needles:
        assert needle in body["detail"], body["detail"]


def test_operations_endpoints_and_openapi(service: Any) -> None:
    assert service.client.get("/healthz").json() == {"status": "ok"}
    ready = service.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    spec = service.client.get("/openapi.json").json()
    assert "/api/v1/models/{name}/predictions" in spec["paths"]
    assert service.client.get("/docs").status_code == 200
    metrics = service.client.get("/metrics")
    assert "confide_http_requests_total" in metrics.text


def test_predictions_equal_the_library_and_are_stored(service: Any) -> None:
    logits, y = _data()
    cal = TemperatureScaling(input="logits").fit(logits, y)
    _register(service, cal=cal, threshold=0.7)
    test_logits, _ = _data(50, seed=1)
    r = service.client.post(
        "/api/v1/models/m/predictions", json=_batch(test_logits), headers=service.h(service.ingest)
    )
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    probs = cal.predict_proba(test_logits)
    expected = ThresholdPolicy(0.7).decide(probs.max(axis=1))
    np.testing.assert_allclose(
        [it["confidence"] for it in items], probs.max(axis=1), rtol=0, atol=1e-12
    )
    assert [it["label_index"] for it in items] == probs.argmax(axis=1).tolist()
    assert [it["label"] for it in items] == [CLASSES[k] for k in probs.argmax(axis=1)]
    assert [it["decision"] for it in items] == expected.actions.tolist()
    assert all(it["calibrator_version"] == 1 and it["policy_version"] == 1 for it in items)
    assert _count(service) == 50
    with service.engine.connect() as conn:
        pending = conn.execute(
            sa.text("SELECT COUNT(*) FROM predictions WHERE review_state='pending'")
        ).scalar()
    assert pending == int((expected.actions == "review").sum()) > 0


def test_a_retried_batch_is_not_stored_twice(service: Any) -> None:
    _register(service)
    logits, _ = _data(20, seed=2)
    first = service.client.post(
        "/api/v1/models/m/predictions", json=_batch(logits), headers=service.h()
    )
    again = service.client.post(
        "/api/v1/models/m/predictions", json=_batch(logits), headers=service.h()
    )
    assert first.status_code == again.status_code == 200
    assert [i["id"] for i in first.json()["items"]] == [i["id"] for i in again.json()["items"]]
    assert all(i["replayed"] for i in again.json()["items"]) and again.json()["stored"] == 0
    assert _count(service) == 20
    # a batch mixing stored and new client ids stores only the new ones
    more, _ = _data(25, seed=2)
    mixed = service.client.post(
        "/api/v1/models/m/predictions", json=_batch(more), headers=service.h()
    )
    assert mixed.json()["stored"] == 5 and _count(service) == 25


def test_new_versions_never_overwrite_old_ones(service: Any) -> None:
    _register(service, threshold=0.7)
    second = _register(service, threshold=0.8)
    assert second["calibrator_version"] == 2 and second["policy_version"] == 2
    model = service.client.get("/api/v1/models/m", headers=service.h()).json()
    assert [v["version"] for v in model["versions"]["calibrators"]] == [1, 2]
    assert [v["version"] for v in model["versions"]["policies"]] == [1, 2]
    clash = service.client.post(
        "/api/v1/models", headers=service.h(), json={"name": "m", "classes": ["a", "b"]}
    )
    _is_problem(clash, 409, "classes cannot change")


BAD_BATCHES = [
    ('{"input": "logits", "items": [{"scores": [1, 2, NaN]}]}', 422, "NaN"),
    (
        '{"input": "logits", "items": [{"scores": [1, 2]}]}',
        422,
        "has 2 scores but model 'm' has 3 classes",
    ),
    ('{"input": "probabilities", "items": [{"scores": [0.5, 0.6, 0.1]}]}', 422, "sum to 1"),
    ('{"input": "probabilities", "items": [{"scores": [1.5, -0.6, 0.1]}]}', 422, "[0, 1]"),
    ('{"input": "logits", "items": [{"scores": [1, 2, 3]}', 400, "JSON"),
    ('{"input": "logits", "items": []}', 422, "items"),
    ('{"input": "odds", "items": [{"scores": [1, 2, 3]}]}', 422, "input"),
]


@pytest.mark.parametrize(("body", "status", "needle"), BAD_BATCHES)
def test_bad_input_is_a_problem_and_stores_nothing(
    service: Any, body: str, status: int, needle: str
) -> None:
    _register(service)
    # good items first: none of them may be stored when a later item is bad
    try:
        bad = json.loads(body.replace("NaN", "1e999"))
    except json.JSONDecodeError:
        bad = None
    if bad is not None and bad.get("items"):
        rows = _data(5, seed=3)[0]
        if bad["input"] == "probabilities":
            rows = np.exp(rows) / np.exp(rows).sum(axis=1, keepdims=True)
        good = [{"scores": [float(v) for v in row]} for row in rows]
        body = body.replace(
            '"items": [', '"items": [' + ", ".join(json.dumps(g) for g in good) + ", ", 1
        )
    r = service.client.post(
        "/api/v1/models/m/predictions",
        content=body,
        headers={**service.h(), "content-type": "application/json"},
    )
    _is_problem(r, status, needle)
    assert _count(service) == 0


def test_unknown_model_oversized_batch_and_body(make_service: Any) -> None:
    svc = make_service(max_batch=10, max_body_bytes=4096)
    _register(svc)
    logits, _ = _data(11, seed=4)
    _is_problem(
        svc.client.post(
            "/api/v1/models/nope/predictions", json=_batch(logits[:2]), headers=svc.h()
        ),
        404,
        "no model named 'nope'",
    )
    _is_problem(
        svc.client.post("/api/v1/models/m/predictions", json=_batch(logits), headers=svc.h()),
        413,
        "limit is 10",
    )
    big = _batch(logits[:5], payload=True)
    big["items"][0]["payload"] = {"text": "x" * 5000}
    _is_problem(
        svc.client.post("/api/v1/models/m/predictions", json=big, headers=svc.h()),
        413,
        "4096 bytes",
    )
    dup = _batch(logits[:2])
    dup["items"][1]["client_id"] = dup["items"][0]["client_id"]
    _is_problem(
        svc.client.post("/api/v1/models/m/predictions", json=dup, headers=svc.h()),
        422,
        "appears twice",
    )
    assert _count(svc) == 0


def test_keys_and_roles(service: Any) -> None:
    _register(service)
    logits, _ = _data(2, seed=5)
    url = "/api/v1/models/m/predictions"
    _is_problem(service.client.post(url, json=_batch(logits)), 401, "API key")
    _is_problem(
        service.client.post(url, json=_batch(logits), headers=service.h("cfd_x_y")), 401, "unknown"
    )
    _is_problem(
        service.client.post(url, json=_batch(logits), headers=service.h(service.reviewer)),
        403,
        "reviewer",
    )
    _is_problem(
        service.client.post(
            "/api/v1/models",
            json={"name": "n", "classes": ["a", "b"]},
            headers=service.h(service.ingest),
        ),
        403,
        "admin",
    )
    _is_problem(
        service.client.get("/api/v1/audit", headers=service.h(service.ingest)), 403, "admin"
    )
    with service.engine.connect() as conn:
        hashes = [r[0] for r in conn.execute(sa.text("SELECT key_hash FROM api_keys"))]
    assert service.ingest not in hashes and all(len(h) == 64 for h in hashes)
    from confide.store import keys

    with service.engine.begin() as conn:
        keys.revoke_key(conn, service.ingest.split("_")[1])
    _is_problem(
        service.client.post(url, json=_batch(logits), headers=service.h(service.ingest)),
        401,
        "revoked",
    )


def test_feedback_metrics_equal_the_library(service: Any) -> None:
    logits, y = _data()
    cal = TemperatureScaling(input="logits").fit(logits, y)
    _register(service, cal=cal)
    test_logits, test_y = _data(120, seed=6)
    service.client.post(
        "/api/v1/models/m/predictions", json=_batch(test_logits), headers=service.h()
    )
    fb = {
        "model": "m",
        "items": [{"client_id": f"c{i}", "label": CLASSES[int(v)]} for i, v in enumerate(test_y)],
    }
    assert (
        service.client.post(
            "/api/v1/feedback", json=fb, headers=service.h(service.ingest)
        ).status_code
        == 201
    )
    m = service.client.get("/api/v1/models/m/metrics", headers=service.h()).json()
    probs = np.round(cal.predict_proba(test_logits), 12)
    assert m["feedback"]["n_labelled"] == 120
    assert m["feedback"]["accuracy"] == pytest.approx(
        float((probs.argmax(1) == test_y).mean()), abs=1e-15
    )
    assert m["feedback"]["ece"] == pytest.approx(float(ece(test_y, probs)), abs=1e-12)
    assert m["label_free"]["accuracy"] == pytest.approx(
        float(cal.predict_proba(test_logits).max(1).mean()), abs=1e-9
    )
    assert m["predictions"] == 120 and sum(m["decisions"].values()) == 120
    bad = {"model": "m", "items": [{"client_id": "c0", "label": "cow"}]}
    _is_problem(
        service.client.post("/api/v1/feedback", json=bad, headers=service.h()),
        422,
        "unknown class 'cow'",
    )
    missing = {
        "model": "m",
        "items": [{"client_id": "c0", "label": 1}, {"client_id": "zzz", "label": 1}],
    }
    _is_problem(
        service.client.post("/api/v1/feedback", json=missing, headers=service.h()), 404, "zzz"
    )
    assert _count(service, "feedback") == 120


def test_recalibrate_adds_a_version_used_from_then_on(service: Any) -> None:
    logits, y = _data(300, seed=7)
    sharp = TemperatureScaling(input="logits").fit(logits, y)
    sharp.temperature_ = 0.3  # an overconfident calibrator that feedback should correct
    _register(service, cal=sharp)
    service.client.post("/api/v1/models/m/predictions", json=_batch(logits), headers=service.h())
    fb = {"model": "m", "items": [{"client_id": f"c{i}", "label": int(v)} for i, v in enumerate(y)]}
    service.client.post("/api/v1/feedback", json=fb, headers=service.h())
    r = service.client.post(
        "/api/v1/models/m/recalibrate", json={"method": "temperature"}, headers=service.h()
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["calibrator_version"] == 2 and out["ece_new"] < out["ece_current"]
    again = service.client.post(
        "/api/v1/models/m/predictions", json=_batch(logits[:3], prefix="n"), headers=service.h()
    )
    assert {i["calibrator_version"] for i in again.json()["items"]} == {2}
    versions = service.client.get("/api/v1/models/m", headers=service.h()).json()["versions"][
        "calibrators"
    ]
    assert [(v["version"], v["source"]) for v in versions] == [
        (1, "registered"),
        (2, "recalibrated"),
    ]
    _is_problem(
        service.client.post(
            "/api/v1/models/m/recalibrate", json={"method": "voodoo"}, headers=service.h()
        ),
        422,
        "unknown method",
    )


def test_a_shift_in_confidence_raises_a_drift_alert(service: Any) -> None:
    logits, y = _data()
    _register(service, cal=TemperatureScaling(input="logits").fit(logits, y))
    rng = np.random.default_rng(8)
    for b in range(12):
        scale = 3.0 if b < 6 else 0.2  # confident, then near-uniform outputs
        batch = rng.normal(size=(100, 3)) + np.eye(3)[rng.integers(0, 3, 100)] * scale
        r = service.client.post(
            "/api/v1/models/m/predictions", json=_batch(batch, prefix=f"b{b}-"), headers=service.h()
        )
        assert r.status_code == 200
    m = service.client.get("/api/v1/models/m/metrics", headers=service.h()).json()
    assert m["drift"]["detector"] == "ADWIN" and m["drift"]["n_seen"] == 1200
    assert m["alerts"] and m["alerts"][0]["rule"] == "confidence_drift"
    assert "confide_alerts_total" in service.client.get("/metrics").text


def test_three_way_policy_and_margin_queue_order(make_service: Any) -> None:
    svc = make_service(queue_order="margin")
    logits, y = _data()
    body = {
        "name": "m",
        "classes": CLASSES,
        "calibrator": TemperatureScaling(input="logits").fit(logits, y).to_dict(),
        "policy": ThreeWayPolicy(0.9, 0.6).to_dict(),
    }
    assert svc.client.post("/api/v1/models", json=body, headers=svc.h()).status_code == 201
    r = svc.client.post("/api/v1/models/m/predictions", json=_batch(logits[:100]), headers=svc.h())
    decisions = {i["decision"] for i in r.json()["items"]}
    assert decisions == {"accept", "review", "reject"}
    with svc.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT probs, priority FROM predictions WHERE review_state='pending'")
        ).all()
    for probs, priority in rows:
        top = sorted(json.loads(probs) if isinstance(probs, str) else probs, reverse=True)
        assert priority == pytest.approx(-(1 - (top[0] - top[1])), abs=1e-9)  # -margin_score


def test_registration_checks_calibrator_and_policy(service: Any) -> None:
    logits, y = _data()
    two_class = TemperatureScaling(input="logits").fit(logits[:, :2], (y == 1).astype(int))
    r = service.client.post(
        "/api/v1/models",
        headers=service.h(),
        json={"name": "m", "classes": CLASSES, "calibrator": two_class.to_dict()},
    )
    _is_problem(r, 422, "fitted on 2 classes but the model has 3")
    doc = TemperatureScaling(input="logits").fit(logits, y).to_dict()
    doc["payload"]["params"]["temperature"] = 5.0
    _is_problem(
        service.client.post(
            "/api/v1/models",
            headers=service.h(),
            json={"name": "m", "classes": CLASSES, "calibrator": doc},
        ),
        422,
        "altered",
    )
    _is_problem(
        service.client.post(
            "/api/v1/models",
            headers=service.h(),
            json={"name": "m", "classes": CLASSES, "policy": {"type": "magic", "params": {}}},
        ),
        422,
        "unknown policy type",
    )
    _is_problem(
        service.client.post(
            "/api/v1/models", headers=service.h(), json={"name": "bad name!", "classes": CLASSES}
        ),
        422,
        "name",
    )
    assert _count(service, "models") == 0


def test_the_audit_trail_is_append_only(service: Any) -> None:
    _register(service)
    events = service.client.get("/api/v1/audit", headers=service.h()).json()["events"]
    assert [e["action"] for e in events][-3:] == ["register", "add_calibrator", "add_policy"]
    for statement in ("UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), service.engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert len(service.client.get("/api/v1/audit", headers=service.h()).json()["events"]) == len(
        events
    )


def test_costs_travel_with_the_policy_and_price_the_outcomes(service: Any) -> None:
    logits, y = _data()
    cal = TemperatureScaling(input="logits").fit(logits, y)
    costs = {"accepted_error": 10.0, "review": 1.5, "reject": 0.25}
    body = {
        "name": "m",
        "classes": CLASSES,
        "calibrator": cal.to_dict(),
        "policy": ThreeWayPolicy(0.9, 0.6).to_dict(),
        "costs": costs,
    }
    assert service.client.post("/api/v1/models", json=body, headers=service.h()).status_code == 201
    test_logits, test_y = _data(150, seed=9)
    out = service.client.post(
        "/api/v1/models/m/predictions", json=_batch(test_logits), headers=service.h()
    ).json()
    fb = {
        "model": "m",
        "items": [{"client_id": f"c{i}", "label": int(v)} for i, v in enumerate(test_y)],
    }
    service.client.post("/api/v1/feedback", json=fb, headers=service.h())
    m = service.client.get("/api/v1/models/m/metrics", headers=service.h()).json()
    decisions = np.array([it["decision"] for it in out["items"]])
    wrong = np.array([it["label_index"] for it in out["items"]]) != test_y
    conf = np.array([it["confidence"] for it in out["items"]])
    per_item = np.where(
        decisions == "accept", 10.0 * wrong, np.where(decisions == "review", 1.5, 0.25)
    )
    assert m["costs"] == costs
    assert m["feedback"]["mean_cost"] == pytest.approx(per_item.mean(), abs=1e-12)
    expected = np.where(
        decisions == "accept", 10.0 * (1 - conf), np.where(decisions == "review", 1.5, 0.25)
    )
    assert m["label_free"]["mean_cost"] == pytest.approx(expected.mean(), abs=1e-9)
    _is_problem(
        service.client.post(
            "/api/v1/models",
            headers=service.h(),
            json={"name": "m", "classes": CLASSES, "costs": costs},
        ),
        422,
        "costs belong",
    )
    _is_problem(
        service.client.post(
            "/api/v1/models",
            headers=service.h(),
            json={
                "name": "m",
                "classes": CLASSES,
                "policy": ThresholdPolicy(0.5).to_dict(),
                "costs": {"review": -1},
            },
        ),
        422,
        "costs",
    )


def test_binary_calibrator_and_a_registered_detector(service: Any) -> None:
    from confide.calibration import PlattScaling
    from confide.monitor import CUSUM

    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 600)
    p1 = np.clip(rng.beta(2, 2, 600) * 0.5 + 0.5 * y * rng.random(600), 0.01, 0.99)
    cal = PlattScaling(input="probs").fit(p1, y)  # a 1-D binary calibrator on P(y=1)
    detector = CUSUM(target_mean=0.8, std=0.1, h=5.0)
    body = {
        "name": "b",
        "classes": ["no", "yes"],
        "calibrator": cal.to_dict(),
        "policy": ThresholdPolicy(0.75).to_dict(),
        "detector": detector.to_dict(),
    }
    assert service.client.post("/api/v1/models", json=body, headers=service.h()).status_code == 201
    q = p1[:50]
    items = [{"scores": [float(1 - v), float(v)]} for v in q]
    out = service.client.post(
        "/api/v1/models/b/predictions",
        headers=service.h(),
        json={"input": "probabilities", "items": items},
    ).json()["items"]
    expected = np.asarray(cal.predict_proba(q))
    conf = np.maximum(expected, 1 - expected)
    np.testing.assert_allclose([it["confidence"] for it in out], conf, rtol=0, atol=1e-12)
    assert [it["label"] for it in out] == ["yes" if e > 0.5 else "no" for e in expected]
    assert [it["decision"] for it in out] == ThresholdPolicy(0.75).decide(conf).actions.tolist()
    drift = service.client.get("/api/v1/models/b/metrics", headers=service.h()).json()["drift"]
    assert drift["detector"] == "CUSUM" and drift["n_seen"] == 50


def test_recalibrate_auto_and_binary_only_methods(service: Any) -> None:
    rng = np.random.default_rng(12)
    y = rng.integers(0, 2, 400)
    logit = rng.normal(size=400) * 3 + (2 * y - 1) * 2.5
    body = {"name": "b", "classes": ["no", "yes"], "policy": ThresholdPolicy(0.9).to_dict()}
    assert service.client.post("/api/v1/models", json=body, headers=service.h()).status_code == 201
    items = [{"scores": [0.0, float(v)], "client_id": f"c{i}"} for i, v in enumerate(logit)]
    service.client.post(
        "/api/v1/models/b/predictions",
        json={"input": "logits", "items": items},
        headers=service.h(),
    )
    fb = {"model": "b", "items": [{"client_id": f"c{i}", "label": int(v)} for i, v in enumerate(y)]}
    service.client.post("/api/v1/feedback", json=fb, headers=service.h())
    platt = service.client.post(
        "/api/v1/models/b/recalibrate", json={"method": "platt"}, headers=service.h()
    )
    assert platt.status_code == 201, platt.text
    auto = service.client.post(
        "/api/v1/models/b/recalibrate", json={"method": "auto"}, headers=service.h()
    ).json()
    assert (
        auto["requested"] == "auto"
        and auto["method"]
        in service.client.get("/api/v1/methods", headers=service.h()).json()["methods"]
    )
    assert auto["calibrator_version"] == 2
    out = service.client.post(
        "/api/v1/models/b/predictions",
        headers=service.h(),
        json={"input": "logits", "items": [{"scores": [0.0, 1.0]}]},
    ).json()["items"][0]
    assert out["calibrator_version"] == 2 and 0.5 <= out["confidence"] <= 1.0
