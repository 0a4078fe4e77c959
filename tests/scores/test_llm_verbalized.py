"""Tests of the verbalised-confidence parser: a table of phrasings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confide.exceptions import ConfideTypeError, ValidationError
from confide.scores.llm._verbalized import (
    VERBAL_CONFIDENCE_LEVELS,
    parse_verbalized_confidence,
    verbalized_confidences,
)

TABLE = [
    # percentages
    ("I am 80% sure.", 0.8),
    ("Paris. I'm 95 % confident.", 0.95),
    ("I'm 90 percent certain it's 1492.", 0.9),
    ("There is a 70% chance this is right.", 0.7),
    ("Confidence: 100%", 1.0),
    ("Confidence: 0%", 0.0),
    # decimals and bare numbers
    ("confidence: 0.8", 0.8),
    ("Answer: Paris\nConfidence: 0.65", 0.65),
    ("Probability: .9", 0.9),
    ("My confidence level is 85", 0.85),
    ("Confidence (0-100): 85", 0.85),
    ("Confidence (0 to 1): 0.3", 0.3),
    # ratios
    ("8/10", 0.8),
    ("Confidence: 8/10", 0.8),
    ("I'd rate my confidence 4 out of 5.", 0.8),
    ("Answer: 1889. Confidence: 8/10", 0.8),
    # level words
    ("Confidence: high", 0.8),
    ("Confidence: Very High", 0.95),
    ("confidence level: LOW", 0.3),
    ("Confidence - moderate", 0.5),
    ("high", 0.8),
    # several numbers: the one attached to the cue
    ("The Eiffel Tower was finished in 1889 and is 330 m tall. Confidence: 0.9", 0.9),
    ("In 2 of 3 sources it is 42; I am 60% sure.", 0.6),
    ("Answer: 7. Confidence: 70%", 0.7),
    # nothing found
    ("The answer is 42.", None),
    ("I think it is Paris.", None),
    ("", None),
    ("I am not sure.", None),
    # out of range: not parsed, never clipped
    ("Confidence: 150%", None),
    ("Confidence: 12/10", None),
    ("Confidence: 250", None),
    ("Confidence: -0.5", None),
    ("Confidence: 3/0", None),
]


@pytest.mark.parametrize(("text", "want"), TABLE)
def test_phrasings(text: str, want: float | None) -> None:
    got = parse_verbalized_confidence(text)
    if want is None:
        assert got is None
    else:
        assert got == pytest.approx(want, abs=1e-12)


def test_batch_gives_nan_where_nothing_is_parsed() -> None:
    texts = [t for t, _ in TABLE]
    got = verbalized_confidences(texts)
    want = np.array([np.nan if w is None else w for _, w in TABLE])
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert got.dtype == np.float64


def test_options() -> None:
    assert parse_verbalized_confidence("Confidence: 8", bare_scale=10) == pytest.approx(0.8)
    assert parse_verbalized_confidence("Confidence: 8") == pytest.approx(0.08)
    assert parse_verbalized_confidence("Confidence: high", words={}) is None
    assert (
        parse_verbalized_confidence("Confidence: almost certain", words={"almost certain": 0.97})
        == 0.97
    )
    far = "Confidence is something I have plenty of, roughly: 0.9"
    assert parse_verbalized_confidence(far, max_gap=5) is None
    assert parse_verbalized_confidence(far, max_gap=60) == pytest.approx(0.9)
    assert VERBAL_CONFIDENCE_LEVELS["high"] == 0.8


def test_bad_arguments() -> None:
    with pytest.raises(ConfideTypeError):
        parse_verbalized_confidence(0.8)  # type: ignore[arg-type]
    with pytest.raises(ConfideTypeError, match="single str"):
        verbalized_confidences("Confidence: 0.8")
    with pytest.raises(ValidationError, match="max_gap"):
        parse_verbalized_confidence("x", max_gap=-1)
    with pytest.raises(ValidationError, match="bare_scale"):
        parse_verbalized_confidence("x", bare_scale=1)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "confidence:",
                    "sure",
                    "I am",
                    "%",
                    "/",
                    "10",
                    "0.",
                    "out of",
                    "high",
                    ".",
                    "-",
                    "\n",
                    " ",
                    "percent",
                    "very",
                    "chance",
                    "1.5",
                    "to",
                    "0",
                ]
            ),
            st.text(max_size=5),
        ),
        max_size=12,
    )
)
def test_any_text_gives_none_or_a_value_in_unit_interval(parts: list[str]) -> None:
    v = parse_verbalized_confidence("".join(parts))
    assert v is None or 0.0 <= v <= 1.0
