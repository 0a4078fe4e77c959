"""Type aliases shared across confide."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]
AnyArray = npt.NDArray[Any]

__all__ = ["AnyArray", "ArrayLike", "BoolArray", "FloatArray", "IntArray"]
