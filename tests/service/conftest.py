"""Fixtures for the service tests: the same suite runs on SQLite and on a real PostgreSQL.

PostgreSQL comes from ``scripts/services.sh`` (run by the test command), which exports
``CONFIDE_TEST_PG_URL``; each test gets a fresh database of its own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the service tests need the 'service' extra")

import sqlalchemy as sa

PG_URL = os.environ.get("CONFIDE_TEST_PG_URL")


def _fresh_pg_database() -> Iterator[str]:
    assert PG_URL is not None
    name = f"confide_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(
        PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    base = PG_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A fresh, empty database URL of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'confide.db'}"
        return
    if not PG_URL:
        pytest.skip(
            "no PostgreSQL server: run the tests through scripts/test.sh, which starts one "
            "(scripts/services.sh) and sets CONFIDE_TEST_PG_URL"
        )
    yield from _fresh_pg_database()


@dataclass
class Service:
    client: Any
    engine: Any
    admin: str
    ingest: str
    reviewer: str
    reviewer2: str

    def h(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.admin}"}


@pytest.fixture
def make_service(db_url: str) -> Iterator[Any]:
    """Build a running app (TestClient) on ``db_url`` with one key per role."""
    from fastapi.testclient import TestClient

    from confide.service import Settings, create_app
    from confide.store import create_engine, keys, upgrade

    opened: list[Any] = []

    def build(**settings: Any) -> Service:
        engine = create_engine(db_url)
        upgrade(engine)
        with engine.begin() as conn:
            secrets = {
                role: keys.create_key(conn, name=f"{role}-user", role=role)[1]
                for role in ("admin", "ingest", "reviewer")
            }
            secrets["reviewer2"] = keys.create_key(conn, name="reviewer-two", role="reviewer")[1]
        app = create_app(Settings(db_url=db_url, **settings), engine=engine)
        client = TestClient(app)
        client.__enter__()
        opened.append((client, engine))
        return Service(
            client,
            engine,
            secrets["admin"],
            secrets["ingest"],
            secrets["reviewer"],
            secrets["reviewer2"],
        )

    yield build
    for client, engine in opened:
        client.__exit__(None, None, None)
        engine.dispose()


@pytest.fixture
def service(make_service: Any) -> Service:
    return make_service()
