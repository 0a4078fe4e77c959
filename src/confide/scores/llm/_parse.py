"""Parsing of OpenAI-format ``logprobs`` into one array-backed :class:`TokenLogprobs`.

Two payload layouts are read:

* **chat completions** — ``choices[i].logprobs.content`` is a list of
  ``{"token", "logprob", "bytes", "top_logprobs": [{"token", "logprob", "bytes"}, ...]}``;
* **legacy completions** — ``choices[i].logprobs`` is
  ``{"tokens", "token_logprobs", "top_logprobs": [{token: logprob, ...}, ...], "text_offset"}``.

Either can be passed as the whole response (``{"choices": [...]}``), one choice
(``{"logprobs": ...}``) or the logprobs object itself; OpenAI SDK objects are read through
their ``model_dump()``.

Conventions, applied to both layouts:

* A logprob ``<= -9999`` is the API's sentinel for "underflow / not representable": it is read
  as probability 0, i.e. logprob ``-inf`` (``exp(-9999)`` is 0 in float64 anyway). Sampled
  tokens carrying it are flagged in :attr:`TokenLogprobs.underflow`.
* A ``null`` token logprob (the first token of an ``echo=True`` legacy completion, which has
  no context) is *unknown*: it is stored as NaN, :attr:`TokenLogprobs.known` is False there, and
  the scores skip the token.
* Top alternatives are sorted by decreasing logprob and padded with ``-inf`` up to ``k`` (the
  longest list, or ``top_k`` when given); :attr:`TokenLogprobs.top_mask` is True on real
  entries. A short or empty list is not an error.
* ``bytes`` may be ``null``; tokens are kept verbatim, including ``"\\u0000"``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from confide._typing import BoolArray, FloatArray
from confide._validation import check_positive_int
from confide.exceptions import ConfideTypeError, ShapeError, ValidationError

__all__ = ["SENTINEL_LOGPROB", "TokenLogprobs", "parse_logprobs"]

#: Logprobs at or below this value are the API's "underflow / unknown" sentinel (-9999.0).
SENTINEL_LOGPROB = -9999.0

_HOW_TO_REQUEST = (
    "Request them with logprobs=True, top_logprobs=k (chat completions, k <= 20) or "
    "logprobs=k (legacy completions)."
)


@dataclass(frozen=True, eq=False)
class TokenLogprobs:
    """Log-probabilities of one generated sequence, as arrays.

    Attributes
    ----------
    tokens : tuple of str
        The sampled tokens, verbatim.
    logprobs : ndarray of float64, shape (n,)
        Natural-log probability of each sampled token; ``-inf`` for the ``<= -9999`` sentinel,
        NaN where the API gave ``null``.
    known : ndarray of bool, shape (n,)
        False where the token logprob was ``null`` (not scored).
    underflow : ndarray of bool, shape (n,)
        True where the token logprob was the ``<= -9999`` sentinel (read as probability 0).
    top_logprobs : ndarray of float64, shape (n, k)
        Logprobs of the top alternatives at each position, decreasing, padded with ``-inf``.
    top_mask : ndarray of bool, shape (n, k)
        True on entries the API returned (a sentinel entry is returned, with logprob ``-inf``).
    top_tokens : tuple of tuple of str
        The alternative tokens, in the order of ``top_logprobs`` (unpadded).
    token_bytes : tuple of (tuple of int or None)
        UTF-8 bytes of each token when the API gave them.
    text_offset : tuple of int or None
        Character offsets of the tokens (legacy completions only).
    format : str
        ``"chat"`` or ``"legacy"``.
    """

    tokens: tuple[str, ...]
    logprobs: FloatArray
    known: BoolArray
    underflow: BoolArray
    top_logprobs: FloatArray
    top_mask: BoolArray
    top_tokens: tuple[tuple[str, ...], ...]
    token_bytes: tuple[tuple[int, ...] | None, ...]
    text_offset: tuple[int, ...] | None
    format: str

    def __post_init__(self) -> None:
        for name in ("logprobs", "known", "underflow", "top_logprobs", "top_mask"):
            getattr(self, name).setflags(write=False)

    @property
    def n_tokens(self) -> int:
        """Number of sampled tokens."""
        return len(self.tokens)

    @property
    def k(self) -> int:
        """Width of the top-alternatives matrix."""
        return int(self.top_logprobs.shape[1])

    @property
    def text(self) -> str:
        """The generated text: the decoded bytes when every token has them, else the tokens joined."""
        if self.token_bytes and all(b is not None for b in self.token_bytes):
            raw = b"".join(bytes(b) for b in self.token_bytes if b is not None)
            return raw.decode("utf-8", errors="replace")
        return "".join(self.tokens)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe types. Non-finite logprobs become ``None``: ``known``, ``underflow`` and
        ``top_mask`` tell an unknown (NaN) from a sentinel or padding (``-inf``)."""

        def floats(a: np.ndarray) -> Any:
            return np.where(np.isfinite(a), a, np.nan).astype(object).tolist()

        def clean(x: Any) -> Any:
            if isinstance(x, list):
                return [clean(v) for v in x]
            return None if isinstance(x, float) and math.isnan(x) else x

        return {
            "format": self.format,
            "tokens": list(self.tokens),
            "logprobs": clean(floats(self.logprobs)),
            "known": self.known.tolist(),
            "underflow": self.underflow.tolist(),
            "top_logprobs": clean(floats(self.top_logprobs)),
            "top_mask": self.top_mask.tolist(),
            "top_tokens": [list(t) for t in self.top_tokens],
            "token_bytes": [None if b is None else list(b) for b in self.token_bytes],
            "text_offset": None if self.text_offset is None else list(self.text_offset),
        }


def _as_mapping(obj: Any) -> Any:
    """OpenAI SDK (pydantic) objects to plain dicts; everything else unchanged."""
    dump = getattr(obj, "model_dump", None)
    if callable(dump) and not isinstance(obj, Mapping):
        return dump()
    return obj


def _logprob(value: Any, where: str) -> float:
    """A logprob as float: ``None`` -> NaN, sentinel -> -inf; anything else must be a real <= 0."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfideTypeError(f"{where} must be a number or null, got {value!r}.")
    v = float(value)
    if math.isnan(v):
        return math.nan
    if v <= SENTINEL_LOGPROB:
        return -math.inf
    if v > 1e-6:  # small positive rounding is tolerated and clipped below
        raise ValidationError(
            f"{where} is a log-probability and must be <= 0, got {value!r}. Pass the API's "
            "logprobs unchanged (natural logarithms)."
        )
    return min(v, 0.0)


def _bytes(value: Any, where: str) -> tuple[int, ...] | None:
    if value is None:
        return None
    if isinstance(value, bytes | bytearray):
        return tuple(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(int(b) for b in value)
    raise ConfideTypeError(f"{where} must be a list of byte values or null, got {value!r}.")


def _locate(obj: Any, choice: int) -> tuple[Any, str]:
    """Find the logprobs object in a response, a choice or the object itself."""
    obj = _as_mapping(obj)
    if isinstance(obj, Sequence) and not isinstance(obj, str | bytes):
        return list(obj), "chat"  # a bare ``content`` list
    if not isinstance(obj, Mapping):
        raise ConfideTypeError(
            "expected an OpenAI response, a choice or a logprobs object (a dict), got "
            f"a {type(obj).__name__}."
        )
    if "choices" in obj:
        choices = obj["choices"]
        if not isinstance(choices, Sequence) or not choices:
            raise ValidationError("the response has no choices; nothing to score.")
        if not -len(choices) <= choice < len(choices):
            raise ShapeError(
                f"choice={choice} is out of range: the response has {len(choices)} choice(s)."
            )
        obj = _as_mapping(choices[choice])
        if not isinstance(obj, Mapping):
            raise ConfideTypeError(f"choices[{choice}] must be a dict, got {type(obj).__name__}.")
    if "content" in obj or "tokens" in obj or "token_logprobs" in obj:
        lp: Any = obj
    elif "logprobs" in obj:
        lp = _as_mapping(obj["logprobs"])
        if lp is None:
            raise ValidationError(
                f"the choice has logprobs=null: the API returned none. {_HOW_TO_REQUEST}"
            )
    else:
        raise ValidationError(
            "no logprobs found: the object has neither 'choices', 'logprobs', 'content' nor "
            f"'tokens' (keys: {sorted(map(str, obj))}). {_HOW_TO_REQUEST}"
        )
    if not isinstance(lp, Mapping):
        raise ConfideTypeError(f"logprobs must be a dict, got a {type(lp).__name__}.")
    if "content" in lp:
        if lp["content"] is None:
            refused = " (the model refused; see logprobs.refusal)" if lp.get("refusal") else ""
            raise ValidationError(
                f"logprobs.content is null{refused}: there are no token logprobs. {_HOW_TO_REQUEST}"
            )
        return list(lp["content"]), "chat"
    if "tokens" in lp or "token_logprobs" in lp:
        return lp, "legacy"
    raise ValidationError(
        f"the logprobs object has neither 'content' (chat) nor 'tokens' (legacy) "
        f"(keys: {sorted(map(str, lp))}). {_HOW_TO_REQUEST}"
    )


def _top_matrix(
    rows: list[list[tuple[str, float]]], top_k: int | None
) -> tuple[FloatArray, BoolArray, tuple[tuple[str, ...], ...]]:
    """Sort each row by decreasing logprob (stable) and pad it to a common width with -inf."""
    rows = [sorted(r, key=lambda t: -t[1]) for r in rows]
    k = max((len(r) for r in rows), default=0) if top_k is None else top_k
    rows = [r[:k] for r in rows]
    lengths = np.array([len(r) for r in rows], dtype=np.intp)
    mask: BoolArray = np.arange(k)[None, :] < lengths[:, None]
    top: FloatArray = np.full((len(rows), k), -np.inf)
    flat = np.array([v for r in rows for _, v in r], dtype=np.float64)
    top[mask] = flat
    tokens = tuple(tuple(t for t, _ in r) for r in rows)
    return top, mask, tokens


def _parse_chat(content: list[Any], top_k: int | None) -> TokenLogprobs:
    tokens: list[str] = []
    values: list[float] = []
    raw_bytes: list[tuple[int, ...] | None] = []
    rows: list[list[tuple[str, float]]] = []
    for i, entry in enumerate(content):
        item = _as_mapping(entry)
        if not isinstance(item, Mapping) or "token" not in item or "logprob" not in item:
            raise ValidationError(
                f"logprobs.content[{i}] must be a dict with 'token' and 'logprob', got {entry!r}."
            )
        tokens.append(str(item["token"]))
        values.append(_logprob(item["logprob"], f"logprobs.content[{i}].logprob"))
        raw_bytes.append(_bytes(item.get("bytes"), f"logprobs.content[{i}].bytes"))
        row = []
        for j, alt in enumerate(item.get("top_logprobs") or []):
            a = _as_mapping(alt)
            where = f"logprobs.content[{i}].top_logprobs[{j}]"
            if not isinstance(a, Mapping) or "logprob" not in a:
                raise ValidationError(
                    f"{where} must be a dict with 'token' and 'logprob', got {alt!r}."
                )
            v = _logprob(a["logprob"], f"{where}.logprob")
            if not math.isnan(v):
                row.append((str(a.get("token", "")), v))
        rows.append(row)
    return _assemble(tokens, values, raw_bytes, rows, None, "chat", top_k)


def _parse_legacy(lp: Mapping[str, Any], top_k: int | None) -> TokenLogprobs:
    tokens = [str(t) for t in (lp.get("tokens") or [])]
    raw_values = list(lp.get("token_logprobs") or [])
    if len(raw_values) != len(tokens):
        raise ShapeError(
            f"legacy logprobs have {len(tokens)} tokens but {len(raw_values)} token_logprobs."
        )
    values = [_logprob(v, f"token_logprobs[{i}]") for i, v in enumerate(raw_values)]
    tops = lp.get("top_logprobs")
    tops = [None] * len(tokens) if tops is None else list(tops)
    if len(tops) != len(tokens):
        raise ShapeError(f"legacy logprobs have {len(tokens)} tokens but {len(tops)} top_logprobs.")
    rows: list[list[tuple[str, float]]] = []
    for i, alt in enumerate(tops):
        if alt is None:
            rows.append([])
            continue
        if not isinstance(alt, Mapping):
            raise ConfideTypeError(
                f"top_logprobs[{i}] of a legacy completion must be a dict token -> logprob, got {alt!r}."
            )
        row = [(str(t), _logprob(v, f"top_logprobs[{i}][{t!r}]")) for t, v in alt.items()]
        rows.append([(t, v) for t, v in row if not math.isnan(v)])
    offsets = lp.get("text_offset")
    text_offset = None if offsets is None else tuple(int(o) for o in offsets)
    if text_offset is not None and len(text_offset) != len(tokens):
        raise ShapeError(
            f"legacy logprobs have {len(tokens)} tokens but {len(text_offset)} text_offset."
        )
    raw_bytes: list[tuple[int, ...] | None] = [None] * len(tokens)
    return _assemble(tokens, values, raw_bytes, rows, text_offset, "legacy", top_k)


def _assemble(
    tokens: list[str],
    values: list[float],
    raw_bytes: list[tuple[int, ...] | None],
    rows: list[list[tuple[str, float]]],
    text_offset: tuple[int, ...] | None,
    fmt: str,
    top_k: int | None,
) -> TokenLogprobs:
    logprobs = np.array(values, dtype=np.float64).reshape(-1)
    top, mask, top_tokens = _top_matrix(rows, top_k)
    return TokenLogprobs(
        tokens=tuple(tokens),
        logprobs=logprobs,
        known=~np.isnan(logprobs),
        underflow=np.isneginf(logprobs),
        top_logprobs=top,
        top_mask=mask,
        top_tokens=top_tokens,
        token_bytes=tuple(raw_bytes),
        text_offset=text_offset,
        format=fmt,
    )


def parse_logprobs(obj: Any, *, choice: int = 0, top_k: int | None = None) -> TokenLogprobs:
    """Read OpenAI-format token logprobs (chat or legacy completions) into arrays.

    Parameters
    ----------
    obj : dict, list or OpenAI SDK object
        A whole response (``{"choices": [...]}``), one choice (``{"logprobs": ...}``), a
        logprobs object (``{"content": [...]}`` or ``{"tokens": [...], ...}``), a bare chat
        ``content`` list, or a :class:`TokenLogprobs` (returned as is).
    choice : int, default 0
        Which choice of a whole response to read.
    top_k : int, optional
        Width of the top-alternatives matrix (the ``top_logprobs`` you requested). Longer lists
        are cut to their ``top_k`` most probable entries; shorter ones are padded with
        ``-inf``. Default: the longest list returned.

    Returns
    -------
    TokenLogprobs
        See the module docstring for the sentinel (``<= -9999`` read as probability 0) and
        ``null`` (unknown, skipped by the scores) conventions.

    Raises
    ------
    confide.exceptions.ValidationError
        If the response carries no logprobs (``logprobs`` missing or null, ``content`` null);
        the message says how to request them (``logprobs=True, top_logprobs=k``).
    confide.exceptions.ConfideTypeError
        If a field has the wrong type (e.g. a string logprob).
    confide.exceptions.ShapeError
        If ``choice`` is out of range or legacy fields have different lengths.
    """
    if isinstance(obj, TokenLogprobs):
        return obj
    if top_k is not None:
        top_k = check_positive_int(top_k, "top_k", minimum=0)
    if isinstance(choice, bool) or not isinstance(choice, int | np.integer):
        raise ConfideTypeError(f"choice must be an integer, got {choice!r}.")
    found, fmt = _locate(obj, int(choice))
    if fmt == "chat":
        return _parse_chat(found, top_k)
    return _parse_legacy(found, top_k)
