"""Import Dask lazily, and the two graph helpers every distributed function uses (private).

Dask is an optional dependency (the ``dask`` extra); it is imported here, inside functions, so
``import confide`` never needs it and a missing Dask gives one clear error naming the extra.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from confide.exceptions import MissingDependencyError

__all__ = [
    "compute",
    "import_dask",
    "import_dask_array",
    "import_dask_dataframe",
    "progress_on_stderr",
    "tree_reduce",
]

#: How many partition states one reduction task merges (Dask's ``split_every`` default).
SPLIT_EVERY = 8


def import_dask(purpose: str = "confide.distributed") -> Any:
    """The ``dask`` module, or :class:`MissingDependencyError` naming ``confide[dask]``."""
    try:
        import dask
    except ImportError:
        raise MissingDependencyError("dask", "dask", purpose) from None
    return dask


def import_dask_array(purpose: str = "confide.distributed") -> Any:
    """The ``dask.array`` module (needs the ``dask`` extra)."""
    import_dask(purpose)
    try:
        import dask.array as da
    except ImportError:
        raise MissingDependencyError("dask[array]", "dask", purpose) from None
    return da


def import_dask_dataframe(purpose: str = "confide.distributed") -> Any:
    """The ``dask.dataframe`` module (needs the ``dask`` extra: dask[dataframe] and pyarrow)."""
    import_dask(purpose)
    try:
        import dask.dataframe as dd
    except ImportError:
        raise MissingDependencyError("dask[dataframe]", "dask", purpose) from None
    return dd


def tree_reduce(items: Sequence[Any], combine: Callable[[list[Any]], Any]) -> Any:
    """Reduce delayed partition states with ``combine`` in a tree of fan-in :data:`SPLIT_EVERY`.

    ``combine`` takes a list of states and returns one state; each tree node is one Dask task,
    so only states (never rows) move between workers.
    """
    dask = import_dask()
    level = list(items)
    if not level:
        raise ValueError("tree_reduce needs at least one item")
    if len(level) == 1:
        return dask.delayed(combine, pure=True)(level)
    while len(level) > 1:
        level = [
            dask.delayed(combine, pure=True)(level[i : i + SPLIT_EVERY])
            for i in range(0, len(level), SPLIT_EVERY)
        ]
    return level[0]


_PROGRESS = {"on": False}


@contextlib.contextmanager
def progress_on_stderr(enabled: bool = True) -> Iterator[None]:
    """Within the block, every distributed computation shows Dask's progress bar on stderr.

    With a ``distributed.Client`` active the bar is :func:`distributed.progress`; on the local
    schedulers it is :class:`dask.diagnostics.ProgressBar`. Both write to stderr here, so data on
    stdout stay clean.
    """
    before = _PROGRESS["on"]
    _PROGRESS["on"] = bool(enabled)
    try:
        yield
    finally:
        _PROGRESS["on"] = before


def _client() -> Any:
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None


def compute(*objects: Any) -> tuple[Any, ...]:
    """``dask.compute`` on the current scheduler (a ``distributed.Client`` when one is active)."""
    dask = import_dask()
    if not _PROGRESS["on"]:
        out: tuple[Any, ...] = dask.compute(*objects)
        return out
    client = _client()
    with contextlib.redirect_stdout(sys.stderr):
        if client is None:
            from dask.diagnostics import ProgressBar

            with ProgressBar(out=sys.stderr):
                out = dask.compute(*objects)
            return out
        from distributed import progress

        futures = client.compute(list(objects))
        progress(futures, notebook=False)
        print(file=sys.stderr)
        return tuple(client.gather(futures))
