"""The append-only audit trail: who did what, when, before -> after, time on item."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from confide.store._common import now
from confide.store._schema import audit_events

__all__ = ["list_audit", "record"]


def record(
    conn: Connection,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: Any = None,
    before: Any = None,
    after: Any = None,
    seconds: float | None = None,
) -> int:
    """Append one event (inside the caller's transaction, so it commits with the change)."""
    result = conn.execute(
        sa.insert(audit_events).values(
            at=now(),
            actor=actor,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            before=before,
            after=after,
            seconds=seconds,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def list_audit(
    conn: Connection, *, entity: str | None = None, limit: int = 1000, after_id: int = 0
) -> list[dict[str, Any]]:
    """Events in the order they happened (oldest first), optionally of one entity type."""
    q = sa.select(audit_events).where(audit_events.c.id > after_id)
    if entity is not None:
        q = q.where(audit_events.c.entity == entity)
    rows = conn.execute(q.order_by(audit_events.c.id).limit(limit))
    return [dict(r._mapping) for r in rows]
