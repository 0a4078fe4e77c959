"""Choose a calibration method by cross-validation: :func:`select_calibrator`.

Every candidate method is fitted on ``cv - 1`` folds of the calibration set and applied to the
held-out fold; the out-of-fold calibrated probabilities of all folds are pooled and scored
(NLL, ECE, Brier) with paired bootstrap intervals. The uncalibrated scores are scored the same
way as the baseline row ``"none"``. The method with the best point estimate of the chosen
criterion is refitted on all the data and returned.

The folds are stratified and seeded, written with NumPy (the numerical core does not depend on
scikit-learn).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.special import expit, softmax

from confide._validation import (
    as_float_array,
    as_label_array,
    check_choice,
    check_consistent_length,
    check_fraction,
    check_positive_int,
    check_probabilities,
    check_sample_weight,
)
from confide.calibration._base import _REGISTRY, Calibrator, registered_methods
from confide.exceptions import ConfideTypeError, ValidationError
from confide.metrics import bootstrap_ci, brier_score, ece, log_loss

__all__ = ["CalibratorSelection", "CandidateScore", "select_calibrator"]

#: Name of the uncalibrated baseline row of the table.
BASELINE = "none"
#: Criteria :func:`select_calibrator` can rank by (all are "lower is better").
CRITERIA = ("nll", "ece", "brier")
#: Clip of the true-class probability in the NLL, so that a single probability of exactly 0
#: (which histogram or isotonic methods can produce) gives a large but finite loss.
NLL_CLIP = 1e-15
#: Bootstrap resamples per metric and candidate.
N_RESAMPLES = 200


@dataclass(frozen=True)
class CandidateScore:
    """Out-of-fold scores of one method, each with its bootstrap interval ``[low, high]``.

    A method that could not be fitted (or applied) on this data has every number ``None`` and
    the error message in ``error``.
    """

    method: str
    nll: float | None
    nll_low: float | None
    nll_high: float | None
    ece: float | None
    ece_low: float | None
    ece_high: float | None
    brier: float | None
    brier_low: float | None
    brier_high: float | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def value(self, criterion: str) -> float:
        """Point estimate of ``criterion`` (``inf`` for a failed method)."""
        v = getattr(self, criterion)
        return math.inf if v is None else float(v)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CalibratorSelection:
    """Result of :func:`select_calibrator`.

    ``best`` is the chosen calibrator refitted on all the data, ``method`` its name,
    ``criterion`` what it was chosen by and ``table`` one :class:`CandidateScore` per candidate
    (the ``"none"`` baseline first, then the methods in the order they were tried).
    """

    best: Calibrator
    method: str
    criterion: str
    table: tuple[CandidateScore, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary: the chosen method, the criterion and the table (not the fit)."""
        return {
            "method": self.method,
            "criterion": self.criterion,
            "table": [row.to_dict() for row in self.table],
        }

    def render(self) -> str:
        """The table as plain text; the chosen method is marked with ``*``."""
        header = f"{'':2}{'method':<22}{'NLL [CI]':>30}{'ECE [CI]':>30}{'Brier [CI]':>30}"
        lines = [f"calibrator selection by {self.criterion} (lower is better)", header]
        for row in self.table:
            mark = "* " if row.method == self.method else "  "
            if not row.ok:
                lines.append(f"{mark}{row.method:<22}  failed: {row.error}")
                continue
            cells = "".join(
                f"{_cell(getattr(row, m), getattr(row, m + '_low'), getattr(row, m + '_high')):>30}"
                for m in CRITERIA
            )
            lines.append(f"{mark}{row.method:<22}{cells}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


def _cell(v: float | None, lo: float | None, hi: float | None) -> str:
    return f"{v:.4f} [{lo:.4f}, {hi:.4f}]"


def stratified_folds(y: np.ndarray, cv: int, seed: int) -> np.ndarray:
    """Fold index (``0..cv-1``) of every sample: classes spread evenly over the folds.

    Within each class the samples are shuffled with ``seed``; walking through the classes in
    turn, consecutive samples go to consecutive folds, so every fold gets ``floor`` or ``ceil``
    of ``n_c / cv`` samples of each class ``c`` and the fold sizes differ by at most one.
    """
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(np.flatnonzero(y == c)) for c in np.unique(y)])
    folds = np.empty(y.shape[0], dtype=np.intp)
    folds[order] = np.arange(order.shape[0]) % cv
    return folds


def _check_methods(methods: Iterable[str] | None, multiclass: bool) -> tuple[str, ...]:
    known = registered_methods()
    if methods is None:
        return tuple(m for m in known if not multiclass or _REGISTRY[m].supports_multiclass)
    if isinstance(methods, str):
        methods = (methods,)
    chosen = tuple(methods)
    if not chosen:
        raise ValidationError("methods is empty: name at least one calibration method.")
    unknown = [m for m in chosen if m not in _REGISTRY]
    if unknown:
        raise ValidationError(
            f"unknown calibration method(s) {unknown}; known methods are {', '.join(known)}."
        )
    if len(set(chosen)) != len(chosen):
        raise ValidationError(f"methods lists a method twice: {list(chosen)}.")
    return chosen


def _uncalibrated(x: np.ndarray, input: str) -> np.ndarray:
    if input == "probs":
        return x
    return expit(x) if x.ndim == 1 else softmax(x, axis=1)


_METRICS: dict[str, tuple[Callable[..., float], dict[str, Any]]] = {
    "nll": (log_loss, {"clip": NLL_CLIP}),
    "ece": (ece, {}),
    "brier": (brier_score, {}),
}


def _score(
    method: str,
    y: np.ndarray,
    prob: np.ndarray,
    w: np.ndarray | None,
    level: float,
    seed: int,
) -> CandidateScore:
    values: dict[str, float] = {}
    for name, (metric, kwargs) in _METRICS.items():
        ci = bootstrap_ci(
            metric,
            y,
            prob,
            n_resamples=N_RESAMPLES,
            confidence_level=level,
            seed=seed,  # the same seed for every candidate: paired resamples
            sample_weight=w,
            **kwargs,
        )
        values[name] = ci.estimate
        # quantiles can fall a rounding error outside the point estimate's side
        values[name + "_low"] = min(ci.low, ci.estimate)
        values[name + "_high"] = max(ci.high, ci.estimate)
    return CandidateScore(method=method, error=None, **values)


def _failed(method: str, exc: BaseException) -> CandidateScore:
    none: dict[str, Any] = {f"{m}{s}": None for m in CRITERIA for s in ("", "_low", "_high")}
    return CandidateScore(method=method, error=f"{type(exc).__name__}: {exc}", **none)


def select_calibrator(
    scores: Any,
    y: Any,
    *,
    input: str = "logits",
    methods: Iterable[str] | None = None,
    cv: int = 5,
    criterion: str = "nll",
    confidence_level: float = 0.95,
    seed: int = 0,
    sample_weight: Any = None,
) -> CalibratorSelection:
    """Pick the calibration method that does best out of fold, and fit it on all the data.

    Parameters
    ----------
    scores : array of shape (n,) or (n, k)
        Logits or probabilities (see ``input``), as for any :class:`Calibrator`.
    y : array of shape (n,)
        True labels ``0..k-1`` (``{0, 1}`` for 1-D scores).
    input : {"logits", "probs"}
    methods : iterable of str, optional
        Method names (:func:`registered_methods`). Default: every registered method that
        applies to the scores (methods without ``supports_multiclass`` are left out for
        ``(n, k)`` scores with ``k > 2``).
    cv : int, default 5
        Number of stratified folds; every class needs at least ``cv`` samples.
    criterion : {"nll", "ece", "brier"}
        Ranks the methods by the point estimate of this out-of-fold metric (lower is better).
        NLL is :func:`confide.metrics.log_loss` with ``clip=1e-15``: a method that gives one
        sample's true class probability 0 gets a large finite loss instead of ``inf``, so the
        methods stay comparable. ECE is :func:`confide.metrics.ece` (15 uniform bins, top-label).
    confidence_level : float, default 0.95
        Level of the percentile bootstrap intervals (200 resamples). The resamples are the
        same for every method (one ``seed``), so the intervals are paired.
    seed : int, default 0
        Seeds the folds and the bootstrap: the same seed gives the same selection.
    sample_weight : array of shape (n,), optional
        Passed to every fit and every metric.

    Returns
    -------
    CalibratorSelection
        ``best`` (refitted on all data), ``method``, ``criterion`` and the ``table`` with the
        uncalibrated baseline ``"none"`` first. ``"none"`` is a reference only and is never
        chosen. A method that raises a ``ValueError`` on this data (too few samples, a fit
        that does not converge, ...) keeps its row with the error message and is never chosen.

    Raises
    ------
    ValidationError
        Bad ``cv``, ``criterion``, method names or confidence level; a class with fewer than
        ``cv`` samples; or every method failed.
    """
    input = check_choice(input, "input", ("logits", "probs"))
    criterion = check_choice(criterion, "criterion", CRITERIA)
    cv = check_positive_int(cv, "cv", minimum=2)
    level = check_fraction(confidence_level, "confidence_level")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ConfideTypeError(f"seed must be an integer, got {seed!r}.")
    seed = int(seed)

    if input == "probs":
        x = check_probabilities(scores, "scores").astype(np.float64, copy=False)
    else:
        x = as_float_array(scores, "scores", ndim=(1, 2)).astype(np.float64, copy=False)
    n = check_consistent_length(scores=x, y=y, sample_weight=sample_weight)
    labels = as_label_array(y, "y")
    w = check_sample_weight(sample_weight, n)
    k = 2 if x.ndim == 1 else x.shape[1]
    names = _check_methods(methods, multiclass=k > 2)

    classes, counts = np.unique(labels, return_counts=True)
    if classes.size and counts.min() < cv:
        c = int(classes[np.argmin(counts)])
        raise ValidationError(
            f"cv={cv} stratified folds need at least {cv} samples of every class; class {c} has "
            f"only {int(counts.min())}. Lower cv to at most {int(counts.min())} (and at least 2) "
            "or collect more calibration data."
        )
    folds = stratified_folds(labels, cv, seed)

    # the baseline: validates y against the scores as the metrics see it
    table = [_score(BASELINE, labels, _uncalibrated(x, input), w, level, seed)]
    for name in names:
        cls = _REGISTRY[name]
        oof = np.empty_like(x)
        try:
            for f in range(cv):
                test = folds == f
                train = ~test
                cal = cls(input=input)
                cal.fit(x[train], labels[train], sample_weight=None if w is None else w[train])
                oof[test] = cal.predict_proba(x[test])
            row = _score(name, labels, oof, w, level, seed)
        except ValueError as exc:  # confide's ValidationError, LinAlgError, ... are ValueErrors
            row = _failed(name, exc)
        table.append(row)

    ranked = sorted((r for r in table[1:] if r.ok), key=lambda r: r.value(criterion))
    errors: list[str] = []
    for row in ranked:
        try:
            best = _REGISTRY[row.method](input=input).fit(x, labels, sample_weight=w)
        except ValueError as exc:
            errors.append(f"{row.method}: refit on all data failed ({exc})")
            continue
        return CalibratorSelection(
            best=best, method=row.method, criterion=criterion, table=tuple(table)
        )
    errors = [f"{r.method}: {r.error}" for r in table[1:] if not r.ok] + errors
    raise ValidationError(
        "no calibration method could be fitted on this data:\n  " + "\n  ".join(errors)
    )
