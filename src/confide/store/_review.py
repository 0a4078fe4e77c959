"""The review queue: claims with expiry, reviews that become feedback, undo, export.

Two reviewers never hold the same item: a claim is taken by a conditional UPDATE (and, on
PostgreSQL, ``FOR UPDATE SKIP LOCKED`` on the candidate row), so of two racing reviewers
exactly one succeeds and the other moves on to the next item.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from confide.exceptions import ValidationError
from confide.store._audit import record
from confide.store._common import ConflictError, NotFoundError, now
from confide.store._feedback import add_feedback
from confide.store._keys import ApiKey
from confide.store._schema import api_keys, feedback, models, predictions, reviews

__all__ = [
    "ACTIONS",
    "claim_next",
    "export_reviews",
    "queue_stats",
    "release",
    "submit_review",
    "undo_last",
]

#: accept: the predicted label is right; correct: another label; reject: the item cannot be
#: labelled (garbage, out of scope); skip: leave it for someone else.
ACTIONS = ("accept", "correct", "reject", "skip")


def _skipped_by(reviewer_id: int) -> Any:
    return sa.exists().where(
        reviews.c.prediction_id == predictions.c.id,
        reviews.c.reviewer_id == reviewer_id,
        reviews.c.action == "skip",
        reviews.c.undone_at.is_(None),
    )


def queue_stats(conn: Connection, *, model_id: int | None = None) -> dict[str, int]:
    """Items pending, claimed right now, and done."""
    t = now()
    base = sa.select(sa.func.count()).select_from(predictions)
    if model_id is not None:
        base = base.where(predictions.c.model_id == model_id)
    pending = conn.execute(base.where(predictions.c.review_state == "pending")).scalar() or 0
    claimed = (
        conn.execute(
            base.where(predictions.c.review_state == "pending", predictions.c.claim_expires_at > t)
        ).scalar()
        or 0
    )
    done = conn.execute(base.where(predictions.c.review_state == "done")).scalar() or 0
    return {"pending": int(pending), "claimed": int(claimed), "done": int(done)}


def claim_next(
    conn: Connection, reviewer: ApiKey, *, ttl_seconds: float, model_id: int | None = None
) -> int | None:
    """Claim the pending item of lowest priority value for ``reviewer`` (or keep its live claim)."""
    t = now()
    held = conn.execute(
        sa.select(predictions.c.id)
        .where(
            predictions.c.review_state == "pending",
            predictions.c.claimed_by == reviewer.id,
            predictions.c.claim_expires_at > t,
        )
        .limit(1)
    ).scalar()
    if held is not None:
        return int(held)
    free = sa.or_(predictions.c.claimed_by.is_(None), predictions.c.claim_expires_at <= t)
    for _ in range(5):
        q = sa.select(predictions.c.id).where(
            predictions.c.review_state == "pending", free, ~_skipped_by(reviewer.id)
        )
        if model_id is not None:
            q = q.where(predictions.c.model_id == model_id)
        q = q.order_by(predictions.c.priority, predictions.c.id).limit(1)
        candidate = conn.execute(q.with_for_update(skip_locked=True)).scalar()
        if candidate is None:
            return None
        taken = conn.execute(
            sa.update(predictions)
            .where(predictions.c.id == candidate, predictions.c.review_state == "pending", free)
            .values(claimed_by=reviewer.id, claimed_at=t, claim_expires_at=t + ttl_seconds)
        )
        if taken.rowcount == 1:
            record(
                conn, actor=reviewer.name, action="claim", entity="prediction", entity_id=candidate
            )
            return int(candidate)
    return None


def release(conn: Connection, reviewer: ApiKey, prediction_id: int) -> None:
    """Give a held item back to the queue (recorded in the audit trail)."""
    released = conn.execute(
        sa.update(predictions)
        .where(predictions.c.id == prediction_id, predictions.c.claimed_by == reviewer.id)
        .values(claimed_by=None, claimed_at=None, claim_expires_at=None)
    )
    if released.rowcount:
        record(
            conn,
            actor=reviewer.name,
            action="release",
            entity="prediction",
            entity_id=prediction_id,
        )


def submit_review(
    conn: Connection, reviewer: ApiKey, prediction_id: int, *, action: str, label: int | None = None
) -> dict[str, Any]:
    """Record ``action`` on a claimed item; accept/correct also store the label as feedback."""
    if action not in ACTIONS:
        raise ValidationError(
            f"unknown review action {action!r}; choose one of {', '.join(ACTIONS)}."
        )
    t = now()
    item = conn.execute(sa.select(predictions).where(predictions.c.id == prediction_id)).first()
    if item is None:
        raise NotFoundError(f"no prediction with id {prediction_id}.")
    if item.review_state != "pending":
        raise ConflictError(
            f"item {prediction_id} is not waiting for review (state {item.review_state!r})."
        )
    if (
        item.claimed_by != reviewer.id
        and item.claim_expires_at is not None
        and item.claim_expires_at > t
    ):
        raise ConflictError(
            f"item {prediction_id} is claimed by another reviewer until its claim expires."
        )
    n_classes = len(
        conn.execute(sa.select(models.c.classes).where(models.c.id == item.model_id)).scalar() or []
    )
    if action == "accept":
        label = int(item.label)
    elif action == "correct":
        if label is None or not 0 <= int(label) < n_classes:
            raise ValidationError(
                f"a correction needs a class index in 0..{n_classes - 1}, got {label!r}."
            )
        label = int(label)
    else:
        label = None
    started = (
        item.claimed_at if item.claimed_by == reviewer.id and item.claimed_at is not None else None
    )
    seconds = None if started is None else max(0.0, t - float(started))
    review_id = int(
        conn.execute(
            sa.insert(reviews).values(
                prediction_id=prediction_id,
                reviewer_id=reviewer.id,
                action=action,
                label=label,
                created_at=t,
                seconds=seconds,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    )
    new_state = "pending" if action == "skip" else "done"
    conn.execute(
        sa.update(predictions)
        .where(predictions.c.id == prediction_id)
        .values(review_state=new_state, claimed_by=None, claimed_at=None, claim_expires_at=None)
    )
    if label is not None:
        add_feedback(conn, [prediction_id], [label], source="review", review_id=review_id)
    record(
        conn,
        actor=reviewer.name,
        action=f"review:{action}",
        entity="prediction",
        entity_id=prediction_id,
        before={"review_state": "pending", "label": int(item.label)},
        after={"review_state": new_state, "label": label, "review_id": review_id},
        seconds=seconds,
    )
    return {
        "review_id": review_id,
        "prediction_id": prediction_id,
        "action": action,
        "label": label,
    }


def undo_last(conn: Connection, reviewer: ApiKey, *, ttl_seconds: float) -> dict[str, Any]:
    """Undo ``reviewer``'s newest live review: its feedback is retracted, the item reclaimed."""
    row = conn.execute(
        sa.select(reviews)
        .where(reviews.c.reviewer_id == reviewer.id, reviews.c.undone_at.is_(None))
        .order_by(reviews.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFoundError("nothing to undo: you have no review that is not already undone.")
    t = now()
    conn.execute(sa.update(reviews).where(reviews.c.id == row.id).values(undone_at=t))
    conn.execute(
        sa.update(feedback)
        .where(feedback.c.review_id == row.id, feedback.c.retracted_at.is_(None))
        .values(retracted_at=t)
    )
    item = conn.execute(sa.select(predictions).where(predictions.c.id == row.prediction_id)).first()
    assert item is not None
    if item.claimed_by not in (None, reviewer.id) and (item.claim_expires_at or 0) > t:
        raise ConflictError(
            f"item {row.prediction_id} is already claimed by another reviewer; cannot undo."
        )
    if row.action == "skip" and item.review_state != "pending":
        raise ConflictError(
            f"item {row.prediction_id} was reviewed by someone else after you skipped it; "
            "your skip cannot be undone."
        )
    conn.execute(
        sa.update(predictions)
        .where(predictions.c.id == row.prediction_id)
        .values(
            review_state="pending",
            claimed_by=reviewer.id,
            claimed_at=t,
            claim_expires_at=t + ttl_seconds,
        )
    )
    record(
        conn,
        actor=reviewer.name,
        action="review:undo",
        entity="prediction",
        entity_id=row.prediction_id,
        before={
            "review_state": item.review_state,
            "action": row.action,
            "label": row.label,
            "review_id": row.id,
        },
        after={"review_state": "pending", "label": None},
    )
    return {
        "prediction_id": int(row.prediction_id),
        "undone_review_id": int(row.id),
        "action": row.action,
    }


def export_reviews(conn: Connection, *, model_id: int | None = None) -> list[dict[str, Any]]:
    """Every live review with its item: what was predicted, what the reviewer said, who, when."""
    q = (
        sa.select(
            reviews.c.id.label("review_id"),
            predictions.c.id.label("prediction_id"),
            predictions.c.client_id,
            models.c.name.label("model"),
            predictions.c.label.label("predicted"),
            predictions.c.confidence,
            predictions.c.raw_confidence,
            predictions.c.reason,
            reviews.c.action,
            reviews.c.label,
            api_keys.c.name.label("reviewer"),
            reviews.c.created_at,
            reviews.c.seconds,
        )
        .join(predictions, predictions.c.id == reviews.c.prediction_id)
        .join(models, models.c.id == predictions.c.model_id)
        .join(api_keys, api_keys.c.id == reviews.c.reviewer_id)
        .where(reviews.c.undone_at.is_(None))
        .order_by(reviews.c.id)
    )
    if model_id is not None:
        q = q.where(predictions.c.model_id == model_id)
    return [dict(r._mapping) for r in conn.execute(q)]
