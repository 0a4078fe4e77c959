"""Errors of the agent gate: runtime outcomes that carry the full trace, and failure markers.

Every outcome error subclasses :class:`AgentError` (a :class:`~confide.exceptions.ConfideError`)
and carries ``trace``: every attempt, its scores, action, timing and usage, so a caller that
catches the error can still log, bill and debug the whole run. A gate never returns ``None``:
it returns a :class:`~confide.agent.GateResult` or raises one of these.

A step marks its own failures with two exceptions, kept apart on purpose:

* :class:`TransportError` (and by default :class:`ConnectionError`, :class:`TimeoutError`):
  the call never produced an answer; it is retried *without* feedback;
* :class:`InvalidOutput`: an answer came back but cannot be used; it is refined *with* feedback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from confide.exceptions import ConfideError

if TYPE_CHECKING:
    from confide.agent._trace import Trace
    from confide.agent._workflow import WorkflowTrace

__all__ = [
    "AgentError",
    "BudgetExhausted",
    "CircuitOpenError",
    "Escalated",
    "InvalidOutput",
    "StepAborted",
    "TransportError",
    "WorkflowFailed",
]


class TransportError(ConfideError):
    """Raised by a step when the call failed before any answer (network, rate limit, timeout).

    Parameters
    ----------
    message : str
        What failed.
    usage : mapping, optional
        Tokens or cost already spent by the failed call (summed into the trace totals).
    """

    def __init__(self, message: str, *, usage: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.usage = dict(usage or {})


class InvalidOutput(ConfideError):
    """Raised by a step, a validator or a scorer when an answer came back but is unusable.

    The message becomes the feedback of the refined attempt, so it should say what is wrong
    with the answer (``"missing field 'total'"``), not how the call failed.
    """

    def __init__(self, message: str, *, usage: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.usage = dict(usage or {})


class AgentError(ConfideError):
    """Base class of the gate's outcomes; ``trace`` holds every attempt made."""

    def __init__(self, message: str, trace: Trace) -> None:
        super().__init__(message)
        self.trace = trace


class BudgetExhausted(AgentError):
    """The call's budget (attempts, seconds, tokens or cost) ran out before an accepted answer.

    Attributes
    ----------
    resource : str
        ``"attempts"``, ``"seconds"``, ``"tokens"`` or ``"cost"``: the budget that ran out.
    """

    def __init__(self, message: str, trace: Trace, *, resource: str) -> None:
        super().__init__(message, trace)
        self.resource = resource


class StepAborted(AgentError):
    """The policy chose ``abort``, or the step raised an unexpected exception (its ``__cause__``)."""


class Escalated(AgentError):
    """The item went to a person and no answer is available yet.

    Attributes
    ----------
    ticket : Any
        What the escalation callback or review queue returned (e.g. a review id), or None.
    """

    def __init__(self, message: str, trace: Trace, *, ticket: Any = None) -> None:
        super().__init__(message, trace)
        self.ticket = ticket


class CircuitOpenError(AgentError):
    """Every remaining route's circuit breaker is open: no call was made on them.

    Attributes
    ----------
    routes : tuple of str
        The routes whose breaker refused the call.
    """

    def __init__(self, message: str, trace: Trace, *, routes: tuple[str, ...]) -> None:
        super().__init__(message, trace)
        self.routes = routes


class WorkflowFailed(ConfideError):
    """A workflow step failed; the compensations of the earlier steps ran in reverse order.

    Attributes
    ----------
    trace : WorkflowTrace
        Each step's trace, the failed step and every compensation run.
    failed_step : str
        Name of the step that failed (its error is ``__cause__``).
    """

    def __init__(self, message: str, trace: WorkflowTrace, *, failed_step: str) -> None:
        super().__init__(message)
        self.trace = trace
        self.failed_step = failed_step
