"""Confidence scores for the outputs of large language models.

* **Parsing** — :func:`parse_logprobs` reads OpenAI-format ``logprobs`` (chat and legacy
  completions) into a :class:`TokenLogprobs`.
* **White-box scores** from token logprobs — :func:`sequence_probability`,
  :func:`min_token_probability`, :func:`entropy_confidence`, :func:`margin_confidence`, all at
  once for a batch with :func:`whitebox_scores`.
* **Black-box scores** from several sampled answers — :func:`exact_match_rate`,
  :func:`pairwise_similarity` (pluggable embedding), :func:`semantic_agreement` (pluggable
  equivalence; semantic entropy), all at once for a batch with :func:`consistency_scores`.
* **Verbalised confidence** — :func:`parse_verbalized_confidence`,
  :func:`verbalized_confidences`.
* **Combination** — :class:`ScoreCombiner`, a logistic regression over several scores, to be
  calibrated afterwards with :mod:`confide.calibration`.

Every score lies in ``[0, 1]`` and is higher for a more confident output.
"""

from __future__ import annotations

from confide.scores.llm._blackbox import (
    ConsistencyScores,
    SemanticAgreement,
    consistency_scores,
    exact_match_rate,
    normalize_answer,
    pairwise_similarity,
    semantic_agreement,
)
from confide.scores.llm._combiner import ScoreCombiner
from confide.scores.llm._parse import SENTINEL_LOGPROB, TokenLogprobs, parse_logprobs
from confide.scores.llm._verbalized import (
    CONFIDENCE_CUES,
    VERBAL_CONFIDENCE_LEVELS,
    parse_verbalized_confidence,
    verbalized_confidences,
)
from confide.scores.llm._whitebox import (
    SCORE_NAMES,
    WhiteBoxScores,
    entropy_confidence,
    margin_confidence,
    min_token_probability,
    sequence_probability,
    whitebox_scores,
)

__all__ = [
    "CONFIDENCE_CUES",
    "SCORE_NAMES",
    "SENTINEL_LOGPROB",
    "VERBAL_CONFIDENCE_LEVELS",
    "ConsistencyScores",
    "ScoreCombiner",
    "SemanticAgreement",
    "TokenLogprobs",
    "WhiteBoxScores",
    "consistency_scores",
    "entropy_confidence",
    "exact_match_rate",
    "margin_confidence",
    "min_token_probability",
    "normalize_answer",
    "pairwise_similarity",
    "parse_logprobs",
    "parse_verbalized_confidence",
    "semantic_agreement",
    "sequence_probability",
    "verbalized_confidences",
    "whitebox_scores",
]
