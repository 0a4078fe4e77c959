"""Migrations on SQLite and PostgreSQL: the head schema equals the tables' metadata, and an
upgrade from the first revision keeps every row."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from confide.store import create_engine, current_revision, head_revision, metadata, upgrade


def test_head_schema_equals_the_metadata(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(db_url)
    assert upgrade(engine) == head_revision()
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    engine.dispose()


def test_upgrading_from_the_first_revision_keeps_the_data(db_url: str) -> None:
    engine = create_engine(db_url)
    assert upgrade(engine, "0001") == "0001"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO models (name, classes, created_at) VALUES ('m', '[\"a\", \"b\"]', 1.0)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO policies (model_id, version, document, created_at) "
                'VALUES (1, 1, \'{"type": "threshold", "params": {"threshold": 0.7}}\', 2.0)'
            )
        )
    assert upgrade(engine) == head_revision() != "0001"
    from confide.store import registry

    with engine.connect() as conn:
        model = registry.get_model(conn, "m")
    assert current_revision(engine) == head_revision()
    assert model.classes == ("a", "b") and model.policy_version == 1 and model.costs is None
    assert model.policy == {"type": "threshold", "params": {"threshold": 0.7}}
    engine.dispose()


def test_the_app_refuses_readiness_on_an_old_schema(db_url: str, tmp_path: Any) -> None:
    from fastapi.testclient import TestClient

    from confide.service import Settings, create_app

    engine = create_engine(db_url)
    upgrade(engine, "0001")
    with TestClient(
        create_app(Settings(db_url=db_url, auto_migrate=False), engine=engine)
    ) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "confide db upgrade" in ready.json()["detail"]
    engine.dispose()
