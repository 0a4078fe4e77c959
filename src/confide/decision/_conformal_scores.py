r"""Nonconformity scores for conformal classification, and the split-conformal quantile.

Every score here is *larger for a less plausible class*. For probabilities ``p`` of shape
``(n, k)`` each function returns the ``(n, k)`` array of the score of every class, so that the
calibration score of a sample is its entry in the true-class column and a prediction set is
``{y : s(x, y) <= q}``.

Order of classes. The adaptive scores (APS, RAPS, top-k) rank classes by decreasing
probability. Ties are broken by a *stable* sort: among equal probabilities the lowest class
index ranks first, so no set depends on anything but the probabilities and the column order.

The split-conformal quantile (Vovk et al. 2005; Lei et al. 2018) of ``n`` calibration scores
at level ``1 - alpha`` is their ``ceil((n + 1)(1 - alpha))``-th smallest value; a new
exchangeable score is below it with probability at least ``1 - alpha``. The level is read as
the decimal it was written as (``0.9`` is exactly 9/10), so binary rounding never adds a rank.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from confide._serialization import from_document, load_json, save_json, to_document
from confide._validation import check_choice, check_fraction
from confide.exceptions import NotFittedError, SchemaError, ValidationError

__all__ = [
    "CLASSIFICATION_SCORES",
    "NotFittedError",
    "aps_scores",
    "class_ranks",
    "conformal_quantile",
    "conformal_rank",
    "conformity_scores",
    "exact_level",
    "lac_scores",
    "margin_scores",
    "min_calibration_size",
    "raps_scores",
    "top_k_scores",
]

#: Score functions understood by :class:`ConformalClassifier` (``margin`` is crepes' margin).
CLASSIFICATION_SCORES = ("lac", "aps", "raps", "top_k", "margin")


# -- the conformal quantile ----------------------------------------------------------------
def exact_level(confidence_level: float) -> Fraction:
    """The level as the shortest decimal that round-trips (``0.9`` -> ``9/10``)."""
    return Fraction(repr(float(confidence_level)))


def conformal_rank(n: int, confidence_level: float | Fraction) -> int:
    """``ceil((n + 1) * confidence_level)``: the rank of the conformal quantile among ``n`` scores.

    It exceeds ``n`` when there are too few scores for the level.
    """
    level = (
        confidence_level
        if isinstance(confidence_level, Fraction)
        else exact_level(confidence_level)
    )
    return math.ceil((n + 1) * level)


def min_calibration_size(confidence_level: float | Fraction) -> int:
    """Fewest scores with a finite conformal quantile: the least ``n`` with ``(n+1)·level <= n``.

    That is ``ceil(level / (1 - level))``: 9 for 0.9, 19 for 0.95, 99 for 0.99.
    """
    level = (
        confidence_level
        if isinstance(confidence_level, Fraction)
        else exact_level(confidence_level)
    )
    return max(1, math.ceil(level / (1 - level)))


def conformal_quantile(
    scores: np.ndarray, confidence_level: float | Fraction, *, what: str = "the calibration set"
) -> float:
    r"""The ``ceil((n + 1) · level)``-th smallest of ``n`` scores (split-conformal quantile).

    .. math:: \hat q = s_{(\lceil (n+1)(1-\alpha) \rceil)}, \qquad
        P\big(s_{n+1} \le \hat q\big) \ge 1 - \alpha

    for an exchangeable new score (Vovk, Gammerman & Shafer 2005; Lei, G'Sell, Rinaldo,
    Tibshirani & Wasserman 2018, "Distribution-free predictive inference for regression", JASA).

    Raises
    ------
    ValidationError
        When ``ceil((n + 1) · level) > n``: the quantile would be infinite. The message names
        the minimum ``n`` (:func:`min_calibration_size`).
    """
    n = int(scores.shape[0])
    rank = conformal_rank(n, confidence_level)
    if rank > n:
        need = min_calibration_size(confidence_level)
        raise ValidationError(
            f"{what} has {n} sample(s), too few for confidence_level={float(confidence_level)!r}: "
            f"the conformal quantile is the ceil((n+1)*level) = {rank}-th smallest score, which "
            f"needs at least {need} samples. Add {need - n} more calibration samples or lower "
            "confidence_level."
        )
    return float(np.partition(scores, rank - 1)[rank - 1])


# -- score functions -----------------------------------------------------------------------
def _descending_order(p: np.ndarray) -> np.ndarray:
    """Column indices by decreasing probability, ties to the lowest index (stable sort)."""
    return np.argsort(-p, axis=1, kind="stable")


def _unsort(sorted_values: np.ndarray, order: np.ndarray) -> np.ndarray:
    out = np.empty_like(sorted_values)
    np.put_along_axis(out, order, sorted_values, axis=1)
    return out


def lac_scores(probs: np.ndarray) -> np.ndarray:
    r"""LAC score :math:`s(x, y) = 1 - \hat p_y(x)` (Sadinle, Lei & Wasserman 2019, JASA).

    The sets ``{y : p_y >= 1 - q}`` have the smallest expected size among sets with the same
    marginal coverage when the probabilities are right. crepes calls it ``hinge``.
    """
    return 1.0 - np.asarray(probs, dtype=np.float64)


def margin_scores(probs: np.ndarray) -> np.ndarray:
    r"""Margin score :math:`s(x, y) = \max_{j \ne y} \hat p_j(x) - \hat p_y(x)` (crepes' ``margin``).

    Johansson, Linusson, Löfström & Boström (2017), "Model-agnostic nonconformity functions for
    conformal classification", IJCNN.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.shape[1] == 1:
        return -p
    top2 = -np.partition(-p, 1, axis=1)[:, :2]  # largest, second largest
    # the best other class of the top class is the runner-up (equal to the top on a tie)
    best_other = np.where(p == top2[:, :1], top2[:, 1:2], top2[:, :1])
    return best_other - p


def class_ranks(probs: np.ndarray) -> np.ndarray:
    """1-based rank of every class by decreasing probability (ties: lowest index first)."""
    p = np.asarray(probs)
    order = _descending_order(p)
    ranks = np.broadcast_to(np.arange(1, p.shape[1] + 1, dtype=np.intp), p.shape).copy()
    return _unsort(ranks, order)


def top_k_scores(probs: np.ndarray) -> np.ndarray:
    """Top-k score: the rank of the class (1 for the most probable). Sets are the top ``q``."""
    return class_ranks(probs).astype(np.float64)


def aps_scores(probs: np.ndarray, u: np.ndarray | None = None) -> np.ndarray:
    r"""APS score (Romano, Sesia & Candès 2020, "Classification with valid and adaptive coverage").

    With classes sorted by decreasing probability, :math:`\rho_x(y) = \sum_{j \prec y} \hat p_j`
    is the mass ranked strictly before ``y``. Non-randomised (``u is None``):

    .. math:: s(x, y) = \rho_x(y) + \hat p_y(x)

    (the cumulative mass up to and including ``y``). Randomised, with one ``U ~ Uniform(0, 1)``
    per sample shared by its classes: :math:`s(x, y, U) = \rho_x(y) + U\,\hat p_y(x)`, whose
    sets have coverage close to exactly the level.
    """
    p = np.asarray(probs, dtype=np.float64)
    order = _descending_order(p)
    p_sorted = np.take_along_axis(p, order, axis=1)
    inclusive = np.cumsum(p_sorted, axis=1)
    if u is None:
        return _unsort(inclusive, order)
    exclusive = inclusive - p_sorted
    exclusive[:, 0] = 0.0
    return _unsort(exclusive + np.asarray(u, dtype=np.float64)[:, None] * p_sorted, order)


def raps_scores(
    probs: np.ndarray, *, k_reg: int, lambda_reg: float, u: np.ndarray | None = None
) -> np.ndarray:
    r"""RAPS score (Angelopoulos, Bates, Malik & Jordan 2021, "Uncertainty sets for image
    classifiers using conformal prediction", ICLR).

    .. math:: s(x, y, U) = \rho_x(y) + U\,\hat p_y(x) + \lambda\,(o_x(y) - k_{reg})^+

    where :math:`o_x(y)` is the 1-based rank of ``y`` and ``U = 1`` when not randomised. The
    penalty on ranks beyond ``k_reg`` discourages the long tails of APS sets.
    """
    penalty = lambda_reg * np.maximum(class_ranks(probs) - k_reg, 0).astype(np.float64)
    return aps_scores(probs, u) + penalty


def conformity_scores(
    probs: np.ndarray,
    score: str,
    *,
    u: np.ndarray | None = None,
    k_reg: int = 1,
    lambda_reg: float = 0.01,
) -> np.ndarray:
    """The ``(n, k)`` scores of every class under the named score function."""
    score = check_choice(score, "score", CLASSIFICATION_SCORES)
    if score == "lac":
        return lac_scores(probs)
    if score == "margin":
        return margin_scores(probs)
    if score == "top_k":
        return top_k_scores(probs)
    if score == "aps":
        return aps_scores(probs, u)
    return raps_scores(probs, k_reg=k_reg, lambda_reg=lambda_reg, u=u)


# -- shared pieces of the conformal predictors ---------------------------------------------
def check_level(confidence_level: Any) -> float:
    """A confidence level strictly inside (0, 1)."""
    return check_fraction(confidence_level, "confidence_level")


class SavedConformal:
    """``to_dict``/``from_dict``/``save``/``load`` as versioned JSON of kind ``_kind``.

    Subclasses implement ``_payload`` (JSON-safe) and ``_from_payload`` (raising ``KeyError``,
    ``TypeError`` or ``ValueError`` on a malformed payload, turned into :class:`SchemaError`).
    """

    _kind: ClassVar[str]

    def _payload(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def _from_payload(cls, payload: dict[str, Any]) -> Self:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """A versioned, checksummed JSON document of the settings and fitted state."""
        return to_document(self._kind, self._payload())

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Self:
        """Rebuild from a :meth:`to_dict` document (schema, kind and checksum are checked)."""
        return cls._checked(from_document(doc, cls._kind), "the document")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` atomically to ``path`` (JSON, never pickle)."""
        return save_json(path, self._kind, self._payload())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read an object written by :meth:`save`; another kind raises :class:`SchemaError`."""
        return cls._checked(load_json(path, cls._kind), str(path))

    @classmethod
    def _checked(cls, payload: dict[str, Any], source: str) -> Self:
        try:
            return cls._from_payload(payload)
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"{source} holds a malformed {cls._kind!r}: {exc}") from None
