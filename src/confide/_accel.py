"""Optional numba acceleration with an exact NumPy fallback (layer 1: used by every layer).

Kernels are plain Python functions written in the subset numba compiles; :func:`compiled`
returns the jitted version (cached on disk) when numba is installed and the input is large
enough to repay compilation, else ``None`` so the caller takes its NumPy path. Set
``CONFIDE_ACCELERATOR=numpy`` (or call :func:`set_accelerator`) to force the NumPy path.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from confide.exceptions import MissingDependencyError, ValidationError

__all__ = [
    "CHUNK_ROWS",
    "NUMBA_MIN_SIZE",
    "accelerator",
    "chunk_starts",
    "compiled",
    "numba_available",
    "set_accelerator",
]

#: Below this many array elements the NumPy path is used (no compilation latency).
NUMBA_MIN_SIZE = 1 << 18

#: Rows per chunk of the parallel kernels. Fixed, never derived from the thread count, so the
#: order in which partial sums are added (chunk by chunk) is the same on every machine and in
#: the NumPy path: results are bit-identical whatever the number of cores.
CHUNK_ROWS = 1 << 16

_MODES = ("auto", "numba", "numpy")
_mode: str = os.environ.get("CONFIDE_ACCELERATOR", "auto").lower()
if _mode not in _MODES:  # pragma: no cover - environment misconfiguration
    _mode = "auto"
_cache: dict[tuple[int, bool, bool], Callable[..., Any]] = {}


def numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        return False
    return True


def set_accelerator(mode: str) -> None:
    """Choose ``"auto"`` (numba for large inputs when installed), ``"numba"`` or ``"numpy"``."""
    global _mode
    if mode not in _MODES:
        raise ValidationError(f"accelerator must be 'auto', 'numba' or 'numpy', got {mode!r}.")
    if mode == "numba" and not numba_available():
        raise MissingDependencyError("numba", "fast", "The compiled accelerator")
    _mode = mode


def accelerator() -> str:
    """The accelerator setting in force."""
    return _mode


def chunk_starts(n_rows: int) -> Any:
    """Start row of every chunk of :data:`CHUNK_ROWS` rows (at least one chunk)."""
    import numpy as np

    return np.arange(0, max(n_rows, 1), CHUNK_ROWS, dtype=np.int64)


def compiled(
    kernel: Callable[..., Any], size: int, *, parallel: bool = False, fastmath: bool = False
) -> Callable[..., Any] | None:
    """The jitted ``kernel`` if numba should be used for an input of ``size`` elements, else None.

    ``fastmath`` lets LLVM reorder floating-point sums inside a chunk; use it only for kernels
    whose result is an optimum (not a sum that must match the NumPy path bit for bit) and whose
    inputs were checked finite.
    """
    if _mode == "numpy" or (_mode == "auto" and size < NUMBA_MIN_SIZE) or not numba_available():
        return None
    key = (id(kernel), parallel, fastmath)
    if key not in _cache:
        import numba

        if parallel and "prange" in kernel.__globals__:
            # Kernels loop over chunks with a module-level ``prange`` that is ``range`` until now.
            kernel.__globals__["prange"] = numba.prange
        _cache[key] = numba.njit(cache=True, nogil=True, parallel=parallel, fastmath=fastmath)(
            kernel
        )
    return _cache[key]
