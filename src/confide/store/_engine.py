"""Engines and migrations: SQLite (WAL, synchronous=FULL) by default, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from confide.exceptions import ValidationError

__all__ = [
    "DEFAULT_URL",
    "create_engine",
    "current_revision",
    "head_revision",
    "reading",
    "upgrade",
]

DEFAULT_URL = "sqlite:///./confide.db"
READ_ONLY_OPTION = "confide_read_only"


def reading(engine: Engine) -> Connection:
    """A connection for reads only: on SQLite its transactions are deferred, so readers run
    beside the one writer (WAL) instead of queueing for the write lock; writes go through
    ``engine.begin()``, whose transactions take that lock at BEGIN."""
    return engine.connect().execution_options(**{READ_ONLY_OPTION: True})


_MIGRATIONS = Path(__file__).with_name("migrations")


def _normalise(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def create_engine(url: str = DEFAULT_URL, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite connections get WAL mode, full fsync and foreign keys.

    ``synchronous=FULL`` makes a committed transaction survive a crash of the process *and* of
    the machine; WAL lets the review page read while predictions are written.
    """
    url = _normalise(url)
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise ValidationError(
            f"the database URL {url!r} is not a valid SQLAlchemy URL; use e.g. "
            "'sqlite:///./confide.db' or 'postgresql://user:password@host/dbname'."
        ) from None
    if parsed.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = sa.create_engine(url, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" event issues BEGIN
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        # pysqlite's own transaction handling defers BEGIN; take the write lock at BEGIN so two
        # writers never deadlock upgrading a read lock.
        @sa.event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            read_only = conn.get_execution_options().get(READ_ONLY_OPTION, False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        engine.dialect._confide_sqlite = True  # type: ignore[attr-defined]
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **kwargs)


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Bring the database to ``revision`` (Alembic); returns the revision it is at."""
    from alembic import command

    cfg = _alembic_config(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()
    rev = current_revision(engine)
    return rev or ""


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at (None: not initialised)."""
    from alembic.runtime.migration import MigrationContext

    with reading(engine) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest migration shipped with this confide."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head
