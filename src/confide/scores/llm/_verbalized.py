r"""Parsing of a confidence the model states in words ("I am 80% sure", "Confidence: high").

Recognised expressions of a value (case-insensitive):

* a percentage — ``80%``, ``80 %``, ``80 percent`` — read as ``80 / 100``;
* a ratio — ``8/10``, ``8 out of 10``, ``4/5`` — read as ``a / b``;
* a bare number — ``0.8`` read as is when in ``[0, 1]``; above 1 it is read on the
  ``bare_scale`` (default 100: ``confidence: 80`` means 0.8);
* a level word, through :data:`VERBAL_CONFIDENCE_LEVELS` (or the ``words`` you pass).

Ranges such as ``0-100`` or ``1 to 10`` (the scale in "confidence (0-100): 85") are skipped.
A value counts only when it is *attached to a confidence cue* (:data:`CONFIDENCE_CUES`, e.g.
"confidence", "sure", "certain", "probability", "chance"): at most ``max_gap`` characters
between the two, with no sentence break (``.``, ``!``, ``?``, ``;``, a newline) in between.
Among several, the closest to a cue wins (ties: the first). Without any cue, a text that is
nothing but one value ("8/10", "0.8", "high") is read too. A chosen value outside ``[0, 1]``
("150%", "12/10") is *not parsed* (None), never clipped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from confide._typing import FloatArray
from confide._validation import check_positive_int
from confide.exceptions import ConfideTypeError, ValidationError

__all__ = [
    "CONFIDENCE_CUES",
    "VERBAL_CONFIDENCE_LEVELS",
    "parse_verbalized_confidence",
    "verbalized_confidences",
]

#: Level words and the probability each is read as (a convention; override with ``words=``).
VERBAL_CONFIDENCE_LEVELS: Mapping[str, float] = {
    "very low": 0.1,
    "low": 0.3,
    "medium": 0.5,
    "moderate": 0.5,
    "high": 0.8,
    "very high": 0.95,
}

#: Words that mark a number or level word as a confidence.
CONFIDENCE_CUES: tuple[str, ...] = (
    "confidence",
    "confident",
    "sure",
    "certain",
    "certainty",
    "probability",
    "likelihood",
    "likely",
    "chance",
)

_NUM = r"(?:\d+(?:\.\d+)?|\.\d+)"
_RANGE = re.compile(rf"(?<![\w.]){_NUM}\s*(?:-|–|to)\s*{_NUM}(?![\w%/]|\.\d)", re.IGNORECASE)
_RATIO = re.compile(rf"(?<![\w.-])({_NUM})\s*(?:/|out\s+of)\s*({_NUM})(?!\w|\.\d)", re.IGNORECASE)
_PERCENT = re.compile(rf"(?<![\w.-])({_NUM})\s*(?:%|percent\b|per\s+cent\b)", re.IGNORECASE)
_BARE = re.compile(rf"(?<![\w.-])({_NUM})(?![\w%]|\.\d)", re.IGNORECASE)
_CUE = re.compile(r"\b(?:" + "|".join(CONFIDENCE_CUES) + r")\b", re.IGNORECASE)
_BREAK = re.compile(r"[.!?;\n]")


def _word_pattern(words: Mapping[str, float]) -> re.Pattern[str] | None:
    if not words:
        return None
    keys = sorted(words, key=len, reverse=True)
    body = "|".join(r"\s+".join(map(re.escape, k.split())) for k in keys)
    return re.compile(rf"\b(?:{body})\b", re.IGNORECASE)


def _candidates(
    text: str, words: Mapping[str, float], bare_scale: float
) -> list[tuple[int, int, float]]:
    """Every value expression as ``(start, end, value)``, longer forms first, no overlaps."""
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, int, float]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    for m in _RANGE.finditer(text):
        taken.append(m.span())
    for m in _RATIO.finditer(text):
        if free(*m.span()):
            den = float(m.group(2))
            taken.append(m.span())
            found.append((*m.span(), float(m.group(1)) / den if den > 0 else math.inf))
    for m in _PERCENT.finditer(text):
        if free(*m.span()):
            taken.append(m.span())
            found.append((*m.span(), float(m.group(1)) / 100.0))
    pattern = _word_pattern(words)
    if pattern is not None:
        lookup = {" ".join(k.casefold().split()): v for k, v in words.items()}
        for m in pattern.finditer(text):
            if free(*m.span()):
                taken.append(m.span())
                found.append((*m.span(), float(lookup[" ".join(m.group(0).casefold().split())])))
    for m in _BARE.finditer(text):
        if free(*m.span()):
            v = float(m.group(1))
            found.append((*m.span(), v if v <= 1.0 else v / bare_scale))
    return found


def parse_verbalized_confidence(
    text: str,
    *,
    words: Mapping[str, float] | None = None,
    bare_scale: float = 100.0,
    max_gap: int = 30,
) -> float | None:
    """Read the confidence a model stated in its answer.

    Parameters
    ----------
    text : str
        The model's output (or the part holding its confidence statement).
    words : mapping str -> float, optional
        Level words and their probabilities; default :data:`VERBAL_CONFIDENCE_LEVELS`
        (``very low 0.1, low 0.3, medium/moderate 0.5, high 0.8, very high 0.95``). Pass ``{}``
        to read numbers only.
    bare_scale : float, default 100
        A bare number above 1 is divided by this (``100``: "confidence: 85" is 0.85; ``10`` for
        a 0–10 scale).
    max_gap : int, default 30
        Most characters between a confidence cue and its value.

    Returns
    -------
    float or None
        The stated confidence in ``[0, 1]``; None when none is found or the value attached to
        the cue lies outside ``[0, 1]``.

    Examples
    --------
    >>> parse_verbalized_confidence("Paris. I am 80% sure.")
    0.8
    >>> parse_verbalized_confidence("Answer: 1889. Confidence: 8/10")
    0.8
    >>> parse_verbalized_confidence("Confidence: high")
    0.8
    >>> parse_verbalized_confidence("The answer is 42.") is None
    True

    References
    ----------
    .. [1] S. Lin, J. Hilton, O. Evans, "Teaching Models to Express Their Uncertainty in
       Words", TMLR 2022.
    .. [2] K. Tian et al., "Just Ask for Calibration: Strategies for Eliciting Calibrated
       Confidence Scores from Language Models Fine-Tuned with Human Feedback", EMNLP 2023.
    """
    if not isinstance(text, str):
        raise ConfideTypeError(f"text must be a str, got {text!r}.")
    if (
        isinstance(bare_scale, bool)
        or not isinstance(bare_scale, int | float)
        or not bare_scale > 1
    ):
        raise ValidationError(f"bare_scale must be a number > 1, got {bare_scale!r}.")
    max_gap = check_positive_int(max_gap, "max_gap", minimum=0)
    levels = VERBAL_CONFIDENCE_LEVELS if words is None else words
    found = _candidates(text, levels, float(bare_scale))
    if not found:
        return None
    cues = [m.span() for m in _CUE.finditer(text)]
    best: tuple[int, int, float] | None = None
    best_gap = max_gap + 1
    for start, end, value in found:  # a handful of candidates per text
        for cs, ce in cues:
            if end <= cs:
                gap_text = text[end:cs]
            elif start >= ce:
                gap_text = text[ce:start]
            else:
                gap_text = ""
            if len(gap_text) < best_gap and not _BREAK.search(gap_text):
                best, best_gap = (start, end, value), len(gap_text)
    if best is None and len(found) == 1:
        start, end, value = found[0]
        if not text[:start].strip() and not re.sub(r"[.!?\s]", "", text[end:]):
            best = found[0]
    if best is None:
        return None
    value = best[2]
    return value if 0.0 <= value <= 1.0 else None


def verbalized_confidences(
    texts: Iterable[str],
    *,
    words: Mapping[str, float] | None = None,
    bare_scale: float = 100.0,
    max_gap: int = 30,
) -> FloatArray:
    """:func:`parse_verbalized_confidence` over many texts, NaN where nothing is parsed.

    Returns
    -------
    ndarray of float64, shape (n,)
        Values in ``[0, 1]`` or NaN.
    """
    if isinstance(texts, str):
        raise ConfideTypeError("texts must be a sequence of strings, got a single str.")
    values: list[Any] = [
        parse_verbalized_confidence(t, words=words, bare_scale=bare_scale, max_gap=max_gap)
        for t in texts
    ]
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
