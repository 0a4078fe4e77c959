"""From a batch of raw model outputs to stored decisions: validate, calibrate, decide, prioritise.

Everything here runs before the database transaction opens, so a bad item stops the whole batch
before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from confide._validation import as_float_array, check_probabilities
from confide.calibration import Calibrator
from confide.calibration import load as load_calibrator
from confide.decision import Policy
from confide.decision._policy_base import policy_from_dict
from confide.exceptions import SchemaError, ShapeError, ValidationError
from confide.scores import softmax
from confide.store import ModelRecord

__all__ = ["ScoredBatch", "check_calibrator", "check_policy", "score_batch"]


@dataclass(frozen=True)
class ScoredBatch:
    """Arrays for one batch, one row per item."""

    raw_probs: np.ndarray
    probs: np.ndarray
    labels: np.ndarray
    raw_confidence: np.ndarray
    confidence: np.ndarray
    decisions: list[str]
    reasons: list[str]
    priority: np.ndarray


_CACHE: dict[tuple[Any, ...], Any] = {}
_LOCK = threading.Lock()


def _fingerprint(document: dict[str, Any]) -> str:
    """The cache key of a stored document: its content, never a database id (two databases,
    or a database rebuilt, reuse ids for different documents). Saved confide documents carry
    the SHA-256 of their payload already, so a calibrator is not re-hashed on every request;
    small policy dicts without one are hashed here."""
    checksum = document.get("sha256")
    if isinstance(checksum, str) and "payload" in document:
        return checksum
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def _cached(key: tuple[Any, ...], build: Any) -> Any:
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    value = build()
    with _LOCK:
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[key] = value
    return value


def check_calibrator(document: dict[str, Any], n_classes: int) -> Calibrator:
    """Load a calibrator document and check it fits a model of ``n_classes`` classes."""
    cal = load_calibrator(document)
    fits = cal.n_classes_ == n_classes or (cal.binary_ and n_classes == 2)
    if not fits:
        raise SchemaError(
            f"the calibrator was fitted on {cal.n_classes_} classes but the model has {n_classes}; "
            "fit it on this model's validation outputs."
        )
    return cal


def check_policy(document: dict[str, Any]) -> Policy:
    """A policy from its ``to_dict()`` or from a saved policy document."""
    if "payload" in document and "schema" in document:
        from confide._serialization import from_document

        document = from_document(document, "policy", source="the policy document")
    policy = policy_from_dict(document, source="the policy")
    if policy.type == "cascade":
        raise SchemaError(
            "a cascade policy needs a second model's confidence, which the service does not "
            "receive; register a threshold or three-way policy."
        )
    return policy


def _priority(probs: np.ndarray, confidence: np.ndarray, order: str) -> np.ndarray:
    """Queue order, lowest first: minus the active-learning uncertainty score of
    :mod:`confide.active` (``"confidence"`` keeps the calibrated confidence itself)."""
    if order == "confidence":
        return confidence
    from confide.active import entropy_score, least_confidence_score, margin_score

    score = {
        "margin": margin_score,
        "entropy": entropy_score,
        "least_confidence": least_confidence_score,
    }[order]
    return -np.asarray(score(probs), dtype=np.float64)


def _calibrate(cal: Calibrator, raw: np.ndarray, input_kind: str) -> np.ndarray:
    k = raw.shape[1]
    if cal.input == "logits" and input_kind != "logits":
        raise ValidationError(
            f"this model's calibrator ({cal.method}) reads logits, but the batch sends "
            'probabilities; send "input": "logits" with the model\'s raw logits.'
        )
    x = raw if cal.input == "logits" or input_kind == "probabilities" else softmax(raw)
    if cal.binary_ and k == 2:
        one = x[:, 1] - x[:, 0] if cal.input == "logits" else x[:, 1]
        p1 = np.asarray(cal.predict_proba(one), dtype=np.float64).reshape(-1)
        return np.column_stack([1.0 - p1, p1])
    return np.asarray(cal.predict_proba(x), dtype=np.float64)


def _as_matrix(scores: list[list[float]], classes: tuple[str, ...], model: str) -> np.ndarray:
    k = len(classes)
    for i, row in enumerate(scores):
        if len(row) != k:
            raise ShapeError(
                f"item {i} has {len(row)} scores but model {model!r} has {k} classes "
                f"({', '.join(classes)}); send one score per class in that order."
            )
    return np.asarray(scores, dtype=np.float64).reshape(len(scores), k)


def score_batch(
    model: ModelRecord, scores: list[list[float]], input_kind: str, *, queue_order: str
) -> ScoredBatch:
    """Validate, calibrate, decide and prioritise a batch (no database access)."""
    x = _as_matrix(scores, model.classes, model.name)
    if input_kind == "logits":
        x = as_float_array(x, "items[].scores (logits)", ndim=2)
        raw = softmax(x)
    else:
        raw = check_probabilities(x, "items[].scores (probabilities)", ndim=2)
    probs = raw
    if model.calibrator is not None:
        cal = _cached(
            ("cal", _fingerprint(model.calibrator), len(model.classes)),
            lambda: check_calibrator(model.calibrator or {}, len(model.classes)),
        )
        probs = _calibrate(cal, x, input_kind)
    labels = np.argmax(probs, axis=1)
    confidence = probs[np.arange(probs.shape[0]), labels]
    raw_conf = raw[np.arange(raw.shape[0]), np.argmax(raw, axis=1)]
    if model.policy is not None:
        policy = _cached(
            ("pol", _fingerprint(model.policy)), lambda: check_policy(model.policy or {})
        )
        d = policy.decide(confidence)
        decisions = [str(a) for a in d.actions]
        reasons = [str(r) for r in d.reasons()]
    else:
        decisions = ["accept"] * len(labels)
        reasons = ["no policy registered: every prediction is accepted"] * len(labels)
    return ScoredBatch(
        raw_probs=raw,
        probs=probs,
        labels=labels,
        raw_confidence=raw_conf,
        confidence=confidence,
        decisions=decisions,
        reasons=reasons,
        priority=_priority(probs, confidence, queue_order),
    )
