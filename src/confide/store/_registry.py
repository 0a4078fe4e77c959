"""Models and their versioned calibrators and policies: new versions never overwrite old ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from confide.exceptions import ValidationError
from confide.store._audit import record
from confide.store._common import ConflictError, NotFoundError, now
from confide.store._schema import calibrators, models, policies

__all__ = [
    "ModelRecord",
    "add_calibrator",
    "add_policy",
    "get_model",
    "list_models",
    "register_model",
]


@dataclass(frozen=True)
class ModelRecord:
    """A model with its current (newest) calibrator and policy documents."""

    id: int
    name: str
    classes: tuple[str, ...]
    calibrator_version: int | None
    calibrator: dict[str, Any] | None
    policy_version: int | None
    policy: dict[str, Any] | None
    created_at: float
    costs: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "classes": list(self.classes),
            "calibrator_version": self.calibrator_version,
            "policy_version": self.policy_version,
            "calibrator": self.calibrator,
            "policy": self.policy,
            "costs": self.costs,
            "created_at": self.created_at,
        }


def _next_version(conn: Connection, table: sa.Table, model_id: int) -> int:
    current = conn.execute(
        sa.select(sa.func.max(table.c.version)).where(table.c.model_id == model_id)
    ).scalar()
    return 1 if current is None else int(current) + 1


def add_calibrator(
    conn: Connection, model_id: int, document: dict[str, Any], *, source: str, actor: str
) -> int:
    """Store a new calibrator version; returns its version number."""
    version = _next_version(conn, calibrators, model_id)
    conn.execute(
        sa.insert(calibrators).values(
            model_id=model_id, version=version, document=document, source=source, created_at=now()
        )
    )
    record(
        conn,
        actor=actor,
        action="add_calibrator",
        entity="model",
        entity_id=model_id,
        after={
            "version": version,
            "source": source,
            "method": document.get("payload", {}).get("method"),
        },
    )
    return version


def add_policy(
    conn: Connection,
    model_id: int,
    document: dict[str, Any],
    *,
    actor: str,
    costs: dict[str, float] | None = None,
) -> int:
    """Store a new policy version (with the costs of its outcomes); returns its version number."""
    version = _next_version(conn, policies, model_id)
    conn.execute(
        sa.insert(policies).values(
            model_id=model_id, version=version, document=document, created_at=now(), costs=costs
        )
    )
    record(
        conn,
        actor=actor,
        action="add_policy",
        entity="model",
        entity_id=model_id,
        after={"version": version, "type": document.get("type")},
    )
    return version


def register_model(
    conn: Connection,
    *,
    name: str,
    classes: list[str],
    calibrator: dict[str, Any] | None,
    policy: dict[str, Any] | None,
    actor: str,
    costs: dict[str, float] | None = None,
) -> ModelRecord:
    """Create ``name`` or add new calibrator/policy versions to it (classes must not change)."""
    row = conn.execute(sa.select(models).where(models.c.name == name)).first()
    if row is None:
        result = conn.execute(
            sa.insert(models).values(name=name, classes=list(classes), created_at=now())
        )
        model_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        record(
            conn,
            actor=actor,
            action="register",
            entity="model",
            entity_id=model_id,
            after={"name": name, "classes": list(classes)},
        )
    else:
        model_id = int(row.id)
        if list(row.classes) != list(classes):
            raise ConflictError(
                f"model {name!r} is registered with classes {list(row.classes)}, not {list(classes)}; "
                "classes cannot change between versions: register a model under a new name."
            )
    if calibrator is not None:
        add_calibrator(conn, model_id, calibrator, source="registered", actor=actor)
    if policy is not None:
        add_policy(conn, model_id, policy, actor=actor, costs=costs)
    return get_model(conn, name)


def _latest(conn: Connection, table: sa.Table, model_id: int, version: int | None) -> Any:
    extra = [table.c.costs] if "costs" in table.c else []
    q = sa.select(table.c.version, table.c.document, *extra).where(table.c.model_id == model_id)
    if version is not None:
        return conn.execute(q.where(table.c.version == version)).first()
    return conn.execute(q.order_by(table.c.version.desc()).limit(1)).first()


def get_model(
    conn: Connection,
    name: str,
    *,
    calibrator_version: int | None = None,
    policy_version: int | None = None,
) -> ModelRecord:
    """The model ``name`` with its newest (or the given) calibrator and policy versions."""
    if not isinstance(name, str):
        raise ValidationError(f"a model name is a string, not {type(name).__name__}.")
    row = conn.execute(sa.select(models).where(models.c.name == name)).first()
    if row is None:
        raise NotFoundError(f"no model named {name!r}; register it first (POST /api/v1/models).")
    cal = _latest(conn, calibrators, int(row.id), calibrator_version)
    pol = _latest(conn, policies, int(row.id), policy_version)
    return ModelRecord(
        id=int(row.id),
        name=row.name,
        classes=tuple(row.classes),
        calibrator_version=None if cal is None else int(cal.version),
        calibrator=None if cal is None else dict(cal.document),
        policy_version=None if pol is None else int(pol.version),
        policy=None if pol is None else dict(pol.document),
        created_at=float(row.created_at),
        costs=None if pol is None or pol.costs is None else dict(pol.costs),
    )


def list_models(conn: Connection) -> list[str]:
    return [r.name for r in conn.execute(sa.select(models.c.name).order_by(models.c.name))]


def list_versions(conn: Connection, model_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every calibrator and policy version of a model (newest last)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for key, table in (("calibrators", calibrators), ("policies", policies)):
        cols = [table.c.version, table.c.created_at]
        if table is calibrators:
            cols.append(table.c.source)
        rows = conn.execute(
            sa.select(*cols).where(table.c.model_id == model_id).order_by(table.c.version)
        )
        out[key] = [dict(r._mapping) for r in rows]
    return out
