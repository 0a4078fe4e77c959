"""Gate agent steps on calibrated confidence: policies as data, budgets, breakers, traces.

- :class:`Gate` / :func:`gated`: wrap any step (sync or async); its answer is validated,
  scored and calibrated, and a :class:`GatePolicy` (e.g. :class:`ThresholdGatePolicy`, which
  can take a fitted :class:`confide.decision.ThresholdPolicy`) returns the next
  :class:`Action`: accept, retry, refine, fallback, escalate or abort.
- :class:`Budget`: attempts, seconds, tokens, cost per call (fresh per call; zero means zero).
- Failure classes kept apart: :class:`TransportError` (retried without feedback),
  :class:`InvalidOutput` (refined with feedback), low confidence (fallback or escalate).
- Outcomes: a :class:`GateResult` or a typed :class:`AgentError` carrying the :class:`Trace`
  (:class:`BudgetExhausted`, :class:`StepAborted`, :class:`Escalated`,
  :class:`CircuitOpenError`); never None. Traces export to JSON and, when OpenTelemetry is
  installed, to spans.
- :class:`CircuitBreaker` / :class:`BreakerRegistry`: closed / open / half-open per route,
  soft failures on low confidence when asked, injectable clock, thread- and asyncio-safe,
  saved as versioned JSON.
- :class:`Workflow`: steps with compensations run in reverse on failure (sagas).
"""

from confide.agent._breaker import BREAKER_STATES, BreakerRegistry, CircuitBreaker
from confide.agent._budget import Budget, BudgetState
from confide.agent._errors import (
    AgentError,
    BudgetExhausted,
    CircuitOpenError,
    Escalated,
    InvalidOutput,
    StepAborted,
    TransportError,
    WorkflowFailed,
)
from confide.agent._gate import Gate, gated
from confide.agent._otel import otel_available
from confide.agent._policy import GatePolicy, Observation, ThresholdGatePolicy
from confide.agent._run import EscalationRequest, default_refine
from confide.agent._trace import (
    ACTION_KINDS,
    FAILURE_CLASSES,
    Action,
    Attempt,
    CompensationRecord,
    GateResult,
    Resolution,
    StepResult,
    Trace,
)
from confide.agent._workflow import StepRecord, Workflow, WorkflowResult, WorkflowTrace

__all__ = [
    "ACTION_KINDS",
    "BREAKER_STATES",
    "FAILURE_CLASSES",
    "Action",
    "AgentError",
    "Attempt",
    "BreakerRegistry",
    "Budget",
    "BudgetExhausted",
    "BudgetState",
    "CircuitBreaker",
    "CircuitOpenError",
    "CompensationRecord",
    "Escalated",
    "EscalationRequest",
    "Gate",
    "GatePolicy",
    "GateResult",
    "InvalidOutput",
    "Observation",
    "Resolution",
    "StepAborted",
    "StepRecord",
    "StepResult",
    "ThresholdGatePolicy",
    "Trace",
    "TransportError",
    "Workflow",
    "WorkflowFailed",
    "WorkflowResult",
    "WorkflowTrace",
    "default_refine",
    "gated",
    "otel_available",
]
