"""OpenTelemetry spans (only where the SDK is installed)."""

from __future__ import annotations

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from tests.agent.agent_fakes import FakeClock, Script, answer, score

from confide.agent._budget import Budget
from confide.agent._errors import BudgetExhausted, TransportError
from confide.agent._gate import Gate
from confide.agent._otel import otel_available

EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def provider():
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(tp)
    if trace.get_tracer_provider() is not tp:
        pytest.skip("another test set the global tracer provider first")
    return tp


@pytest.fixture(autouse=True)
def clear():
    EXPORTER.clear()


def test_one_gate_span_with_a_child_per_attempt():
    assert otel_available()
    step = Script(TransportError("503"), answer(0.9, tokens=4, cost=0.5))
    Gate(step, policy=0.8, scorer=score, clock=FakeClock(), name="classify")("q")
    spans = EXPORTER.get_finished_spans()
    gate = [s for s in spans if s.name == "confide.gate"]
    attempts = [s for s in spans if s.name == "confide.gate.attempt"]
    assert len(gate) == 1 and len(attempts) == 2
    assert all(s.parent.span_id == gate[0].context.span_id for s in attempts)
    assert gate[0].attributes["confide.gate.name"] == "classify"
    assert gate[0].attributes["confide.gate.outcome"] == "accepted"
    assert gate[0].attributes["confide.gate.tokens"] == 4
    assert [s.attributes["confide.attempt.action"] for s in attempts] == ["retry", "accept"]
    assert attempts[0].attributes["confide.attempt.failure"] == "transport"
    assert attempts[1].attributes["confide.attempt.confidence"] == 0.9


def test_failure_is_recorded_on_the_gate_span():
    step = Script(TransportError("503"))
    with pytest.raises(BudgetExhausted):
        Gate(step, policy=0.8, scorer=score, budget=Budget(max_attempts=1))("q")
    (gate,) = [s for s in EXPORTER.get_finished_spans() if s.name == "confide.gate"]
    assert gate.attributes["confide.gate.outcome"] == "budget_exhausted"
    assert gate.status.status_code == trace.StatusCode.ERROR
