"""Workflows: compensations run in reverse order on failure, and the trace records them."""

from __future__ import annotations

import asyncio
import json

import pytest
from tests.agent.agent_fakes import FakeClock, Script, answer, score

from confide.agent._budget import Budget
from confide.agent._errors import BudgetExhausted, TransportError, WorkflowFailed
from confide.agent._gate import Gate
from confide.agent._workflow import Workflow


def make(log, fail_last=True):
    wf = Workflow("order", clock=FakeClock())
    wf.add("reserve", lambda x: f"{x}+reserved", compensate=lambda out: log.append(("undo", out)))
    wf.add("note", lambda x: f"{x}+noted")  # no compensation
    charge = Gate(Script(answer(0.9), name="charge"), policy=0.8, scorer=lambda i, r: r.output["c"])
    wf.add("charge", charge, compensate=lambda out: log.append(("refund", out["text"])))
    last = Script(TransportError("down") if fail_last else answer(0.9), name="ship")
    wf.add("ship", Gate(last, policy=0.8, scorer=score, budget=Budget(max_attempts=2)))
    return wf


def test_compensations_run_in_reverse_and_are_recorded():
    log = []
    with pytest.raises(WorkflowFailed) as info:
        make(log).run("order-1")
    err = info.value
    assert log == [("refund", "ok"), ("undo", "order-1+reserved")]
    assert err.failed_step == "ship" and isinstance(err.__cause__, BudgetExhausted)
    t = err.trace
    assert t.outcome == "compensated"
    assert [c.step for c in t.compensations] == ["charge", "reserve"]
    assert all(c.ok for c in t.compensations)
    assert [s.ok for s in t.steps] == [True, True, True, False]
    failed = t.steps[-1]
    assert failed.trace is not None and failed.trace.calls == 2
    assert [c.step for c in failed.trace.compensations] == ["charge", "reserve"]
    doc = json.loads(t.to_json())
    assert doc["compensations"][0]["step"] == "charge"
    assert doc["steps"][-1]["trace"]["compensations"][1]["step"] == "reserve"


def test_a_failing_compensation_does_not_stop_the_others():
    log = []
    wf = Workflow()
    wf.add("a", lambda x: 1, compensate=lambda out: log.append("a"))

    def broken(out):
        raise RuntimeError("cannot undo b")

    wf.add("b", lambda x: 2, compensate=broken)
    wf.add("c", lambda x: 1 / 0)
    with pytest.raises(WorkflowFailed, match="compensation failed") as info:
        wf.run(0)
    assert log == ["a"]
    comps = info.value.trace.compensations
    assert [(c.step, c.ok) for c in comps] == [("b", False), ("a", True)]
    assert "cannot undo b" in comps[0].error
    assert info.value.trace.outcome == "compensation_failed"
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_success_passes_outputs_along():
    result = make([], fail_last=False).run("o")
    assert result.trace.outcome == "completed" and result.trace.compensations == ()
    assert result.outputs["note"] == "o+reserved+noted"
    assert result.output == {"text": "ok", "c": 0.9}


def test_async_workflow_with_async_compensations_and_decorator():
    log = []
    wf = Workflow("async")

    async def undo(out):
        await asyncio.sleep(0)
        log.append(out)

    @wf.step(compensate=undo)
    async def first(x):
        return x + 1

    @wf.step("second", compensate=undo)
    def second(x):
        return x * 10

    async def fails(x):
        raise TransportError("down")

    wf.add("third", Gate(fails, policy=0.5, scorer=score, budget=Budget(max_attempts=1)))
    assert wf.names == ("first", "second", "third")
    with pytest.raises(WorkflowFailed) as info:
        asyncio.run(wf.arun(1))
    assert log == [20, 2]
    assert info.value.trace.steps[-1].trace.outcome == "budget_exhausted"
    with pytest.raises(Exception, match="already has a step"):
        wf.add("first", lambda x: x)
