"""Detector state per model (saved JSON, resumed after a restart) and the alerts it raised."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from confide.store._common import now
from confide.store._schema import alerts, monitor_state

__all__ = ["add_alert", "get_detector_state", "list_alerts", "put_detector_state"]


def get_detector_state(
    conn: Connection, model_id: int, *, for_update: bool = False
) -> dict[str, Any] | None:
    q = sa.select(monitor_state.c.detector).where(monitor_state.c.model_id == model_id)
    if for_update:
        q = q.with_for_update()
    value = conn.execute(q).scalar()
    return None if value is None else dict(value)


def put_detector_state(conn: Connection, model_id: int, document: dict[str, Any]) -> None:
    updated = conn.execute(
        sa.update(monitor_state)
        .where(monitor_state.c.model_id == model_id)
        .values(detector=document, updated_at=now())
    )
    if updated.rowcount == 0:
        conn.execute(
            sa.insert(monitor_state).values(model_id=model_id, detector=document, updated_at=now())
        )


def add_alert(
    conn: Connection, model_id: int, *, rule: str, level: str, message: str, value: float | None
) -> int:
    result = conn.execute(
        sa.insert(alerts).values(
            model_id=model_id, at=now(), rule=rule, level=level, message=message, value=value
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def list_alerts(conn: Connection, model_id: int, *, limit: int = 50) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(alerts)
        .where(alerts.c.model_id == model_id)
        .order_by(alerts.c.id.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]
