"""Registry of the window drift tests, a dispatcher, and reports over many tests or monitors.

:func:`window_test` runs one test by name. :func:`run_window_tests` runs several tests on one
pair of windows, sharing the sort and merge of the two windows between them, and corrects the
family for multiplicity (Bonferroni by default: the tests see the same data, so they are dependent,
and "is this window drifted?" is a family-wise question). :func:`drift_report` runs tests on
many monitors (for example one per class, segment or model) and corrects across all of them
(Benjamini–Hochberg by default).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from confide._validation import check_choice, check_positive_int
from confide.exceptions import ConfideTypeError, ValidationError
from confide.monitor._multiple_testing import (
    CORRECTIONS,
    MultipleTestingResult,
    correct_p_values,
)
from confide.monitor._psi import check_psi_options, psi_from_sorted, psi_test
from confide.monitor._window import RANK_METHODS, ks_from_pooled, ks_test
from confide.monitor._window_ad import ad_from_pooled, anderson_darling_test
from confide.monitor._window_base import DriftTestResult, check_alpha, check_windows
from confide.monitor._window_bins import check_bins
from confide.monitor._window_cvm import cramer_von_mises_test, cvm_from_pooled
from confide.monitor._window_hist import (
    check_flags,
    chi_square_test,
    g_test,
    histogram_from_sorted,
)
from confide.monitor._window_ranks import pool

__all__ = ["WINDOW_TESTS", "DriftReport", "drift_report", "run_window_tests", "window_test"]

#: Every window test by its short name.
WINDOW_TESTS: Mapping[str, Callable[..., DriftTestResult]] = MappingProxyType(
    {
        "ks": ks_test,
        "ad": anderson_darling_test,
        "cvm": cramer_von_mises_test,
        "chi2": chi_square_test,
        "g": g_test,
        "psi": psi_test,
    }
)
_RANK_TESTS = ("ks", "ad", "cvm")
_AD_METHODS = ("interpolated", "permutation")


def window_test(
    reference: Any,
    current: Any,
    *,
    method: str = "ks",
    alpha: float = 0.05,
    p_value_method: str | None = None,
    **options: Any,
) -> DriftTestResult:
    """Run the window test named ``method`` (a key of :data:`WINDOW_TESTS`).

    ``p_value_method`` is passed to the test as its own ``method`` (``"exact"`` or
    ``"asymptotic"`` for KS and CvM, ``"permutation"`` for AD); other ``options`` go to the test
    as they are (e.g. ``n_bins=20`` for ``"psi"``).
    """
    name = check_choice(method, "method", tuple(WINDOW_TESTS))
    if p_value_method is not None:
        if name not in _RANK_TESTS:
            raise ValidationError(
                f"p_value_method applies to 'ks', 'ad' and 'cvm', not to {name!r} (use "
                "calibration='simulation' for 'psi')."
            )
        options["method"] = p_value_method
    return WINDOW_TESTS[name](reference, current, alpha=alpha, **options)


@dataclass(frozen=True)
class DriftReport:
    """Several drift tests and the multiplicity correction across them.

    Attributes
    ----------
    names : tuple of str
        ``"<test>"`` for :func:`run_window_tests`, ``"<monitor>/<test>"`` for :func:`drift_report`.
    results : tuple of DriftTestResult
        Each test at the uncorrected ``alpha`` (its own ``drifted``).
    correction : MultipleTestingResult or None
        Adjusted p-values and rejections across the family (None: no correction).
    alpha : float
    """

    names: tuple[str, ...]
    results: tuple[DriftTestResult, ...]
    correction: MultipleTestingResult | None
    alpha: float

    @property
    def rejected(self) -> tuple[bool, ...]:
        """Drift declared per test after the correction."""
        if self.correction is None:
            return tuple(r.drifted for r in self.results)
        return tuple(bool(v) for v in self.correction.rejected)

    @property
    def drifted(self) -> bool:
        """Whether any test declares drift after the correction."""
        return any(self.rejected)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable types."""
        adjusted: list[Any] = (
            [None] * len(self.results)
            if self.correction is None
            else [float(v) for v in self.correction.adjusted]
        )
        return {
            "alpha": self.alpha,
            "correction": None if self.correction is None else self.correction.method,
            "drifted": self.drifted,
            "tests": [
                {"name": name, "rejected": rej, "adjusted_p_value": adj, **res.to_dict()}
                for name, res, rej, adj in zip(
                    self.names, self.results, self.rejected, adjusted, strict=True
                )
            ],
        }


def _check_methods(methods: Any) -> tuple[str, ...]:
    if isinstance(methods, str):
        methods = (methods,)
    if not isinstance(methods, Sequence) or not methods:
        raise ConfideTypeError(f"methods must be a non-empty list of test names, got {methods!r}.")
    names = tuple(check_choice(m, "methods", tuple(WINDOW_TESTS)) for m in methods)
    if len(set(names)) != len(names):
        raise ValidationError(f"methods lists a test twice: {list(names)}.")
    return names


def _run_on_pair(
    reference: Any,
    current: Any,
    methods: tuple[str, ...],
    alpha: float,
    options: Mapping[str, Mapping[str, Any]],
) -> list[DriftTestResult]:
    """Every test on one pair, sorting and merging the windows once."""
    ref, cur = check_windows(reference, current)
    pooled = pool(ref, cur)
    effect = pooled.wasserstein()
    dtype = np.result_type(ref, cur)
    out = []
    for name in methods:
        opts = dict(options.get(name, {}))
        if name in _RANK_TESTS:
            resamples = check_positive_int(opts.pop("n_resamples", 9999), "n_resamples")
            seed = opts.pop("seed", 0)
            if name == "ks":
                how = check_choice(opts.pop("method", "auto"), "method", RANK_METHODS)
                res = ks_from_pooled(pooled, alpha, how, resamples, seed)
            elif name == "cvm":
                how = check_choice(opts.pop("method", "auto"), "method", RANK_METHODS)
                ties = check_choice(opts.pop("ties", "ecdf"), "ties", ("ecdf", "midrank"))
                res = cvm_from_pooled(pooled, alpha, how, ties, resamples, seed)
            else:
                how = check_choice(opts.pop("method", "interpolated"), "method", _AD_METHODS)
                res = ad_from_pooled(pooled, alpha, how, resamples, seed)
        else:
            default_binning = "reference" if name == "psi" else "pooled"
            spec = check_bins(
                opts.pop("n_bins", 10),
                opts.pop("edges", None),
                opts.pop("binning", default_binning),
            )
            if name == "psi":
                checked = check_psi_options(
                    opts.pop("empty_bins", "smooth"),
                    opts.pop("epsilon", 1e-4),
                    opts.pop("calibration", "moments"),
                    opts.pop("n_simulations", 20_000),
                    opts.pop("seed", 0),
                )
                res = psi_from_sorted(
                    pooled.xs, pooled.ys, dtype, alpha, spec, *checked, effect_size=effect
                )
            else:
                lam = "pearson" if name == "chi2" else "log-likelihood"
                correction = opts.pop("correction", True)
                williams = opts.pop("williams", False) if name == "g" else False
                check_flags(correction=correction, williams=williams)
                res = histogram_from_sorted(
                    name,
                    lam,
                    pooled.xs,
                    pooled.ys,
                    dtype,
                    alpha,
                    spec,
                    correction,
                    williams,
                    effect_size=effect,
                )
        if opts:
            raise ValidationError(f"unknown option(s) {sorted(opts)} for the {name!r} test.")
        out.append(res)
    return out


def _report(
    names: list[str], results: list[DriftTestResult], alpha: float, correction: str | None
) -> DriftReport:
    if correction is None:
        return DriftReport(tuple(names), tuple(results), None, alpha)
    p = [r.p_value for r in results]
    if any(v is None for v in p):  # pragma: no cover - every registered test has a p-value
        raise ValidationError("a multiplicity correction needs a p-value from every test.")
    corr = correct_p_values(np.asarray(p, dtype=np.float64), method=correction, alpha=alpha)
    return DriftReport(tuple(names), tuple(results), corr, alpha)


def _check_correction(correction: Any) -> str | None:
    return None if correction is None else check_choice(correction, "correction", CORRECTIONS)


def run_window_tests(
    reference: Any,
    current: Any,
    *,
    methods: Sequence[str] = ("ks", "ad", "cvm", "chi2", "psi"),
    alpha: float = 0.05,
    correction: str | None = "bonferroni",
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> DriftReport:
    """Run several window tests on one pair of windows and correct for multiplicity.

    Parameters
    ----------
    reference, current : array of shape (n,), (m,)
    methods : sequence of str
        Names from :data:`WINDOW_TESTS`.
    alpha : float, default 0.05
        Family-wise error rate (``"bonferroni"``) or false discovery rate (``"bh"``, ``"by"``).
    correction : {"bonferroni", "bh", "by"} or None, default "bonferroni"
    options : mapping, optional
        Per-test keyword options, e.g. ``{"ad": {"method": "permutation"}, "psi": {"n_bins": 20}}``.

    Returns
    -------
    DriftReport
    """
    names = _check_methods(methods)
    a = check_alpha(alpha)
    corr = _check_correction(correction)
    results = _run_on_pair(reference, current, names, a, options or {})
    return _report(list(names), results, a, corr)


def drift_report(
    windows: Mapping[str, tuple[Any, Any]],
    *,
    methods: Sequence[str] = ("ks",),
    alpha: float = 0.05,
    correction: str | None = "bh",
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> DriftReport:
    """Run window tests on many monitors and correct across every (monitor, test) pair.

    Parameters
    ----------
    windows : mapping of str to (reference, current)
        One pair of windows per monitor (a class, a segment, a model...).
    methods, alpha, options
        As :func:`run_window_tests`.
    correction : {"bonferroni", "bh", "by"} or None, default "bh"

    Returns
    -------
    DriftReport
        Names are ``"<monitor>/<test>"``.
    """
    if not isinstance(windows, Mapping) or not windows:
        raise ConfideTypeError(
            "windows must be a non-empty mapping of monitor name to (reference, current), got "
            f"{type(windows).__name__}."
        )
    names_m = _check_methods(methods)
    a = check_alpha(alpha)
    corr = _check_correction(correction)
    names: list[str] = []
    results: list[DriftTestResult] = []
    for key, pair in windows.items():
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ConfideTypeError(f"windows[{key!r}] must be a (reference, current) pair.")
        try:
            results += _run_on_pair(pair[0], pair[1], names_m, a, options or {})
        except ValidationError as exc:
            raise type(exc)(f"monitor {key!r}: {exc}") from None
        names += [f"{key}/{m}" for m in names_m]
    return _report(names, results, a, corr)
