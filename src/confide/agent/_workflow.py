"""Workflows of gated steps with compensations (the saga pattern).

Steps run in order, each receiving the previous step's output. A step may register a
compensation, ``compensate(output)``, that undoes what it did. When a later step fails (its
gate's budget ran out, it aborted or escalated, or it raised), the compensations of the steps
that completed run in reverse order; every one runs even if another fails, and each is
recorded. The run then raises :class:`WorkflowFailed` carrying the :class:`WorkflowTrace`, with
the step's own error as ``__cause__``.

References
----------
Garcia-Molina, H. and Salem, K. (1987). Sagas. Proceedings of ACM SIGMOD, 249-259.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confide.agent._errors import AgentError, WorkflowFailed
from confide.agent._gate import Gate
from confide.agent._trace import CompensationRecord, GateResult, Trace, jsonable
from confide.exceptions import ConfideTypeError, ValidationError

__all__ = ["StepRecord", "Workflow", "WorkflowResult", "WorkflowTrace"]


@dataclass(frozen=True)
class StepRecord:
    """One workflow step: its output, or its error, and its gate trace when it was gated."""

    name: str
    ok: bool
    output: Any
    error: str | None
    trace: Trace | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "output": jsonable(self.output),
            "error": self.error,
            "trace": None if self.trace is None else self.trace.to_dict(),
        }


@dataclass(frozen=True)
class WorkflowTrace:
    """Every step run and every compensation, in the order they happened.

    ``outcome`` is ``"completed"``, or ``"compensated"`` when a step failed and every
    compensation succeeded, or ``"compensation_failed"`` when one of them raised.
    """

    name: str
    steps: tuple[StepRecord, ...]
    compensations: tuple[CompensationRecord, ...]
    outcome: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "outcome": self.outcome,
            "steps": [s.to_dict() for s in self.steps],
            "compensations": [c.to_dict() for c in self.compensations],
        }

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)


@dataclass(frozen=True)
class WorkflowResult:
    """The last step's output, every step's output by name, and the trace."""

    output: Any
    outputs: dict[str, Any]
    trace: WorkflowTrace


Compensation = Callable[[Any], Any]


class Workflow:
    """Steps (gates or plain callables) run in order, with compensations on failure.

    Parameters
    ----------
    name : str, default "workflow"
    clock : callable, default time.monotonic
        Times the compensations.
    """

    def __init__(
        self, name: str = "workflow", *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name = name
        self.clock = clock
        self._steps: list[tuple[str, Callable[[Any], Any], Compensation | None]] = []

    def add(
        self, name: str, step: Callable[[Any], Any], *, compensate: Compensation | None = None
    ) -> Workflow:
        """Append a step (a :class:`Gate` or any callable); returns the workflow."""
        if not callable(step) or (compensate is not None and not callable(compensate)):
            raise ConfideTypeError(f"step {name!r} and its compensation must be callable.")
        if any(n == name for n, _, _ in self._steps):
            raise ValidationError(f"workflow {self.name!r} already has a step named {name!r}.")
        self._steps.append((name, step, compensate))
        return self

    def step(
        self, name: str | None = None, *, compensate: Compensation | None = None
    ) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
        """Decorator form of :meth:`add`."""

        def wrap(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
            label = name or str(getattr(fn, "__name__", f"step{len(self._steps) + 1}"))
            self.add(label, fn, compensate=compensate)
            return fn

        return wrap

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n, _, _ in self._steps)

    # -- pieces shared by run and arun -------------------------------------------------------
    @staticmethod
    def _done(name: str, raw: Any) -> tuple[StepRecord, Any]:
        if isinstance(raw, GateResult):
            return StepRecord(name, True, raw.output, None, raw.trace), raw.output
        return StepRecord(name, True, raw, None, None), raw

    @staticmethod
    def _failed(name: str, exc: BaseException) -> StepRecord:
        trace = exc.trace if isinstance(exc, AgentError) else None
        return StepRecord(name, False, None, f"{type(exc).__name__}: {exc}", trace)

    def _record(self, name: str, started: float, exc: BaseException | None) -> CompensationRecord:
        err = None if exc is None else f"{type(exc).__name__}: {exc}"
        return CompensationRecord(name, exc is None, err, started, float(self.clock()))

    def _raise(
        self, records: list[StepRecord], comps: list[CompensationRecord], exc: BaseException
    ) -> WorkflowFailed:
        failed = records[-1]
        if failed.trace is not None:
            records[-1] = dataclasses.replace(
                failed, trace=dataclasses.replace(failed.trace, compensations=tuple(comps))
            )
        outcome = "compensated" if all(c.ok for c in comps) else "compensation_failed"
        trace = WorkflowTrace(self.name, tuple(records), tuple(comps), outcome)
        undone = ", ".join(c.step for c in comps) or "none"
        err = WorkflowFailed(
            f"workflow {self.name!r} failed at step {failed.name!r} ({failed.error}); "
            f"compensated in reverse: {undone}"
            + ("" if outcome == "compensated" else " (a compensation failed: see the trace)"),
            trace,
            failed_step=failed.name,
        )
        err.__cause__ = exc
        return err

    def _result(
        self, records: list[StepRecord], outputs: dict[str, Any], last: Any
    ) -> WorkflowResult:
        return WorkflowResult(
            last, outputs, WorkflowTrace(self.name, tuple(records), (), "completed")
        )

    # -- sync / async --------------------------------------------------------------------------
    def run(self, value: Any) -> WorkflowResult:
        """Run every step in order; on a failure, compensate in reverse and raise."""
        records: list[StepRecord] = []
        outputs: dict[str, Any] = {}
        done: list[tuple[str, Compensation | None, Any]] = []
        for name, step, compensate in self._steps:
            try:
                raw = step.run(value) if isinstance(step, Gate) else step(value)
                if inspect.isawaitable(raw):
                    if inspect.iscoroutine(raw):
                        raw.close()
                    raise ConfideTypeError(f"step {name!r} is async: use `await workflow.arun(x)`.")
            except Exception as exc:
                records.append(self._failed(name, exc))
                comps: list[CompensationRecord] = []
                for cname, comp, output in reversed(done):
                    if comp is None:
                        continue
                    started, error = float(self.clock()), None
                    try:
                        comp(output)
                    except Exception as cexc:
                        error = cexc
                    comps.append(self._record(cname, started, error))
                raise self._raise(records, comps, exc) from exc
            record, value = self._done(name, raw)
            records.append(record)
            outputs[name] = value
            done.append((name, compensate, value))
        return self._result(records, outputs, value)

    async def arun(self, value: Any) -> WorkflowResult:
        """Async :meth:`run`: gates run with ``arun``; steps and compensations may be async."""
        records: list[StepRecord] = []
        outputs: dict[str, Any] = {}
        done: list[tuple[str, Compensation | None, Any]] = []
        for name, step, compensate in self._steps:
            try:
                raw = await step.arun(value) if isinstance(step, Gate) else step(value)
                if inspect.isawaitable(raw):
                    raw = await raw
            except Exception as exc:
                records.append(self._failed(name, exc))
                comps: list[CompensationRecord] = []
                for cname, comp, output in reversed(done):
                    if comp is None:
                        continue
                    started, error = float(self.clock()), None
                    try:
                        res = comp(output)
                        if inspect.isawaitable(res):
                            await res
                    except Exception as cexc:
                        error = cexc
                    comps.append(self._record(cname, started, error))
                raise self._raise(records, comps, exc) from exc
            record, value = self._done(name, raw)
            records.append(record)
            outputs[name] = value
            done.append((name, compensate, value))
        return self._result(records, outputs, value)
