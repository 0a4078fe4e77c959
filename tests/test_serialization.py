from __future__ import annotations

import json

import numpy as np
import pytest

from confide import __version__
from confide._serialization import load_json, save_json
from confide.exceptions import SchemaError


def test_round_trip_with_numpy_and_infinities(tmp_path):
    path = save_json(
        tmp_path / "obj.json", "thing", {"a": np.arange(3), "b": np.float32(0.5), "c": np.inf}
    )
    doc = json.loads(path.read_text())
    assert doc["schema"] == 1 and doc["confide_version"] == __version__ and doc["kind"] == "thing"
    assert load_json(path, "thing") == {"a": [0, 1, 2], "b": 0.5, "c": "inf"}


def test_each_failure_is_named(tmp_path):
    path = save_json(tmp_path / "obj.json", "thing", {"a": 1})
    with pytest.raises(SchemaError, match="holds a 'thing', not a 'other'"):
        load_json(path, "other")
    doc = json.loads(path.read_text())
    doc["payload"]["a"] = 2
    path.write_text(json.dumps(doc))
    with pytest.raises(SchemaError, match="altered"):
        load_json(path)
    doc["schema"] = 0
    path.write_text(json.dumps(doc))
    with pytest.raises(SchemaError, match="schema version 0"):
        load_json(path)
    path.write_text("{not json")
    with pytest.raises(SchemaError, match="not valid JSON"):
        load_json(path)
    path.write_text("[1, 2]")
    with pytest.raises(SchemaError, match="not a confide document"):
        load_json(path)


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path):
    path = save_json(tmp_path / "obj.json", "thing", {"a": 1})
    before = path.read_text()
    with pytest.raises(TypeError):
        save_json(path, "thing", {"a": object()})
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["obj.json"]


def test_crash_during_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = save_json(tmp_path / "obj.json", "thing", {"a": 1})
    before = path.read_text()

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("confide._serialization.os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save_json(path, "thing", {"a": 2})
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["obj.json"]
