"""Store: the service's database (SQLAlchemy 2.0 Core, Alembic migrations).

SQLite in WAL mode is the embedded default (``sqlite:///./confide.db``); PostgreSQL by URL
(``postgresql://user:password@host/db``, driven by psycopg 3). Every write a request makes
happens in one transaction together with its audit event.
Needs the ``service`` extra: ``pip install 'confide[service]'``.
"""

from confide.exceptions import MissingDependencyError

try:
    import alembic  # noqa: F401
    import sqlalchemy  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingDependencyError(exc.name or "sqlalchemy", "service", "confide.store") from None

from confide.store import _audit as audit
from confide.store import _feedback as feedback
from confide.store import _keys as keys
from confide.store import _monitor as monitor
from confide.store import _predictions as predictions
from confide.store import _registry as registry
from confide.store import _review as review
from confide.store._common import ConflictError, NotFoundError, now
from confide.store._engine import (
    DEFAULT_URL,
    create_engine,
    current_revision,
    head_revision,
    reading,
    upgrade,
)
from confide.store._keys import ROLES, ApiKey
from confide.store._registry import ModelRecord
from confide.store._schema import metadata

__all__ = [
    "DEFAULT_URL",
    "ROLES",
    "ApiKey",
    "ConflictError",
    "ModelRecord",
    "NotFoundError",
    "audit",
    "create_engine",
    "current_revision",
    "feedback",
    "head_revision",
    "keys",
    "metadata",
    "monitor",
    "now",
    "predictions",
    "reading",
    "registry",
    "review",
    "upgrade",
]
