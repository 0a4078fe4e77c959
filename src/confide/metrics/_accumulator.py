"""Base class of the streaming accumulators.

An accumulator holds fixed-size state (per-bin counts and sums, never a list of samples):

* ``update(...)`` adds a batch, in place, and returns ``self``;
* ``merge(other)`` adds another accumulator's state, in place, and returns ``self``
  (``a + b`` returns a new merged accumulator and leaves both alone);
* ``compute()`` returns the same result as the one-shot function over all the data seen;
* ``to_dict()`` / ``from_dict()`` give a versioned JSON document, so states from Dask
  partitions, service workers or CLI runs can be stored, shipped and merged exactly.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

import numpy as np

from confide._serialization import from_document, to_document
from confide.exceptions import ValidationError

__all__ = ["Accumulator"]


class Accumulator(ABC):
    """Common protocol: ``update`` / ``merge`` / ``compute`` / ``to_dict`` / ``from_dict``."""

    kind: ClassVar[str]

    @abstractmethod
    def update(self, *args: Any, **kwargs: Any) -> Self: ...

    @abstractmethod
    def compute(self) -> Any: ...

    @abstractmethod
    def _config(self) -> dict[str, Any]:
        """Parameters two accumulators must share to be merged."""

    @abstractmethod
    def _state(self) -> dict[str, np.ndarray]:
        """Additive state arrays (merged by addition)."""

    @abstractmethod
    def _set_state(self, state: dict[str, np.ndarray]) -> None: ...

    def merge(self, other: Self) -> Self:
        """Add ``other``'s state to this one (configurations must match)."""
        if type(other) is not type(self):
            raise ValidationError(
                f"cannot merge a {type(other).__name__} into a {type(self).__name__}."
            )
        if other._config() != self._config():
            raise ValidationError(
                f"cannot merge accumulators with different settings: {self._config()} vs {other._config()}."
            )
        mine = self._state()
        theirs = other._state()
        self._set_state({k: mine[k] + theirs[k] for k in mine})
        return self

    def __add__(self, other: Self) -> Self:
        return copy.deepcopy(self).merge(other)

    def to_dict(self) -> dict[str, Any]:
        """A versioned JSON-safe document of the configuration and state."""
        state = {k: v.tolist() for k, v in self._state().items()}
        return to_document(self.kind, {"config": self._config(), "state": state})

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Self:
        """Rebuild an accumulator from :meth:`to_dict` output (checks schema, kind, checksum)."""
        payload = from_document(doc, cls.kind, source=f"the {cls.__name__} state")
        obj = cls(**payload["config"])
        current = obj._state()
        state = {}
        for key, ref in current.items():
            if key not in payload["state"]:
                raise ValidationError(f"the {cls.__name__} state has no {key!r} entry.")
            arr = np.asarray(payload["state"][key], dtype=ref.dtype)
            if arr.shape != ref.shape:
                raise ValidationError(
                    f"the {cls.__name__} state entry {key!r} has shape {arr.shape}, expected {ref.shape}."
                )
            state[key] = arr
        obj._set_state(state)
        return obj
