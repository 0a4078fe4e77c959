"""Tests of confide.scores.llm parse_logprobs on chat and legacy OpenAI payloads."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import numpy as np
import pytest

from confide.exceptions import ConfideTypeError, ShapeError, ValidationError
from confide.scores.llm._parse import TokenLogprobs, parse_logprobs

LN = math.log


def chat_response() -> dict[str, Any]:
    """A chat completion as the API returns it with logprobs=True, top_logprobs=3."""
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1735000000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Paris\u0000!", "refusal": None},
                "logprobs": {
                    "content": [
                        {
                            "token": "Paris",
                            "logprob": LN(0.9),
                            "bytes": [80, 97, 114, 105, 115],
                            "top_logprobs": [
                                {
                                    "token": "Paris",
                                    "logprob": LN(0.9),
                                    "bytes": [80, 97, 114, 105, 115],
                                },
                                {
                                    "token": "Lyon",
                                    "logprob": LN(0.06),
                                    "bytes": [76, 121, 111, 110],
                                },
                                {"token": "The", "logprob": -9999.0, "bytes": None},
                            ],
                        },
                        {
                            # a NUL token: kept verbatim, bytes [0]
                            "token": "\u0000",
                            "logprob": LN(0.5),
                            "bytes": [0],
                            # shorter than requested (2 of 3), and out of order
                            "top_logprobs": [
                                {"token": "!", "logprob": LN(0.3), "bytes": [33]},
                                {"token": "\u0000", "logprob": LN(0.5), "bytes": [0]},
                            ],
                        },
                        {
                            "token": "!",
                            "logprob": -10000.5,  # below the sentinel: probability 0
                            "bytes": None,
                            "top_logprobs": [],
                        },
                    ],
                    "refusal": None,
                },
                "finish_reason": "stop",
            },
            {
                "index": 1,
                "message": {"role": "assistant", "content": "Lyon"},
                "logprobs": {
                    "content": [
                        {"token": "Lyon", "logprob": LN(0.06), "bytes": None, "top_logprobs": []}
                    ],
                    "refusal": None,
                },
                "finish_reason": "stop",
            },
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
    }


def legacy_response() -> dict[str, Any]:
    """A legacy completion with echo=True, logprobs=2: the first token's logprob is null."""
    return {
        "id": "cmpl-xyz",
        "object": "text_completion",
        "model": "gpt-3.5-turbo-instruct",
        "choices": [
            {
                "text": "Q: A",
                "index": 0,
                "logprobs": {
                    "tokens": ["Q", ":", " A"],
                    "token_logprobs": [None, LN(0.25), -9999.0],
                    "top_logprobs": [
                        None,
                        {"\u0000": LN(0.05), ":": LN(0.25), ".": LN(0.5)},  # unsorted, 3 > k
                        {" A": -9999.0},
                    ],
                    "text_offset": [0, 1, 2],
                },
                "finish_reason": "length",
            }
        ],
    }


def test_chat_response_choice_and_logprobs_object_parse_the_same() -> None:
    resp = chat_response()
    a = parse_logprobs(resp)
    b = parse_logprobs(resp["choices"][0])
    c = parse_logprobs(resp["choices"][0]["logprobs"])
    d = parse_logprobs(resp["choices"][0]["logprobs"]["content"])
    for other in (b, c, d):
        assert other.to_dict() == a.to_dict()
    assert parse_logprobs(a) is a


def test_chat_fields() -> None:
    t = parse_logprobs(chat_response())
    assert t.format == "chat"
    assert t.tokens == ("Paris", "\u0000", "!")
    np.testing.assert_array_equal(t.logprobs, [LN(0.9), LN(0.5), -np.inf])
    np.testing.assert_array_equal(t.known, [True, True, True])
    np.testing.assert_array_equal(t.underflow, [False, False, True])
    assert t.k == 3
    np.testing.assert_array_equal(
        t.top_logprobs,
        [[LN(0.9), LN(0.06), -np.inf], [LN(0.5), LN(0.3), -np.inf], [-np.inf] * 3],
    )
    np.testing.assert_array_equal(
        t.top_mask, [[True, True, True], [True, True, False], [False, False, False]]
    )
    assert t.top_tokens == (("Paris", "Lyon", "The"), ("\u0000", "!"), ())
    assert t.token_bytes == ((80, 97, 114, 105, 115), (0,), None)
    assert t.text_offset is None
    assert t.text == "Paris\u0000!"  # one null bytes -> the tokens joined
    assert t.n_tokens == 3
    with pytest.raises(ValueError):
        t.logprobs[0] = 0.0  # frozen arrays


def test_top_k_pads_and_truncates() -> None:
    t = parse_logprobs(chat_response(), top_k=5)
    assert t.top_logprobs.shape == (3, 5)
    assert t.top_mask.sum() == 5
    assert np.isneginf(t.top_logprobs[:, 3:]).all()
    t1 = parse_logprobs(chat_response(), top_k=1)
    np.testing.assert_array_equal(t1.top_logprobs[:, 0], [LN(0.9), LN(0.5), -np.inf])


def test_second_choice_and_bad_choice() -> None:
    t = parse_logprobs(chat_response(), choice=1)
    assert t.tokens == ("Lyon",)
    assert t.k == 0 and t.top_logprobs.shape == (1, 0)
    with pytest.raises(ShapeError, match="2 choice"):
        parse_logprobs(chat_response(), choice=2)


def test_legacy_fields() -> None:
    t = parse_logprobs(legacy_response())
    assert t.format == "legacy"
    assert t.tokens == ("Q", ":", " A")
    assert np.isnan(t.logprobs[0])
    np.testing.assert_array_equal(t.logprobs[1:], [LN(0.25), -np.inf])
    np.testing.assert_array_equal(t.known, [False, True, True])
    np.testing.assert_array_equal(t.underflow, [False, False, True])
    assert t.top_tokens == ((), (".", ":", "\u0000"), (" A",))
    np.testing.assert_array_equal(
        t.top_logprobs,
        [[-np.inf] * 3, [LN(0.5), LN(0.25), LN(0.05)], [-np.inf, -np.inf, -np.inf]],
    )
    np.testing.assert_array_equal(
        t.top_mask, [[False] * 3, [True, True, True], [True, False, False]]
    )
    assert t.text_offset == (0, 1, 2)
    assert t.token_bytes == (None, None, None)
    assert t.text == "Q: A"
    t2 = parse_logprobs(legacy_response(), top_k=2)
    assert t2.top_tokens[1] == (".", ":")


def test_to_dict_is_plain_json() -> None:
    for t in (parse_logprobs(chat_response()), parse_logprobs(legacy_response())):
        d = t.to_dict()
        back = json.loads(json.dumps(d, allow_nan=False))
        assert back == d
    d = parse_logprobs(legacy_response()).to_dict()
    assert d["logprobs"][0] is None and d["logprobs"][2] is None
    assert d["underflow"] == [False, False, True]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r["choices"][0].pop("logprobs"),
        lambda r: r["choices"][0].__setitem__("logprobs", None),
        lambda r: r["choices"][0]["logprobs"].__setitem__("content", None),
    ],
    ids=["missing", "null", "content-null"],
)
def test_missing_logprobs_say_how_to_request_them(mutate: Any) -> None:
    resp = chat_response()
    mutate(resp)
    with pytest.raises(ValidationError, match=r"logprobs=True, top_logprobs=k"):
        parse_logprobs(resp)


def test_refusal_is_named() -> None:
    resp = chat_response()
    lp = resp["choices"][0]["logprobs"]
    lp["content"] = None
    lp["refusal"] = [{"token": "I", "logprob": -0.1, "bytes": [73], "top_logprobs": []}]
    with pytest.raises(ValidationError, match="refused"):
        parse_logprobs(resp)


def test_bad_values() -> None:
    resp = chat_response()
    resp["choices"][0]["logprobs"]["content"][0]["logprob"] = "-0.1"
    with pytest.raises(ConfideTypeError, match=r"content\[0\]\.logprob"):
        parse_logprobs(resp)
    resp = chat_response()
    resp["choices"][0]["logprobs"]["content"][1]["logprob"] = 0.5
    with pytest.raises(ValidationError, match="must be <= 0"):
        parse_logprobs(resp)
    leg = legacy_response()
    leg["choices"][0]["logprobs"]["token_logprobs"].pop()
    with pytest.raises(ShapeError, match="3 tokens but 2"):
        parse_logprobs(leg)
    with pytest.raises(ValidationError, match="no choices"):
        parse_logprobs({"choices": []})
    with pytest.raises(ConfideTypeError):
        parse_logprobs(42)
    with pytest.raises(ValidationError, match="no logprobs found"):
        parse_logprobs({"message": {"content": "hi"}})


def test_tiny_positive_rounding_is_clipped_to_zero() -> None:
    content = [{"token": "a", "logprob": 1e-9, "bytes": None, "top_logprobs": []}]
    assert parse_logprobs(content).logprobs[0] == 0.0


def test_sdk_objects_are_read_through_model_dump() -> None:
    class Fake:
        def __init__(self, d: dict[str, Any]) -> None:
            self._d = d

        def model_dump(self) -> dict[str, Any]:
            return copy.deepcopy(self._d)

    resp = chat_response()
    t = parse_logprobs(Fake(resp))
    assert isinstance(t, TokenLogprobs)
    assert t.to_dict() == parse_logprobs(resp).to_dict()


def test_empty_generation_parses() -> None:
    t = parse_logprobs({"content": []})
    assert t.n_tokens == 0 and t.top_logprobs.shape == (0, 0)
