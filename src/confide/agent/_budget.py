"""Per-call budgets: attempts, wall seconds, tokens and cost.

A :class:`Budget` is a frozen description; every gated call starts its own
:class:`BudgetState`, so nothing spent by one call is charged to the next. ``None`` means
unlimited and **zero means zero**: a budget of 0 attempts (or 0 tokens, 0 cost, 0 seconds)
allows no call at all. A limit is checked *before* each call (``used < limit``): a call that
overshoots the token or cost limit is kept and its answer may still be accepted, but no further
call is made.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confide.exceptions import ConfideTypeError, ValidationError

__all__ = ["Budget", "BudgetState"]


def _limit(value: Any, name: str, *, integer: bool = False) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfideTypeError(f"Budget.{name} must be a number or None, got {value!r}.")
    if integer and not isinstance(value, int):
        raise ConfideTypeError(f"Budget.{name} must be an integer or None, got {value!r}.")
    if math.isnan(value) or value < 0:
        raise ValidationError(
            f"Budget.{name} must be >= 0 (0 allows no call) or None (unlimited), got {value!r}."
        )
    return value


@dataclass(frozen=True)
class Budget:
    """Limits of one gated call (``None``: unlimited; ``0``: no call at all).

    Parameters
    ----------
    max_attempts : int or None, default 3
        Calls of any route (retries, refinements and fallbacks all count).
    max_seconds : float or None
        Wall time from the start of the call, on the gate's clock. Async gates also cancel a
        call still running when it runs out.
    max_tokens : int or None
        Tokens summed over every attempt.
    max_cost : float or None
        Cost summed over every attempt.
    """

    max_attempts: int | None = 3
    max_seconds: float | None = None
    max_tokens: int | None = None
    max_cost: float | None = None

    def __post_init__(self) -> None:
        _limit(self.max_attempts, "max_attempts", integer=True)
        _limit(self.max_seconds, "max_seconds")
        _limit(self.max_tokens, "max_tokens", integer=True)
        _limit(self.max_cost, "max_cost")

    def start(self, clock: Callable[[], float]) -> BudgetState:
        """A fresh state for one call, started now on ``clock``."""
        return BudgetState(self, clock)

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_attempts": self.max_attempts,
            "max_seconds": self.max_seconds,
            "max_tokens": self.max_tokens,
            "max_cost": self.max_cost,
        }


class BudgetState:
    """What one call has spent so far (never shared between calls)."""

    def __init__(self, budget: Budget, clock: Callable[[], float]) -> None:
        self.budget = budget
        self.clock = clock
        self.started = float(clock())
        self.attempts = 0
        self.tokens = 0
        self.cost = 0.0

    def elapsed(self) -> float:
        return float(self.clock()) - self.started

    def charge(self, tokens: int, cost: float) -> None:
        self.tokens += tokens
        self.cost += cost

    def exhausted(self) -> str | None:
        """The first resource that allows no further call, or None."""
        b = self.budget
        if b.max_attempts is not None and self.attempts >= b.max_attempts:
            return "attempts"
        if b.max_seconds is not None and self.elapsed() >= b.max_seconds:
            return "seconds"
        if b.max_tokens is not None and self.tokens >= b.max_tokens:
            return "tokens"
        if b.max_cost is not None and self.cost >= b.max_cost:
            return "cost"
        return None

    def seconds_left(self) -> float | None:
        if self.budget.max_seconds is None:
            return None
        return max(0.0, self.budget.max_seconds - self.elapsed())

    def remaining(self) -> dict[str, float | int | None]:
        """What is left of each limit (None: unlimited)."""
        b = self.budget
        return {
            "attempts": None if b.max_attempts is None else max(0, b.max_attempts - self.attempts),
            "seconds": self.seconds_left(),
            "tokens": None if b.max_tokens is None else max(0, b.max_tokens - self.tokens),
            "cost": None if b.max_cost is None else max(0.0, b.max_cost - self.cost),
        }

    def describe(self, resource: str) -> str:
        b = self.budget
        used = {
            "attempts": (self.attempts, b.max_attempts),
            "seconds": (round(self.elapsed(), 6), b.max_seconds),
            "tokens": (self.tokens, b.max_tokens),
            "cost": (self.cost, b.max_cost),
        }[resource]
        return f"{resource} budget exhausted ({used[0]} used of {used[1]})"
