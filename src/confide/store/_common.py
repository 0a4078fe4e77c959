"""Small helpers shared by the store modules."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from confide.exceptions import ValidationError

__all__ = ["ConflictError", "NotFoundError", "now", "row_dict"]


class NotFoundError(ValidationError):
    """A model, prediction, key or item that does not exist."""


class ConflictError(ValidationError):
    """The request clashes with what is stored (a name taken, an item claimed by someone else)."""


def now() -> float:
    """UNIX time in seconds (the store's one clock)."""
    return time.time()


def row_dict(row: sa.Row[Any] | None) -> dict[str, Any] | None:
    return None if row is None else dict(row._mapping)
