"""OpenTelemetry spans for gated calls, emitted only when ``opentelemetry-api`` is installed.

One span ``confide.gate`` per call and a child ``confide.gate.attempt`` per attempt, live (so
spans the step opens nest under its attempt), with the trace's figures as attributes. Without
the package every function here is a no-op.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

__all__ = ["otel_available", "set_attributes", "span"]

_UNSET: Any = object()
_trace_api: Any = _UNSET


def _api() -> Any:
    """``opentelemetry.trace``, imported on first use (None when it is not installed)."""
    global _trace_api
    if _trace_api is _UNSET:
        try:
            _trace_api = importlib.import_module("opentelemetry.trace")
        except ImportError:  # pragma: no cover - depends on the environment
            _trace_api = None
    return _trace_api


def otel_available() -> bool:
    """Whether spans can be emitted (``opentelemetry.trace`` importable)."""
    return _api() is not None


def _recording() -> bool:
    """Whether an SDK tracer provider is configured: with only the API installed, every span
    would be a no-op, so the gate skips building them (they cost more than the gate itself)."""
    api = _api()
    if api is None:
        return False
    provider = api.get_tracer_provider()
    if isinstance(provider, api.ProxyTracerProvider):
        return False
    return not isinstance(provider, api.NoOpTracerProvider)


def _clean(attributes: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if value is None:
            continue
        out[key] = value if isinstance(value, bool | int | float | str) else str(value)
    return out


@contextmanager
def span(name: str, attributes: Mapping[str, Any]) -> Iterator[Any]:
    """A current span named ``name`` (None when OpenTelemetry is absent)."""
    if not _recording():
        yield None
        return
    tracer = _api().get_tracer("confide.agent")
    with tracer.start_as_current_span(name, attributes=_clean(attributes)) as current:
        yield current


def set_attributes(current: Any, attributes: Mapping[str, Any]) -> None:
    """Set attributes on a span from :func:`span` (ignored when it is None)."""
    if current is not None:
        current.set_attributes(_clean(attributes))
