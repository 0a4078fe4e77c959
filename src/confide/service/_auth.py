"""API keys on the API (``Authorization: Bearer`` or ``X-API-Key``), sessions on the review pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from confide.service._problems import Problem
from confide.store import ApiKey, reading
from confide.store import keys as key_store

__all__ = ["SESSION_COOKIE", "Admin", "Ingest", "api_key", "require"]

SESSION_COOKIE = "confide_session"


def api_key(request: Request) -> ApiKey:
    """The key of the request; 401 when missing or unknown."""
    header = request.headers.get("authorization", "")
    secret = (
        header[7:] if header.lower().startswith("bearer ") else request.headers.get("x-api-key", "")
    )
    if not secret:
        raise Problem(
            401,
            "Unauthorized",
            "this endpoint needs an API key: send 'Authorization: Bearer <key>' "
            "(create one with `confide keys create --role ingest`).",
        )
    with reading(request.app.state.engine) as conn:
        key = key_store.authenticate(conn, secret)
    if key is None:
        raise Problem(401, "Unauthorized", "the API key is unknown or revoked.")
    return key


def require(*roles: str) -> Callable[[Request], ApiKey]:
    """A dependency admitting keys whose role is one of ``roles`` (admin always)."""
    allowed = {"admin", *roles}

    def dependency(request: Request) -> ApiKey:
        key = api_key(request)
        if key.role not in allowed:
            raise Problem(
                403,
                "Forbidden",
                f"a {key.role!r} key cannot use this endpoint; it needs one of: {', '.join(sorted(allowed))}.",
            )
        request.state.actor = key.name
        return key

    return dependency


#: An admin key (registering models, recalibrating, the audit trail).
Admin = Annotated[ApiKey, Depends(require())]
#: An ingest or admin key (predictions, feedback, reading metrics).
Ingest = Annotated[ApiKey, Depends(require("ingest"))]
