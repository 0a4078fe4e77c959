"""Circuit breakers: state transitions on a fake clock, soft failures, threads, JSON."""

from __future__ import annotations

import json
import threading

import pytest
from tests.agent.agent_fakes import FakeClock, Script, answer, score

from confide._serialization import save_json
from confide.agent._breaker import BreakerRegistry, CircuitBreaker
from confide.agent._budget import Budget
from confide.agent._errors import CircuitOpenError, StepAborted, TransportError
from confide.agent._gate import Gate
from confide.agent._policy import ThresholdGatePolicy
from confide.exceptions import ConfideTypeError, SchemaError, ValidationError


def test_closed_open_half_open_closed_on_the_fake_clock():
    clock = FakeClock(0.0)
    b = CircuitBreaker(3, 10.0, 2, clock=clock)
    for _ in range(2):
        assert b.allow()
        b.record_failure()
    assert b.allow()
    b.record_success()  # a success resets the consecutive count
    for _ in range(2):
        b.record_failure()
    assert b.state == "closed"
    b.record_failure()
    assert b.state == "open" and not b.allow()
    clock.advance(9.999)
    assert b.state == "open" and not b.allow()
    clock.advance(0.001)
    assert b.state == "half_open"
    assert b.allow() and not b.allow()  # one trial call at a time
    b.record_success()
    assert b.state == "half_open"  # success_threshold = 2
    assert b.allow()
    b.record_success()
    assert b.state == "closed"
    assert b.transitions == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]


def test_half_open_failure_reopens_with_a_new_countdown():
    clock = FakeClock(0.0)
    b = CircuitBreaker(1, 5.0, clock=clock)
    b.record_failure()
    clock.advance(5.0)
    assert b.allow()
    clock.advance(3.0)
    b.record_failure()
    assert b.state == "open"
    clock.advance(4.9)
    assert b.state == "open"
    clock.advance(0.1)
    assert b.state == "half_open"


@pytest.mark.parametrize(("count_low", "expected"), [(False, "closed"), (True, "open")])
def test_soft_failures_count_only_when_enabled(count_low, expected):
    b = CircuitBreaker(3, 10.0, count_low_confidence=count_low, clock=FakeClock())
    for _ in range(5):
        b.record_failure(soft=True)
    assert b.state == expected


@pytest.mark.parametrize(("count_low", "expected"), [(False, "closed"), (True, "open")])
def test_gate_feeds_low_confidence_to_the_breaker_as_soft_failures(count_low, expected):
    clock = FakeClock()
    registry = BreakerRegistry(2, 10.0, count_low_confidence=count_low, clock=clock)
    gate = Gate(Script(answer(0.3)), policy=ThresholdGatePolicy(0.8, when_exhausted="abort"),
                scorer=score, breakers=registry, clock=clock)  # fmt: skip
    for _ in range(2):
        with pytest.raises(StepAborted):
            gate("q")
    assert registry.get("primary").state == expected


def test_open_route_is_skipped_to_the_fallback_then_circuit_open_error():
    clock = FakeClock()
    registry = BreakerRegistry(1, 30.0, clock=clock)
    primary = Script(TransportError("down"), answer(0.9))
    backup = Script(answer(0.9), name="backup")
    policy = ThresholdGatePolicy(0.8, max_retries=0, when_exhausted="abort")
    gate = Gate(
        primary, policy=policy, scorer=score, fallbacks=[backup], breakers=registry, clock=clock
    )
    assert gate("q").route == "backup"  # transport error opened primary's circuit
    assert registry.get("primary").state == "open"
    result = gate("q")  # primary refused without a call
    assert primary.calls == 1 and result.route == "backup"
    refused = result.trace.attempts[0]
    assert refused.failure == "circuit_open" and refused.action.target == "backup"
    assert result.trace.calls == 1
    only = Gate(Script(answer(0.9)), policy=0.5, scorer=score, breakers=registry, clock=clock)
    registry.get("primary")  # same route name, still open
    with pytest.raises(CircuitOpenError) as info:
        only("q")
    assert info.value.routes == ("primary",) and info.value.trace.calls == 0
    assert only.step.calls == 0
    clock.advance(30.0)
    assert only("q").outcome == "accepted" and registry.get("primary").state == "closed"


def test_one_breaker_shared_by_every_route():
    b = CircuitBreaker(2, 10.0, clock=FakeClock())
    gate = Gate(Script(TransportError("x"), name="a"), policy=ThresholdGatePolicy(0.8, max_retries=0),
                scorer=score, fallbacks=[Script(TransportError("y"), name="b")], breakers=b,
                budget=Budget(max_attempts=5))  # fmt: skip
    with pytest.raises(StepAborted):
        gate("q")
    assert b.state == "open"


def test_thread_safe_counts():
    b = CircuitBreaker(10**9, 1.0, clock=FakeClock())
    barrier = threading.Barrier(8)

    def hammer():
        barrier.wait()
        for _ in range(2000):
            b.record_failure()

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert b.to_dict()["failures"] == 16000


def test_json_round_trip_resumes_the_countdown(tmp_path):
    clock = FakeClock(50.0)
    b = CircuitBreaker(2, 10.0, 3, half_open_max_calls=2, count_low_confidence=True, clock=clock)
    b.record_failure()
    b.record_failure()
    clock.advance(4.0)
    state = b.to_dict()
    assert state["state"] == "open" and state["open_elapsed"] == 4.0
    json.dumps(state)
    other = FakeClock(1000.0)
    path = b.save(tmp_path / "breaker.json")
    restored = CircuitBreaker.load(path, clock=other)
    assert restored.to_dict() == state
    assert restored.config() == b.config()
    other.advance(5.999)
    assert restored.state == "open"
    other.advance(0.001)
    assert restored.state == "half_open"
    closed = CircuitBreaker(3, clock=clock)
    closed.record_failure()
    assert CircuitBreaker.from_dict(closed.to_dict(), clock=other).to_dict()["failures"] == 1


def test_registry_round_trip_and_wrong_documents(tmp_path):
    clock = FakeClock(0.0)
    reg = BreakerRegistry(1, 10.0, clock=clock)
    reg.get("a").record_failure()
    reg.get("b")
    path = reg.save(tmp_path / "reg.json")
    back = BreakerRegistry.load(path, clock=FakeClock(7.0))
    assert back.routes() == ("a", "b")
    assert back.get("a").state == "open" and back.get("b").state == "closed"
    assert back.get("c").config() == reg.get("a").config()
    with pytest.raises(SchemaError, match="not a single breaker"):
        CircuitBreaker.load(path)
    single = reg.get("a").save(tmp_path / "one.json")
    with pytest.raises(SchemaError, match="not a registry"):
        BreakerRegistry.load(single)
    other = save_json(tmp_path / "policy.json", "policy", {"type": "threshold"})
    with pytest.raises(SchemaError, match="circuit_breaker"):
        CircuitBreaker.load(other)
    text = single.read_text().replace('"failures": 0', '"failures": 5')
    (tmp_path / "edited.json").write_text(text)
    with pytest.raises(SchemaError, match="altered"):
        CircuitBreaker.load(tmp_path / "edited.json")
    with pytest.raises(SchemaError):
        CircuitBreaker.from_dict({"state": "open"})


def test_bad_parameters():
    with pytest.raises(ValidationError):
        CircuitBreaker(0)
    with pytest.raises(ValidationError):
        CircuitBreaker(1, -1.0)
    with pytest.raises(ConfideTypeError):
        CircuitBreaker(1, "10")
    with pytest.raises(ValidationError):
        CircuitBreaker().record("maybe")
