"""Shared pieces of the window drift tests: the result type and the input checks.

A window test compares a *reference* sample of confidences (scores of a period judged healthy)
with a *current* window and asks whether both could come from the same distribution. Every test
returns a :class:`DriftTestResult`; the checks below give every test the same messages for bad
input (non-finite values, empty windows, a significance level outside (0, 1), a sample too
small for the requested level).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from confide._validation import as_float_array, check_fraction
from confide.exceptions import ConfideTypeError, ShapeError, ValidationError

__all__ = ["DriftTestResult", "check_alpha", "check_windows", "json_value", "too_small_error"]


def json_value(value: Any) -> Any:
    """A plain JSON-safe value: NumPy scalars unwrapped, non-finite floats as strings."""
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_value(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


@dataclass(frozen=True)
class DriftTestResult:
    """Outcome of one two-sample drift test between a reference sample and a current window.

    Attributes
    ----------
    test : str
        Short name of the test (``"ks"``, ``"ad"``, ``"cvm"``, ``"chi2"``, ``"g"``, ``"psi"``).
    statistic : float
        The test statistic (for ``"ks"`` the supremum distance, for ``"ad"`` the standardized
        k-sample statistic, for ``"psi"`` the PSI itself, ...).
    p_value : float or None
        Probability under "no drift" of a statistic at least as extreme; None where a test has no
        p-value.
    threshold : float or None
        Critical value of ``statistic`` at ``alpha`` where the decision is a comparison with it
        (PSI, chi-square, G, asymptotic KS, interpolated AD); None where only the p-value is
        available in closed form (exact KS, CvM, permutation tests).
    effect_size : float
        Wasserstein-1 distance between the two empirical distributions (in score units), so that
        a tiny but significant shift on a huge window can be told from a large one.
    drifted : bool
        True when the test rejects "no drift" at ``alpha`` (``p_value <= alpha``, or
        ``statistic > threshold`` for tests decided by their threshold).
    n_reference, n_current : int
        Sample sizes.
    alpha : float
        Significance level the decision was taken at.
    method : str
        How the p-value was obtained (``"exact"``, ``"asymptotic"``, ``"interpolated"``,
        ``"permutation"``, ``"moments"``, ``"simulation"``).
    details : mapping
        Test-specific extras (for example the number of bins used, or the PSI band); read-only.
    """

    test: str
    statistic: float
    p_value: float | None
    threshold: float | None
    effect_size: float
    drifted: bool
    n_reference: int
    n_current: int
    alpha: float
    method: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable types (non-finite floats as ``"inf"``/``"nan"``)."""
        return {
            "test": self.test,
            "statistic": json_value(float(self.statistic)),
            "p_value": None if self.p_value is None else json_value(float(self.p_value)),
            "threshold": None if self.threshold is None else json_value(float(self.threshold)),
            "effect_size": json_value(float(self.effect_size)),
            "drifted": bool(self.drifted),
            "n_reference": int(self.n_reference),
            "n_current": int(self.n_current),
            "alpha": float(self.alpha),
            "method": self.method,
            "details": json_value(dict(self.details)),
        }


def check_alpha(alpha: Any) -> float:
    """A significance level strictly between 0 and 1."""
    if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.integer | np.floating):
        raise ConfideTypeError(f"alpha must be a number in (0, 1), got {alpha!r}.")
    try:
        return check_fraction(alpha, "alpha")
    except ValidationError:
        raise ValidationError(
            f"alpha is the significance level (the false-alarm rate accepted when nothing "
            f"drifted) and must lie strictly between 0 and 1, got {alpha!r}; 0.05 or 0.01 are "
            "usual."
        ) from None


def _one_window(x: Any, name: str) -> np.ndarray:
    if isinstance(x, str | bytes):
        raise ConfideTypeError(f"{name} must be an array of numbers, got the string {x!r}.")
    arr = np.asarray(x) if not isinstance(x, np.ndarray) else x
    if arr.ndim != 1:
        raise ShapeError(
            f"{name} must be a 1-D array of confidence scores, got shape {arr.shape}. Compare "
            "one score per sample (e.g. the top-label confidence); flatten or select a column."
        )
    if arr.shape[0] == 0:
        raise ShapeError(
            f"{name} is empty: a drift test needs at least one score in each window. Skip the "
            "test for empty windows, or widen the window."
        )
    return as_float_array(arr, name, ndim=1)


def check_windows(reference: Any, current: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both windows as 1-D finite float32/float64 arrays (dtype kept), non-empty."""
    return _one_window(reference, "reference"), _one_window(current, "current")


def too_small_error(
    test: str,
    n: int,
    m: int,
    alpha: float,
    p_min: float,
    n_needed: int | None,
    m_needed: int | None,
) -> ValidationError:
    """The error for a pair of windows whose smallest attainable p-value exceeds ``alpha``."""
    hint = []
    if n_needed is not None:
        hint.append(f"a reference of at least {n_needed} scores (with this current window)")
    if m_needed is not None:
        hint.append(f"a current window of at least {m_needed} scores (with this reference)")
    how = " or ".join(hint) if hint else "larger samples"
    return ValidationError(
        f"{test}: with n_reference={n} and n_current={m} the smallest p-value the test can "
        f"reach is {p_min:.3g}, above alpha={alpha}, so it could never detect drift. Use {how}, "
        "or a larger alpha."
    )
