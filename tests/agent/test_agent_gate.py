"""The gate: actions, failure classes, budgets per call, usage totals, traces, never None."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.agent.agent_fakes import FakeClock, Script, answer, score

from confide.agent._budget import Budget
from confide.agent._errors import (
    AgentError,
    BudgetExhausted,
    Escalated,
    InvalidOutput,
    StepAborted,
    TransportError,
)
from confide.agent._gate import Gate, gated
from confide.agent._policy import Observation, ThresholdGatePolicy
from confide.agent._trace import Action, GateResult, Resolution, StepResult
from confide.calibration import PlattScaling
from confide.decision import ThresholdPolicy
from confide.exceptions import ConfideError, ConfideTypeError, ValidationError


def make_gate(step, **kw):
    kw.setdefault("policy", ThresholdGatePolicy(0.8))
    kw.setdefault("scorer", score)
    kw.setdefault("clock", FakeClock())
    return Gate(step, **kw)


def kinds(trace):
    return [a.action.kind for a in trace.attempts]


def test_accepts_a_confident_answer_with_its_trace():
    step = Script(answer(0.9, tokens=7, cost=0.5))
    result = make_gate(step)("q")
    assert isinstance(result, GateResult)
    assert result.output == {"text": "ok", "c": 0.9}
    assert result.confidence == 0.9 and result.route == "primary"
    assert result.outcome == "accepted"
    assert kinds(result.trace) == ["accept"]
    assert result.trace.totals()["tokens"] == 7 and result.trace.totals()["cost"] == 0.5


def test_budget_does_not_leak_between_calls():
    # Each call needs two attempts (a transport error, then an answer); the budget is two.
    seen: dict[str, int] = {}

    def step(x):
        seen[x] = seen.get(x, 0) + 1
        if seen[x] == 1:
            raise TransportError("503")
        return answer(0.9, tokens=10)

    gate = make_gate(step, budget=Budget(max_attempts=2, max_tokens=15))
    for x in ("a", "b", "c"):
        result = gate(x)
        assert result.trace.calls == 2
        assert result.trace.tokens == 10


@pytest.mark.parametrize(
    ("budget", "resource"),
    [
        (Budget(max_attempts=0), "attempts"),
        (Budget(max_tokens=0), "tokens"),
        (Budget(max_cost=0), "cost"),
        (Budget(max_seconds=0), "seconds"),
    ],
)
def test_zero_means_zero_no_call_and_an_empty_trace(budget, resource):
    step = Script(answer(0.99))
    with pytest.raises(BudgetExhausted) as info:
        make_gate(step, budget=budget)("q")
    assert step.calls == 0
    assert info.value.resource == resource
    assert info.value.trace.attempts == ()
    assert info.value.trace.outcome == "budget_exhausted"
    assert isinstance(info.value, AgentError) and isinstance(info.value, ConfideError)


def test_usage_is_summed_across_retries_refines_and_fallbacks():
    primary = Script(
        TransportError("timeout", usage={"prompt_tokens": 3, "completion_tokens": 2, "cost": 0.25}),
        InvalidOutput("no JSON", usage={"total_tokens": 11}),
        answer(0.5, tokens=13, cost=1.0),
    )
    backup = Script(answer(0.95, tokens=17, cost=2.0), name="backup")
    gate = make_gate(primary, fallbacks=[backup], budget=Budget(max_attempts=5))
    result = gate("q")
    t = result.trace
    assert kinds(t) == ["retry", "refine", "fallback", "accept"]
    assert [a.tokens for a in t.attempts] == [5, 11, 13, 17]
    assert t.totals()["tokens"] == 46 and t.totals()["cost"] == 3.25
    assert result.route == "backup"


def test_usage_totals_survive_a_failure():
    step = Script(answer(0.5, tokens=100, cost=0.5), name="only")
    gate = make_gate(
        step,
        budget=Budget(max_attempts=3),
        policy=ThresholdGatePolicy(0.8, refine_below=0.1, max_refines=5),
    )
    with pytest.raises(BudgetExhausted) as info:
        gate("q")
    assert info.value.trace.tokens == 300 and info.value.trace.cost == 1.5
    assert info.value.resource == "attempts"


def test_token_budget_stops_further_calls():
    step = Script(answer(0.5, tokens=60))
    policy = ThresholdGatePolicy(0.8, refine_below=0.0, max_refines=10)
    with pytest.raises(BudgetExhausted) as info:
        make_gate(step, policy=policy, budget=Budget(max_attempts=None, max_tokens=100))("q")
    assert step.calls == 2 and info.value.resource == "tokens"
    assert info.value.trace.tokens == 120


def test_wall_time_budget_on_the_gate_clock():
    clock = FakeClock()
    step = Script(TransportError("slow"), clock=clock, dt=2.0)
    gate = make_gate(step, clock=clock, policy=ThresholdGatePolicy(0.8, max_retries=10),
                     budget=Budget(max_attempts=None, max_seconds=3.0))  # fmt: skip
    with pytest.raises(BudgetExhausted) as info:
        gate("q")
    assert step.calls == 2 and info.value.resource == "seconds"
    assert [a.seconds for a in info.value.trace.attempts] == [2.0, 2.0]


def test_transport_errors_are_retried_without_feedback():
    step = Script(ConnectionError("reset"), TransportError("429"), answer(0.9))
    result = make_gate(step, budget=Budget(max_attempts=3))("the question")
    assert step.inputs == ["the question"] * 3
    assert [a.failure for a in result.trace.attempts] == ["transport", "transport", None]
    assert all(a.action.feedback is None for a in result.trace.attempts)


def test_invalid_output_is_refined_with_feedback_from_the_evidence():
    step = Script(InvalidOutput("missing field 'total'"), answer(0.9))
    result = make_gate(step)("the question")
    assert step.inputs[0] == "the question"
    assert step.inputs[1].startswith("the question\n\n")
    assert "missing field 'total'" in step.inputs[1]
    first = result.trace.attempts[0]
    assert first.failure == "invalid" and first.action.kind == "refine"
    assert "missing field 'total'" in first.action.feedback


def test_validator_message_and_mapping_inputs_are_refined():
    step = Script(answer(0.9, text="bad"), answer(0.9, text="good"))
    gate = make_gate(
        step, validator=lambda out: "text must be 'good'" if out["text"] != "good" else None
    )
    result = gate({"question": "q"})
    assert step.inputs[1]["feedback"].count("text must be 'good'") == 1
    assert step.inputs[1]["previous_output"] == {"text": "bad", "c": 0.9}
    assert result.output["text"] == "good"


def test_low_confidence_falls_back_with_the_original_input():
    primary = Script(answer(0.3))
    backup = Script(answer(0.85), name="backup")
    result = make_gate(primary, fallbacks=[backup])("q")
    assert backup.inputs == ["q"]
    first = result.trace.attempts[0]
    assert first.failure == "low_confidence"
    assert first.action == Action("fallback", reason=first.action.reason, target="backup")
    assert result.route == "backup"


def test_low_confidence_with_no_route_left_escalates_to_the_callback():
    requests = []

    def callback(request):
        requests.append(request)
        return "review-42"

    with pytest.raises(Escalated) as info:
        make_gate(Script(answer(0.3)), escalate=callback)("q")
    assert info.value.ticket == "review-42"
    assert info.value.trace.outcome == "escalated"
    assert requests[0].confidence == 0.3 and requests[0].input == "q"
    assert len(requests[0].trace.attempts) == 1


def test_escalation_to_a_review_queue_and_resolution():
    class Queue:
        def __init__(self):
            self.items = []

        def submit(self, request):
            self.items.append(request)
            return len(self.items)

    queue = Queue()
    with pytest.raises(Escalated) as info:
        make_gate(Script(answer(0.3)), escalate=queue)("q")
    assert info.value.ticket == 1 and len(queue.items) == 1
    # No callback at all: still a typed error, never None.
    with pytest.raises(Escalated) as info:
        make_gate(Script(answer(0.3)))("q")
    assert info.value.ticket is None
    # A callback that answers now.
    result = make_gate(Script(answer(0.3)), escalate=lambda r: Resolution("human answer"))("q")
    assert result.output == "human answer" and result.outcome == "resolved"
    assert result.route == "escalation:person"


def test_escalate_below_skips_the_fallback():
    backup = Script(answer(0.99), name="backup")
    policy = ThresholdGatePolicy(0.8, escalate_below=0.2)
    with pytest.raises(Escalated):
        make_gate(Script(answer(0.1)), fallbacks=[backup], policy=policy)("q")
    assert backup.calls == 0


def test_unexpected_exceptions_abort_at_once_with_the_cause():
    boom = KeyError("bug")
    step = Script(boom, answer(0.9))
    with pytest.raises(StepAborted) as info:
        make_gate(step, budget=Budget(max_attempts=5))("q")
    assert step.calls == 1 and info.value.__cause__ is boom
    assert info.value.trace.attempts[0].failure == "error"


def test_transport_retries_end_in_fallback_then_abort():
    primary = Script(TransportError("down"))
    backup = Script(TransportError("down too"), name="backup")
    policy = ThresholdGatePolicy(0.8, max_retries=1)
    with pytest.raises(StepAborted) as info:
        make_gate(primary, fallbacks=[backup], policy=policy, budget=Budget(max_attempts=10))("q")
    assert kinds(info.value.trace) == ["retry", "fallback", "retry", "abort"]
    assert info.value.trace.outcome == "aborted"
    assert primary.calls == 2 and backup.calls == 2


def test_when_exhausted_abort_and_from_threshold_policy():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.5, 1.0, 4000)
    correct = (rng.random(4000) < conf).astype(int)
    fitted = ThresholdPolicy.fit(correct, conf, max_error=0.1, below="reject")
    gp = ThresholdGatePolicy.from_threshold_policy(fitted)
    assert gp.accept_at == fitted.threshold and gp.when_exhausted == "abort"
    assert (
        ThresholdGatePolicy.from_threshold_policy(ThresholdPolicy(0.7)).when_exhausted == "escalate"
    )
    with pytest.raises(StepAborted):
        make_gate(Script(answer(fitted.threshold - 0.01)), policy=gp)("q")
    assert make_gate(Script(answer(fitted.threshold)), policy=gp)("q").outcome == "accepted"
    with pytest.raises(ConfideTypeError):
        ThresholdGatePolicy.from_threshold_policy(0.7)


def test_calibrator_sets_the_confidence_the_policy_reads():
    rng = np.random.default_rng(1)
    raw = rng.uniform(0.01, 0.99, 500)
    y = (rng.random(500) < raw**2).astype(int)  # over-confident scores
    cal = PlattScaling(input="probs").fit(raw, y)
    result = make_gate(Script(answer(0.95)), calibrator=cal, policy=0.0)("q")
    expected = float(cal.predict_proba(np.array([0.95]))[0])
    assert result.confidence == pytest.approx(expected, rel=0, abs=1e-15)
    assert result.trace.attempts[0].scores == {"confidence": 0.95, "calibrated": expected}
    # A callable calibrator that halves the score makes the same answer fail a 0.8 bar.
    with pytest.raises(Escalated):
        make_gate(Script(answer(0.95)), calibrator=lambda c: c / 2)("q")


def test_step_confidence_without_scorer_and_scores_mapping():
    step = Script(StepResult("x", confidence=0.9))
    assert Gate(step, policy=0.8)("q").confidence == 0.9
    gate = Gate(Script(StepResult("x")), policy=0.8, scorer=lambda i, r: {"a": 0.9, "b": 0.1})
    with pytest.raises(StepAborted, match="no 'confidence' key"):
        gate("q")
    gate = Gate(
        Script(StepResult("x")), policy=0.8, scorer=lambda i, r: {"confidence": 0.9, "b": 0.1}
    )
    assert gate("q").trace.attempts[0].scores == {"confidence": 0.9, "b": 0.1}
    nan_gate = Gate(Script(StepResult("x")), policy=0.8, scorer=lambda i, r: float("nan"))
    with pytest.raises(Escalated):  # invalid, refined once, then no route left
        nan_gate("q")


def test_trace_is_json_with_every_attempt():
    class Opaque:
        def __repr__(self):
            return "<opaque>"

    step = Script(TransportError("x"), StepResult(Opaque(), usage={"tokens": 3}, confidence=0.9))
    result = Gate(step, policy=0.5, clock=FakeClock())(Opaque())
    doc = json.loads(result.trace.to_json())
    assert doc["outcome"] == "accepted" and doc["totals"]["attempts"] == 2
    assert (
        doc["attempts"][0]["failure"] == "transport" and doc["attempts"][0]["input"] == "<opaque>"
    )
    assert doc["attempts"][1]["output"] == "<opaque>" and doc["attempts"][1]["tokens"] == 3
    assert doc["budget"] == {
        "max_attempts": 3,
        "max_cost": None,
        "max_seconds": None,
        "max_tokens": None,
    }
    assert json.loads(json.dumps(result.to_dict()))["route"] == "primary"


def test_decorator_and_custom_policy_as_data():
    decisions = []

    class Always:
        def decide(self, obs: Observation) -> Action:
            decisions.append(obs)
            return Action("accept", reason="always")

    @gated(policy=Always(), scorer=score)
    def summarize(x):
        return answer(0.01)

    assert isinstance(summarize, Gate) and summarize.__name__ == "summarize"
    assert summarize("q").outcome == "accepted"
    assert decisions[0].remaining["attempts"] == 2 and decisions[0].next_route is None

    class Bad:
        def decide(self, obs):
            return "accept"

    with pytest.raises(ConfideTypeError, match="must return an Action"):
        Gate(Script(answer(0.9)), policy=Bad(), scorer=score)("q")


def test_async_step_in_sync_run_and_bad_arguments():
    async def step(x):
        return answer(0.9)

    with pytest.raises(ConfideTypeError, match="arun"):
        Gate(step, policy=0.5, scorer=score)("q")
    with pytest.raises(ValidationError):
        Budget(max_attempts=-1)
    with pytest.raises(ConfideTypeError):
        Budget(max_attempts=1.5)
    with pytest.raises(ValidationError):
        Action("maybe")
    with pytest.raises(ValidationError):
        ThresholdGatePolicy(0.5, escalate_below=0.9)
    with pytest.raises(ValidationError, match="unique"):
        Gate(Script(1, name="a"), policy=0.5, fallbacks=[Script(1, name="a")])
    with pytest.raises(ConfideTypeError):
        Gate(Script(1), policy="high")


BEHAVIOURS = st.sampled_from(["transport", "invalid", "error", "low", "mid", "high"])


def _make(kind: str):
    return {
        "transport": TransportError("t", usage={"tokens": 1}),
        "invalid": InvalidOutput("i", usage={"tokens": 2}),
        "error": RuntimeError("e"),
        "low": answer(0.1, tokens=3),
        "mid": answer(0.6, tokens=4),
        "high": answer(0.9, tokens=5),
    }[kind]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(BEHAVIOURS, min_size=1, max_size=6),
    st.lists(BEHAVIOURS, min_size=1, max_size=6),
    st.integers(0, 6),
)
def test_every_path_returns_or_raises_and_respects_the_budget(a, b, max_attempts):
    primary = Script(*map(_make, a))
    backup = Script(*map(_make, b), name="backup")
    policy = ThresholdGatePolicy(0.8, refine_below=0.5, escalate_below=0.05)
    gate = make_gate(
        primary, fallbacks=[backup], policy=policy, budget=Budget(max_attempts=max_attempts)
    )
    try:
        out = gate("q")
    except AgentError as exc:
        trace = exc.trace
        assert trace.outcome in {"budget_exhausted", "aborted", "escalated"}
    else:
        assert out is not None and isinstance(out, GateResult)
        trace = out.trace
        assert trace.attempts[-1].action.kind == "accept"
    assert primary.calls + backup.calls == trace.calls <= max_attempts
    assert trace.tokens == sum(a.tokens for a in trace.attempts)
    assert [a.index for a in trace.attempts] == list(range(len(trace.attempts)))


def test_failing_escalation_callback_and_step_type_errors_keep_the_trace():
    def broken(request):
        raise OSError("queue unreachable")

    with pytest.raises(StepAborted, match="escalation callback failed") as info:
        make_gate(Script(answer(0.3)), escalate=broken)("q")
    assert isinstance(info.value.__cause__, OSError) and len(info.value.trace.attempts) == 1
    # A step's own ConfideTypeError is an unexpected error of the step, not a gate misuse.
    with pytest.raises(StepAborted) as info:
        make_gate(Script(ConfideTypeError("bad arg")))("q")
    assert info.value.trace.attempts[0].failure == "error"


def test_policy_sees_the_budget_left_after_the_attempt():
    seen = []

    class Spy(ThresholdGatePolicy):
        def decide(self, obs):
            seen.append(obs.remaining)
            return super().decide(obs)

    gate = make_gate(Script(answer(0.9, tokens=30, cost=0.25)), policy=Spy(0.8),
                     budget=Budget(max_attempts=4, max_tokens=100, max_cost=1.0))  # fmt: skip
    gate("q")
    assert seen == [{"attempts": 3, "seconds": None, "tokens": 70, "cost": 0.75}]


def test_bad_usage_from_a_step_aborts_with_the_trace():
    with pytest.raises(StepAborted, match="usage") as info:
        make_gate(Script(StepResult({"c": 0.9}, usage={"tokens": "many"})))("q")
    assert info.value.trace.attempts[0].failure == "error"
