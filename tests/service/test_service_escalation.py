"""An agent's gate escalating to the service's review queue (confide.integrations.review_queue)."""

from __future__ import annotations

from typing import Any

import pytest

from confide.agent import Escalated, Gate, StepResult, ThresholdGatePolicy
from confide.decision import ThresholdPolicy
from confide.integrations.review_queue import ReviewQueue, ReviewQueueError


def _queue(svc: Any, model: str = "answers") -> ReviewQueue:
    def post(
        url: str, body: dict[str, Any] | None, headers: dict[str, str], timeout: float
    ) -> tuple[int, dict[str, Any]]:
        path = "/" + url.split("://", 1)[1].split("/", 1)[1]  # TestClient takes the path
        if body is None:
            r = svc.client.get(path, headers=headers)
        else:
            r = svc.client.post(path, json=body, headers=headers)
        return r.status_code, r.json()

    return ReviewQueue("http://testserver", svc.ingest, model=model, post=post)


def test_a_low_confidence_step_lands_in_the_review_queue(service: Any) -> None:
    body = {
        "name": "answers",
        "classes": ["wrong", "right"],
        "policy": ThresholdPolicy(0.5).to_dict(),
    }
    assert service.client.post("/api/v1/models", json=body, headers=service.h()).status_code == 201
    gate = Gate(
        lambda q: StepResult(output=f"answer to {q}", confidence=0.7),
        policy=ThresholdGatePolicy(accept_at=0.9, escalate_below=0.9),
        escalate=_queue(service),
    )
    with pytest.raises(Escalated) as caught:
        gate.run("what is 6 x 7?")
    ticket = caught.value.ticket
    assert ticket["model"] == "answers" and ticket["prediction_id"] >= 1
    stored = service.client.post(
        "/api/v1/models/answers/predictions",
        headers=service.h(),
        json={
            "input": "probabilities",
            "items": [{"scores": [0.3, 0.7], "client_id": ticket["client_id"]}],
        },
    ).json()
    item = stored["items"][0]
    # the policy alone would accept 0.7 >= 0.5; the escalation routes it to review, with the gate's reason
    assert (
        item["replayed"]
        and item["decision"] == "review"
        and item["reason"].startswith("escalated:")
    )
    assert item["confidence"] == pytest.approx(0.7)
    assert caught.value.trace.attempts  # the trace travels with the typed error
    queue = _queue(service)
    assert queue.result(ticket) is None  # nobody has looked yet
    item_view = service.client.get(
        f"/api/v1/models/answers/predictions/{ticket['prediction_id']}", headers=service.h()
    ).json()
    assert (
        item_view["review_state"] == "pending" and item_view["payload"]["input"] == "what is 6 x 7?"
    )
    from confide.store import keys as key_store
    from confide.store import review

    with service.engine.begin() as conn:
        reviewer = key_store.authenticate(conn, service.reviewer)
        assert review.claim_next(conn, reviewer, ttl_seconds=60) == ticket["prediction_id"]
        review.submit_review(conn, reviewer, ticket["prediction_id"], action="correct", label=0)
    answer = queue.result(ticket)
    assert answer is not None and answer.output == "wrong" and answer.by == "review"
    missing = service.client.get("/api/v1/models/answers/predictions/999999", headers=service.h())
    assert missing.status_code == 404


def test_an_unknown_model_is_a_clear_error(service: Any) -> None:
    gate = Gate(
        lambda q: StepResult(output="x", confidence=0.1),
        policy=ThresholdGatePolicy(accept_at=0.9, escalate_below=0.9),
        escalate=_queue(service, model="missing"),
    )
    with pytest.raises(Exception) as caught:
        gate.run("q")
    chain = [caught.value, caught.value.__cause__, caught.value.__context__]
    assert any(
        isinstance(e, ReviewQueueError) and "no model named 'missing'" in str(e) for e in chain if e
    ), chain


@pytest.mark.slow
def test_the_default_http_transport_against_a_live_server(tmp_path: Any) -> None:
    import httpx
    from tests.service.live_server import LiveServer, create_keys

    url = f"sqlite:///{tmp_path / 'live.db'}"
    secrets = create_keys(url, admin="admin", bot="ingest")
    with LiveServer(url, tmp_path / "server.log") as server:
        body = {"name": "answers", "classes": ["wrong", "right"]}
        r = httpx.post(
            f"{server.url}/api/v1/models",
            json=body,
            headers={"Authorization": f"Bearer {secrets['admin']}"},
            timeout=30,
        )
        assert r.status_code == 201, r.text
        queue = ReviewQueue(server.url, secrets["bot"], model="answers")  # stdlib urllib
        gate = Gate(
            lambda q: StepResult(output="42", confidence=0.2),
            policy=ThresholdGatePolicy(accept_at=0.9, escalate_below=0.9),
            escalate=queue,
        )
        with pytest.raises(Escalated) as caught:
            gate.run("6 x 7?")
        assert queue.result(caught.value.ticket) is None
        with pytest.raises(ReviewQueueError, match="refused"):
            ReviewQueue(server.url, "cfd_bad_key", model="answers").result(caught.value.ticket)
    with pytest.raises(ReviewQueueError, match="cannot be reached"):
        ReviewQueue(server.url, secrets["bot"], model="answers", timeout=2).result(
            caught.value.ticket
        )
