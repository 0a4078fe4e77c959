"""Versioned JSON for every object confide saves (never pickle).

A saved document is a JSON object::

    {"schema": 1, "confide_version": "0.1.0", "kind": "<class kind>",
     "payload": {...}, "sha256": "<hex of the canonical payload>"}

Loading checks the schema version, the kind and the checksum, and says which one is wrong.
The checksum catches accidental edits and truncation; it is not a signature.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from confide._version import __version__
from confide.exceptions import SchemaError

SCHEMA_VERSION = 1

__all__ = ["SCHEMA_VERSION", "from_document", "load_json", "save_json", "to_document"]


def _canonical(payload: Any) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def _sanitize(value: Any) -> Any:
    """Make NumPy scalars/arrays and non-finite floats JSON-safe (inf as the string "inf")."""
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): _sanitize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_sanitize(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def to_document(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Wrap ``payload`` into a versioned, checksummed document."""
    clean = _sanitize(payload)
    return {
        "schema": SCHEMA_VERSION,
        "confide_version": __version__,
        "kind": kind,
        "payload": clean,
        "sha256": hashlib.sha256(_canonical(clean)).hexdigest(),
    }


def from_document(
    doc: Any, kind: str | None = None, *, source: str = "the document"
) -> dict[str, Any]:
    """Check a document's schema, kind and checksum and return its payload."""
    if not isinstance(doc, dict) or "schema" not in doc or "payload" not in doc:
        raise SchemaError(f"{source} is not a confide document (no 'schema' and 'payload' keys).")
    if doc["schema"] != SCHEMA_VERSION:
        raise SchemaError(
            f"{source} has schema version {doc['schema']!r}, written by confide "
            f"{doc.get('confide_version', '?')}; this confide ({__version__}) reads schema "
            f"{SCHEMA_VERSION}. Re-create it with this version, or load it with the version that wrote it."
        )
    if kind is not None and doc.get("kind") != kind:
        raise SchemaError(f"{source} holds a {doc.get('kind')!r}, not a {kind!r}.")
    payload = doc["payload"]
    expected = doc.get("sha256")
    actual = hashlib.sha256(_canonical(payload)).hexdigest()
    if expected != actual:
        raise SchemaError(
            f"{source} was altered after it was saved: its checksum does not match its content. "
            "Re-create it rather than editing it by hand."
        )
    return dict(payload)


def save_json(path: str | os.PathLike[str], kind: str, payload: dict[str, Any]) -> Path:
    """Write a document atomically (temporary file, then rename): a crash never leaves half a file."""
    target = Path(path)
    text = json.dumps(to_document(kind, payload), indent=2, sort_keys=True, allow_nan=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load_json(path: str | os.PathLike[str], kind: str | None = None) -> dict[str, Any]:
    """Read a document written by :func:`save_json` and return its checked payload."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{p} is not valid JSON ({exc.msg} at line {exc.lineno}).") from None
    return from_document(doc, kind, source=str(p))
