"""confide.scores.llm on provider responses saved as fixtures, in the exact provider formats.

The fixtures under ``tests/scores/fixtures/`` are written in the layouts the providers return:
an OpenAI chat completion with ``logprobs.content`` and ``top_logprobs``, a chat completion
with ``logprobs: null``, a legacy text completion (``token_logprobs`` with the ``-9999.0``
sentinel), a legacy ``echo=True`` completion (first logprob ``null``), a vLLM
OpenAI-compatible response whose ``top_logprobs`` lists are shorter than requested, a chat
response with a NUL token and an emoji split over two byte tokens, and a real reply of
SmolLM2-135M-Instruct produced by :class:`confide.integrations.llm_local.LocalChatModel`.
Expected values are computed by hand from the numbers in the files.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from confide.exceptions import ValidationError
from confide.scores.llm import (
    entropy_confidence,
    margin_confidence,
    min_token_probability,
    parse_logprobs,
    sequence_probability,
    whitebox_scores,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _normalised(probs: list[float]) -> list[float]:
    """Rounded provider logprobs can sum to more than 1 over the top list; such a row is
    renormalised (the library's convention)."""
    total = sum(probs)
    return [p / total for p in probs] if total > 1 else probs


def _row_entropy_conf(probs: list[float], k: int) -> float:
    probs = _normalised(probs)
    residual = max(0.0, 1.0 - sum(probs))
    h = -sum(p * math.log(p) for p in [*probs, residual] if p > 0)
    return 1.0 - h / math.log(k + 1)


def test_openai_chat_completion_with_top_logprobs() -> None:
    resp = load("openai_chat_logprobs.json")
    tl = parse_logprobs(resp)
    lps = [-0.0011, -0.0002, 0.0, -0.0000017, -0.0000021, -0.02, -0.3]
    assert tl.format == "chat"
    assert tl.tokens == ("The", " capital", " of", " France", " is", " Paris", ".")
    assert tl.text == resp["choices"][0]["message"]["content"]
    np.testing.assert_array_equal(tl.logprobs, lps)
    assert tl.k == 3 and tl.top_mask.all() and not tl.underflow.any()
    assert tl.top_tokens[5] == (" Paris", " Lyon", " **")
    assert sequence_probability(resp) == pytest.approx(math.exp(sum(lps) / 7), rel=1e-12)
    assert min_token_probability(resp) == pytest.approx(math.exp(-0.3), rel=1e-12)
    tops = [
        [e["logprob"] for e in c["top_logprobs"]] for c in resp["choices"][0]["logprobs"]["content"]
    ]
    rows = [_normalised([math.exp(v) for v in t]) for t in tops]
    assert sum(math.exp(v) for v in tops[5]) > 1  # " Paris" row: rounding, renormalised
    margins = [r[0] - r[1] for r in rows]
    assert margin_confidence(resp) == pytest.approx(sum(margins) / 7, rel=1e-12)
    ents = [_row_entropy_conf([math.exp(v) for v in t], 3) for t in tops]
    assert entropy_confidence(resp) == pytest.approx(sum(ents) / 7, rel=1e-10)


def test_chat_completion_with_null_logprobs_says_how_to_request_them() -> None:
    resp = load("openai_chat_logprobs_null.json")
    with pytest.raises(ValidationError, match=r"logprobs=null.*logprobs=True, top_logprobs=k"):
        parse_logprobs(resp)


def test_legacy_completion_sentinel_reads_as_probability_zero() -> None:
    resp = load("openai_legacy_completion.json")
    tl = parse_logprobs(resp)
    assert tl.format == "legacy"
    assert tl.tokens == (" ", "12", "\n\n", "Q", ":", " What")
    assert tl.text == resp["choices"][0]["text"]  # no bytes in legacy: tokens joined
    assert tl.text_offset == (27, 28, 30, 32, 33, 34)
    np.testing.assert_array_equal(tl.underflow, [False, False, False, False, True, False])
    assert tl.logprobs[4] == -np.inf and tl.known.all()
    # the sentinel alternative is kept (returned) but sorted last with logprob -inf
    assert tl.top_tokens[4] == ("\n", ":")
    np.testing.assert_array_equal(tl.top_logprobs[4], [-0.02, -np.inf])
    assert tl.top_mask[4].all()
    assert sequence_probability(resp) == 0.0
    assert min_token_probability(resp) == 0.0
    # margin at the sentinel row: exp(-0.02) - 0
    tops = [
        sorted(d.values(), reverse=True) for d in resp["choices"][0]["logprobs"]["top_logprobs"]
    ]
    margins = [math.exp(t[0]) - (math.exp(t[1]) if t[1] > -9999 else 0.0) for t in tops]
    assert margin_confidence(resp) == pytest.approx(sum(margins) / 6, rel=1e-12)


def test_legacy_echo_null_first_logprob_is_skipped() -> None:
    resp = load("openai_legacy_echo.json")
    tl = parse_logprobs(resp)
    np.testing.assert_array_equal(tl.known, [False, True, True, True])
    assert math.isnan(tl.logprobs[0])
    assert not tl.top_mask[0].any() and tl.k == 1
    assert sequence_probability(resp) == pytest.approx(math.exp((-2.3 - 0.9 - 0.4) / 3))
    assert min_token_probability(resp) == pytest.approx(math.exp(-2.3))


def test_vllm_response_with_shorter_top_lists() -> None:
    resp = load("vllm_chat_short_top.json")
    tl = parse_logprobs(resp)
    assert tl.tokens == ("Can", "berra") and tl.text == "Canberra"
    assert tl.k == 2
    np.testing.assert_array_equal(tl.top_mask, [[True, True], [True, False]])
    assert tl.top_logprobs[1, 1] == -np.inf
    assert sequence_probability(resp) == pytest.approx(math.sqrt(0.5 * 0.99), rel=1e-12)
    assert margin_confidence(resp) == pytest.approx(((0.5 - 0.4) + 0.99) / 2, rel=1e-12)
    ent = (_row_entropy_conf([0.5, 0.4], 2) + _row_entropy_conf([0.99], 2)) / 2
    assert entropy_confidence(resp) == pytest.approx(ent, rel=1e-12)
    # asking for top_k=5 pads to width 5 and normalises the entropy by log(6)
    wide = parse_logprobs(resp, top_k=5)
    assert wide.k == 5 and wide.top_mask.sum() == 3
    ent5 = (_row_entropy_conf([0.5, 0.4], 5) + _row_entropy_conf([0.99], 5)) / 2
    batch = whitebox_scores([resp], top_k=5)
    assert batch.entropy_confidence[0] == pytest.approx(ent5, rel=1e-12)


def test_nul_token_and_split_emoji_bytes() -> None:
    resp = load("chat_null_bytes_token.json")
    tl = parse_logprobs(resp)
    assert tl.tokens[1] == "\x00"
    assert tl.token_bytes[1] == (0,)
    assert tl.token_bytes[2] == (240, 159, 152) and tl.token_bytes[3] == (128,)
    assert tl.text == "ok\x00\U0001f600" == resp["choices"][0]["message"]["content"]
    assert tl.top_tokens[1] == ("\n", "\x00")  # the sampled NUL was not the top choice
    assert min_token_probability(resp) == pytest.approx(math.exp(-3.0), rel=1e-12)


def test_real_smollm2_reply_from_local_chat_model() -> None:
    resp = load("smollm2_local_chat.json")
    tl = parse_logprobs(resp)
    content = resp["choices"][0]["logprobs"]["content"]
    assert tl.n_tokens == len(content) == resp["usage"]["completion_tokens"]
    assert tl.text == resp["choices"][0]["message"]["content"]
    assert tl.k == 5 and tl.top_mask.all()
    assert (tl.logprobs <= 0).all() and np.isfinite(tl.logprobs).all()
    # greedy decoding: every sampled token is the most probable alternative
    assert all(top[0] == tok for top, tok in zip(tl.top_tokens, tl.tokens, strict=True))
    np.testing.assert_allclose(tl.top_logprobs[:, 0], tl.logprobs, rtol=0, atol=1e-12)
    # the reported top-5 probabilities form a sub-distribution
    assert (np.exp(tl.top_logprobs).sum(axis=1) <= 1 + 1e-9).all()
    scores = whitebox_scores([resp], top_k=5)
    assert 0 < scores.sequence_probability[0] <= 1
