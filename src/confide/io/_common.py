"""Helpers shared by the confide.io readers and writers (private).

Formats, where a message points in a file, class names and the optional imports.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confide._validation import check_choice
from confide.exceptions import (
    ConfideTypeError,
    MissingDependencyError,
    ShapeError,
    ValidationError,
)

__all__ = [
    "FORMATS",
    "MissingFileError",
    "Source",
    "check_file",
    "import_pandas",
    "import_parquet",
    "integer_names",
    "normalize_classes",
    "preview",
    "resolve_format",
]

FORMATS = ("csv", "parquet", "npz")
_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".npz": "npz"}
_COMPRESSIONS = (".gz", ".bz2", ".xz", ".zip", ".zst")
_INTEGER = re.compile(r"[+-]?[0-9]+")


class MissingFileError(ValidationError, FileNotFoundError):
    """The predictions file does not exist (also a :class:`FileNotFoundError`)."""


@dataclass(frozen=True)
class Source:
    """A file being read, to say where in it something is wrong."""

    path: str
    fmt: str

    def __str__(self) -> str:
        return repr(self.path)

    def row(self, i: int) -> str:
        """Data row ``i`` (0-based, header not counted); CSV also gives the line number."""
        return f"row {i} (line {i + 2})" if self.fmt == "csv" else f"row {i}"


def preview(items: Sequence[Any], limit: int = 20) -> str:
    """``['a', 'b', ...]`` listing at most ``limit`` items, saying how many were left out."""
    shown = ", ".join(repr(x) for x in items[:limit])
    more = f", ... ({len(items) - limit} more)" if len(items) > limit else ""
    return f"[{shown}{more}]"


def resolve_format(path: Path, fmt: str | None) -> str:
    """The format named by ``fmt``, or else by the file's suffix."""
    if fmt is not None:
        if not isinstance(fmt, str):
            raise ConfideTypeError(f"format must be a string, got {fmt!r}.")
        return check_choice(fmt.lower(), "format", FORMATS)
    suffixes = [s.lower() for s in path.suffixes]
    if len(suffixes) >= 2 and suffixes[-1] in _COMPRESSIONS and suffixes[-2] == ".csv":
        return "csv"
    if suffixes and suffixes[-1] in _SUFFIXES:
        return _SUFFIXES[suffixes[-1]]
    raise ValidationError(
        f"cannot tell the format of {str(path)!r} from its suffix "
        f"{''.join(path.suffixes) or '(none)'!r}: name the file .csv, .csv.gz, .parquet, .pq or "
        "'.npz', or pass format='csv', 'parquet' or 'npz'."
    )


def check_file(path: Path, source: Source) -> None:
    """Raise when the file to read is missing, a directory or empty."""
    if not path.exists():
        raise MissingFileError(
            f"predictions file {source} does not exist (looked in {path.resolve()})."
        )
    if path.is_dir():
        raise ValidationError(f"{source} is a directory; pass the path of a predictions file.")
    if path.stat().st_size == 0:
        raise ValidationError(f"predictions file {source} is empty (0 bytes).")


def import_pandas(purpose: str) -> Any:
    """Import pandas or raise :class:`MissingDependencyError` naming the ``io`` extra."""
    try:
        import pandas as pd
    except ImportError:
        raise MissingDependencyError("pandas", "io", purpose) from None
    return pd


def import_parquet(purpose: str) -> Any:
    """Import ``pyarrow.parquet`` or raise :class:`MissingDependencyError`."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError("pyarrow", "io", purpose) from None
    return pq


def _class_name(c: Any) -> str:
    if isinstance(c, bytes):
        return c.decode()
    if isinstance(c, bool):
        return str(int(c))
    if hasattr(c, "item") and not isinstance(c, str):  # NumPy scalars: 3, not np.int64(3)
        c = c.item()
    return str(c)


def normalize_classes(classes: Any, n: int | None, what: str) -> tuple[str, ...]:
    """Class names as a tuple of distinct non-empty strings (``n`` of them when given)."""
    if isinstance(classes, str | bytes):
        raise ConfideTypeError(
            f"classes must be a sequence of class names, got the string {classes!r}. "
            "Pass a list, e.g. classes=['cat', 'dog']."
        )
    try:
        names = tuple(_class_name(c) for c in classes)
    except TypeError:
        raise ConfideTypeError(
            f"classes must be a sequence of class names, got {classes!r}."
        ) from None
    if any(name == "" for name in names):
        raise ValidationError(f"classes must be non-empty names, got {preview(names)}.")
    if len(set(names)) != len(names):
        dup = sorted({c for c in names if names.count(c) > 1})
        raise ValidationError(
            f"classes must be distinct, but {preview(dup)} appear more than once."
        )
    if n is not None and len(names) != n:
        raise ShapeError(
            f"classes names {len(names)} classes {preview(names)}, but {what} has {n}."
        )
    return names


def integer_names(classes: Sequence[str]) -> list[int] | None:
    """The class names as integers when every one is an integer literal, else None."""
    if all(_INTEGER.fullmatch(c) for c in classes):
        return [int(c) for c in classes]
    return None
