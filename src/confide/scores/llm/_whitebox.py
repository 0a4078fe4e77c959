r"""White-box confidence scores of a generated sequence from its token logprobs.

Every score lies in ``[0, 1]`` and is higher for a more confident generation. Tokens whose
logprob is unknown (``null`` in the payload) are skipped; a ``<= -9999`` sentinel counts as
probability 0 (see :mod:`confide.scores.llm._parse`). Scores built from ``top_logprobs`` use only
the positions where the API returned at least one alternative with a non-zero probability
(a position whose alternatives are all sentinels says nothing about the spread).

A batch of sequences is scored in one vectorised pass over the concatenated tokens
(:func:`whitebox_scores`); the single-sequence functions call it and raise where a score is
undefined, whereas the batch returns NaN there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from scipy.special import entr

from confide._typing import FloatArray, IntArray
from confide.exceptions import ValidationError
from confide.scores.llm._parse import TokenLogprobs, parse_logprobs

__all__ = [
    "SCORE_NAMES",
    "WhiteBoxScores",
    "entropy_confidence",
    "margin_confidence",
    "min_token_probability",
    "sequence_probability",
    "whitebox_scores",
]

#: Column order of :meth:`WhiteBoxScores.as_matrix`.
SCORE_NAMES = (
    "sequence_probability",
    "min_token_probability",
    "entropy_confidence",
    "margin_confidence",
)


def _json_floats(a: np.ndarray) -> list[float | None]:
    return [None if not math.isfinite(v) else float(v) for v in a.tolist()]


@dataclass(frozen=True, eq=False)
class WhiteBoxScores:
    """White-box scores of a batch of generations, one entry per generation (read-only arrays).

    NaN marks a score that is undefined for that generation: no token with a known logprob
    (the first two), or no position with ``top_logprobs`` (the last two).

    Attributes
    ----------
    sequence_probability, min_token_probability, entropy_confidence, margin_confidence : ndarray of float64, shape (n,)
        See the functions of the same names.
    n_tokens : ndarray of intp, shape (n,)
        Number of tokens with a known logprob.
    """

    sequence_probability: FloatArray
    min_token_probability: FloatArray
    entropy_confidence: FloatArray
    margin_confidence: FloatArray
    n_tokens: IntArray

    def __post_init__(self) -> None:
        for f in fields(self):
            getattr(self, f.name).setflags(write=False)

    def as_matrix(self) -> FloatArray:
        """The four scores as an ``(n, 4)`` matrix in the order of ``SCORE_NAMES`` (for a
        :class:`ScoreCombiner`)."""
        return np.column_stack([getattr(self, name) for name in SCORE_NAMES])

    def to_dict(self) -> dict[str, Any]:
        """Lists of floats (NaN as ``None``) and of ints."""
        out: dict[str, Any] = {name: _json_floats(getattr(self, name)) for name in SCORE_NAMES}
        out["n_tokens"] = self.n_tokens.tolist()
        return out


def _segment_mean(values: FloatArray, valid: np.ndarray, seg: IntArray, n: int) -> FloatArray:
    """Mean of ``values[valid]`` per segment; NaN for a segment without valid entries."""
    count = np.bincount(seg[valid], minlength=n).astype(np.float64)
    total = np.bincount(seg[valid], weights=values[valid], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.where(count > 0, total / np.maximum(count, 1.0), np.nan)
    return out


def _batch(parsed: Sequence[TokenLogprobs]) -> WhiteBoxScores:
    n = len(parsed)
    lengths = np.array([p.n_tokens for p in parsed], dtype=np.intp)
    seg: IntArray = np.repeat(np.arange(n, dtype=np.intp), lengths)
    width = max((p.k for p in parsed), default=0)
    lp = np.concatenate([p.logprobs for p in parsed]) if n else np.empty(0)
    known = ~np.isnan(lp)
    top = np.full((lp.size, width), -np.inf)
    mask = np.zeros((lp.size, width), dtype=bool)
    if lp.size and width:
        top[:, :] = np.concatenate(
            [
                np.pad(p.top_logprobs, ((0, 0), (0, width - p.k)), constant_values=-np.inf)
                for p in parsed
            ]
        )
        mask[:, :] = np.concatenate(
            [np.pad(p.top_mask, ((0, 0), (0, width - p.k))) for p in parsed]
        )
    k_row = np.repeat(np.array([p.k for p in parsed], dtype=np.float64), lengths)

    # Length-normalised sequence probability: exp(mean log p) over known tokens.
    n_known = np.bincount(seg[known], minlength=n)
    seq = np.exp(_segment_mean(np.where(known, lp, 0.0), known, seg, n))

    # Minimum token probability: exp(min log p) over known tokens.
    min_prob = np.full(n, np.nan)
    filled = np.where(known, lp, np.inf)
    nonempty = np.flatnonzero(lengths > 0)
    if nonempty.size:
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])[nonempty]
        mins = np.minimum.reduceat(filled, starts)
        min_prob[nonempty] = np.where(mins < np.inf, np.exp(mins), np.nan)

    # Top-k entropy with the residual mass in one "other" bucket, and the top-1/top-2 margin.
    # positions with at least one returned alternative of non-zero probability (not a sentinel)
    has_top = np.asarray((mask & np.isfinite(top)).any(axis=1), dtype=bool)
    probs = np.exp(top)
    total = probs.sum(axis=1)
    over = total > 1.0
    probs[over] /= total[over, None]
    residual = np.where(over, 0.0, 1.0 - total)
    h = entr(probs).sum(axis=1) + entr(residual)
    with np.errstate(invalid="ignore", divide="ignore"):
        row_conf = 1.0 - h / np.log(k_row + 1.0)
    ent = np.clip(_segment_mean(row_conf, has_top, seg, n), 0.0, 1.0)
    p1 = probs[:, 0] if width else np.zeros(lp.size)
    p2 = probs[:, 1] if width > 1 else np.zeros(lp.size)
    marg = np.clip(_segment_mean(p1 - p2, has_top, seg, n), 0.0, 1.0)
    return WhiteBoxScores(
        sequence_probability=np.clip(seq, 0.0, 1.0),
        min_token_probability=np.clip(min_prob, 0.0, 1.0),
        entropy_confidence=ent,
        margin_confidence=marg,
        n_tokens=n_known.astype(np.intp),
    )


def whitebox_scores(
    responses: Sequence[Any], *, choice: int = 0, top_k: int | None = None
) -> WhiteBoxScores:
    """All white-box scores for a batch of generations at once.

    Parameters
    ----------
    responses : sequence
        One entry per generation: a :class:`TokenLogprobs` or anything
        :func:`parse_logprobs` reads (a response, a choice, a logprobs object).
    choice : int, default 0
        Which choice of a whole response to score.
    top_k : int, optional
        The ``top_logprobs`` you requested, so that every generation's entropy is normalised
        by the same ``log(k + 1)`` even when the API returned shorter lists; default: the
        longest list of each generation.

    Returns
    -------
    WhiteBoxScores
        NaN where a score is undefined (see the class).
    """
    first = responses[0] if isinstance(responses, Sequence) and len(responses) else None
    single_content = isinstance(first, dict) and "token" in first and "logprob" in first
    if isinstance(responses, dict | TokenLogprobs) or single_content:
        raise ValidationError(
            "whitebox_scores takes a sequence of generations; for a single one wrap it in a "
            "list or call sequence_probability / min_token_probability / ... directly."
        )
    parsed = [parse_logprobs(r, choice=choice, top_k=top_k) for r in responses]
    return _batch(parsed)


def _single(logprobs: Any, name: str, choice: int, top_k: int | None = None) -> float:
    res = _batch([parse_logprobs(logprobs, choice=choice, top_k=top_k)])
    value = float(getattr(res, name)[0])
    if math.isnan(value):
        if name in ("sequence_probability", "min_token_probability"):
            raise ValidationError(
                f"{name} is undefined: the generation has no token with a known logprob."
            )
        raise ValidationError(
            f"{name} needs top_logprobs, and no position of the generation has any. Request "
            "them with logprobs=True, top_logprobs=k (k >= 2 for a margin)."
        )
    return value


def sequence_probability(logprobs: Any, *, choice: int = 0) -> float:
    r"""Length-normalised sequence probability: the geometric mean of the token probabilities.

    .. math::

        \operatorname{conf} = \exp\Big(\frac{1}{T}\sum_{t=1}^{T} \log p(y_t \mid y_{<t}, x)\Big),

    over the ``T`` tokens with a known logprob. A sentinel (``<= -9999``) token makes it 0.

    Parameters
    ----------
    logprobs : TokenLogprobs, dict or list
        A generation's logprobs, in any form :func:`parse_logprobs` reads.
    choice : int, default 0
        Which choice of a whole response to score.

    Returns
    -------
    float
        In ``[0, 1]``; higher means more confident.

    Raises
    ------
    confide.exceptions.ValidationError
        If no token has a known logprob, or the payload carries no logprobs.

    References
    ----------
    .. [1] A. Malinin, M. Gales, "Uncertainty Estimation in Autoregressive Structured
       Prediction", ICLR 2021.
    """
    return _single(logprobs, "sequence_probability", choice)


def min_token_probability(logprobs: Any, *, choice: int = 0) -> float:
    r"""Probability of the least likely generated token.

    .. math:: \operatorname{conf} = \min_t p(y_t \mid y_{<t}, x) = \exp\big(\min_t \log p_t\big).

    A single doubtful token (a guessed name or number) shows here even when the sequence
    average stays high. Parameters, returns and errors as :func:`sequence_probability`.

    References
    ----------
    .. [1] P. Manakul, A. Liusie, M. Gales, "SelfCheckGPT: Zero-Resource Black-Box
       Hallucination Detection for Generative Large Language Models", EMNLP 2023 (the
       ``Max(-log p)`` score, of which this is ``exp(-·)``).
    """
    return _single(logprobs, "min_token_probability", choice)


def entropy_confidence(logprobs: Any, *, choice: int = 0, top_k: int | None = None) -> float:
    r"""One minus the mean normalised token entropy, estimated from ``top_logprobs``.

    At each position with ``k`` returned alternatives of probabilities :math:`p_1..p_k`
    (padded to the generation's width ``K`` with zeros), the mass the API did not return is
    lumped into one "other" bucket :math:`r = 1 - \sum_j p_j` (if :math:`\sum_j p_j > 1` by
    rounding, the :math:`p_j` are rescaled to sum 1 and :math:`r = 0`):

    .. math::

        H_t = -\sum_{j=1}^{K} p_j \log p_j - r \log r, \qquad
        \operatorname{conf} = 1 - \frac{1}{|S|}\sum_{t \in S} \frac{H_t}{\log(K + 1)},

    with ``0 log 0 = 0`` and ``S`` the positions with at least one alternative above the
    ``-9999`` sentinel. ``K + 1`` is
    the number of buckets, so each term lies in ``[0, 1]``. Lumping the tail into one bucket
    can only lower the entropy, so :math:`H_t` is a lower bound of the entropy over the full
    vocabulary (the confidence an upper bound of the full-vocabulary one).

    Parameters
    ----------
    logprobs : TokenLogprobs, dict or list
        A generation's logprobs with ``top_logprobs``.
    choice : int, default 0
    top_k : int, optional
        The requested ``top_logprobs`` (``K``); default: the longest list returned.

    Returns
    -------
    float
        In ``[0, 1]``; higher means more confident.

    Raises
    ------
    confide.exceptions.ValidationError
        If no position has top alternatives.

    References
    ----------
    .. [1] A. Malinin, M. Gales, "Uncertainty Estimation in Autoregressive Structured
       Prediction", ICLR 2021 (token-level entropy).
    .. [2] M. Fadeeva et al., "LM-Polygraph: Uncertainty Estimation for Language Models",
       EMNLP 2023 (mean token entropy).
    """
    return _single(logprobs, "entropy_confidence", choice, top_k)


def margin_confidence(logprobs: Any, *, choice: int = 0) -> float:
    r"""Mean margin between the two most probable alternatives at each position.

    .. math::

        \operatorname{conf} = \frac{1}{|S|}\sum_{t \in S} \big(p_{t,(1)} - p_{t,(2)}\big),

    from ``top_logprobs``, over the positions ``S`` with at least one alternative above the
    sentinel. A position
    with a single alternative has :math:`p_{(2)} = 0` (with ``top_logprobs=1`` the score is the
    mean top-1 probability, an upper bound of the margin). Parameters as
    :func:`sequence_probability`.

    Returns
    -------
    float
        In ``[0, 1]``; higher means more confident.

    References
    ----------
    .. [1] T. Scheffer, C. Decomain, S. Wrobel, "Active Hidden Markov Models for Information
       Extraction", IDA 2001 (margin); applied per token as in LM-Polygraph (Fadeeva et al.,
       EMNLP 2023).
    """
    return _single(logprobs, "margin_confidence", choice)
