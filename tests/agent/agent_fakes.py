"""Deterministic fakes for the agent tests: a clock, scripted steps, a scorer."""

from __future__ import annotations

import asyncio
from typing import Any

from confide.agent._trace import StepResult


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


def answer(c: float, tokens: int = 0, cost: float = 0.0, text: str = "ok") -> StepResult:
    """A step result whose confidence (read by :func:`score`) is ``c``."""
    return StepResult({"text": text, "c": c}, usage={"tokens": tokens, "cost": cost})


def score(_input: Any, result: StepResult) -> float:
    return float(result.output["c"])


class Script:
    """A step that plays a list of behaviours (exceptions are raised, values returned) in
    order, records every input it saw, and optionally advances a clock per call."""

    def __init__(
        self, *items: Any, name: str = "primary", clock: FakeClock | None = None, dt: float = 0
    ) -> None:
        self.items = list(items)
        self.inputs: list[Any] = []
        self.__name__ = name
        self.clock, self.dt = clock, dt

    @property
    def calls(self) -> int:
        return len(self.inputs)

    def __call__(self, value: Any) -> Any:
        self.inputs.append(value)
        if self.clock is not None:
            self.clock.advance(self.dt)
        item = self.items[min(len(self.inputs) - 1, len(self.items) - 1)]
        if isinstance(item, BaseException):
            raise item
        return item


class AsyncScript(Script):
    """The async twin of :class:`Script` (yields to the loop once before answering)."""

    async def __call__(self, value: Any) -> Any:  # type: ignore[override]
        self.inputs.append(value)
        await asyncio.sleep(0)
        item = self.items[min(len(self.inputs) - 1, len(self.items) - 1)]
        if isinstance(item, BaseException):
            raise item
        return item
