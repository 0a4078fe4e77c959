"""The protocol shared by every streaming drift detector: one value or one batch at a time.

A detector reads a stream (typically the confidence of each prediction) and raises an alarm
when the stream has changed. Every detector offers:

* ``update(x)`` for one value, returning a :class:`DetectorStep` (truthy when it alarmed);
* ``update_many(xs)`` for a batch, returning a :class:`DetectionResult` with the positions of
  the alarms in the batch. A batch gives exactly the alarms and the final state that the same
  values fed one by one give (tested), so a service may batch freely;
* ``reset()``, ``drift_detected``, ``n_seen`` and ``n_alarms``;
* ``to_dict()`` / ``from_dict()`` and ``save(path)`` / ``load(path)``: versioned JSON (kind
  ``"detector"``) holding the settings *and* the running state, so that a service restarted
  from a saved state continues bit for bit as if it had never stopped.

After an alarm ``drift_detected`` is True until the next value arrives; that value restarts the
detector's statistics (the convention of river's detectors), so run lengths after an alarm
are counted afresh.
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from confide import _accel
from confide._accel import compiled
from confide._serialization import from_document, load_json, save_json, to_document
from confide._validation import as_float_array
from confide.exceptions import ConfideTypeError, NonFiniteError, SchemaError, ValidationError

__all__ = [
    "DOCUMENT_KIND",
    "DetectionResult",
    "DetectorStep",
    "DriftDetector",
    "load_detector",
]

#: The ``kind`` of every saved detector document.
DOCUMENT_KIND = "detector"
_REGISTRY: dict[str, type[DriftDetector]] = {}


def _json_float(value: float) -> float | None:
    """A float for ``to_dict()``: NaN becomes None so that the dict is strict JSON."""
    return None if math.isnan(value) else float(value)


def _read_float(value: Any) -> float:
    """Read back a float written by confide._serialization (``"inf"``/``"nan"`` strings)."""
    if value is None:
        return math.nan
    return float(value)


@dataclass(frozen=True)
class DetectorStep:
    """What one :meth:`DriftDetector.update` saw. Truthy when the value raised an alarm.

    Attributes
    ----------
    drift : bool
        Whether this value raised an alarm.
    statistic : float
        The detector's statistic after this value (NaN while it cannot be computed yet).
    n_seen : int
        Values seen so far, this one included (its global index is ``n_seen - 1``).
    """

    drift: bool
    statistic: float
    n_seen: int

    def __bool__(self) -> bool:
        return self.drift

    def to_dict(self) -> dict[str, Any]:
        return {
            "drift": self.drift,
            "statistic": _json_float(self.statistic),
            "n_seen": self.n_seen,
        }


@dataclass(frozen=True)
class DetectionResult:
    """What one :meth:`DriftDetector.update_many` saw.

    Attributes
    ----------
    alarms : tuple of int
        Positions in the batch (0-based) of the values that raised an alarm.
    start : int
        Values seen before the batch: the global index of ``xs[i]`` is ``start + i``.
    n_values : int
        Length of the batch.
    drift_detected : bool
        Whether the last value of the batch raised an alarm.
    statistic : float
        The detector's statistic after the last value (NaN when undefined).
    """

    alarms: tuple[int, ...]
    start: int
    n_values: int
    drift_detected: bool
    statistic: float

    @property
    def n_alarms(self) -> int:
        return len(self.alarms)

    @property
    def global_alarms(self) -> tuple[int, ...]:
        """Alarm positions counted from the first value the detector ever saw."""
        return tuple(self.start + i for i in self.alarms)

    def to_dict(self) -> dict[str, Any]:
        return {
            "alarms": list(self.alarms),
            "start": self.start,
            "n_values": self.n_values,
            "drift_detected": self.drift_detected,
            "statistic": _json_float(self.statistic),
        }


def kernel_for(kernel: Callable[..., Any]) -> Callable[..., Any] | None:
    """The numba-compiled ``kernel`` whenever numba is installed and not switched off.

    Detector kernels are sequential recurrences whose compiled and Python versions perform the
    same IEEE operations in the same order, so results never depend on the batch size or on
    the accelerator; the size threshold of :func:`confide._accel.compiled` (which exists to
    spare one-off calls the compilation) is therefore not applied: a detector lives long.
    """
    return compiled(kernel, _accel.NUMBA_MIN_SIZE)


def check_number(value: Any, name: str, *, low: float, high: float = math.inf) -> float:
    """A finite real number in ``[low, high]`` (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfideTypeError(f"{name} must be a number, got {value!r}.")
    v = float(value)
    if not math.isfinite(v):
        raise ValidationError(f"{name} must be a finite number, got {value!r}.")
    if not (low <= v <= high):
        raise ValidationError(f"{name} must lie in [{low}, {high}], got {value!r}.")
    return v


class DriftDetector(ABC):
    """Base class of the streaming detectors (see the module docstring for the protocol).

    Subclasses set ``name``, implement :meth:`_run` (process a validated float64 batch and
    return the alarm positions), :meth:`_params`, :meth:`_get_state`, :meth:`_set_state` and
    :meth:`_reset_state`, and keep ``self._drift`` and ``self._stat`` current.
    """

    #: Name written in saved documents (the ``detector`` key).
    name: ClassVar[str]
    #: Version of the saved state layout of this detector; loading another one is refused.
    state_format: ClassVar[int] = 1

    _n_seen: int
    _n_alarms: int
    _drift: bool
    _stat: float

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if isinstance(name, str):
            _REGISTRY[name] = cls

    # -- the public protocol ---------------------------------------------------------------
    def update(self, x: Any) -> DetectorStep:
        """Feed one value; the returned step is truthy when it raised an alarm."""
        if isinstance(x, bool) or not isinstance(x, int | float | np.integer | np.floating):
            arr = np.asarray(x)
            if arr.ndim != 0:
                raise ConfideTypeError(
                    f"update() takes one number, got {type(x).__name__} of shape {arr.shape}; "
                    "feed a batch with update_many()."
                )
            x = arr.item()
            if isinstance(x, bool) or not isinstance(x, int | float):
                raise ConfideTypeError(f"update() takes one number, got {x!r}.")
        v = float(x)
        if not math.isfinite(v):
            raise NonFiniteError(
                f"update() got the non-finite value {v!r} (value number {self._n_seen}); the "
                "detector was not changed. Drop or impute missing confidences before monitoring."
            )
        result = self.update_many(np.array([v], dtype=np.float64))
        return DetectorStep(result.drift_detected, result.statistic, self._n_seen)

    def update_many(self, xs: Any) -> DetectionResult:
        """Feed a batch of values (1-D). The detector is left unchanged if any value is bad."""
        arr = as_float_array(xs, "xs", ndim=1, min_samples=0).astype(np.float64, copy=False)
        start = self._n_seen
        if arr.shape[0] == 0:
            return DetectionResult((), start, 0, self._drift, self._stat)
        alarms = self._run(np.ascontiguousarray(arr))
        self._n_seen += int(arr.shape[0])
        self._n_alarms += len(alarms)
        return DetectionResult(
            tuple(int(a) for a in alarms), start, int(arr.shape[0]), self._drift, self._stat
        )

    def reset(self) -> None:
        """Forget the stream (statistics, counts, alarms); keep the settings and any reference."""
        self._n_seen = 0
        self._n_alarms = 0
        self._drift = False
        self._stat = math.nan
        self._reset_state()

    @property
    def drift_detected(self) -> bool:
        """Whether the last value fed raised an alarm."""
        return self._drift

    @property
    def n_seen(self) -> int:
        """Values fed since construction (or the last :meth:`reset`)."""
        return self._n_seen

    @property
    def n_alarms(self) -> int:
        """Alarms raised since construction (or the last :meth:`reset`)."""
        return self._n_alarms

    @property
    def statistic(self) -> float:
        """The detector's statistic after the last value (NaN before it is defined)."""
        return self._stat

    # -- for subclasses ----------------------------------------------------------------------
    @abstractmethod
    def _run(self, xs: np.ndarray) -> list[int]:
        """Process a validated, finite, contiguous float64 batch; return alarm positions."""

    @abstractmethod
    def _params(self) -> dict[str, Any]:
        """Constructor arguments as JSON-safe values."""

    @abstractmethod
    def _get_state(self) -> dict[str, Any]:
        """The running state as JSON-safe values (enough to continue bit for bit)."""

    @abstractmethod
    def _set_state(self, state: dict[str, Any]) -> None:
        """Restore a state written by :meth:`_get_state`."""

    @abstractmethod
    def _reset_state(self) -> None:
        """Clear the running statistics (called by :meth:`reset`)."""

    @classmethod
    def _from_params(cls, params: dict[str, Any], state: dict[str, Any]) -> Self:
        """Build an instance from saved constructor arguments (overridden when construction
        would redo expensive work that the state already holds)."""
        obj = cls(**params)
        return obj

    # -- storage -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A versioned document (kind ``"detector"``) of the settings and the running state."""
        payload = {
            "detector": self.name,
            "state_format": self.state_format,
            "params": self._params(),
            "counts": {"n_seen": self._n_seen, "n_alarms": self._n_alarms},
            "drift": self._drift,
            "statistic": self._stat,
            "state": self._get_state(),
        }
        return to_document(DOCUMENT_KIND, payload)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` atomically to ``path`` (JSON, never pickle)."""
        return save_json(path, DOCUMENT_KIND, self.to_dict()["payload"])

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Self:
        """Rebuild a detector from :meth:`to_dict` (checks schema, kind, checksum, detector)."""
        obj = cls._from_payload(from_document(doc, DOCUMENT_KIND), "the document")
        assert isinstance(obj, cls)
        return obj

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read a detector saved by :meth:`save`; called on a subclass, the file must hold one."""
        obj = cls._from_payload(load_json(path, DOCUMENT_KIND), str(path))
        assert isinstance(obj, cls)
        return obj

    @classmethod
    def _from_payload(cls, payload: dict[str, Any], source: str) -> DriftDetector:
        name = payload.get("detector")
        if name not in _REGISTRY:
            known = ", ".join(sorted(_REGISTRY))
            raise SchemaError(
                f"{source} holds an unknown detector {name!r}; this confide knows {known}."
            )
        target = _REGISTRY[name]
        if cls is not DriftDetector and not issubclass(target, cls):
            raise SchemaError(
                f"{source} holds a {name!r} detector, not a {getattr(cls, 'name', cls.__name__)!r}: "
                f"load it with {target.__name__}.load or confide's load_detector."
            )
        fmt = payload.get("state_format")
        if fmt != target.state_format:
            raise SchemaError(
                f"{source} holds a {name!r} state in layout {fmt!r}; this confide reads layout "
                f"{target.state_format}. Start a new detector (or resume with the confide "
                "version that saved it)."
            )
        try:
            obj = target._from_params(dict(payload["params"]), dict(payload["state"]))
            obj._set_state(dict(payload["state"]))
            obj._n_seen = int(payload["counts"]["n_seen"])
            obj._n_alarms = int(payload["counts"]["n_alarms"])
            obj._drift = bool(payload["drift"])
            obj._stat = _read_float(payload["statistic"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise SchemaError(f"{source} has a malformed {name!r} state: {exc}") from None
        return obj

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items() if not isinstance(v, list))
        return f"{type(self).__name__}({args})"


def load_detector(path_or_doc: str | os.PathLike[str] | dict[str, Any]) -> DriftDetector:
    """Read any detector saved by :meth:`DriftDetector.save` (or a :meth:`to_dict` document)."""
    if isinstance(path_or_doc, dict):
        return DriftDetector.from_dict(path_or_doc)
    return DriftDetector.load(path_or_doc)
