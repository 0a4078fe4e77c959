"""The ``confide`` command line (Typer + rich; the ``cli`` extra)."""

from __future__ import annotations


def main() -> None:
    """Entry point of the ``confide`` script."""
    try:
        from confide.cli._app import app
    except ImportError as exc:  # typer/rich missing
        from confide.exceptions import MissingDependencyError

        raise SystemExit(
            str(MissingDependencyError(exc.name or "typer", "cli", "The confide command"))
        ) from None
    app()


__all__ = ["main"]
