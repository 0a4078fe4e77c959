r"""Confidence-based performance estimation (CBPE): a model's metrics without labels.

If a model's probabilities are calibrated, ``p_i = P(y_i = 1 | x_i)``, then every entry of the
confusion matrix has a known expectation on unlabelled data,

.. math:: E[\mathrm{TP}] = \sum_i p_i [\hat y_i = 1], \quad E[\mathrm{FP}] = \sum_i (1 - p_i)
    [\hat y_i = 1], \quad E[\mathrm{FN}] = \sum_i p_i [\hat y_i = 0], \quad
    E[\mathrm{TN}] = \sum_i (1 - p_i) [\hat y_i = 0],

and the metrics follow as ratios of these expectations (NannyML's CBPE). The ROC AUC is the
expected Mann-Whitney statistic: each sample counts as a positive with weight ``p_i`` and as a
negative with weight ``1 - p_i`` when ranked by the model's own score.

**What no label-free method can see.** The estimate is a function of the probabilities alone.
If the relation between inputs and labels changes while the inputs do not (concept shift:
``P(y | x)`` moves, ``P(x)`` stays), the probabilities are unchanged and so is every estimate,
while the true performance may collapse. CBPE is also only as good as the calibration of the
probabilities on the monitored data: under covariate shift a model calibrated on the reference
can become miscalibrated, and the estimate inherits that error. Realised values on the (late)
labels remain the ground truth; ``tests/monitor/test_monitor_cbpe.py`` pins the concept-shift
blind spot.

References
----------
NannyML (2022). Confidence-based Performance Estimation. https://nannyml.readthedocs.io
(the method; this module is an independent implementation with exact bands).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Self

import numpy as np

from confide._serialization import from_document, load_json, save_json, to_document
from confide._validation import (
    check_binary_labels,
    check_choice,
    check_consistent_length,
    check_labels,
    check_positive_int,
    check_probabilities,
)
from confide.calibration import Calibrator, IsotonicCalibration, TemperatureScaling, load
from confide.exceptions import SchemaError, ShapeError
from confide.metrics import assign_bins, quantile_edges
from confide.monitor._cbpe_metrics import realised
from confide.monitor._cbpe_run import (
    NotFittedError,
    apply_calibrator,
    check_common,
    check_metrics,
    check_predictions,
    run_estimate,
)
from confide.monitor._chunks import ChunksLike
from confide.monitor._estimate import PerformanceEstimate

__all__ = ["CBPE", "NotFittedError", "estimate_performance"]

DOCUMENT_KIND = "cbpe"


def estimate_performance(
    y_prob: Any,
    *,
    y_pred: Any = None,
    y_true: Any = None,
    chunks: ChunksLike = None,
    metrics: Any = ("accuracy", "roc_auc"),
    calibrator: Calibrator | None = None,
    threshold: float = 0.5,
    confidence_level: float = 0.95,
    interval: str = "analytic",
    n_resamples: int = 1000,
    random_state: int = 0,
) -> PerformanceEstimate:
    r"""Estimate a classifier's metrics per chunk from its probabilities alone (CBPE).

    With calibrated ``p`` and predictions ``ŷ``, the expected confusion counts are
    :math:`E[\mathrm{TP}] = \sum p_i[\hat y_i=1]`, :math:`E[\mathrm{FP}] = \sum (1-p_i)[\hat y_i=1]`,
    :math:`E[\mathrm{FN}] = \sum p_i[\hat y_i=0]`, :math:`E[\mathrm{TN}] = \sum (1-p_i)[\hat y_i=0]`;
    accuracy, precision, recall, specificity and F1 are ratios of these expectations, and the
    ROC AUC is the expected Mann-Whitney statistic of the model's score with sample ``i`` a
    positive of weight ``p_i`` and a negative of weight ``1 - p_i`` (pairs ``i = j`` excluded,
    ties 1/2). Multiclass ``(n, k)``: accuracy is the mean of ``p_{i, ŷ_i}`` (the mean maximum
    probability when ``ŷ`` is the argmax); the other metrics are macro one-vs-rest means over
    the classes where they are defined.

    A metric that is undefined on a chunk (precision with no predicted positive, ...) is NaN.
    The band is a prediction interval for the *realised* value that sampling alone allows if
    the probabilities are right (labels ``y_i ~ Bernoulli(p_i)``, or categorical):
    ``interval="analytic"`` uses the exact variance for accuracy (Poisson-binomial,
    :math:`\sum p_i(1-p_i)/n^2` in the binary case) and binary precision, the delta method for
    binary recall, specificity, F1 and ROC AUC, and a normal quantile; metrics without a closed
    form (multiclass recall, specificity, F1, ROC AUC) fall back to the bootstrap.
    ``interval="bootstrap"`` draws ``n_resamples`` label vectors (seeded, vectorised) and takes
    the quantiles of the realised metric. Neither band covers an error of calibration itself.

    **Blind spot**: a change of ``P(y | x)`` with unchanged inputs (concept shift) leaves the
    probabilities, hence every estimate, unchanged. See :mod:`confide.monitor._cbpe`.

    Parameters
    ----------
    y_prob : array of shape (n,) or (n, k)
        The model's probabilities: ``P(y = 1)`` or class probabilities. They rank samples for
        the ROC AUC and, unless ``y_pred`` is given, make the predictions.
    y_pred : array of shape (n,), optional
        The model's predictions; default ``y_prob > threshold`` (binary) or the argmax.
    y_true : array of shape (n,), optional
        Labels, when known: each row then also carries the realised value.
    chunks : None, int, array of keys or sequence of Chunk
        See :func:`confide.monitor._chunks.make_chunks`.
    metrics : sequence of str
        From ``"accuracy"``, ``"precision"``, ``"recall"``, ``"specificity"``, ``"f1"``,
        ``"roc_auc"``.
    calibrator : fitted Calibrator with ``input="probs"``, optional
        Applied to ``y_prob`` first; the estimate uses the calibrated probabilities, while the
        ranking (ROC AUC) and default predictions stay those of the raw ``y_prob`` (the model).
    threshold : float, default 0.5
        Binary decision threshold when ``y_pred`` is not given (class 1 iff ``p > threshold``).
    confidence_level : float, default 0.95
    interval : {"analytic", "bootstrap"}, default "analytic"
    n_resamples : int, default 1000
    random_state : int, default 0
        Seeds the bootstrap (one independent stream per chunk).

    Returns
    -------
    PerformanceEstimate

    References
    ----------
    NannyML (2022). Confidence-based Performance Estimation (CBPE).
    Hanley, J. A. and McNeil, B. J. (1982). The meaning and use of the area under a receiver
    operating characteristic (ROC) curve. Radiology 143(1), 29-36.
    """
    metrics = check_metrics(metrics)
    cl, iv, nr, th = check_common(confidence_level, interval, n_resamples, threshold)
    raw = check_probabilities(y_prob, "y_prob")
    raw = raw.astype(np.float64, copy=False)
    yhat = check_predictions(y_pred, raw, th)
    y = None
    if y_true is not None:
        check_consistent_length(y_prob=raw, y_true=y_true)
        y = check_binary_labels(y_true) if raw.ndim == 1 else check_labels(y_true, raw.shape[1])
    p = apply_calibrator(calibrator, raw)
    return run_estimate(raw, p, yhat, y, chunks, metrics, cl, iv, nr, int(random_state))


def _ece_rows(score: np.ndarray, outcomes: np.ndarray, n_bins: int = 10) -> np.ndarray:
    r"""Equal-mass ECE of ``score`` against each row of ``outcomes`` ((B, n) 0/1).

    :math:`\sum_b \lvert\sum_{i \in b} (o_i - s_i)\rvert / n` with the bins of
    :func:`confide.metrics.quantile_edges` (ties kept together), as ``ece(binning="quantile")``.
    """
    bins = assign_bins(score, quantile_edges(score, n_bins))
    onehot = np.zeros((score.shape[0], n_bins))
    onehot[np.arange(score.shape[0]), bins] = 1.0
    return np.abs((outcomes - score[None, :]) @ onehot).sum(axis=1) / score.shape[0]


def _calibration_check(raw: np.ndarray, y: np.ndarray, n_folds: int, seed: int) -> dict[str, float]:
    """Is the reference miscalibrated beyond sampling noise, and does isotonic regression help?

    Returns the equal-mass ECE (10 bins) of the raw probabilities, the 95% quantile of that ECE
    over 200 label vectors drawn from the probabilities themselves (what a perfectly calibrated
    model shows by chance: Bröcker & Smith's consistency resampling), and the ECE of out-of-fold
    isotonic calibration (``n_folds``-fold cross-fitting). Binary input is checked on ``p``
    against ``y``; multiclass on the top-label confidence against correctness.
    """
    rng = np.random.default_rng(seed)
    folds = np.array_split(rng.permutation(raw.shape[0]), n_folds)
    oof = np.empty_like(raw)
    for j in range(n_folds):
        train = np.concatenate([folds[i] for i in range(n_folds) if i != j])
        cal = IsotonicCalibration(input="probs").fit(raw[train], y[train])
        oof[folds[j]] = cal.predict_proba(raw[folds[j]])

    def pair(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if q.ndim == 1:
            return q, y.astype(np.float64)
        pred = np.argmax(q, axis=1)
        return q[np.arange(q.shape[0]), pred], (pred == y).astype(np.float64)

    s_raw, o_raw = pair(raw)
    s_oof, o_oof = pair(oof)
    null = np.concatenate(
        [
            _ece_rows(s_raw, (rng.random((50, s_raw.shape[0])) < s_raw).astype(float))
            for _ in range(4)
        ]
    )
    return {
        "ece_raw": float(_ece_rows(s_raw, o_raw[None, :])[0]),
        "ece_null_95": float(np.quantile(null, 0.95)),
        "ece_isotonic_oof": float(_ece_rows(s_oof, o_oof[None, :])[0]),
    }


class CBPE:
    """Confidence-based performance estimation fitted on a labelled reference period.

    ``fit`` checks (and, if asked, fixes) the calibration of the model's probabilities on the
    reference data; ``estimate`` then applies :func:`estimate_performance` to unlabelled data
    with that calibration. The method's blind spot is the one of every label-free estimate: a
    change of ``P(y | x)`` with unchanged inputs (concept shift) leaves the estimate unchanged.

    Parameters
    ----------
    metrics : sequence of str, default ("accuracy", "roc_auc")
    calibration : {"auto", "none", "isotonic", "temperature"}, default "auto"
        ``"auto"`` calibrates with isotonic regression only when both hold on the reference:
        the ECE (10 equal-mass bins) of the raw probabilities exceeds the 95% quantile of the
        ECE a perfectly calibrated model of the same probabilities shows by chance (labels
        drawn from the probabilities, 200 draws), and out-of-fold isotonic calibration
        (``n_folds``-fold cross-fitting, as NannyML's check) lowers it.
    threshold, confidence_level, interval, n_resamples, random_state
        As in :func:`estimate_performance`.
    n_folds : int, default 5

    Attributes
    ----------
    calibration_ : str
        The calibration in use ("none", "isotonic" or "temperature").
    calibrator_ : Calibrator or None
    n_classes_ : int
        2 for binary ``P(y = 1)`` input.
    calibration_check_ : dict or None
        For ``calibration="auto"``: ``ece_raw``, ``ece_null_95`` and ``ece_isotonic_oof``.
    reference_realised_ : dict
        The realised metrics on the reference data.
    """

    def __init__(
        self,
        *,
        metrics: Any = ("accuracy", "roc_auc"),
        calibration: str = "auto",
        threshold: float = 0.5,
        confidence_level: float = 0.95,
        interval: str = "analytic",
        n_resamples: int = 1000,
        random_state: int = 0,
        n_folds: int = 5,
    ) -> None:
        self.metrics = check_metrics(metrics)
        self.calibration = check_choice(
            calibration, "calibration", ("auto", "none", "isotonic", "temperature")
        )
        self.confidence_level, self.interval, self.n_resamples, self.threshold = check_common(
            confidence_level, interval, n_resamples, threshold
        )
        self.random_state = int(random_state)
        self.n_folds = check_positive_int(n_folds, "n_folds", minimum=2)

    def fit(self, reference_probs: Any, reference_y: Any, *, reference_pred: Any = None) -> Self:
        """Check/fit the calibration on labelled reference probabilities; returns ``self``."""
        raw = check_probabilities(reference_probs, "reference_probs").astype(np.float64)
        check_consistent_length(reference_probs=raw, reference_y=reference_y)
        if raw.ndim == 1:
            y = check_binary_labels(reference_y, "reference_y")
        else:
            y = check_labels(reference_y, raw.shape[1], "reference_y")
        yhat = check_predictions(reference_pred, raw, self.threshold)
        choice = self.calibration
        self.calibration_check_: dict[str, float] | None = None
        if choice == "auto":
            check = _calibration_check(raw, y, self.n_folds, self.random_state)
            self.calibration_check_ = check
            miscalibrated = check["ece_raw"] > check["ece_null_95"]
            helps = check["ece_isotonic_oof"] < check["ece_raw"]
            choice = "isotonic" if miscalibrated and helps else "none"
        self.calibrator_: Calibrator | None = None
        if choice == "isotonic":
            self.calibrator_ = IsotonicCalibration(input="probs").fit(raw, y)
        elif choice == "temperature":
            self.calibrator_ = TemperatureScaling(input="probs").fit(raw, y)
        self.calibration_ = choice
        self.n_classes_ = 2 if raw.ndim == 1 else int(raw.shape[1])
        self.binary_ = raw.ndim == 1
        self.reference_realised_ = realised(y, yhat, raw, self.metrics)
        return self

    def _require_fitted(self) -> None:
        if not hasattr(self, "calibration_"):
            raise NotFittedError(
                "this CBPE is not fitted yet: call fit(reference_probs, reference_y)."
            )

    def estimate(
        self, probs: Any, *, y_pred: Any = None, y_true: Any = None, chunks: ChunksLike = None
    ) -> PerformanceEstimate:
        """Per-chunk estimates on (unlabelled) ``probs``; see :func:`estimate_performance`."""
        self._require_fitted()
        raw = check_probabilities(probs, "probs")
        if (raw.ndim == 1) != self.binary_ or (raw.ndim == 2 and raw.shape[1] != self.n_classes_):
            want = "1-D P(y=1)" if self.binary_ else f"(n, {self.n_classes_})"
            raise ShapeError(
                f"this CBPE was fitted on {want} probabilities; got shape {raw.shape}."
            )
        return estimate_performance(
            raw,
            y_pred=y_pred,
            y_true=y_true,
            chunks=chunks,
            metrics=self.metrics,
            calibrator=self.calibrator_,
            threshold=self.threshold,
            confidence_level=self.confidence_level,
            interval=self.interval,
            n_resamples=self.n_resamples,
            random_state=self.random_state,
        )

    # -- storage ---------------------------------------------------------------------------
    def _config(self) -> dict[str, Any]:
        return {
            "metrics": list(self.metrics),
            "calibration": self.calibration,
            "threshold": self.threshold,
            "confidence_level": self.confidence_level,
            "interval": self.interval,
            "n_resamples": self.n_resamples,
            "random_state": self.random_state,
            "n_folds": self.n_folds,
        }

    def to_dict(self) -> dict[str, Any]:
        """A versioned JSON document (settings, fitted calibration and reference values)."""
        self._require_fitted()
        payload = {
            "config": self._config(),
            "calibration": self.calibration_,
            "calibrator": None if self.calibrator_ is None else self.calibrator_.to_dict(),
            "n_classes": self.n_classes_,
            "binary": self.binary_,
            "calibration_check": self.calibration_check_,
            "reference_realised": self.reference_realised_,
        }
        return to_document(DOCUMENT_KIND, payload)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> CBPE:
        """Rebuild a fitted CBPE from :meth:`to_dict` output (schema, kind, checksum checked)."""
        return cls._from_payload(from_document(doc, DOCUMENT_KIND), "the document")

    @classmethod
    def _from_payload(cls, payload: dict[str, Any], source: str) -> CBPE:
        try:
            obj = cls(**payload["config"])
            obj.calibration_ = str(payload["calibration"])
            cal = payload["calibrator"]
            obj.calibrator_ = None if cal is None else load(cal)
            obj.n_classes_ = int(payload["n_classes"])
            obj.binary_ = bool(payload["binary"])
            check = payload["calibration_check"]
            obj.calibration_check_ = (
                None if check is None else {k: float(v) for k, v in check.items()}
            )
            obj.reference_realised_ = {
                k: float(v) for k, v in payload["reference_realised"].items()
            }
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise SchemaError(f"{source} has malformed CBPE parameters: {exc}") from None
        return obj

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` atomically to ``path`` (JSON, never pickle)."""
        return save_json(path, DOCUMENT_KIND, self.to_dict()["payload"])

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CBPE:
        """Read a CBPE written by :meth:`save`."""
        return cls._from_payload(load_json(path, DOCUMENT_KIND), str(path))

    def __repr__(self) -> str:
        return f"CBPE(metrics={list(self.metrics)!r}, calibration={self.calibration!r})"
