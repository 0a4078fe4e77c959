"""The state of one gated call, shared by the sync and async loops of :class:`Gate`.

The loops only call things (the step, the escalation callback); every decision and every
record is made here, so both loops behave identically.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from confide.agent._budget import BudgetState
from confide.agent._errors import (
    AgentError,
    BudgetExhausted,
    CircuitOpenError,
    Escalated,
    InvalidOutput,
    StepAborted,
)
from confide.agent._policy import Observation
from confide.agent._trace import (
    Action,
    Attempt,
    GateResult,
    Resolution,
    StepResult,
    Trace,
    normalize_usage,
)
from confide.exceptions import ConfideTypeError

if TYPE_CHECKING:
    from confide.agent._breaker import CircuitBreaker
    from confide.agent._gate import Gate

__all__ = ["EscalationRequest", "Outcome", "default_refine"]


@dataclass(frozen=True)
class EscalationRequest:
    """What an escalation callback (or a review queue's ``submit``) receives."""

    gate: str
    input: Any
    output: Any
    confidence: float | None
    reason: str
    trace: Trace


@dataclass
class Outcome:
    """What one call produced, before the policy decides."""

    output: Any = None
    scores: dict[str, float] = field(default_factory=dict)
    confidence: float | None = None
    failure: str | None = None
    error: str | None = None
    exc: BaseException | None = None
    tokens: int = 0
    cost: float = 0.0
    usage: dict[str, Any] = field(default_factory=dict)


def default_refine(value: Any, feedback: str, previous_output: Any) -> Any:
    """The input of a refined attempt: a string gets the feedback appended on a new paragraph;
    a mapping gets ``"feedback"`` and ``"previous_output"`` keys. Other inputs need ``refine=``."""
    if isinstance(value, str):
        return f"{value}\n\n{feedback}"
    if isinstance(value, Mapping):
        return {**value, "feedback": feedback, "previous_output": previous_output}
    raise ConfideTypeError(
        f"cannot add refinement feedback to an input of type {type(value).__name__}: pass "
        "refine=callable(input, feedback, previous_output) to the gate."
    )


def _calibrate(calibrator: Any, c: float) -> float:
    if hasattr(calibrator, "predict_proba"):
        p = np.asarray(calibrator.predict_proba(np.array([c], dtype=np.float64)), dtype=np.float64)
        return float(p.reshape(-1)[-1] if p.ndim == 2 else p.reshape(-1)[0])
    return float(calibrator(c))


class Run:
    """One call of a gate: budget, routes tried, attempts recorded."""

    def __init__(self, gate: Gate, value: Any) -> None:
        self.gate = gate
        self.original = value
        self.input = value
        self.budget: BudgetState = gate.budget.start(gate.clock)
        self.attempts: list[Attempt] = []
        self.route_index = 0
        self.counts: dict[str, list[int]] = {name: [0, 0, 0] for name, _ in gate.routes}
        self.refused: list[str] = []
        self.breaker: CircuitBreaker | None = None
        self.started_at = 0.0

    # -- routes and budget -----------------------------------------------------------------
    @property
    def route(self) -> tuple[str, Callable[..., Any]]:
        return self.gate.routes[self.route_index]

    def next_route(self) -> str | None:
        i = self.route_index + 1
        return self.gate.routes[i][0] if i < len(self.gate.routes) else None

    def trace(self, outcome: str) -> Trace:
        return Trace(
            name=self.gate.name,
            attempts=tuple(self.attempts),
            outcome=outcome,
            budget=self.gate.budget.to_dict(),
            started=self.budget.started,
            ended=float(self.gate.clock()),
        )

    def before(self) -> AgentError | None:
        """Check the budget and the route's breaker; None when a call may be made now."""
        while True:
            resource = self.budget.exhausted()
            if resource is not None:
                return BudgetExhausted(
                    f"gate {self.gate.name!r}: {self.budget.describe(resource)} after "
                    f"{self.budget.attempts} call(s), no answer accepted.",
                    self.trace("budget_exhausted"),
                    resource=resource,
                )
            name, _ = self.route
            self.breaker = None if self.gate.breakers is None else self.gate.breakers.get(name)
            if self.breaker is None or self.breaker.allow():
                self.budget.attempts += 1
                self.counts[name][0] += 1
                self.started_at = float(self.gate.clock())
                return None
            self.refused.append(name)
            target = self.next_route()
            now = float(self.gate.clock())
            action = (
                Action("fallback", reason=f"circuit open on route {name!r}", target=target)
                if target is not None
                else Action("abort", reason=f"circuit open on route {name!r}; no route left")
            )
            self._record(Outcome(failure="circuit_open", error="circuit open"), action, now, now)
            if target is None:
                return CircuitOpenError(
                    f"gate {self.gate.name!r}: circuit open on route(s) {', '.join(self.refused)}; "
                    "no call was made on them.",
                    self.trace("circuit_open"),
                    routes=tuple(self.refused),
                )
            self._go(target)

    def cancelled(self) -> None:
        """The call was cancelled (``CancelledError``, ``KeyboardInterrupt``): free the
        breaker's trial slot so the route is not stuck half-open."""
        if self.breaker is not None:
            self.breaker.release()

    def _go(self, target: str | None) -> None:
        names = [n for n, _ in self.gate.routes]
        self.route_index = self.route_index + 1 if target is None else names.index(target)
        self.input = self.original

    # -- one attempt -------------------------------------------------------------------------
    def classify(self, exc: BaseException) -> Outcome:
        usage = getattr(exc, "usage", None)
        try:
            usage = dict(usage or {})
            tokens, cost = normalize_usage(usage)
        except (TypeError, ValueError):
            usage, tokens, cost = {}, 0, 0.0
        message = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, InvalidOutput):
            failure, message = "invalid", str(exc)
        elif isinstance(exc, self.gate.transport_errors):
            failure = "transport"
        else:
            failure = "error"
        return Outcome(
            failure=failure, error=message, exc=exc, tokens=tokens, cost=cost, usage=usage
        )

    def score(self, raw: Any) -> Outcome:
        """Validate and score what the step returned (exceptions go to :meth:`classify`)."""
        result = raw if isinstance(raw, StepResult) else StepResult(raw)
        out = Outcome(output=result.output)
        try:
            out.usage = dict(result.usage or {})
            out.tokens, out.cost = normalize_usage(out.usage)
            self._score(result, out)
        except Exception as exc:
            failed = self.classify(exc)
            out.failure, out.error, out.exc = failed.failure, failed.error, exc
        return out

    def _score(self, result: StepResult, out: Outcome) -> None:
        gate = self.gate
        if gate.validator is not None:
            verdict = gate.validator(result.output)
            if verdict is False or (isinstance(verdict, str) and verdict):
                raise InvalidOutput(
                    verdict if isinstance(verdict, str) else "validator rejected it"
                )
        if gate.scorer is None:
            if result.confidence is None:
                raise ConfideTypeError(
                    f"gate {gate.name!r} has no scorer and the step returned no confidence: pass "
                    "scorer=callable(input, step_result) or return StepResult(..., confidence=c)."
                )
            scores: Any = {"confidence": result.confidence}
        else:
            scores = gate.scorer(self.input, result)
        if isinstance(scores, Mapping):
            out.scores = {str(k): float(v) for k, v in scores.items()}
            if "confidence" in out.scores:
                c = out.scores["confidence"]
            elif len(out.scores) == 1:
                c = next(iter(out.scores.values()))
            else:
                raise ConfideTypeError(
                    f"scorer returned several scores {sorted(out.scores)} and no 'confidence' key: "
                    "say which one the policy reads."
                )
        else:
            c = float(scores)
            out.scores = {"confidence": c}
        if not math.isfinite(c):
            raise InvalidOutput(f"no confidence could be computed for the answer (score {c})")
        if gate.calibrator is not None:
            c = _calibrate(gate.calibrator, c)
            out.scores["calibrated"] = c
        out.confidence = c

    def decide(self, out: Outcome) -> Action:
        """Ask the policy, record the attempt and feed the breaker."""
        name, _ = self.route
        counts = self.counts[name]
        self.budget.charge(out.tokens, out.cost)
        obs = Observation(
            index=len(self.attempts),
            route=name,
            failure=out.failure,
            confidence=out.confidence,
            scores=dict(out.scores),
            error=out.error,
            route_attempts=counts[0],
            route_refines=counts[1],
            route_retries=counts[2],
            next_route=self.next_route(),
            remaining=self.budget.remaining(),
        )
        action = self.gate.policy.decide(obs)
        if not isinstance(action, Action):
            self.cancelled()
            raise ConfideTypeError(
                f"the gate policy returned {action!r}; a policy must return an Action."
            )
        if out.failure is None and action.kind != "accept":
            out.failure = "low_confidence"
        self._record(out, action, self.started_at, float(self.gate.clock()))
        if self.breaker is not None:
            kind = {None: "success", "transport": "failure", "error": "failure"}
            self.breaker.record(kind.get(out.failure, "soft"))
        return action

    def _record(self, out: Outcome, action: Action, started: float, ended: float) -> None:
        name, _ = self.route
        self.attempts.append(
            Attempt(
                index=len(self.attempts),
                route=name,
                input=self.input if out.failure != "circuit_open" else None,
                output=out.output,
                scores=dict(out.scores),
                confidence=out.confidence,
                failure=out.failure,
                error=out.error,
                action=action,
                started=started,
                ended=ended,
                tokens=out.tokens,
                cost=out.cost,
                usage=dict(out.usage),
            )
        )

    def apply(self, action: Action, out: Outcome) -> GateResult | AgentError | None:
        """Carry out ``accept``/``retry``/``refine``/``fallback``/``abort`` (None: call again).
        ``escalate`` is handled by the loop, which calls the callback."""
        name, _ = self.route
        if action.kind == "accept":
            return GateResult(out.output, out.confidence, name, self.trace("accepted"))
        if action.kind == "retry":
            self.counts[name][2] += 1
            return None
        if action.kind == "refine":
            self.counts[name][1] += 1
            try:
                self.input = self.gate.refine(
                    self.input, action.feedback or action.reason, out.output
                )
            except Exception as exc:
                return self._aborted(f"refinement failed: {exc}", exc)
            return None
        if action.kind == "fallback":
            names = [n for n, _ in self.gate.routes]
            if (action.target is None and self.next_route() is None) or (
                action.target is not None and action.target not in names
            ):
                return self._aborted(
                    f"fallback to {action.target!r} impossible (routes: {names})", None
                )
            self._go(action.target)
            return None
        return self._aborted(action.reason, out.exc)

    def _aborted(self, reason: str, cause: BaseException | None) -> StepAborted:
        err = StepAborted(f"gate {self.gate.name!r} aborted: {reason}", self.trace("aborted"))
        err.__cause__ = cause
        return err

    def escalation_failed(self, exc: BaseException) -> StepAborted:
        return self._aborted(f"the escalation callback failed: {type(exc).__name__}: {exc}", exc)

    def escalation(self, action: Action, out: Outcome) -> EscalationRequest:
        return EscalationRequest(
            gate=self.gate.name,
            input=self.original,
            output=out.output,
            confidence=out.confidence,
            reason=action.reason,
            trace=self.trace("escalated"),
        )

    def escalated(self, action: Action, answer: Any) -> GateResult | Escalated:
        """The end of an escalation: a :class:`Resolution` answers, anything else is a ticket."""
        if isinstance(answer, Resolution):
            return GateResult(
                answer.output, None, f"escalation:{answer.by}", self.trace("resolved")
            )
        return Escalated(
            f"gate {self.gate.name!r} escalated to a person: {action.reason}"
            + ("" if answer is None else f" (ticket {answer!r})"),
            self.trace("escalated"),
            ticket=answer,
        )
