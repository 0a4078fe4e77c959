"""A confidence gate around any step, sync or async: score, decide, act, trace.

Each call of :meth:`Gate.run` (or ``await`` :meth:`Gate.arun`) starts a fresh budget, calls
the current route, validates and scores its answer, calibrates the confidence, asks the
policy for the next :class:`Action` and carries it out, until an answer is accepted (a
:class:`GateResult`, with the trace) or the call ends in a typed error carrying the trace
(:class:`BudgetExhausted`, :class:`StepAborted`, :class:`Escalated`,
:class:`CircuitOpenError`). It never returns None.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from confide.agent._breaker import BreakerRegistry, CircuitBreaker
from confide.agent._budget import Budget
from confide.agent._errors import AgentError, TransportError
from confide.agent._otel import set_attributes, span
from confide.agent._policy import GatePolicy, ThresholdGatePolicy
from confide.agent._run import EscalationRequest, Outcome, Run, default_refine
from confide.agent._trace import Action, GateResult
from confide.exceptions import ConfideTypeError, ValidationError

__all__ = ["Gate", "gated"]

Step = Callable[[Any], Any]


class _SharedBreaker:
    """One breaker for every route (when a single :class:`CircuitBreaker` is passed)."""

    def __init__(self, breaker: CircuitBreaker) -> None:
        self.breaker = breaker

    def get(self, route: str) -> CircuitBreaker:
        return self.breaker


def _name(fn: Any, default: str) -> str:
    return str(getattr(fn, "__name__", None) or default)


class Gate:
    r"""Gate a step on the confidence of its answer.

    Parameters
    ----------
    step : callable
        ``step(input)`` returning the answer, or a :class:`StepResult` (answer, usage, logprobs,
        own confidence); may be ``async def`` (then call :meth:`arun`).
    policy : GatePolicy or float
        Decides the next action; a number ``t`` means ``ThresholdGatePolicy(accept_at=t)``.
    scorer : callable, optional
        ``scorer(input, step_result)`` returning a confidence or a mapping of scores (the key
        ``"confidence"`` is the one the policy reads). Without it, the step's
        ``StepResult.confidence`` is used. May raise :class:`InvalidOutput`.
    budget : Budget, default Budget()
        Limits of each call (a fresh state per call; zero means zero).
    calibrator : optional
        Maps the raw confidence to a calibrated one: a confide calibrator fitted with
        ``input="probs"`` on binary correctness (``predict_proba`` of a 1-element array), or any
        ``callable(float) -> float``.
    validator : callable, optional
        ``validator(output)``: returns a non-empty message or False (or raises
        :class:`InvalidOutput`) when the answer is unusable.
    fallbacks : sequence or mapping of callables
        Further routes in order (a mapping names them).
    escalate : callable or object with ``submit``, optional
        Called with an :class:`EscalationRequest`; return a :class:`Resolution` to answer now,
        or anything else (a review ticket) to end the call with :class:`Escalated`.
    breakers : BreakerRegistry or CircuitBreaker, optional
        A breaker per route (registry) or one shared by every route.
    refine : callable, optional
        ``refine(input, feedback, previous_output)`` builds a refined input (default:
        :func:`default_refine`).
    transport_errors : tuple of exception types
        Exceptions classed as transport failures (retried without feedback).
    clock : callable, default time.monotonic
        Time of the budget and of the trace.
    name : str, optional
        Name of the gate in traces and spans (default: the step's name).
    """

    def __init__(
        self,
        step: Step,
        *,
        policy: GatePolicy | float,
        scorer: Callable[[Any, Any], Any] | None = None,
        budget: Budget | None = None,
        calibrator: Any = None,
        validator: Callable[[Any], Any] | None = None,
        fallbacks: Sequence[Step] | Mapping[str, Step] = (),
        escalate: Any = None,
        breakers: BreakerRegistry | CircuitBreaker | None = None,
        refine: Callable[[Any, str, Any], Any] | None = None,
        transport_errors: tuple[type[BaseException], ...] = (
            TransportError,
            ConnectionError,
            TimeoutError,
        ),
        clock: Callable[[], float] = time.monotonic,
        name: str | None = None,
    ) -> None:
        if not callable(step):
            raise ConfideTypeError(f"step must be callable, got {step!r}.")
        if isinstance(policy, int | float) and not isinstance(policy, bool):
            policy = ThresholdGatePolicy(policy)
        if not isinstance(policy, GatePolicy):
            raise ConfideTypeError(
                f"policy must have decide(observation) -> Action (e.g. ThresholdGatePolicy), got "
                f"{policy!r}."
            )
        self.step = step
        self.policy: GatePolicy = policy
        self.name = name or _name(step, "step")
        items = (
            list(fallbacks.items())
            if isinstance(fallbacks, Mapping)
            else [(_name(f, f"fallback{i + 1}"), f) for i, f in enumerate(fallbacks)]
        )
        self.routes: tuple[tuple[str, Step], ...] = ((_name(step, "primary"), step), *items)
        names = [n for n, _ in self.routes]
        if len(set(names)) != len(names):
            raise ValidationError(
                f"route names must be unique, got {names}; pass fallbacks as a mapping "
                "{name: callable} to name them."
            )
        for n, fn in self.routes:
            if not callable(fn):
                raise ConfideTypeError(f"route {n!r} is not callable: {fn!r}.")
        self.scorer = scorer
        self.budget = Budget() if budget is None else budget
        if not isinstance(self.budget, Budget):
            raise ConfideTypeError(f"budget must be a Budget, got {budget!r}.")
        self.calibrator = calibrator
        self.validator = validator
        self.escalate = escalate
        self.breakers: BreakerRegistry | _SharedBreaker | None = (
            _SharedBreaker(breakers) if isinstance(breakers, CircuitBreaker) else breakers
        )
        self.refine = refine or default_refine
        self.transport_errors = tuple(transport_errors)
        self.clock = clock
        functools.update_wrapper(self, step, updated=())

    def _escalate_fn(self) -> Callable[[EscalationRequest], Any] | None:
        if self.escalate is None:
            return None
        submit = getattr(self.escalate, "submit", None)
        return submit if callable(submit) else self.escalate

    def _span_end(self, current: Any, run: Run, outcome: str) -> None:
        set_attributes(
            current,
            {
                "confide.gate.outcome": outcome,
                "confide.gate.attempts": run.budget.attempts,
                "confide.gate.tokens": run.budget.tokens,
                "confide.gate.cost": run.budget.cost,
            },
        )

    def _attempt_attrs(self, run: Run, out: Outcome, action: Action) -> dict[str, Any]:
        return {
            "confide.attempt.failure": out.failure,
            "confide.attempt.confidence": out.confidence,
            "confide.attempt.action": action.kind,
            "confide.attempt.reason": action.reason,
            "confide.attempt.tokens": out.tokens,
            "confide.attempt.cost": out.cost,
        }

    # -- sync --------------------------------------------------------------------------------
    def run(self, value: Any) -> GateResult:
        """Gate one call of a sync step; returns the accepted answer or raises with the trace."""
        run = Run(self, value)
        with span("confide.gate", {"confide.gate.name": self.name}) as gspan:
            while True:
                blocked = run.before()
                if blocked is not None:
                    self._span_end(gspan, run, blocked.trace.outcome)
                    raise blocked
                name, fn = run.route
                attrs = {"confide.attempt.route": name, "confide.attempt.index": len(run.attempts)}
                with span("confide.gate.attempt", attrs) as aspan:
                    try:
                        raw = fn(run.input)
                    except Exception as exc:
                        out = run.classify(exc)
                    except BaseException:
                        run.cancelled()
                        raise
                    else:
                        if inspect.isawaitable(raw):
                            if inspect.iscoroutine(raw):
                                raw.close()
                            run.cancelled()
                            raise ConfideTypeError(
                                f"route {name!r} is async: call `await gate.arun(x)`, not gate(x)."
                            )
                        out = run.score(raw)
                    action = run.decide(out)
                    set_attributes(aspan, self._attempt_attrs(run, out, action))
                if action.kind == "escalate":
                    fn_esc = self._escalate_fn()
                    try:
                        answer = None if fn_esc is None else fn_esc(run.escalation(action, out))
                    except Exception as exc:
                        end: GateResult | AgentError | None = run.escalation_failed(exc)
                    else:
                        end = run.escalated(action, answer)
                else:
                    end = run.apply(action, out)
                if end is not None:
                    self._span_end(gspan, run, end.trace.outcome)
                    if isinstance(end, GateResult):
                        return end
                    raise end

    __call__ = run

    # -- async -------------------------------------------------------------------------------
    async def arun(self, value: Any) -> GateResult:
        """Gate one call of an async (or sync) step; the budget's ``max_seconds`` also cancels
        a call still running when it runs out."""
        run = Run(self, value)
        with span("confide.gate", {"confide.gate.name": self.name}) as gspan:
            while True:
                blocked = run.before()
                if blocked is not None:
                    self._span_end(gspan, run, blocked.trace.outcome)
                    raise blocked
                name, fn = run.route
                attrs = {"confide.attempt.route": name, "confide.attempt.index": len(run.attempts)}
                with span("confide.gate.attempt", attrs) as aspan:
                    deadline = asyncio.timeout(run.budget.seconds_left())
                    try:
                        async with deadline:
                            raw = fn(run.input)
                            if inspect.isawaitable(raw):
                                raw = await raw
                    except Exception as exc:
                        out = run.classify(exc)
                        if isinstance(exc, TimeoutError) and deadline.expired():
                            out.failure, out.error = (
                                "transport",
                                "cancelled: seconds budget ran out",
                            )
                    except BaseException:
                        run.cancelled()
                        raise
                    else:
                        out = run.score(raw)
                    action = run.decide(out)
                    set_attributes(aspan, self._attempt_attrs(run, out, action))
                if action.kind == "escalate":
                    fn_esc = self._escalate_fn()
                    try:
                        answer = None if fn_esc is None else fn_esc(run.escalation(action, out))
                        if inspect.isawaitable(answer):
                            answer = await answer
                    except Exception as exc:
                        end: GateResult | AgentError | None = run.escalation_failed(exc)
                    else:
                        end = run.escalated(action, answer)
                else:
                    end = run.apply(action, out)
                if end is not None:
                    self._span_end(gspan, run, end.trace.outcome)
                    if isinstance(end, GateResult):
                        return end
                    raise end


def gated(**kwargs: Any) -> Callable[[Step], Gate]:
    """Decorator form of :class:`Gate`: ``@gated(policy=0.8, scorer=...)`` over a step.

    The decorated name becomes a :class:`Gate`: call it (sync) or ``await f.arun(x)``.
    """

    def wrap(step: Step) -> Gate:
        return Gate(step, **kwargs)

    return wrap
