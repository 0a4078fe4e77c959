"""`confide db upgrade`, `confide keys create | list | revoke` on a SQLite file."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("fastapi")

from typer.testing import CliRunner

from confide.cli._app import app


def test_db_upgrade_and_keys(tmp_path: Any) -> None:
    from confide.store import create_engine, current_revision, head_revision, keys

    url = f"sqlite:///{tmp_path / 'c.db'}"
    runner = CliRunner()
    up = runner.invoke(app, ["db", "upgrade", "--db", url])
    assert up.exit_code == 0, up.output
    engine = create_engine(url)
    assert current_revision(engine) == head_revision()
    made = runner.invoke(
        app, ["keys", "create", "--role", "reviewer", "--name", "ada", "--db", url, "--json"]
    )
    assert made.exit_code == 0, made.output
    secret = json.loads(made.stdout)["key"]
    with engine.connect() as conn:
        key = keys.authenticate(conn, secret)
    assert key is not None and key.role == "reviewer" and key.name == "ada"
    listed = runner.invoke(app, ["keys", "list", "--db", url])
    assert (
        secret not in listed.stdout and "key_hash" not in listed.stdout and '"ada"' in listed.stdout
    )
    bad = runner.invoke(app, ["keys", "create", "--role", "root", "--db", url])
    assert bad.exit_code == 2 and "unknown role 'root'" in bad.output
    gone = runner.invoke(app, ["keys", "revoke", key.prefix, "--db", url])
    assert gone.exit_code == 0
    with engine.connect() as conn:
        assert keys.authenticate(conn, secret) is None
    again = runner.invoke(app, ["keys", "revoke", key.prefix, "--db", url])
    assert again.exit_code == 2 and "no active key" in again.output
    engine.dispose()
