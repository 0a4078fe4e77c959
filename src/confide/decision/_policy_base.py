"""What every decision policy shares: the actions, the :class:`Decisions` result, JSON storage.

A policy is data: a few thresholds (and, once fitted, the guarantee they carry). ``decide``
maps confidences to one action per item:

* ``"accept"``: the model's answer is used automatically;
* ``"review"``: a person looks at the item;
* ``"reject"``: the item is decided negatively (binary three-way policies), or refused;
* ``"fallback"``: the item goes to a secondary model (cascades).

Actions are stored as ``int8`` codes into :data:`ACTIONS`; reasons are built from one template
per rule, vectorised, or one at a time with :meth:`Decisions.reason`. Policies are saved as
versioned JSON documents of kind ``"policy"`` whose payload names the policy ``"type"``.
"""

from __future__ import annotations

import math
import os
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from confide._serialization import load_json, save_json
from confide._validation import as_float_array
from confide.exceptions import SchemaError, ShapeError, ValidationError

__all__ = [
    "ACTIONS",
    "DOCUMENT_KIND",
    "Decisions",
    "Policy",
    "load_policy",
    "policy_from_dict",
    "restore_result",
]

#: The actions, in code order: ``Decisions.codes == i`` means ``ACTIONS[i]``.
ACTIONS: tuple[str, ...] = ("accept", "review", "reject", "fallback")
ACCEPT, REVIEW, REJECT, FALLBACK = 0, 1, 2, 3
DOCUMENT_KIND = "policy"
_REGISTRY: dict[str, type[Policy]] = {}
_FIELD = re.compile(r"\{(c|c2)\}")


def _fmt(x: np.ndarray) -> np.ndarray:
    """Numbers as short text (4 significant digits), vectorised."""
    return np.char.mod("%.4g", x)


@dataclass(frozen=True, eq=False)
class Decisions:
    """One action per item, with the rule that chose it.

    Attributes
    ----------
    codes : ndarray of int8, shape (n,)
        Index into :data:`ACTIONS` (0 accept, 1 review, 2 reject, 3 fallback).
    rules : ndarray of int8, shape (n,)
        Index into ``templates``: the rule that fired for each item.
    templates : tuple of str
        One reason per rule; ``{c}`` stands for the item's confidence, ``{c2}`` for its
        secondary confidence.
    confidence : ndarray of float64, shape (n,)
        The confidences the policy saw.
    secondary : ndarray of float64 or None
        Secondary confidences (cascades), NaN where not given.
    """

    codes: np.ndarray
    rules: np.ndarray
    templates: tuple[str, ...]
    confidence: np.ndarray
    secondary: np.ndarray | None = None
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value.setflags(write=False)

    @property
    def n(self) -> int:
        """Number of items."""
        return int(self.codes.shape[0])

    @property
    def actions(self) -> np.ndarray:
        """The action of each item as strings (``ACTIONS[code]``)."""
        return np.asarray(ACTIONS)[self.codes]

    @property
    def counts(self) -> dict[str, int]:
        """Items per action (every action present, zeros included)."""
        c = np.bincount(self.codes, minlength=len(ACTIONS))
        return {a: int(c[i]) for i, a in enumerate(ACTIONS)}

    @property
    def rates(self) -> dict[str, float]:
        """Fraction of items per action."""
        n = max(self.n, 1)
        return {a: c / n for a, c in self.counts.items()}

    def reason(self, i: int) -> str:
        """Why item ``i`` got its action."""
        template = self.templates[int(self.rules[i])]
        c2 = math.nan if self.secondary is None else float(self.secondary[i])
        values = {"c": f"{float(self.confidence[i]):.4g}", "c2": f"{c2:.4g}"}
        return _FIELD.sub(lambda m: values[m.group(1)], template)

    def reasons(self) -> np.ndarray:
        """The reason of every item (built per rule, vectorised over the items)."""
        if "reasons" in self._cache:
            return np.asarray(self._cache["reasons"])
        out = np.empty(self.n, dtype=object)
        sources = {"c": self.confidence, "c2": self.secondary}
        for r, template in enumerate(self.templates):
            mask = self.rules == r
            if not mask.any():
                continue
            parts = _FIELD.split(template)  # text, name, text, name, ..., text
            text = np.full(int(mask.sum()), parts[0], dtype=object)
            for j in range(1, len(parts), 2):
                src = sources[parts[j]]
                vals = np.full(text.shape, math.nan) if src is None else src[mask]
                text = text + _fmt(vals).astype(object) + parts[j + 1]
            out[mask] = text
        self._cache["reasons"] = out
        return out

    def to_dict(self) -> dict[str, Any]:
        """Counts, rates and the per-item actions as plain Python types."""
        return {
            "n": self.n,
            "counts": self.counts,
            "rates": self.rates,
            "actions": self.actions.tolist(),
        }


def as_confidence(x: Any, name: str = "confidence") -> np.ndarray:
    """Finite 1-D confidences as float64 (empty allowed: a policy may see an empty batch)."""
    return as_float_array(x, name, ndim=1, min_samples=0).astype(np.float64, copy=False)


def check_threshold(value: Any, name: str) -> float:
    """A real threshold (``±inf`` allowed, NaN not)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be a number, got {value!r}.") from None
    if math.isnan(v):
        raise ValidationError(f"{name} is NaN; pass a real threshold (or ±inf).")
    return v


def restore_result(cls: type[Any], data: dict[str, Any] | None) -> Any:
    """Rebuild a frozen result dataclass from its ``to_dict()`` ("inf"/"nan" strings back)."""
    if data is None:
        return None
    names = {f.name for f in fields(cls)}
    kwargs = {
        k: (float(v) if isinstance(v, str) and v in ("inf", "-inf", "nan") else v)
        for k, v in data.items()
        if k in names
    }
    return cls(**kwargs)


class Policy(ABC):
    """Base class: a policy is its parameters (and the guarantee it was fitted with)."""

    #: The ``"type"`` written in saved files.
    type: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("type")
        if isinstance(name, str):
            _REGISTRY[name] = cls

    @abstractmethod
    def decide(self, confidence: Any, secondary: Any = None) -> Decisions:
        """One action per item."""

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """Constructor arguments as JSON-safe values."""

    def guarantee(self) -> dict[str, Any] | None:
        """The fitted guarantee as plain values (None for a hand-set policy)."""
        return None

    @abstractmethod
    def _set_guarantee(self, data: dict[str, Any] | None) -> None:
        """Restore what :meth:`guarantee` wrote."""

    def to_dict(self) -> dict[str, Any]:
        """``{"type", "params", "guarantee"}`` as plain Python types."""
        from confide._serialization import _sanitize

        out: dict[str, Any] = _sanitize(
            {"type": self.type, "params": self.params(), "guarantee": self.guarantee()}
        )
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Rebuild a policy from :meth:`to_dict` (the ``type`` must match this class)."""
        policy = policy_from_dict(data)
        if not isinstance(policy, cls):
            raise SchemaError(
                f"the data describe a {data.get('type')!r} policy, not a {cls.type!r}; "
                "use confide.decision.load_policy to read any policy."
            )
        return policy

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the policy as a versioned, checksummed JSON document (kind ``"policy"``)."""
        return save_json(path, DOCUMENT_KIND, self.to_dict())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Policy)
            and type(other) is type(self)
            and self.to_dict() == other.to_dict()
        )

    __hash__ = None  # type: ignore[assignment]


def _known() -> str:
    import importlib

    for module in ("_policy_threshold", "_policy_cascade"):  # they register the policy types
        importlib.import_module(f"confide.decision.{module}")

    return ", ".join(sorted(_REGISTRY))


def policy_from_dict(data: Any, *, source: str = "the data") -> Policy:
    """Any policy from its ``to_dict()``; unknown types and bad parameters raise SchemaError."""
    known = _known()
    if not isinstance(data, dict) or "type" not in data or "params" not in data:
        raise SchemaError(f"{source} is not a policy: it needs 'type' and 'params' keys.")
    kind = data["type"]
    if kind not in _REGISTRY:
        raise SchemaError(f"{source} holds an unknown policy type {kind!r}; known: {known}.")
    cls = _REGISTRY[kind]
    try:
        params = {
            k: (float(v) if isinstance(v, str) and v in ("inf", "-inf") else v)
            for k, v in dict(data["params"]).items()
        }
        policy = cls(**params)
        policy._set_guarantee(data.get("guarantee"))
    except (KeyError, TypeError, ValueError) as exc:
        raise SchemaError(f"{source} has malformed {kind!r} parameters: {exc}") from None
    return policy


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read a policy written by :meth:`Policy.save`; checks schema, kind and checksum.

    Raises
    ------
    confide.exceptions.SchemaError
        A document of another kind or schema version, an altered file, or an unknown type.
    """
    payload = load_json(path, kind=DOCUMENT_KIND)
    return policy_from_dict(payload, source=str(path))


def check_same_length(a: np.ndarray, b: np.ndarray, a_name: str, b_name: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise ShapeError(
            f"{a_name} and {b_name} differ in length ({a.shape[0]} != {b.shape[0]}); "
            "pass one value per item."
        )
