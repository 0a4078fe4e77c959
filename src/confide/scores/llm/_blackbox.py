r"""Black-box confidence from several answers sampled for the same prompt (self-consistency).

Only the answer texts are needed: no logprobs. The comparison of two answers is pluggable —
a normalisation function for exact match, an embedding function for similarity, an
equivalence function (e.g. bidirectional entailment with an NLI model) for semantic sets —
so that this module stays NumPy-only; the caller brings any model.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from confide._typing import ArrayLike, FloatArray
from confide._validation import as_float_array
from confide.exceptions import ConfideTypeError, ShapeError, ValidationError

__all__ = [
    "ConsistencyScores",
    "SemanticAgreement",
    "consistency_scores",
    "exact_match_rate",
    "normalize_answer",
    "pairwise_similarity",
    "semantic_agreement",
]

Normalizer = Callable[[str], str]
Embedder = Callable[[list[str]], ArrayLike]
Equivalence = Callable[[str, str], bool]


def normalize_answer(text: str) -> str:
    """Default answer normalisation: Unicode NFKC, casefold, punctuation removed, spaces collapsed.

    ``" Paris. "``, ``"paris"`` and ``"PARIS!"`` all become ``"paris"``. Punctuation is every
    character of a Unicode ``P*`` category; it is removed (not replaced by a space), so
    ``"U.S.A."`` becomes ``"usa"``.
    """
    if not isinstance(text, str):
        raise ConfideTypeError(f"an answer must be a str, got {text!r}.")
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(ch for ch in folded if not unicodedata.category(ch).startswith("P"))
    return " ".join(kept.split())


def _check_samples(samples: Any, minimum: int = 2) -> list[str]:
    if isinstance(samples, str):
        raise ConfideTypeError(
            "samples must be a sequence of answers sampled for one prompt, got a single str. "
            "Wrap it in a list (and sample at least two answers)."
        )
    out = list(samples)
    for i, s in enumerate(out):
        if not isinstance(s, str):
            raise ConfideTypeError(f"samples[{i}] must be a str, got {s!r}.")
    if len(out) < minimum:
        raise ShapeError(
            f"consistency needs at least {minimum} sampled answers for the prompt, got {len(out)}. "
            "Sample several answers (e.g. n=5..20 at temperature ~1)."
        )
    return out


def exact_match_rate(
    samples: Sequence[str], *, answer: str | None = None, normalize: Normalizer = normalize_answer
) -> float:
    r"""Share of the sampled answers equal to the chosen answer after normalisation.

    .. math:: \operatorname{conf} = \frac{1}{m}\sum_{i=1}^{m} [\,\nu(s_i) = \nu(a)\,],

    where :math:`\nu` is ``normalize`` and ``a`` is ``answer`` (e.g. the greedy answer) or, by
    default, the most frequent normalised sample (self-consistency majority vote), so that the
    default is the majority share.

    Parameters
    ----------
    samples : sequence of str
        ``m >= 2`` answers sampled for the same prompt.
    answer : str, optional
        The answer whose support is measured; default the majority answer.
    normalize : callable str -> str, default :func:`normalize_answer`
        Applied to every sample and to ``answer``; pass ``str`` for exact string equality.

    Returns
    -------
    float
        In ``[0, 1]``; higher means more consistent.

    References
    ----------
    .. [1] X. Wang et al., "Self-Consistency Improves Chain of Thought Reasoning in Language
       Models", ICLR 2023.
    """
    texts = _check_samples(samples)
    keys = [normalize(s) for s in texts]
    if answer is None:
        return max(Counter(keys).values()) / len(texts)
    target = normalize(answer)
    return float(sum(k == target for k in keys)) / len(texts)


def pairwise_similarity(samples: Sequence[str], *, embed: Embedder) -> float:
    r"""Mean pairwise cosine similarity of the sampled answers, mapped to ``[0, 1]``.

    .. math::

        \operatorname{conf} = \frac{2}{m(m-1)}\sum_{i<j} \frac{1 + \cos(e_i, e_j)}{2},
        \qquad \cos(u, v) = \frac{u \cdot v}{\lVert u\rVert\,\lVert v\rVert},

    with :math:`e_i` the embedding of sample ``i``. For embeddings with non-negative
    similarities (most sentence encoders) the values crowd in ``[0.5, 1]``; compare scores of
    one embedder with each other, or calibrate them.

    Parameters
    ----------
    samples : sequence of str
        ``m >= 2`` answers sampled for the same prompt.
    embed : callable list[str] -> array (m, d)
        Embeds all samples in one call (e.g. a sentence-transformers ``encode``).

    Returns
    -------
    float
        In ``[0, 1]``; higher means more consistent.

    Raises
    ------
    confide.exceptions.ShapeError
        If ``embed`` does not return one row per sample.
    confide.exceptions.ValidationError
        If an embedding is the zero vector (no direction).

    References
    ----------
    .. [1] Z. Lin, S. Trivedi, J. Sun, "Generating with Confidence: Uncertainty Quantification
       for Black-box Large Language Models", TMLR 2024.
    """
    texts = _check_samples(samples)
    e = as_float_array(embed(texts), "embed(samples)", ndim=2).astype(np.float64, copy=False)
    if e.shape[0] != len(texts):
        raise ShapeError(
            f"embed returned {e.shape[0]} rows for {len(texts)} samples; it must return one "
            "embedding per sample, shape (m, d)."
        )
    norms = np.linalg.norm(e, axis=1)
    if (norms == 0).any():
        raise ValidationError(
            f"embed returned a zero vector for sample(s) {np.flatnonzero(norms == 0).tolist()}; "
            "cosine similarity is undefined for it."
        )
    u = e / norms[:, None]
    cos = np.clip(u @ u.T, -1.0, 1.0)
    m = len(texts)
    iu = np.triu_indices(m, k=1)
    return float(np.clip(np.mean((1.0 + cos[iu]) / 2.0), 0.0, 1.0))


@dataclass(frozen=True, eq=False)
class SemanticAgreement:
    """Sampled answers grouped into semantic-equivalence classes.

    Attributes
    ----------
    answer : str
        The chosen answer: the representative (first member) of the largest class.
    answer_index : int
        Its index in the samples.
    share : float
        (Weighted) share of the samples in the largest class, in ``[0, 1]``.
    semantic_entropy : float
        Entropy (nats) of the class distribution.
    confidence : float
        ``1 - semantic_entropy / log(m)``, in ``[0, 1]``.
    cluster_ids : ndarray of intp, shape (m,)
        Class of each sample, numbered in order of first appearance.
    n_clusters : int
    """

    answer: str
    answer_index: int
    share: float
    semantic_entropy: float
    confidence: float
    cluster_ids: np.ndarray
    n_clusters: int

    def __post_init__(self) -> None:
        self.cluster_ids.setflags(write=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain Python types."""
        return {
            "answer": self.answer,
            "answer_index": self.answer_index,
            "share": self.share,
            "semantic_entropy": self.semantic_entropy,
            "confidence": self.confidence,
            "cluster_ids": self.cluster_ids.tolist(),
            "n_clusters": self.n_clusters,
        }


def _exact_equivalence(normalize: Normalizer) -> Equivalence:
    return lambda a, b: normalize(a) == normalize(b)


def semantic_agreement(
    samples: Sequence[str],
    *,
    equivalent: Equivalence | None = None,
    weights: ArrayLike | None = None,
    normalize: Normalizer = normalize_answer,
) -> SemanticAgreement:
    r"""Cluster sampled answers into meaning classes and score their agreement (semantic entropy).

    Greedy clustering as in Kuhn et al.: each sample, in order, joins the first existing class
    whose representative (its first member) ``r`` satisfies ``equivalent(r, s)``, otherwise it
    starts a new class. With class probabilities :math:`p(c) = \sum_{i \in c} w_i / \sum_i w_i`
    (``w = 1`` by default: the discrete estimator of Farquhar et al. 2024),

    .. math::

        \mathrm{SE} = -\sum_c p(c) \log p(c), \qquad
        \operatorname{confidence} = 1 - \frac{\mathrm{SE}}{\log m}, \qquad
        \operatorname{share} = \max_c p(c),

    ``m`` the number of samples (``log m`` is the entropy when every sample is its own class
    with equal weight). Ties between largest classes go to the one that appeared first.

    Parameters
    ----------
    samples : sequence of str
        ``m >= 2`` answers sampled for the same prompt.
    equivalent : callable (str, str) -> bool, optional
        Whether two answers mean the same. For an NLI model, return True only when each
        entails the other (bidirectional entailment, as in the paper). Default: equal after
        ``normalize``.
    weights : array_like of shape (m,), optional
        Non-negative weights, e.g. sequence probabilities; default equal.
    normalize : callable str -> str, default :func:`normalize_answer`
        Used by the default ``equivalent`` only.

    Returns
    -------
    SemanticAgreement
        With the chosen answer (the largest class's representative).

    References
    ----------
    .. [1] L. Kuhn, Y. Gal, S. Farquhar, "Semantic Uncertainty: Linguistic Invariances for
       Uncertainty Estimation in Natural Language Generation", ICLR 2023.
    .. [2] S. Farquhar, J. Kossen, L. Kuhn, Y. Gal, "Detecting hallucinations in large
       language models using semantic entropy", Nature 630, 2024.
    """
    texts = _check_samples(samples)
    m = len(texts)
    if weights is None:
        w = np.ones(m)
    else:
        w = as_float_array(weights, "weights", ndim=1).astype(np.float64, copy=False)
        if w.shape[0] != m:
            raise ShapeError(f"weights has {w.shape[0]} entries for {m} samples.")
        if (w < 0).any() or w.sum() <= 0:
            raise ValidationError("weights must be non-negative with a positive sum.")
    same = _exact_equivalence(normalize) if equivalent is None else equivalent
    reps: list[int] = []
    ids = np.empty(m, dtype=np.intp)
    for i, s in enumerate(texts):  # a user-supplied comparison: no vectorised form
        for c, r in enumerate(reps):
            if same(texts[r], s):
                ids[i] = c
                break
        else:
            ids[i] = len(reps)
            reps.append(i)
    mass = np.bincount(ids, weights=w, minlength=len(reps))
    p = mass / mass.sum()
    nz = p[p > 0]
    se = float(max(-(nz * np.log(nz)).sum(), 0.0))
    conf = float(np.clip(1.0 - se / math.log(m), 0.0, 1.0))
    best = int(np.argmax(p))
    return SemanticAgreement(
        answer=texts[reps[best]],
        answer_index=reps[best],
        share=float(p[best]),
        semantic_entropy=se,
        confidence=conf,
        cluster_ids=ids,
        n_clusters=len(reps),
    )


@dataclass(frozen=True, eq=False)
class ConsistencyScores:
    """Black-box scores of a batch of prompts, one entry per prompt (read-only arrays).

    Attributes
    ----------
    exact_match : ndarray of float64, shape (n,)
        :func:`exact_match_rate` (majority share after normalisation).
    similarity : ndarray of float64, shape (n,)
        :func:`pairwise_similarity`; NaN when no ``embed`` was given.
    semantic_share, semantic_confidence : ndarray of float64, shape (n,)
        ``share`` and ``confidence`` of :func:`semantic_agreement`.
    answers : tuple of str
        The chosen answer of each prompt (largest semantic class's representative).
    """

    exact_match: FloatArray
    similarity: FloatArray
    semantic_share: FloatArray
    semantic_confidence: FloatArray
    answers: tuple[str, ...]

    def __post_init__(self) -> None:
        for a in (self.exact_match, self.similarity, self.semantic_share, self.semantic_confidence):
            a.setflags(write=False)

    def as_matrix(self) -> FloatArray:
        """``(n, 4)`` columns exact_match, similarity, semantic_share, semantic_confidence."""
        return np.column_stack(
            [self.exact_match, self.similarity, self.semantic_share, self.semantic_confidence]
        )

    def to_dict(self) -> dict[str, Any]:
        """Lists of floats (NaN as ``None``) and the answers."""

        def floats(a: FloatArray) -> list[float | None]:
            return [None if math.isnan(v) else float(v) for v in a.tolist()]

        return {
            "exact_match": floats(self.exact_match),
            "similarity": floats(self.similarity),
            "semantic_share": floats(self.semantic_share),
            "semantic_confidence": floats(self.semantic_confidence),
            "answers": list(self.answers),
        }


def consistency_scores(
    samples_per_prompt: Sequence[Sequence[str]],
    *,
    embed: Embedder | None = None,
    equivalent: Equivalence | None = None,
    normalize: Normalizer = normalize_answer,
) -> ConsistencyScores:
    """All black-box scores for a batch of prompts, each with ``m >= 2`` sampled answers.

    Calls :func:`exact_match_rate`, :func:`pairwise_similarity` (when ``embed`` is given) and
    :func:`semantic_agreement` per prompt; see those for the formulas and references. The
    number of samples may differ between prompts.

    Returns
    -------
    ConsistencyScores
    """
    if isinstance(samples_per_prompt, str) or (
        len(samples_per_prompt) and isinstance(samples_per_prompt[0], str)
    ):
        raise ConfideTypeError(
            "samples_per_prompt must hold one list of sampled answers per prompt; for a single "
            "prompt wrap its samples in a list: consistency_scores([samples])."
        )
    em, sim, share, conf, answers = [], [], [], [], []
    for samples in samples_per_prompt:  # one prompt at a time: user-supplied comparisons
        em.append(exact_match_rate(samples, normalize=normalize))
        sim.append(math.nan if embed is None else pairwise_similarity(samples, embed=embed))
        sem = semantic_agreement(samples, equivalent=equivalent, normalize=normalize)
        share.append(sem.share)
        conf.append(sem.confidence)
        answers.append(sem.answer)
    return ConsistencyScores(
        exact_match=np.array(em, dtype=np.float64),
        similarity=np.array(sim, dtype=np.float64),
        semantic_share=np.array(share, dtype=np.float64),
        semantic_confidence=np.array(conf, dtype=np.float64),
        answers=tuple(answers),
    )
