r"""Average Thresholded Confidence (ATC, Garg et al. 2022): accuracy on unlabelled target data.

ATC learns one threshold ``t`` on a labelled source set, the score at which the fraction of
source samples scoring above ``t`` equals the source accuracy, and predicts the accuracy of any
target set as the fraction of its samples scoring above ``t``:

.. math:: \frac{1}{n_s}\sum_{i \in S} [s_i > t] \approx \mathrm{acc}_S, \qquad
    \widehat{\mathrm{acc}}_T = \frac{1}{n_T}\sum_{i \in T} [s_i > t]

with ``s`` the maximum softmax probability or the negative entropy of the probabilities.

**What no label-free method can see.** ATC reads only the model's probabilities. A change of
``P(y | x)`` with unchanged inputs (concept shift) leaves the probabilities, hence the estimate,
unchanged while the true accuracy may drop (pinned in ``tests/monitor/test_monitor_atc.py``).
Garg et al. also prove that no method can predict accuracy under arbitrary shift; ATC works when
the shift preserves the relation between confidence and correctness.

References
----------
Garg, S., Balakrishnan, S., Lipton, Z. C., Neyshabur, B. and Sedghi, H. (2022). Leveraging
unlabeled data to predict out-of-distribution performance. ICLR.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Self

import numpy as np
from scipy.stats import norm

from confide._serialization import from_document, load_json, save_json, to_document
from confide._validation import (
    check_binary_labels,
    check_choice,
    check_consistent_length,
    check_fraction,
    check_labels,
    check_probabilities,
)
from confide.exceptions import SchemaError, ShapeError
from confide.monitor._cbpe_run import NotFittedError
from confide.monitor._chunks import ChunksLike, make_chunks
from confide.monitor._estimate import EstimateRow, PerformanceEstimate

__all__ = ["ATC", "atc_scores"]

DOCUMENT_KIND = "atc"
SCORES = ("max_confidence", "negative_entropy")


def _predicted(p: np.ndarray) -> np.ndarray:
    return (p > 0.5).astype(np.intp) if p.ndim == 1 else np.argmax(p, axis=1)


def atc_scores(probs: np.ndarray, score: str) -> np.ndarray:
    r"""ATC's confidence score per sample (float64): higher means more confident.

    ``"max_confidence"``: :math:`\max_k p_k` (``max(p, 1 - p)`` for 1-D binary input);
    ``"negative_entropy"``: :math:`\sum_k p_k \log p_k` with ``0 log 0 = 0``.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim == 1:
        p = np.column_stack([1.0 - p, p])
    if score == "max_confidence":
        return p.max(axis=1)
    logp = np.log(np.where(p > 0, p, 1.0))
    return np.einsum("ij,ij->i", p, logp)


class ATC:
    r"""Average Thresholded Confidence: predict accuracy from the fraction of confident samples.

    ``fit`` picks the threshold ``t`` among the source scores (and ``-inf``) whose count of
    source samples strictly above it is closest to the number of correct source predictions
    (ties in the scores are never split); ``estimate`` reports the fraction of target samples
    with a score strictly above ``t`` as the estimated accuracy of the top-label prediction
    (argmax; for 1-D ``P(y = 1)`` class 1 iff ``p > 0.5``).

    The band of each chunk is the binomial one, ``â ± z sqrt(â (1 - â) / n)``: the spread of the
    realised accuracy of ``n`` predictions that are each right with probability ``â`` (an upper
    bound of the Poisson-binomial spread); it does not cover the error of the ATC assumption.

    **Blind spot**: a change of ``P(y | x)`` with unchanged inputs (concept shift) leaves the
    estimate unchanged; no label-free method can detect it.

    Parameters
    ----------
    score : {"max_confidence", "negative_entropy"}, default "max_confidence"
    confidence_level : float, default 0.95

    Attributes
    ----------
    threshold_ : float
        ``t`` (``-inf`` when every source prediction is right).
    source_accuracy_ : float
    source_fraction_above_ : float
        Fraction of source scores above ``t`` (equals the source accuracy up to ties).
    n_classes_ : int
    binary_ : bool

    References
    ----------
    Garg, S., Balakrishnan, S., Lipton, Z. C., Neyshabur, B. and Sedghi, H. (2022). Leveraging
    unlabeled data to predict out-of-distribution performance. ICLR.
    """

    def __init__(self, *, score: str = "max_confidence", confidence_level: float = 0.95) -> None:
        self.score = check_choice(score, "score", SCORES)
        self.confidence_level = check_fraction(confidence_level, "confidence_level")

    def fit(self, source_probs: Any, source_y: Any) -> Self:
        """Choose the threshold on labelled source probabilities; returns ``self``."""
        p = check_probabilities(source_probs, "source_probs").astype(np.float64, copy=False)
        check_consistent_length(source_probs=p, source_y=source_y)
        if p.ndim == 1:
            y = check_binary_labels(source_y, "source_y")
        else:
            y = check_labels(source_y, p.shape[1], "source_y")
        correct = int(np.count_nonzero(_predicted(p) == y))
        s = np.sort(atc_scores(p, self.score))
        n = s.shape[0]
        distinct = np.unique(s)
        above = n - np.searchsorted(s, distinct, side="right")
        candidates = np.concatenate(([-np.inf], distinct))
        counts = np.concatenate(([n], above))
        j = int(np.argmin(np.abs(counts - correct)))
        self.threshold_ = float(candidates[j])
        self.source_accuracy_ = correct / n
        self.source_fraction_above_ = float(counts[j]) / n
        self.n_classes_ = 2 if p.ndim == 1 else int(p.shape[1])
        self.binary_ = p.ndim == 1
        return self

    def _require_fitted(self) -> None:
        if not hasattr(self, "threshold_"):
            raise NotFittedError("this ATC is not fitted yet: call fit(source_probs, source_y).")

    def _check_target(self, probs: Any, name: str) -> np.ndarray:
        self._require_fitted()
        p = check_probabilities(probs, name).astype(np.float64, copy=False)
        if (p.ndim == 1) != self.binary_ or (p.ndim == 2 and p.shape[1] != self.n_classes_):
            want = "1-D P(y=1)" if self.binary_ else f"(n, {self.n_classes_})"
            raise ShapeError(f"this ATC was fitted on {want} probabilities; got shape {p.shape}.")
        return p

    def predict_accuracy(self, target_probs: Any) -> float:
        """The estimated accuracy of all of ``target_probs`` (one number)."""
        p = self._check_target(target_probs, "target_probs")
        return float(np.mean(atc_scores(p, self.score) > self.threshold_))

    def estimate(
        self, target_probs: Any, *, y_true: Any = None, chunks: ChunksLike = None
    ) -> PerformanceEstimate:
        """Estimated accuracy per chunk (metric ``"accuracy"``), with realised values when
        ``y_true`` is given."""
        p = self._check_target(target_probs, "target_probs")
        y = None
        if y_true is not None:
            check_consistent_length(target_probs=p, y_true=y_true)
            y = check_binary_labels(y_true) if p.ndim == 1 else check_labels(y_true, p.shape[1])
        above = atc_scores(p, self.score) > self.threshold_
        right = None if y is None else _predicted(p) == y
        z = float(norm.ppf(0.5 + self.confidence_level / 2.0))
        rows = []
        for chunk in make_chunks(p.shape[0], chunks):
            idx = chunk.indices
            a = float(np.mean(above[idx]))
            sd = float(np.sqrt(a * (1.0 - a) / chunk.n))
            rows.append(
                EstimateRow(
                    chunk=chunk.key,
                    n=chunk.n,
                    metric="accuracy",
                    estimate=a,
                    std=sd,
                    lower=max(0.0, a - z * sd),
                    upper=min(1.0, a + z * sd),
                    realised=float("nan") if right is None else float(np.mean(right[idx])),
                )
            )
        return PerformanceEstimate(
            method="atc",
            metrics=("accuracy",),
            confidence_level=self.confidence_level,
            interval="binomial",
            rows=tuple(rows),
        )

    # -- storage ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A versioned JSON document of the settings and the fitted threshold."""
        self._require_fitted()
        return to_document(
            DOCUMENT_KIND,
            {
                "config": {"score": self.score, "confidence_level": self.confidence_level},
                "threshold": self.threshold_,
                "source_accuracy": self.source_accuracy_,
                "source_fraction_above": self.source_fraction_above_,
                "n_classes": self.n_classes_,
                "binary": self.binary_,
            },
        )

    @classmethod
    def _from_payload(cls, payload: dict[str, Any], source: str) -> ATC:
        try:
            obj = cls(**payload["config"])
            obj.threshold_ = float(payload["threshold"])
            obj.source_accuracy_ = float(payload["source_accuracy"])
            obj.source_fraction_above_ = float(payload["source_fraction_above"])
            obj.n_classes_ = int(payload["n_classes"])
            obj.binary_ = bool(payload["binary"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"{source} has malformed ATC parameters: {exc}") from None
        return obj

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ATC:
        """Rebuild a fitted ATC from :meth:`to_dict` output (schema, kind, checksum checked)."""
        return cls._from_payload(from_document(doc, DOCUMENT_KIND), "the document")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` atomically to ``path`` (JSON)."""
        return save_json(path, DOCUMENT_KIND, self.to_dict()["payload"])

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ATC:
        """Read an ATC written by :meth:`save`."""
        return cls._from_payload(load_json(path, DOCUMENT_KIND), str(path))

    def __repr__(self) -> str:
        return f"ATC(score={self.score!r})"
