"""API keys (hashed at rest, with roles) and reviewer sessions for the browser."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from confide.exceptions import ValidationError
from confide.store._audit import record
from confide.store._common import NotFoundError, now
from confide.store._schema import api_keys, sessions

__all__ = [
    "ROLES",
    "ApiKey",
    "authenticate",
    "create_key",
    "create_session",
    "end_session",
    "list_keys",
    "resolve_session",
    "revoke_key",
]

#: admin: everything; ingest: predictions, feedback, reading metrics; reviewer: the review pages.
ROLES = ("admin", "ingest", "reviewer")
_PREFIX = "cfd"


@dataclass(frozen=True)
class ApiKey:
    """An authenticated key (never the secret itself)."""

    id: int
    name: str
    role: str
    prefix: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "role": self.role, "prefix": self.prefix}


def _digest(secret: str) -> str:
    # The secret is 256 random bits, so a plain SHA-256 is a sound one-way store (no dictionary
    # to guess from); slow hashes are for low-entropy passwords.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(conn: Connection, *, name: str, role: str, actor: str = "cli") -> tuple[ApiKey, str]:
    """Create a key; returns it and the full secret, which is shown once and never stored."""
    if role not in ROLES:
        raise ValidationError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    if not name or len(name) > 200:
        raise ValidationError("a key needs a name of 1 to 200 characters (who or what uses it).")
    prefix = secrets.token_hex(6)
    secret = f"{_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    result = conn.execute(
        sa.insert(api_keys).values(
            name=name, role=role, prefix=prefix, key_hash=_digest(secret), created_at=now()
        )
    )
    key = ApiKey(int(result.inserted_primary_key[0]), name, role, prefix)  # type: ignore[index]
    record(
        conn, actor=actor, action="create", entity="api_key", entity_id=key.id, after=key.to_dict()
    )
    return key, secret


def authenticate(conn: Connection, secret: str) -> ApiKey | None:
    """The key for ``secret``, or None when it is unknown, malformed or revoked."""
    parts = secret.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != _PREFIX:
        return None
    row = conn.execute(
        sa.select(api_keys).where(api_keys.c.prefix == parts[1], api_keys.c.revoked_at.is_(None))
    ).first()
    if row is None or not hmac.compare_digest(row.key_hash, _digest(secret.strip())):
        return None
    return ApiKey(int(row.id), row.name, row.role, row.prefix)


def list_keys(conn: Connection) -> list[dict[str, Any]]:
    cols = [c for c in api_keys.c if c.name != "key_hash"]
    return [dict(r._mapping) for r in conn.execute(sa.select(*cols).order_by(api_keys.c.id))]


def revoke_key(conn: Connection, prefix: str, *, actor: str = "cli") -> None:
    result = conn.execute(
        sa.update(api_keys)
        .where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    if result.rowcount != 1:
        raise NotFoundError(
            f"no active key with prefix {prefix!r}; `confide keys list` shows them."
        )
    conn.execute(
        sa.delete(sessions).where(
            sessions.c.key_id.in_(sa.select(api_keys.c.id).where(api_keys.c.prefix == prefix))
        )
    )
    record(conn, actor=actor, action="revoke", entity="api_key", entity_id=prefix)


def create_session(conn: Connection, key: ApiKey, *, ttl_seconds: float) -> tuple[str, str]:
    """A browser session for ``key``: returns (cookie token, CSRF token)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    t = now()
    conn.execute(
        sa.insert(sessions).values(
            token_hash=_digest(token),
            key_id=key.id,
            csrf=csrf,
            created_at=t,
            expires_at=t + ttl_seconds,
        )
    )
    record(conn, actor=key.name, action="login", entity="session", entity_id=key.id)
    return token, csrf


def resolve_session(conn: Connection, token: str) -> tuple[ApiKey, str] | None:
    """The key and CSRF token of a live session, or None."""
    row = conn.execute(
        sa.select(api_keys, sessions.c.csrf)
        .join(sessions, sessions.c.key_id == api_keys.c.id)
        .where(
            sessions.c.token_hash == _digest(token),
            sessions.c.expires_at > now(),
            api_keys.c.revoked_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    return ApiKey(int(row.id), row.name, row.role, row.prefix), str(row.csrf)


def end_session(conn: Connection, token: str) -> None:
    conn.execute(sa.delete(sessions).where(sessions.c.token_hash == _digest(token)))
