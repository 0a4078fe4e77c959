r"""The arithmetic of confidence-based performance estimation (CBPE) on one chunk.

Three things per metric, all vectorised over samples:

* the **estimate**: the metric with every count replaced by its expectation under the model's
  calibrated probabilities (a ratio of expectations, as NannyML);
* the **realised** value from labels, written as a function of a few sums of labels so that one
  matrix product evaluates it for one label vector or for ``B`` simulated ones at once;
* the **spread** of the realised value that sampling alone causes when the labels really are
  drawn from the probabilities (``y_i ~ Bernoulli(p_i)`` independently): exact or delta-method
  variances (``analytic``), or a seeded parametric bootstrap (``bootstrap``).

Binary notation: ``p_i = P(y_i = 1)`` (calibrated), ``ŷ_i \in \{0, 1\}`` the model's prediction,
``v_i = p_i (1 - p_i)``, ``A = \sum ŷ_i y_i`` (TP), ``B = \sum (1 - ŷ_i) y_i`` (FN),
``m = \sum ŷ_i`` (predicted positives). ``A`` and ``B`` are independent sums of Bernoullis with
variances ``V_A = \sum_{ŷ=1} v_i``, ``V_B = \sum_{ŷ=0} v_i``.

ROC AUC from centred mid-ranks ``c_i = r_i - (n + 1)/2`` of the model's score:
``AUC = 1/2 + C / (N_1 (n - N_1))`` with ``C = \sum c_i y_i`` and ``N_1 = \sum y_i`` (exact with
ties counted 1/2, the Mann-Whitney statistic).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import rankdata

__all__ = [
    "METRICS",
    "analytic_std",
    "bootstrap_draws",
    "expected",
    "realised",
]

METRICS = ("accuracy", "precision", "recall", "specificity", "f1", "roc_auc")

#: Elements of a simulated label block (bounds the bootstrap's memory to a few tens of MB).
_BLOCK_ELEMENTS = 1 << 22


def _ratio(num: Any, den: Any) -> np.ndarray:
    """``num / den`` where ``den > 0``, NaN elsewhere (no warning)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    ok = den > 0
    return np.where(ok, num / np.where(ok, den, 1.0), np.nan)


def _nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    """Mean over ``axis`` ignoring NaN; NaN where every entry is NaN (no warning)."""
    ok = np.isfinite(values)
    total = np.where(ok, values, 0.0).sum(axis=axis)
    count = ok.sum(axis=axis)
    return _ratio(total, count)


def centred_ranks(score: np.ndarray) -> np.ndarray:
    """Mid-ranks minus their mean ``(n + 1) / 2``, per column for 2-D input (float64)."""
    r = rankdata(score, method="average", axis=0).astype(np.float64)
    return r - 0.5 * (score.shape[0] + 1)


# -- the estimate --------------------------------------------------------------------------------
def expected_auc(p: np.ndarray, score: np.ndarray) -> float:
    r"""Expected AUROC of ``score`` when ``y_i ~ Bernoulli(p_i)``, as a ratio of expectations.

    .. math:: \widehat{\mathrm{AUC}} = \frac{\sum_{i \ne j} p_i (1 - p_j)
        \big([s_i > s_j] + \tfrac12 [s_i = s_j]\big)}{\sum_{i \ne j} p_i (1 - p_j)}
        = \frac{\mathrm E[U]}{\mathrm E[N_1 N_0]}

    with ``U`` the Mann-Whitney count of the realised labels (ties 1/2) and ``N_1``, ``N_0`` the
    numbers of positives and negatives. Sorted once; tied scores are pooled so the value does
    not depend on row order.

    Why the pairs ``i = j`` are left out. The realised AUC is ``U / (N_1 N_0)`` and the target
    of the estimate is its expectation under the calibrated probabilities. A sample is never
    both positive and negative, so neither ``U`` nor ``N_1 N_0`` contains a self pair, and the
    ratio above has the exact expectations of both: ``E[N_1 N_0] = P N - \sum p_i (1 - p_i)``
    (``P = \sum p_i``, ``N = n - P``), since ``Cov(N_1, N_0) = -Var(N_1)``; the remaining
    gap to ``E[U / (N_1 N_0)]`` is second order in the fluctuations of ``U`` and ``N_1 N_0``
    (delta method; A. Stuart and J. K. Ord, *Kendall's Advanced Theory of Statistics* 1,
    ch. 10). NannyML's cumulative-sum form (each sample a positive of weight ``p_i`` and a
    negative of weight ``1 - p_i``, trapezoidal ROC) keeps the self pairs
    in both sums, ``(\mathrm E[U] + \tfrac12 \sum p_i (1 - p_i)) / (P N)``: it equals the
    plug-in ``1/2 + \mathrm E[C] / (P N)`` of the centred-rank form of the module docstring
    and is pulled towards 1/2 by ``O(1/n)`` (about ``4 \cdot 10^{-5}`` at ``n = 5000`` on the
    census data of ``bench/monitor_cbpe_bench.py``). Against the exact expectation, enumerated
    over all label vectors, the ratio is the closer of the two
    (``tests/monitor/test_monitor_cbpe_auc.py``). Ties in ``score`` are counted 1/2 exactly as
    in the realised AUC (not split by row order as a trapezoid over unpooled points would).
    """
    order = np.argsort(score, kind="stable")
    s = score[order]
    q = p[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(s)) + 1))
    pos = np.add.reduceat(q, starts)
    neg = np.add.reduceat(1.0 - q, starts)
    below = np.cumsum(neg) - neg
    self_pairs = float(np.dot(q, 1.0 - q))
    num = float(np.dot(pos, below + 0.5 * neg)) - 0.5 * self_pairs
    den = float(pos.sum()) * float(neg.sum()) - self_pairs
    return float(_ratio(num, den))


def _expected_binary(p: np.ndarray, yhat: np.ndarray, score: np.ndarray | None) -> dict[str, float]:
    n = p.shape[0]
    m = float(yhat.sum())
    etp = float(np.dot(p, yhat))
    en1 = float(p.sum())
    efn = en1 - etp
    efp = m - etp
    etn = n - m - efn
    out = {
        "accuracy": (etp + etn) / n,
        "precision": float(_ratio(etp, m)),
        "recall": float(_ratio(etp, en1)),
        "specificity": float(_ratio(etn, etn + efp)),
        "f1": float(_ratio(2.0 * etp, m + en1)),
    }
    if score is not None:
        out["roc_auc"] = expected_auc(p, score)
    return out


def expected(
    p: np.ndarray, yhat: np.ndarray, score: np.ndarray, metrics: tuple[str, ...]
) -> dict[str, float]:
    """Estimated metrics of one chunk: binary (1-D ``p``) or macro one-vs-rest (2-D)."""
    want_auc = "roc_auc" in metrics
    if p.ndim == 1:
        out = _expected_binary(p, yhat.astype(np.float64), score if want_auc else None)
        return {m: out[m] for m in metrics}
    k = p.shape[1]
    res: dict[str, float] = {}
    if "accuracy" in metrics:
        res["accuracy"] = float(np.take_along_axis(p, yhat[:, None], axis=1).mean())
    per_class = [
        _expected_binary(p[:, j], (yhat == j).astype(np.float64), score[:, j] if want_auc else None)
        for j in range(k)
    ]
    for m in metrics:
        if m != "accuracy":
            res[m] = float(_nanmean(np.array([d[m] for d in per_class]), axis=0))
    return res


# -- realised values, for one label vector or many ------------------------------------------------
def _binary_from_labels(
    y: np.ndarray, yhat: np.ndarray, c: np.ndarray | None, metrics: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Metrics of ``B`` label vectors ``y`` ((B, n) float 0/1) at once."""
    n = y.shape[1]
    m = float(yhat.sum())
    n1 = y.sum(axis=1)
    tp = y @ yhat
    fn = n1 - tp
    fp = m - tp
    tn = n - m - fn
    out: dict[str, np.ndarray] = {}
    for name in metrics:
        if name == "accuracy":
            out[name] = (tp + tn) / n
        elif name == "precision":
            out[name] = _ratio(tp, np.full_like(tp, m))
        elif name == "recall":
            out[name] = _ratio(tp, n1)
        elif name == "specificity":
            out[name] = _ratio(tn, tn + fp)
        elif name == "f1":
            out[name] = _ratio(2.0 * tp, m + n1)
        elif name == "roc_auc" and c is not None:
            out[name] = 0.5 + _ratio(y @ c, n1 * (n - n1))
    return out


def realised_from_labels(
    labels: np.ndarray, yhat: np.ndarray, c: np.ndarray | None, k: int, metrics: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Metrics of ``B`` label vectors ``labels`` ((B, n) ints).

    ``k = 0`` means binary (1-D probabilities, ``c`` of shape (n,)); otherwise ``k`` classes and
    ``c`` of shape (n, k). ``c`` (centred ranks) is needed only for ``"roc_auc"``.
    """
    if k == 0:
        return _binary_from_labels(labels.astype(np.float64), yhat.astype(np.float64), c, metrics)
    out: dict[str, np.ndarray] = {}
    if "accuracy" in metrics:
        out["accuracy"] = (labels == yhat[None, :]).mean(axis=1)
    rest = tuple(m for m in metrics if m != "accuracy")
    if rest:
        per_class = [
            _binary_from_labels(
                (labels == j).astype(np.float64),
                (yhat == j).astype(np.float64),
                None if c is None else c[:, j],
                rest,
            )
            for j in range(k)
        ]
        for m in rest:
            out[m] = _nanmean(np.stack([d[m] for d in per_class]), axis=0)
    return out


def realised(
    y: np.ndarray, yhat: np.ndarray, score: np.ndarray, metrics: tuple[str, ...]
) -> dict[str, float]:
    """Metrics of one chunk from its true labels (same conventions as the estimate)."""
    k = 0 if score.ndim == 1 else score.shape[1]
    c = centred_ranks(score) if "roc_auc" in metrics else None
    vals = realised_from_labels(y[None, :], yhat, c, k, metrics)
    return {m: float(v[0]) for m, v in vals.items()}


# -- spread under the model -----------------------------------------------------------------------
def bootstrap_draws(
    p: np.ndarray,
    yhat: np.ndarray,
    score: np.ndarray,
    metrics: tuple[str, ...],
    n_resamples: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Realised metrics of ``n_resamples`` label vectors drawn from ``p`` (parametric bootstrap).

    Labels are drawn in blocks of at most ``2**22`` elements (``y = [u < p]`` for binary; the
    inverse CDF of each row for multiclass), so memory stays bounded whatever the chunk size.
    """
    n = p.shape[0]
    k = 0 if p.ndim == 1 else p.shape[1]
    c = centred_ranks(score) if "roc_auc" in metrics else None
    cum = None if p.ndim == 1 else np.cumsum(p, axis=1)
    block = max(1, _BLOCK_ELEMENTS // (n * max(k, 1)))
    parts: list[dict[str, np.ndarray]] = []
    for start in range(0, n_resamples, block):
        b = min(block, n_resamples - start)
        if cum is None:
            labels = (rng.random((b, n)) < p[None, :]).astype(np.intp)
        else:
            u = rng.random((b, n, 1))
            labels = np.minimum((u >= cum[None, :, :]).sum(axis=2), k - 1)
        parts.append(realised_from_labels(labels, yhat, c, k, metrics))
    return {m: np.concatenate([d[m] for d in parts]) for m in metrics}


def _delta_ratio(a: float, b: float, va: float, vb: float) -> float:
    """Delta-method variance of ``A / (A + B)`` for independent ``A``, ``B``."""
    t = a + b
    if t <= 0:
        return float("nan")
    return (b * b * va + a * a * vb) / t**4


def _binary_analytic(p: np.ndarray, yhat: np.ndarray, score: np.ndarray, metric: str) -> float:
    n = p.shape[0]
    v = p * (1.0 - p)
    pos = yhat == 1
    m = float(pos.sum())
    ea = float(p[pos].sum())
    eb = float(p[~pos].sum())
    va = float(v[pos].sum())
    vb = float(v[~pos].sum())
    if metric == "accuracy":
        return float(v.sum()) / n**2
    if metric == "precision":
        return va / m**2 if m > 0 else float("nan")
    if metric == "recall":
        return _delta_ratio(ea, eb, va, vb)
    if metric == "specificity":  # TN / (TN + FP): TN from ŷ=0, FP from ŷ=1, independent
        return _delta_ratio((n - m) - eb, m - ea, vb, va)
    if metric == "f1":  # 2A / (m + A + B)
        den = m + ea + eb
        if den <= 0:
            return float("nan")
        return 4.0 * ((m + eb) ** 2 * va + ea**2 * vb) / den**4
    # roc_auc: g = C / (N1 (n - N1)), C = sum c y
    c = centred_ranks(score)
    ec = float(np.dot(c, p))
    en = float(p.sum())
    d = en * (n - en)
    if d <= 0:
        return float("nan")
    gc = 1.0 / d
    gn = -ec * (n - 2.0 * en) / d**2
    var_c = float(np.dot(c * c, v))
    cov = float(np.dot(c, v))
    return gc * gc * var_c + gn * gn * float(v.sum()) + 2.0 * gc * gn * cov


def analytic_std(p: np.ndarray, yhat: np.ndarray, score: np.ndarray, metric: str) -> float | None:
    """Standard deviation of the realised metric under the model, or None where no closed
    form is implemented (multiclass recall, specificity, F1 and ROC AUC: use the bootstrap).

    Binary: accuracy and precision exactly (sums of independent Bernoullis); recall,
    specificity, F1 and ROC AUC by the delta method on independent sums. Multiclass: accuracy
    exactly (``Var = \\sum c_i (1 - c_i) / n^2`` with ``c_i = p_{i, ŷ_i}``); macro precision
    exactly (the per-class precisions use disjoint samples, so they are independent).
    """
    if p.ndim == 1:
        var = _binary_analytic(p, yhat, score, metric)
        return float(np.sqrt(var)) if np.isfinite(var) else float("nan")
    n, k = p.shape
    if metric == "accuracy":
        ci = np.take_along_axis(p, yhat[:, None], axis=1)[:, 0]
        return float(np.sqrt(np.dot(ci, 1.0 - ci))) / n
    if metric == "precision":
        counts = np.bincount(yhat, minlength=k).astype(np.float64)
        pc = np.take_along_axis(p, yhat[:, None], axis=1)[:, 0]
        var_sum = np.bincount(yhat, weights=pc * (1.0 - pc), minlength=k)
        defined = counts > 0
        kk = int(defined.sum())
        return float(np.sqrt(np.sum(var_sum[defined] / counts[defined] ** 2))) / kk
    return None
