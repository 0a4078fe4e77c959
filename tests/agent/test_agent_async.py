"""The async gate: concurrent calls sharing a breaker, per-call budgets, timeouts."""

from __future__ import annotations

import asyncio

import pytest
from tests.agent.agent_fakes import AsyncScript, FakeClock, answer, score

from confide.agent._breaker import BreakerRegistry
from confide.agent._budget import Budget
from confide.agent._errors import (
    BudgetExhausted,
    CircuitOpenError,
    Escalated,
    StepAborted,
    TransportError,
)
from confide.agent._gate import Gate, gated
from confide.agent._policy import ThresholdGatePolicy
from confide.agent._trace import GateResult, Resolution


def test_arun_accepts_and_sync_steps_also_work():
    async def main():
        a = await Gate(AsyncScript(answer(0.9)), policy=0.8, scorer=score).arun("q")
        b = await Gate(lambda x: answer(0.9), policy=0.8, scorer=score).arun("q")
        return a, b

    a, b = asyncio.run(main())
    assert a.outcome == b.outcome == "accepted"


def test_concurrent_calls_share_one_breaker():
    clock = FakeClock(0.0)
    registry = BreakerRegistry(3, 10.0, clock=clock)
    failing = AsyncScript(TransportError("down"))
    policy = ThresholdGatePolicy(0.8, max_retries=0, when_exhausted="abort")
    gate = Gate(failing, policy=policy, scorer=score, breakers=registry, clock=clock)

    async def many(g, n):
        return await asyncio.gather(*(g.arun(i) for i in range(n)), return_exceptions=True)

    results = asyncio.run(many(gate, 10))
    # All ten passed the closed breaker before any failed; the third failure opened it.
    assert failing.calls == 10
    assert all(isinstance(r, StepAborted) for r in results)
    assert registry.get("primary").state == "open"
    results = asyncio.run(many(gate, 4))
    assert failing.calls == 10 and all(isinstance(r, CircuitOpenError) for r in results)
    # Half-open: exactly one trial call goes through; the others are refused without a call.
    clock.advance(10.0)
    ok = AsyncScript(answer(0.9))
    gate2 = Gate(ok, policy=policy, scorer=score, breakers=registry, clock=clock)
    results = asyncio.run(many(gate2, 5))
    assert ok.calls == 1
    assert sum(isinstance(r, GateResult) for r in results) == 1
    assert sum(isinstance(r, CircuitOpenError) for r in results) == 4
    assert registry.get("primary").state == "closed"


def test_concurrent_calls_have_their_own_budgets():
    seen: dict[int, int] = {}

    async def step(x):
        seen[x] = seen.get(x, 0) + 1
        await asyncio.sleep(0)
        if seen[x] == 1:
            raise TransportError("first try fails", usage={"tokens": 1, "cost": 0.5})
        return answer(0.9, tokens=2, cost=1.0)

    gate = Gate(step, policy=0.8, scorer=score, budget=Budget(max_attempts=2, max_cost=2.0))

    async def main():
        return await asyncio.gather(*(gate.arun(i) for i in range(20)))

    results = asyncio.run(main())
    assert all(r.trace.calls == 2 for r in results)
    assert all(r.trace.tokens == 3 and r.trace.cost == 1.5 for r in results)


def test_wall_time_budget_cancels_a_hanging_call():
    async def hangs(x):
        await asyncio.sleep(30)

    gate = Gate(hangs, policy=0.8, scorer=score, budget=Budget(max_attempts=5, max_seconds=0.05))
    with pytest.raises(BudgetExhausted) as info:
        asyncio.run(gate.arun("q"))
    assert info.value.resource == "seconds"
    (attempt,) = info.value.trace.attempts
    assert attempt.failure == "transport" and attempt.action.kind == "retry"


def test_async_escalation_callback_is_awaited():
    async def review(request):
        await asyncio.sleep(0)
        return Resolution("from a person", by="alice")

    async def ticket(request):
        return "T-1"

    @gated(policy=0.8, scorer=score, escalate=review)
    async def step(x):
        return answer(0.2)

    result = asyncio.run(step.arun("q"))
    assert result.output == "from a person" and result.route == "escalation:alice"
    gate = Gate(AsyncScript(answer(0.2)), policy=0.8, scorer=score, escalate=ticket)
    with pytest.raises(Escalated) as info:
        asyncio.run(gate.arun("q"))
    assert info.value.ticket == "T-1"


def test_async_zero_budget_makes_no_call():
    step = AsyncScript(answer(0.9))
    with pytest.raises(BudgetExhausted) as info:
        asyncio.run(Gate(step, policy=0.8, scorer=score, budget=Budget(max_attempts=0)).arun("q"))
    assert step.calls == 0 and info.value.trace.attempts == ()


def test_budget_timeout_is_a_transport_failure_whatever_the_transport_errors():
    async def hangs(x):
        await asyncio.sleep(30)

    gate = Gate(hangs, policy=0.8, scorer=score, transport_errors=(TransportError,),
                budget=Budget(max_attempts=5, max_seconds=0.05))  # fmt: skip
    with pytest.raises(BudgetExhausted) as info:
        asyncio.run(gate.arun("q"))
    (attempt,) = info.value.trace.attempts
    assert attempt.failure == "transport" and "seconds budget" in attempt.error


def test_a_cancelled_trial_call_frees_the_half_open_slot():
    clock = FakeClock(0.0)
    registry = BreakerRegistry(1, 5.0, clock=clock)
    registry.get("slow").record_failure()
    clock.advance(5.0)

    async def slow(x):
        await asyncio.sleep(30)

    gate = Gate(slow, policy=0.5, scorer=score, breakers=registry, clock=clock)

    async def main():
        task = asyncio.create_task(gate.arun("q"))
        await asyncio.sleep(0.01)
        assert registry.get("slow").allow() is False  # the trial slot is taken
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert registry.get("slow").state == "half_open"
    assert registry.get("slow").allow() is True
