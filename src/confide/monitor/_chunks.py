"""Split monitored samples into chunks: by fixed size, or by a key per sample (time, group).

Every label-free estimate in :mod:`confide.monitor` is computed per chunk. A chunking is given
as one of

* ``None``: one chunk holding every sample (key ``0``);
* an ``int`` ``size``: consecutive chunks of ``size`` samples in row order, keys ``0, 1, ...``;
  the last, shorter chunk is kept, dropped or merged into the one before (``incomplete=``);
* an array of one key per sample (a year, a batch id, a date): one chunk per distinct key, in
  sorted key order. ``datetime64`` keys can be floored to a calendar ``period`` first
  (``"Y"``, ``"M"``, ``"D"``, ``"h"``, ``"m"``, ``"s"``), e.g. monthly chunks from timestamps;
* a sequence of :class:`Chunk` objects built beforehand (they may overlap, e.g. rolling windows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from confide._validation import check_choice, check_positive_int
from confide.exceptions import ConfideTypeError, ShapeError, ValidationError

__all__ = ["Chunk", "ChunksLike", "make_chunks"]

ChunksLike = None | int | Sequence[Any] | np.ndarray

_PERIODS = ("Y", "M", "D", "h", "m", "s")


@dataclass(frozen=True, eq=False)
class Chunk:
    """One chunk: its key and the (row) positions of its samples.

    Attributes
    ----------
    key : int, float or str
        A JSON-safe name: the chunk number for size-based chunks, else the key value
        (``datetime64`` keys as ISO strings).
    indices : ndarray of intp
        Positions of the chunk's samples in the monitored arrays (read-only).
    """

    key: int | float | str
    indices: np.ndarray

    def __post_init__(self) -> None:
        idx = np.asarray(self.indices)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise ConfideTypeError(
                f"Chunk.indices must be a 1-D array of integer positions, got {idx.dtype} of "
                f"shape {idx.shape}."
            )
        idx = idx.astype(np.intp, copy=True)
        idx.setflags(write=False)
        object.__setattr__(self, "indices", idx)

    @property
    def n(self) -> int:
        """Number of samples in the chunk."""
        return int(self.indices.shape[0])

    def to_dict(self) -> dict[str, Any]:
        """Key, size and first/last position (positions themselves are not repeated)."""
        first = int(self.indices[0]) if self.n else None
        last = int(self.indices[-1]) if self.n else None
        return {"key": self.key, "n": self.n, "first": first, "last": last}


def _json_key(value: Any) -> int | float | str:
    if isinstance(value, np.datetime64):
        return str(np.datetime_as_string(value))
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float | str):
        return value
    return str(value)


def _by_size(n_samples: int, size: int, incomplete: str) -> tuple[Chunk, ...]:
    starts = list(range(0, n_samples, size))
    stops = [min(s + size, n_samples) for s in starts]
    if stops and stops[-1] - starts[-1] < size:
        if incomplete == "drop":
            starts, stops = starts[:-1], stops[:-1]
        elif incomplete == "append" and len(starts) > 1:
            starts, stops = starts[:-1], [*stops[:-2], n_samples]
    if not starts:
        raise ValidationError(
            f"chunks={size} with incomplete='drop' leaves no chunk: only {n_samples} sample(s). "
            "Use a smaller size or incomplete='keep'."
        )
    return tuple(
        Chunk(key=i, indices=np.arange(a, b, dtype=np.intp))
        for i, (a, b) in enumerate(zip(starts, stops, strict=True))
    )


def _by_key(n_samples: int, keys: np.ndarray, period: str | None) -> tuple[Chunk, ...]:
    if keys.ndim != 1:
        raise ShapeError(f"chunk keys must be 1-D (one key per sample), got shape {keys.shape}.")
    if keys.shape[0] != n_samples:
        raise ShapeError(
            f"chunk keys have {keys.shape[0]} entries for {n_samples} samples: pass one key per "
            "sample (e.g. the year or date of each prediction), or an int chunk size."
        )
    if period is not None:
        check_choice(period, "period", _PERIODS)
        if keys.dtype.kind != "M":
            raise ConfideTypeError(
                f"period={period!r} floors datetime64 keys, got keys of dtype {keys.dtype}. "
                "Convert them with np.asarray(timestamps, dtype='datetime64[s]')."
            )
        keys = keys.astype(f"datetime64[{period}]")
    if keys.dtype.kind == "M" and np.isnat(keys).any():
        raise ValidationError(
            f"chunk keys contain NaT at {int(np.isnat(keys).sum())} position(s); drop those rows."
        )
    if keys.dtype.kind == "f" and not np.isfinite(keys).all():
        raise ValidationError("chunk keys contain NaN or infinity; drop those rows or fill them.")
    if keys.dtype.kind == "O":
        keys = keys.astype(str)
    uniq, inverse = np.unique(keys, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(uniq.shape[0] + 1))
    return tuple(
        Chunk(key=_json_key(uniq[j]), indices=order[bounds[j] : bounds[j + 1]])
        for j in range(uniq.shape[0])
    )


def _explicit(n_samples: int, chunks: Sequence[Chunk]) -> tuple[Chunk, ...]:
    for c in chunks:
        if c.n == 0:
            raise ValidationError(
                f"chunk {c.key!r} is empty: every chunk needs at least one sample."
            )
        if c.indices.min() < 0 or c.indices.max() >= n_samples:
            raise ShapeError(
                f"chunk {c.key!r} refers to positions outside 0..{n_samples - 1} "
                f"(min {int(c.indices.min())}, max {int(c.indices.max())})."
            )
    return tuple(chunks)


def make_chunks(
    n_samples: int,
    chunks: ChunksLike = None,
    *,
    incomplete: str = "keep",
    period: str | None = None,
) -> tuple[Chunk, ...]:
    """Chunks of ``n_samples`` monitored samples.

    Parameters
    ----------
    n_samples : int
        Number of samples to split (at least 1).
    chunks : None, int, array of shape (n_samples,) or sequence of Chunk
        See the module notes: everything, a fixed size, one key per sample, or explicit chunks.
    incomplete : {"keep", "drop", "append"}, default "keep"
        Size-based chunking only: what happens to a last chunk shorter than ``size`` (kept as
        it is, dropped, or merged into the previous chunk).
    period : {"Y", "M", "D", "h", "m", "s"}, optional
        Floor ``datetime64`` keys to this calendar unit before grouping.

    Returns
    -------
    tuple of Chunk
        Never empty; no chunk is empty.
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    incomplete = check_choice(incomplete, "incomplete", ("keep", "drop", "append"))
    if chunks is None:
        return (Chunk(key=0, indices=np.arange(n_samples, dtype=np.intp)),)
    if isinstance(chunks, bool):
        raise ConfideTypeError(
            f"chunks must be None, an int size or an array of keys, got {chunks!r}."
        )
    if isinstance(chunks, int | np.integer):
        return _by_size(n_samples, check_positive_int(chunks, "chunks"), incomplete)
    if isinstance(chunks, str | bytes):
        raise ConfideTypeError(
            f"chunks must be None, an int size, an array of keys or a list of Chunk; got the "
            f"string {chunks!r}."
        )
    if (
        isinstance(chunks, Sequence)
        and len(chunks) > 0
        and all(isinstance(c, Chunk) for c in chunks)
    ):
        return _explicit(n_samples, chunks)
    keys = np.asarray(chunks)
    if keys.size == 0:
        raise ShapeError(
            f"chunks is an empty sequence; pass one key per sample ({n_samples}), a size or None."
        )
    return _by_key(n_samples, keys, period)
