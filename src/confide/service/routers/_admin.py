"""The audit trail and the export of reviewed items (admin keys)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from confide.service._auth import Admin
from confide.store import audit, reading
from confide.store import review as review_store

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit", summary="Audit events, oldest first")
def audit_events(
    request: Request,
    key: Admin,
    entity: str | None = None,
    after_id: int = 0,
    limit: int = 1000,
) -> dict[str, Any]:
    with reading(request.app.state.engine) as conn:
        return {
            "events": audit.list_audit(
                conn, entity=entity, after_id=after_id, limit=min(limit, 10_000)
            )
        }


@router.get("/reviews", summary="Every live review with its item")
def reviews(request: Request, key: Admin) -> dict[str, Any]:
    with reading(request.app.state.engine) as conn:
        return {"reviews": review_store.export_reviews(conn)}
