"""Service: the confidence service beside a model (FastAPI).

``create_app()`` builds it from ``CONFIDE_*`` settings; ``confide serve`` runs it with uvicorn.
Needs the ``service`` extra: ``pip install 'confide[service]'``.
"""

from confide.exceptions import MissingDependencyError

try:
    import fastapi  # noqa: F401
    import pydantic_settings  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingDependencyError(exc.name or "fastapi", "service", "confide.service") from None

from confide.service._app import create_app
from confide.service._settings import Settings

__all__ = ["Settings", "create_app"]
