"""`confide serve`, `confide db upgrade`, `confide keys ...`: the service and its database."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from confide.cli._console import err, handle_errors, out, print_json

db_app = typer.Typer(help="The service's database (migrations).", no_args_is_help=True)
keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: CONFIDE_DB_URL or sqlite:///./confide.db)."),
]


def _url(db: str | None) -> str:
    from confide.store import DEFAULT_URL

    return db or os.environ.get("CONFIDE_DB_URL") or DEFAULT_URL


def _engine(db: str | None) -> Any:
    from confide.store import create_engine, upgrade

    engine = create_engine(_url(db))
    upgrade(engine)
    return engine


@db_app.command("upgrade")
@handle_errors
def db_upgrade(db: DbOption = None) -> None:
    """Create or migrate the database to this confide's newest schema."""
    from confide.store import create_engine, current_revision, upgrade

    engine = create_engine(_url(db))
    before = current_revision(engine)
    after = upgrade(engine)
    err.print(
        f"database {engine.url.render_as_string(hide_password=True)}: {before or 'empty'} -> {after}"
    )


@keys_app.command("create")
@handle_errors
def keys_create(
    role: Annotated[str, typer.Option(help="admin | ingest | reviewer")],
    name: Annotated[str, typer.Option(help="Who or what uses the key.")] = "",
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Create an API key; the secret is printed once (stdout) and only its hash is stored."""
    from confide.store import keys

    engine = _engine(db)
    with engine.begin() as conn:
        key, secret = keys.create_key(conn, name=name or f"{role}-key", role=role, actor="cli")
    if as_json:
        print_json({**key.to_dict(), "key": secret})
    else:
        err.print(
            f"created {key.role} key {key.name!r} (prefix {key.prefix}); store it now, it is not shown again:"
        )
        out.print(secret)


@keys_app.command("list")
@handle_errors
def keys_list(db: DbOption = None) -> None:
    """List keys (never their secrets)."""
    from confide.store import keys, reading

    with reading(_engine(db)) as conn:
        print_json(keys.list_keys(conn))


@keys_app.command("revoke")
@handle_errors
def keys_revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix.")], db: DbOption = None
) -> None:
    """Revoke a key and end its sessions."""
    from confide.store import keys

    with _engine(db).begin() as conn:
        keys.revoke_key(conn, prefix)
    err.print(f"revoked key {prefix}")


@handle_errors
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Run the confidence service (API at /api/v1, docs at /docs, review queue at /review)."""
    import uvicorn

    if db:
        os.environ["CONFIDE_DB_URL"] = db
    err.print(f"confide service on http://{host}:{port} (docs /docs, review /review)")
    uvicorn.run(
        "confide.service:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(db_app, name="db")
    app.add_typer(keys_app, name="keys")
