"""Alerts on monitored values: thresholds with hysteresis, persistence and cool-down.

An :class:`AlertRule` watches one metric. :class:`AlertManager` feeds it one observation per
chunk (a dict of metric values) and returns :class:`AlertEvent` objects when a rule *fires* or
*resolves*. Its state (which rules are active, running counts, last firing time) is a plain
JSON document, so a monitoring job can stop and resume exactly where it was.

Semantics of a rule with ``op=">"`` (the other operators mirror it):

* a *breach* is ``value > threshold``; the rule fires after ``for_chunks`` consecutive breaches;
* once active it stays active while ``value > clear_threshold`` (hysteresis; by default
  ``clear_threshold = threshold``) and resolves at the first observation past it;
* after firing at ``at = a`` it cannot fire again while ``at - a < cooldown`` (same unit as
  ``at``: chunk indices or seconds); breaches during the cool-down still count, so it fires at
  the first observation after the cool-down if the breach has persisted long enough;
* a missing or NaN value raises (``nan_policy="raise"``) or leaves the rule's state untouched
  (``nan_policy="skip"``: neither a breach nor a recovery).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from confide._serialization import from_document, load_json, save_json, to_document
from confide._validation import check_choice, check_positive_int
from confide.exceptions import ConfideTypeError, SchemaError, ValidationError
from confide.monitor._estimate import json_float

__all__ = [
    "AlertEvent",
    "AlertManager",
    "AlertRule",
    "read_events_jsonl",
    "write_events_jsonl",
]

DOCUMENT_KIND = "alert_manager"
OPS = (">", "<", ">=", "<=")
SEVERITIES = ("warning", "critical")


def _compare(value: float, op: str, bound: float) -> bool:
    if op == ">":
        return value > bound
    if op == "<":
        return value < bound
    if op == ">=":
        return value >= bound
    return value <= bound


def _finite(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfideTypeError(f"{name} must be a number, got {value!r}.")
    v = float(value)
    if not math.isfinite(v):
        raise ValidationError(f"{name} must be finite, got {value!r}.")
    return v


@dataclass(frozen=True)
class AlertRule:
    """A threshold on one metric.

    Parameters
    ----------
    name : str
        Unique within a manager.
    metric : str
        Key of the value in each observation.
    op : {">", "<", ">=", "<="}
        A breach is ``value op threshold``.
    threshold : float
    clear_threshold : float, optional
        Hysteresis: an active alert resolves only when ``value op clear_threshold`` stops
        holding. Must not be stricter than ``threshold`` (for ``>``/``>=``: at most
        ``threshold``; for ``<``/``<=``: at least). Default: ``threshold``.
    for_chunks : int, default 1
        Consecutive breaches needed to fire.
    cooldown : float, default 0
        After firing at ``a``, no new firing while ``at - a < cooldown``.
    severity : {"warning", "critical"}, default "warning"
    """

    name: str
    metric: str
    op: str
    threshold: float
    clear_threshold: float | None = None
    for_chunks: int = 1
    cooldown: float = 0.0
    severity: str = "warning"

    def __post_init__(self) -> None:
        for field in ("name", "metric"):
            v = getattr(self, field)
            if not isinstance(v, str) or not v:
                raise ConfideTypeError(f"AlertRule.{field} must be a non-empty string, got {v!r}.")
        check_choice(self.op, "op", OPS)
        check_choice(self.severity, "severity", SEVERITIES)
        thr = _finite(self.threshold, "threshold")
        object.__setattr__(self, "threshold", thr)
        if self.clear_threshold is not None:
            clear = _finite(self.clear_threshold, "clear_threshold")
            looser = clear <= thr if self.op in (">", ">=") else clear >= thr
            if not looser:
                side = "at most" if self.op in (">", ">=") else "at least"
                raise ValidationError(
                    f"rule {self.name!r}: with op {self.op!r} the clear_threshold must be {side} "
                    f"the threshold {thr!r} (hysteresis), got {clear!r}."
                )
            object.__setattr__(self, "clear_threshold", clear)
        object.__setattr__(self, "for_chunks", check_positive_int(self.for_chunks, "for_chunks"))
        cd = _finite(self.cooldown, "cooldown")
        if cd < 0:
            raise ValidationError(f"cooldown must be >= 0, got {self.cooldown!r}.")
        object.__setattr__(self, "cooldown", cd)

    @property
    def clear_bound(self) -> float:
        """The bound an active alert must cross back past to resolve."""
        return self.threshold if self.clear_threshold is None else self.clear_threshold

    def breached(self, value: float) -> bool:
        """Whether ``value`` breaches the threshold."""
        return _compare(value, self.op, self.threshold)

    def holds(self, value: float) -> bool:
        """Whether an active alert stays active at ``value`` (beyond the clear bound)."""
        return _compare(value, self.op, self.clear_bound)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AlertRule:
        return cls(**dict(d))


@dataclass(frozen=True)
class AlertEvent:
    """A rule fired or resolved.

    Attributes
    ----------
    rule, metric : str
    value : float
        The observed value that caused the event.
    threshold : float
        The rule's threshold (``fired``) or its clear bound (``resolved``).
    state : {"fired", "resolved"}
    at : int or float
        The observation's index or time (seconds).
    severity : str
    message : str
    """

    rule: str
    metric: str
    value: float
    threshold: float
    state: str
    at: int | float
    severity: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["value"] = json_float(self.value)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AlertEvent:
        return cls(
            rule=str(d["rule"]),
            metric=str(d["metric"]),
            value=float(d["value"]),
            threshold=float(d["threshold"]),
            state=check_choice(d["state"], "state", ("fired", "resolved")),
            at=d["at"] if isinstance(d["at"], int) else float(d["at"]),
            severity=str(d["severity"]),
            message=str(d["message"]),
        )


def _as_at(at: Any) -> int | float:
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise ValidationError(
                f"at={at!r} has no time zone; pass an aware datetime (e.g. tzinfo=timezone.utc) "
                "or POSIX seconds."
            )
        return at.timestamp()
    if isinstance(at, bool) or not isinstance(at, int | float):
        raise ConfideTypeError(
            f"at must be an int index, float seconds or an aware datetime, got {at!r}."
        )
    if isinstance(at, int):
        return int(at)
    return _finite(at, "at")


class AlertManager:
    """Evaluate :class:`AlertRule` objects on a stream of observations.

    Parameters
    ----------
    rules : sequence of AlertRule
        Names must be unique.
    nan_policy : {"raise", "skip"}, default "raise"
        What a missing or NaN value of a watched metric does: raise a ValidationError naming it
        (before any state changes), or leave that rule's state untouched for this observation.
    """

    def __init__(self, rules: Sequence[AlertRule], *, nan_policy: str = "raise") -> None:
        rules = tuple(rules)
        for r in rules:
            if not isinstance(r, AlertRule):
                raise ConfideTypeError(f"rules must be AlertRule objects, got {type(r).__name__}.")
        names = [r.name for r in rules]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValidationError(f"rule names must be unique; repeated: {dup}.")
        self.rules = rules
        self.nan_policy = check_choice(nan_policy, "nan_policy", ("raise", "skip"))
        self.n_observations = 0
        self.last_at: int | float | None = None
        self._state: dict[str, dict[str, Any]] = {
            r.name: {"active": False, "consecutive": 0, "last_fired_at": None} for r in rules
        }

    @property
    def active(self) -> list[str]:
        """Names of the rules whose alert is currently active."""
        return [r.name for r in self.rules if self._state[r.name]["active"]]

    def observe(self, values: Mapping[str, float], *, at: Any = None) -> list[AlertEvent]:
        """Feed one observation; return the events it causes (fired and resolved).

        ``at`` is the observation's position: an int index, float seconds or an aware datetime
        (stored as POSIX seconds); default the number of observations so far. It must not
        decrease.
        """
        if not isinstance(values, Mapping):
            raise ConfideTypeError(f"values must be a dict of metric -> number, got {values!r}.")
        when = self.n_observations if at is None else _as_at(at)
        if self.last_at is not None and when < self.last_at:
            raise ValidationError(
                f"at={when!r} is earlier than the previous observation ({self.last_at!r}); "
                "observations must come in order."
            )
        seen: dict[str, float] = {}
        for r in self.rules:
            raw = values.get(r.metric)
            if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int | float)):
                raise ConfideTypeError(
                    f"metric {r.metric!r} must be a number, got {raw!r} (rule {r.name!r})."
                )
            v = float("nan") if raw is None else float(raw)
            if math.isnan(v) and self.nan_policy == "raise":
                what = "is missing" if raw is None else "is NaN"
                raise ValidationError(
                    f"metric {r.metric!r} watched by rule {r.name!r} {what} in this observation; "
                    "pass a value, or build the manager with nan_policy='skip'."
                )
            seen[r.name] = v
        events = [e for r in self.rules if (e := self._step(r, seen[r.name], when)) is not None]
        self.n_observations += 1
        self.last_at = when
        return events

    def _step(self, rule: AlertRule, value: float, at: int | float) -> AlertEvent | None:
        st = self._state[rule.name]
        if math.isnan(value):
            return None
        if st["active"]:
            if rule.holds(value):
                return None
            st["active"] = False
            st["consecutive"] = 0
            msg = (
                f"resolved {rule.name}: {rule.metric} = {value:.6g} is no longer "
                f"{rule.op} {rule.clear_bound:g} (at {at})"
            )
            return AlertEvent(
                rule.name, rule.metric, value, rule.clear_bound, "resolved", at, rule.severity, msg
            )
        st["consecutive"] = st["consecutive"] + 1 if rule.breached(value) else 0
        if st["consecutive"] < rule.for_chunks:
            return None
        last = st["last_fired_at"]
        if last is not None and at - last < rule.cooldown:
            return None
        st["active"] = True
        st["last_fired_at"] = at
        msg = (
            f"{rule.severity.upper()} {rule.name}: {rule.metric} = {value:.6g} {rule.op} "
            f"{rule.threshold:g} for {st['consecutive']} consecutive observation(s) (at {at})"
        )
        return AlertEvent(
            rule.name, rule.metric, value, rule.threshold, "fired", at, rule.severity, msg
        )

    # -- state -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The rules and the running state as a versioned JSON document."""
        return to_document(
            DOCUMENT_KIND,
            {
                "rules": [r.to_dict() for r in self.rules],
                "nan_policy": self.nan_policy,
                "n_observations": self.n_observations,
                "last_at": self.last_at,
                "state": {k: dict(v) for k, v in self._state.items()},
            },
        )

    @classmethod
    def _from_payload(cls, payload: Mapping[str, Any], source: str) -> AlertManager:
        try:
            obj = cls(
                [AlertRule.from_dict(r) for r in payload["rules"]],
                nan_policy=payload["nan_policy"],
            )
            obj.n_observations = int(payload["n_observations"])
            obj.last_at = payload["last_at"]
            for name, st in payload["state"].items():
                if name not in obj._state:
                    raise KeyError(f"state for unknown rule {name!r}")
                obj._state[name] = {
                    "active": bool(st["active"]),
                    "consecutive": int(st["consecutive"]),
                    "last_fired_at": st["last_fired_at"],
                }
        except (KeyError, TypeError) as exc:
            raise SchemaError(f"{source} has a malformed alert-manager state: {exc}") from None
        return obj

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> AlertManager:
        """Rebuild a manager (rules and state) from :meth:`to_dict` output."""
        return cls._from_payload(from_document(dict(doc), DOCUMENT_KIND), "the document")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` atomically to ``path``."""
        return save_json(path, DOCUMENT_KIND, self.to_dict()["payload"])

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> AlertManager:
        """Read a manager written by :meth:`save`; observing continues where it stopped."""
        return cls._from_payload(load_json(path, DOCUMENT_KIND), str(path))

    def __repr__(self) -> str:
        return f"AlertManager({len(self.rules)} rules, active={self.active})"


def write_events_jsonl(
    events: Iterable[AlertEvent],
    path_or_file: str | os.PathLike[str] | IO[str],
    *,
    append: bool = True,
) -> int:
    """Write events as JSON Lines (one :meth:`AlertEvent.to_dict` per line); return the count.

    A path is opened for appending (``append=True``, a log) or overwritten; an open text file is
    written to as it is.
    """
    lines = []
    for e in events:
        if not isinstance(e, AlertEvent):
            raise ConfideTypeError(f"events must be AlertEvent objects, got {type(e).__name__}.")
        lines.append(json.dumps(e.to_dict(), sort_keys=True, allow_nan=False) + "\n")
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, "a" if append else "w", encoding="utf-8") as fh:
            fh.writelines(lines)
    else:
        path_or_file.writelines(lines)
    return len(lines)


def read_events_jsonl(path_or_file: str | os.PathLike[str] | IO[str]) -> list[AlertEvent]:
    """Read events written by :func:`write_events_jsonl` (blank lines are skipped)."""
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, encoding="utf-8") as fh:
            text = fh.read()
        source = str(path_or_file)
    else:
        text = path_or_file.read()
        source = "the file"
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(AlertEvent.from_dict(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"line {i} of {source} is not an alert event: {exc}") from None
    return out
