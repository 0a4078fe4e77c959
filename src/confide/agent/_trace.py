"""Data of a gated call: the action a policy returns, each attempt, and the full trace.

Everything here is a frozen dataclass with ``to_dict()`` giving plain JSON types; inputs and
outputs that are not JSON types are stored by ``repr`` (or their own ``to_dict``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from confide._validation import check_choice
from confide.exceptions import ConfideTypeError, ValidationError

__all__ = [
    "ACTION_KINDS",
    "FAILURE_CLASSES",
    "Action",
    "Attempt",
    "CompensationRecord",
    "GateResult",
    "Resolution",
    "StepResult",
    "Trace",
    "jsonable",
    "normalize_usage",
]

#: What a policy may decide after an attempt.
ACTION_KINDS = ("accept", "retry", "refine", "fallback", "escalate", "abort")
#: Why an attempt failed. ``transport``: no answer (retried without feedback); ``invalid``: an
#: unusable answer (refined with feedback); ``low_confidence``: a usable answer scored below the
#: policy's bar; ``error``: an unexpected exception (never retried); ``circuit_open``: the
#: route's breaker refused the call (no call made).
FAILURE_CLASSES = ("transport", "invalid", "low_confidence", "error", "circuit_open")


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: containers recursively, objects by ``to_dict`` or ``repr``."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return jsonable(value.to_dict())
    if hasattr(value, "tolist") and callable(value.tolist):
        return jsonable(value.tolist())
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return repr(value)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ConfideTypeError(f"usage[{name!r}] must be a number, got {value!r}.") from None
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise ValidationError(f"usage[{name!r}] must be a finite number >= 0, got {value!r}.")
    return v


def normalize_usage(usage: Mapping[str, Any] | None) -> tuple[int, float]:
    """``(tokens, cost)`` from a usage mapping.

    Tokens are ``tokens``, else ``total_tokens``, else the sum of ``prompt_tokens`` +
    ``completion_tokens`` (or ``input_tokens`` + ``output_tokens``); cost is ``cost``. Missing
    keys count 0.
    """
    if not usage:
        return 0, 0.0
    if not isinstance(usage, Mapping):
        raise ConfideTypeError(
            f"usage must be a mapping such as {{'tokens': 120, 'cost': 0.002}}, got {usage!r}."
        )
    if "tokens" in usage:
        tokens = _number(usage["tokens"], "tokens")
    elif "total_tokens" in usage:
        tokens = _number(usage["total_tokens"], "total_tokens")
    else:
        tokens = sum(
            _number(usage[k], k)
            for k in ("prompt_tokens", "completion_tokens", "input_tokens", "output_tokens")
            if k in usage
        )
    cost = _number(usage["cost"], "cost") if "cost" in usage else 0.0
    return round(tokens), cost


@dataclass(frozen=True)
class StepResult:
    """What a step may return instead of a bare output.

    Attributes
    ----------
    output : Any
        The answer.
    usage : mapping
        Tokens and cost of the call (see :func:`normalize_usage` for the accepted keys).
    logprobs : Any
        Token logprobs as the API returned them, for logprob-based scorers.
    confidence : float or None
        The step's own confidence, used when the gate has no scorer.
    """

    output: Any
    usage: Mapping[str, Any] = field(default_factory=dict)
    logprobs: Any = None
    confidence: float | None = None


@dataclass(frozen=True)
class Action:
    """The next step of a gated call, as data.

    Attributes
    ----------
    kind : str
        One of :data:`ACTION_KINDS`.
    reason : str
        Why (shown in traces and error messages).
    feedback : str or None
        For ``refine``: what was wrong with the answer, built from the evidence.
    target : str or None
        For ``fallback``: the route to call next.
    """

    kind: str
    reason: str = ""
    feedback: str | None = None
    target: str | None = None

    def __post_init__(self) -> None:
        check_choice(self.kind, "Action.kind", ACTION_KINDS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "reason": self.reason,
            "feedback": self.feedback,
            "target": self.target,
        }


@dataclass(frozen=True)
class Attempt:
    """One call of one route, with what came out of it and what the policy decided.

    ``started`` / ``ended`` are readings of the gate's clock; ``confidence`` is the calibrated
    confidence the policy saw (``scores`` holds the raw ones); ``failure`` is one of
    :data:`FAILURE_CLASSES` or None.
    """

    index: int
    route: str
    input: Any
    output: Any
    scores: Mapping[str, float]
    confidence: float | None
    failure: str | None
    error: str | None
    action: Action
    started: float
    ended: float
    tokens: int = 0
    cost: float = 0.0
    usage: Mapping[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "route": self.route,
            "input": jsonable(self.input),
            "output": jsonable(self.output),
            "scores": {k: jsonable(float(v)) for k, v in self.scores.items()},
            "confidence": jsonable(self.confidence),
            "failure": self.failure,
            "error": self.error,
            "action": self.action.to_dict(),
            "started": self.started,
            "ended": self.ended,
            "seconds": self.seconds,
            "tokens": self.tokens,
            "cost": self.cost,
            "usage": jsonable(dict(self.usage)),
        }


@dataclass(frozen=True)
class CompensationRecord:
    """A compensation run after a later failure: which step it undid, and whether it worked."""

    step: str
    ok: bool
    error: str | None
    started: float
    ended: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "ok": self.ok,
            "error": self.error,
            "started": self.started,
            "ended": self.ended,
        }


@dataclass(frozen=True)
class Trace:
    """Every attempt of one gated call, and how it ended.

    Attributes
    ----------
    name : str
        The gate's name.
    attempts : tuple of Attempt
        In order, including attempts refused by an open breaker (``failure="circuit_open"``).
    outcome : str
        ``"accepted"``, ``"resolved"`` (a person answered), ``"escalated"``, ``"aborted"``,
        ``"budget_exhausted"`` or ``"circuit_open"``.
    budget : dict
        The limits of the call (None = unlimited).
    started, ended : float
        Gate clock readings at the start and the end of the call.
    compensations : tuple of CompensationRecord
        Set on traces of workflow runs whose later step failed.
    """

    name: str
    attempts: tuple[Attempt, ...]
    outcome: str
    budget: Mapping[str, Any]
    started: float
    ended: float
    compensations: tuple[CompensationRecord, ...] = ()

    @property
    def calls(self) -> int:
        """Attempts that called a step (breaker refusals excluded)."""
        return sum(a.failure != "circuit_open" for a in self.attempts)

    @property
    def tokens(self) -> int:
        return sum(a.tokens for a in self.attempts)

    @property
    def cost(self) -> float:
        return math.fsum(a.cost for a in self.attempts)

    def totals(self) -> dict[str, Any]:
        """Calls, tokens, cost and seconds summed over every attempt."""
        return {
            "attempts": self.calls,
            "tokens": self.tokens,
            "cost": self.cost,
            "seconds": self.ended - self.started,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "outcome": self.outcome,
            "budget": jsonable(dict(self.budget)),
            "started": self.started,
            "ended": self.ended,
            "totals": self.totals(),
            "attempts": [a.to_dict() for a in self.attempts],
            "compensations": [c.to_dict() for c in self.compensations],
        }

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)


@dataclass(frozen=True)
class GateResult:
    """An accepted (or person-resolved) answer with the trace that led to it."""

    output: Any
    confidence: float | None
    route: str
    trace: Trace

    @property
    def outcome(self) -> str:
        return self.trace.outcome

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": jsonable(self.output),
            "confidence": self.confidence,
            "route": self.route,
            "trace": self.trace.to_dict(),
        }


@dataclass(frozen=True)
class Resolution:
    """Returned by an escalation callback that has an answer now (a person, a rule, a cache)."""

    output: Any
    by: str = "person"
