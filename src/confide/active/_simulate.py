"""Pool-based active-learning simulation with any fit / predict_proba classifier (private)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from confide._typing import BoolArray, FloatArray, IntArray
from confide._validation import (
    as_float_array,
    check_choice,
    check_fraction,
    check_positive_int,
)
from confide.active._inputs import check_features
from confide.active._results import ActiveLearningResult, LearningCurve, t_interval
from confide.active._select import STRATEGIES, select
from confide.exceptions import ConfideTypeError, ShapeError, ValidationError
from confide.metrics import accuracy, ece

__all__ = ["estimator_factory", "simulate_active_learning"]

Progress = Callable[[int, int], None]


def estimator_factory(estimator: Any) -> Callable[[], Any]:
    """A zero-argument callable returning a fresh, unfitted estimator.

    * an object with ``get_params`` (scikit-learn style) is rebuilt as
      ``type(est)(**est.get_params(deep=False))`` (nested estimators are shared, not copied:
      pass a factory for meta-estimators);
    * a class, or any other callable without ``fit``, is taken as the factory itself.
    """
    if isinstance(estimator, type):  # a class: called with no arguments
        return estimator
    if hasattr(estimator, "get_params") and hasattr(estimator, "fit"):
        cls, params = type(estimator), dict(estimator.get_params(deep=False))
        return lambda: cls(**params)
    if callable(estimator) and not hasattr(estimator, "fit"):
        return estimator
    raise ConfideTypeError(
        f"estimator must be a scikit-learn-style object with get_params/fit/predict_proba or a "
        f"zero-argument factory returning one; got {type(estimator).__name__}."
    )


def _full_proba(model: Any, X: FloatArray, n_classes: int) -> FloatArray:
    """``predict_proba`` with one column per class ``0..n_classes-1`` (unseen classes get 0)."""
    p = np.asarray(model.predict_proba(X), dtype=np.float64)
    classes = getattr(model, "classes_", None)
    if classes is None:
        if p.shape[1] != n_classes:
            raise ShapeError(
                f"predict_proba returned {p.shape[1]} columns for {n_classes} classes and the "
                "model has no classes_ attribute to map them."
            )
        return p
    full = np.zeros((p.shape[0], n_classes))
    full[:, np.asarray(classes, dtype=np.intp)] = p
    return full


def _initial_set(rng: np.random.Generator, y: IntArray, size: int) -> IntArray:
    """A uniform draw of ``size`` pool items, with one swap if it holds a single class."""
    perm = rng.permutation(y.shape[0])
    init = perm[:size].copy()
    if np.unique(y[init]).shape[0] < 2:
        other = np.flatnonzero(y[perm[size:]] != y[init[0]])
        if other.shape[0] == 0:
            raise ValidationError("the pool holds a single class; active learning needs two.")
        init[-1] = perm[size + int(other[0])]
    out: IntArray = init
    return out


def _schedule(initial_size: int, budget: int, batch_size: int) -> tuple[int, ...]:
    sizes = [*range(initial_size, budget, batch_size), budget]
    return tuple(dict.fromkeys(sizes))


def _bagged_samples(
    make: Callable[[], Any],
    X: FloatArray,
    y: IntArray,
    mask: BoolArray,
    n_classes: int,
    n_members: int,
    rng: np.random.Generator,
) -> FloatArray:
    """Query-by-bagging: ``n_members`` models fit on bootstrap resamples of the labelled set."""
    lab = np.flatnonzero(mask)
    out = np.empty((n_members, X.shape[0], n_classes))
    for m in range(n_members):  # a loop over ensemble members
        boot = lab[rng.integers(0, lab.shape[0], lab.shape[0])]
        if np.unique(y[boot]).shape[0] < 2:
            boot = lab
        out[m] = _full_proba(make().fit(X[boot], y[boot]), X, n_classes)
    return out


def _check_data(X: Any, y: Any, name: str) -> tuple[FloatArray, np.ndarray]:
    Xa = as_float_array(X, f"X{name}", ndim=2).astype(np.float64, copy=False)
    ya = np.asarray(y)
    if ya.ndim != 1 or ya.shape[0] != Xa.shape[0]:
        raise ShapeError(f"y{name} must be 1-D with one label per row of X{name} ({Xa.shape[0]}).")
    return Xa, ya


def simulate_active_learning(
    estimator: Any,
    X: Any,
    y: Any,
    strategy: str,
    *,
    budget: int,
    batch_size: int,
    initial_size: int,
    X_test: Any = None,
    y_test: Any = None,
    test_size: float = 0.25,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    features: Any = None,
    uncertainty: str = "margin",
    n_members: int = 5,
    n_bins: int = 15,
    confidence_level: float = 0.95,
    progress: Progress | None = None,
) -> ActiveLearningResult:
    r"""Simulate pool-based active learning: label ``batch_size`` items per round up to ``budget``.

    For each seed: hold out a test split (``test_size`` of the rows, drawn with the seed) unless
    ``X_test``/``y_test`` are given; draw ``initial_size`` labelled items uniformly from the pool
    (swapping one item in if the draw holds a single class); then repeat *fit on the labelled
    items → measure test accuracy and top-label ECE (:func:`confide.metrics.ece`, ``n_bins``
    uniform bins) → :func:`~confide.active.select` the next batch* until ``budget`` labels
    (initial set included) are used. The split and initial set depend on the seed only, so
    every strategy run with the same seeds sees the same data.

    The per-round means over seeds carry a Student-t interval
    :math:`\bar a \pm t_{(1+c)/2,\,s-1}\,\hat\sigma/\sqrt{s}`.

    Parameters
    ----------
    estimator : object or callable
        Either a scikit-learn-style classifier with ``get_params``, ``fit`` and
        ``predict_proba`` (rebuilt per fit as ``type(est)(**est.get_params(deep=False))``), or a
        zero-argument factory (a class or function) returning such an unfitted object. Labels are encoded as
        ``0..K-1`` before fitting; ``classes_``, when present, maps the probability columns.
    X, y : array_like, shapes (n, d) and (n,)
        Pool features and labels (any hashable labels).
    strategy : str
        One of :data:`confide.active.STRATEGIES`. ``"bald"`` (or ``uncertainty="bald"``)
        uses ``n_members`` models fit on bootstrap resamples of the labelled set
        (query-by-bagging, Abe & Mamitsuka 1998) as the ensemble.
    budget, batch_size, initial_size : int
        Total labels (``initial_size <= budget <= pool size``), labels per round, seed-set size
        (``>= 2``).
    X_test, y_test : array_like, optional
        A fixed test set (then every row of X is in the pool).
    test_size : float, default 0.25
        Fraction held out per seed when no test set is given.
    seeds : sequence of int, default (0, 1, 2, 3, 4)
    features : array_like, shape (n, d'), optional
        Rows aligned with ``X`` used as embeddings by the k-center strategies (default ``X``).
    uncertainty : str, default "margin"
        Score of ``weighted_kcenter`` / ``margin_kcenter``.
    n_members : int, default 5
    n_bins : int, default 15
    confidence_level : float, default 0.95
    progress : callable(done, total), optional
        Called after every round (for a progress bar).

    Returns
    -------
    ActiveLearningResult
        Learning curves per seed, their means with t intervals, ``labels_to_reach``.

    References
    ----------
    .. [1] B. Settles, "Active Learning Literature Survey", 2009.
    .. [2] N. Abe, H. Mamitsuka, "Query Learning Strategies Using Boosting and Bagging",
       ICML 1998.
    """
    check_choice(strategy, "strategy", STRATEGIES)
    make = estimator_factory(estimator)
    Xa, ya = _check_data(X, y, "")
    if (X_test is None) != (y_test is None):
        raise ValidationError("pass both X_test and y_test, or neither (a split is drawn).")
    level = check_fraction(confidence_level, "confidence_level")
    budget = check_positive_int(budget, "budget", minimum=2)
    batch_size = check_positive_int(batch_size, "batch_size")
    initial_size = check_positive_int(initial_size, "initial_size", minimum=2)
    n_members = check_positive_int(n_members, "n_members", minimum=2)
    if initial_size > budget:
        raise ValidationError(f"initial_size={initial_size} exceeds budget={budget}.")
    seeds_t = tuple(int(s) for s in seeds)
    if not seeds_t:
        raise ValidationError("seeds is empty; pass at least one seed, e.g. (0, 1, 2, 3, 4).")
    feats = Xa if features is None else check_features(features, Xa.shape[0])
    if X_test is not None:
        Xt_fixed, yt_raw = _check_data(X_test, y_test, "_test")
        classes, codes = np.unique(np.concatenate([ya, yt_raw]), return_inverse=True)
        y_all, yt_fixed = codes[: ya.shape[0]], codes[ya.shape[0] :]
        if Xt_fixed.shape[1] != Xa.shape[1]:
            raise ShapeError(f"X_test has {Xt_fixed.shape[1]} columns, X has {Xa.shape[1]}.")
    else:
        check_fraction(test_size, "test_size")
        classes, y_all = np.unique(ya, return_inverse=True)
    n_classes = int(classes.shape[0])
    n_pool = Xa.shape[0] if X_test is not None else Xa.shape[0] - round(test_size * Xa.shape[0])
    if n_pool >= Xa.shape[0] and X_test is None:
        raise ValidationError(f"test_size={test_size} leaves no test rows out of {Xa.shape[0]}.")
    if budget > n_pool:
        raise ValidationError(f"budget={budget} exceeds the {n_pool} items in the pool.")
    sizes = _schedule(initial_size, budget, batch_size)
    bagged = strategy == "bald" or (strategy.endswith("kcenter") and uncertainty == "bald")
    curves = []
    done, total = 0, len(sizes) * len(seeds_t)
    for seed in seeds_t:  # a loop over seeds and rounds; each round is vectorised
        rng = np.random.default_rng(seed)
        if X_test is None:
            perm = rng.permutation(Xa.shape[0])
            test, pool = perm[: Xa.shape[0] - n_pool], perm[Xa.shape[0] - n_pool :]
            Xt, yt = Xa[test], y_all[test]
        else:
            pool = np.arange(Xa.shape[0])
            Xt, yt = Xt_fixed, yt_fixed
        Xp, yp, fp = Xa[pool], y_all[pool], feats[pool]
        mask = np.zeros(n_pool, dtype=bool)
        mask[_initial_set(rng, yp, initial_size)] = True
        sel_rng = np.random.default_rng([seed, 1])
        accs, eces = [], []
        for r, size in enumerate(sizes):
            model = make().fit(Xp[mask], yp[mask])
            pt = _full_proba(model, Xt, n_classes)
            accs.append(accuracy(yt, pt))
            eces.append(ece(yt, pt, n_bins=n_bins))
            if r + 1 < len(sizes):
                samples = (
                    _bagged_samples(make, Xp, yp, mask, n_classes, n_members, sel_rng)
                    if bagged
                    else None
                )
                sel = select(
                    strategy,
                    sizes[r + 1] - size,
                    probs=_full_proba(model, Xp, n_classes),
                    samples=samples,
                    features=fp if strategy.endswith("kcenter") else None,
                    labeled_mask=mask,
                    seed=sel_rng,
                    uncertainty=uncertainty,
                )
                mask[sel.indices] = True
            done += 1
            if progress is not None:
                progress(done, total)
        curves.append(LearningCurve(seed, sizes, tuple(accs), tuple(eces)))
    return _summarise(strategy, seeds_t, sizes, curves, level)


def _summarise(
    strategy: str,
    seeds: tuple[int, ...],
    sizes: tuple[int, ...],
    curves: list[LearningCurve],
    level: float,
) -> ActiveLearningResult:
    acc = [t_interval([c.accuracy[r] for c in curves], level) for r in range(len(sizes))]
    cal = [t_interval([c.ece[r] for c in curves], level) for r in range(len(sizes))]
    return ActiveLearningResult(
        strategy=strategy,
        seeds=seeds,
        n_labels=sizes,
        curves=tuple(curves),
        mean_accuracy=tuple(a[0] for a in acc),
        accuracy_low=tuple(a[1] for a in acc),
        accuracy_high=tuple(a[2] for a in acc),
        mean_ece=tuple(a[0] for a in cal),
        ece_low=tuple(a[1] for a in cal),
        ece_high=tuple(a[2] for a in cal),
        confidence_level=level,
    )
