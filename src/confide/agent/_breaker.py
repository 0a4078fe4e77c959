"""Circuit breakers per route: closed / open / half-open, with an injectable clock.

* **closed**: calls pass; ``failure_threshold`` consecutive failures open the circuit.
* **open**: calls are refused until ``recovery_seconds`` have passed on the clock.
* **half-open**: up to ``half_open_max_calls`` trial calls at a time; ``success_threshold``
  successes close the circuit, one failure opens it again.

Failures are exceptions (transport errors, unexpected errors); with
``count_low_confidence=True`` low-confidence or invalid answers count as *soft* failures too,
otherwise they count as successes (the route answered). State changes happen under a
``threading.Lock`` held for a few instructions and never across an ``await``, so one breaker
can be shared by threads and by concurrent asyncio tasks. State is saved as versioned JSON
(kind ``"circuit_breaker"``); the open time is stored as seconds elapsed, so a restored
breaker resumes its countdown on any clock.

References
----------
Nygard, M. T. (2007). Release It! Design and Deploy Production-Ready Software, ch. 5
(Circuit Breaker). Pragmatic Bookshelf.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confide._serialization import load_json, save_json
from confide._validation import check_positive_int
from confide.exceptions import ConfideTypeError, SchemaError, ValidationError

__all__ = ["BREAKER_STATES", "BreakerRegistry", "CircuitBreaker"]

BREAKER_STATES = ("closed", "open", "half_open")
DOCUMENT_KIND = "circuit_breaker"
_CONFIG = ("failure_threshold", "recovery_seconds", "success_threshold", "half_open_max_calls",
           "count_low_confidence")  # fmt: skip


def _load_scoped(path: str | os.PathLike[str], scope: str, other: str) -> Any:
    """The state saved under ``scope`` ("breaker" or "registry") in a breaker document."""
    payload = load_json(path, kind=DOCUMENT_KIND)
    if payload.get("scope") != scope:
        what = "a single breaker" if scope == "breaker" else "a registry"
        raise SchemaError(
            f"{path} holds a circuit breaker {payload.get('scope')!r}, not {what}; "
            f"load it with {other}."
        )
    return payload[scope]


class CircuitBreaker:
    """A three-state circuit breaker for one route.

    Parameters
    ----------
    failure_threshold : int, default 5
        Consecutive failures that open a closed circuit.
    recovery_seconds : float, default 30
        Time an open circuit waits before letting trial calls through (half-open).
    success_threshold : int, default 1
        Successes in half-open state that close the circuit.
    half_open_max_calls : int, default 1
        Trial calls allowed at once in half-open state.
    count_low_confidence : bool, default False
        Count low-confidence and invalid answers as (soft) failures.
    clock : callable, default time.monotonic
        Returns seconds; inject a fake clock in tests.
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        recovery_seconds: float = 30.0,
        success_threshold: int = 1,
        *,
        half_open_max_calls: int = 1,
        count_low_confidence: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = check_positive_int(failure_threshold, "failure_threshold")
        if isinstance(recovery_seconds, bool) or not isinstance(recovery_seconds, int | float):
            raise ConfideTypeError(f"recovery_seconds must be a number, got {recovery_seconds!r}.")
        if not recovery_seconds >= 0:
            raise ValidationError(f"recovery_seconds must be >= 0, got {recovery_seconds!r}.")
        self.recovery_seconds = float(recovery_seconds)
        self.success_threshold = check_positive_int(success_threshold, "success_threshold")
        self.half_open_max_calls = check_positive_int(half_open_max_calls, "half_open_max_calls")
        self.count_low_confidence = bool(count_low_confidence)
        self.clock = clock
        self._lock = threading.Lock()
        self._state = "closed"
        self._failures = 0
        self._successes = 0
        self._in_flight = 0
        self._opened_at = 0.0
        self.transitions: list[tuple[str, str]] = []

    # -- state (call with the lock held) -------------------------------------------------
    def _move(self, state: str) -> None:
        if state != self._state:
            self.transitions.append((self._state, state))
        self._state = state
        self._failures = 0
        self._successes = 0
        self._in_flight = 0
        if state == "open":
            self._opened_at = float(self.clock())

    def _refresh(self) -> None:
        if self._state == "open" and self.clock() - self._opened_at >= self.recovery_seconds:
            self._move("half_open")

    @property
    def state(self) -> str:
        """``"closed"``, ``"open"`` or ``"half_open"`` (an open circuit past its recovery time
        reads as half-open)."""
        with self._lock:
            self._refresh()
            return self._state

    def allow(self) -> bool:
        """Whether a call may go through now; a True in half-open state takes a trial slot,
        which :meth:`record` gives back."""
        with self._lock:
            self._refresh()
            if self._state == "closed":
                return True
            if self._state == "half_open" and self._in_flight < self.half_open_max_calls:
                self._in_flight += 1
                return True
            return False

    def record(self, outcome: str) -> None:
        """Record the outcome of an allowed call: ``"success"``, ``"failure"`` or ``"soft"``
        (a low-confidence or invalid answer; a failure only with ``count_low_confidence``)."""
        if outcome not in ("success", "failure", "soft"):
            raise ValidationError(
                f"outcome must be 'success', 'failure' or 'soft'; got {outcome!r}."
            )
        failed = outcome == "failure" or (outcome == "soft" and self.count_low_confidence)
        with self._lock:
            if self._state == "half_open":
                self._in_flight = max(0, self._in_flight - 1)
                if failed:
                    self._move("open")
                else:
                    self._successes += 1
                    if self._successes >= self.success_threshold:
                        self._move("closed")
            elif self._state == "closed":
                if failed:
                    self._failures += 1
                    if self._failures >= self.failure_threshold:
                        self._move("open")
                else:
                    self._failures = 0
            # A call allowed before the circuit opened ends while it is open: nothing changes.

    def release(self) -> None:
        """Give back a half-open trial slot without an outcome (the call was cancelled)."""
        with self._lock:
            if self._state == "half_open":
                self._in_flight = max(0, self._in_flight - 1)

    def record_success(self) -> None:
        self.record("success")

    def record_failure(self, *, soft: bool = False) -> None:
        self.record("soft" if soft else "failure")

    def reset(self) -> None:
        """Close the circuit and forget the counts."""
        with self._lock:
            self._move("closed")

    # -- JSON ------------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _CONFIG}

    def to_dict(self) -> dict[str, Any]:
        """Configuration and state; the open time as ``open_elapsed`` seconds on the clock."""
        with self._lock:
            self._refresh()
            return {
                **self.config(),
                "state": self._state,
                "failures": self._failures,
                "successes": self._successes,
                "open_elapsed": (
                    float(self.clock() - self._opened_at) if self._state == "open" else None
                ),
            }

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], *, clock: Callable[[], float] = time.monotonic
    ) -> CircuitBreaker:
        """Rebuild a breaker from :meth:`to_dict` (trial calls in flight are not restored)."""
        try:
            breaker = cls(**{name: data[name] for name in _CONFIG}, clock=clock)
            state = data["state"]
            failures, successes = int(data["failures"]), int(data["successes"])
            elapsed = data["open_elapsed"]
        except (KeyError, TypeError) as exc:
            raise SchemaError(f"not a circuit breaker state: missing or bad {exc}.") from None
        if state not in BREAKER_STATES:
            raise SchemaError(
                f"circuit breaker state must be one of {BREAKER_STATES}, got {state!r}."
            )
        breaker._state = state
        breaker._failures, breaker._successes = failures, successes
        if state == "open":
            breaker._opened_at = float(clock()) - float(elapsed or 0.0)
        return breaker

    def save(self, path: str | os.PathLike[str]) -> Path:
        return save_json(path, DOCUMENT_KIND, {"scope": "breaker", "breaker": self.to_dict()})

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, clock: Callable[[], float] = time.monotonic
    ) -> CircuitBreaker:
        return cls.from_dict(_load_scoped(path, "breaker", "BreakerRegistry.load"), clock=clock)


class BreakerRegistry:
    """One :class:`CircuitBreaker` per route, created on first use with the same settings.

    Parameters are those of :class:`CircuitBreaker`.
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        recovery_seconds: float = 30.0,
        success_threshold: int = 1,
        *,
        half_open_max_calls: int = 1,
        count_low_confidence: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._template = CircuitBreaker(
            failure_threshold,
            recovery_seconds,
            success_threshold,
            half_open_max_calls=half_open_max_calls,
            count_low_confidence=count_low_confidence,
            clock=clock,
        )
        self.clock = clock
        self._lock = threading.Lock()
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(self, route: str) -> CircuitBreaker:
        """The breaker of ``route`` (created closed on first use)."""
        with self._lock:
            breaker = self._breakers.get(route)
            if breaker is None:
                breaker = CircuitBreaker(**self._template.config(), clock=self.clock)
                self._breakers[route] = breaker
            return breaker

    __getitem__ = get

    def routes(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(sorted(self._breakers))

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            items = list(self._breakers.items())
        return {"config": self._template.config(), "routes": {r: b.to_dict() for r, b in items}}

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], *, clock: Callable[[], float] = time.monotonic
    ) -> BreakerRegistry:
        try:
            registry = cls(**data["config"], clock=clock)
            routes = dict(data["routes"])
        except (KeyError, TypeError) as exc:
            raise SchemaError(f"not a breaker registry state: missing or bad {exc}.") from None
        for route, state in routes.items():
            registry._breakers[str(route)] = CircuitBreaker.from_dict(state, clock=clock)
        return registry

    def save(self, path: str | os.PathLike[str]) -> Path:
        return save_json(path, DOCUMENT_KIND, {"scope": "registry", "registry": self.to_dict()})

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, clock: Callable[[], float] = time.monotonic
    ) -> BreakerRegistry:
        return cls.from_dict(_load_scoped(path, "registry", "CircuitBreaker.load"), clock=clock)
