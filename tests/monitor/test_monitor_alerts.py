"""Alert rules: hysteresis, persistence, cool-down, NaN policy, state save/restore, JSON Lines."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from confide.exceptions import ConfideTypeError, SchemaError, ValidationError
from confide.monitor._alerts import (
    AlertEvent,
    AlertManager,
    AlertRule,
    read_events_jsonl,
    write_events_jsonl,
)


def _run(manager, series, metric="acc"):
    """Feed a series; return {index: state} of the events."""
    out = {}
    for i, v in enumerate(series):
        for e in manager.observe({metric: v}):
            out[i] = e.state
    return out


def test_simple_threshold_fires_and_resolves():
    m = AlertManager([AlertRule("low_acc", "acc", "<", 0.8)])
    assert _run(m, [0.9, 0.79, 0.7, 0.8, 0.75, 0.85]) == {
        1: "fired",
        3: "resolved",  # 0.8 is not < 0.8
        4: "fired",
        5: "resolved",
    }


def test_hysteresis_holds_the_alarm_until_the_clear_threshold():
    rule = AlertRule("low_acc", "acc", "<", 0.8, clear_threshold=0.85)
    m = AlertManager([rule])
    # 0.82 and 0.84 are above the threshold but not past the clear bound: still active
    assert _run(m, [0.9, 0.78, 0.82, 0.84, 0.86, 0.82, 0.79]) == {
        1: "fired",
        4: "resolved",
        6: "fired",
    }
    hi = AlertManager([AlertRule("drift", "psi", ">=", 0.2, clear_threshold=0.1)])
    # with ">=" the alarm holds while psi >= 0.1, so it resolves at 0.05, not at 0.1
    assert _run(hi, [0.1, 0.2, 0.15, 0.1, 0.05, 0.25], "psi") == {
        1: "fired",
        4: "resolved",
        5: "fired",
    }


def test_for_chunks_needs_consecutive_breaches():
    m = AlertManager([AlertRule("low", "acc", "<", 0.8, for_chunks=3)])
    events = _run(m, [0.7, 0.7, 0.9, 0.7, 0.7, 0.7, 0.7, 0.9])
    assert events == {5: "fired", 7: "resolved"}
    fired = AlertManager([AlertRule("low", "acc", "<", 0.8, for_chunks=2)])
    e = [ev for v in (0.7, 0.6) for ev in fired.observe({"acc": v})]
    assert e[0].message.startswith("WARNING low: acc = 0.6 < 0.8 for 2 consecutive")


def test_cooldown_in_chunks_and_in_seconds():
    m = AlertManager([AlertRule("low", "acc", "<", 0.8, cooldown=3)])
    # fired at 1, resolved at 2, breaches at 3 and 4 are inside the cool-down (4 - 1 < 3)
    assert _run(m, [0.9, 0.7, 0.9, 0.7, 0.7, 0.7, 0.9]) == {
        1: "fired",
        2: "resolved",
        4: "fired",
        6: "resolved",
    }
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    s = AlertManager([AlertRule("low", "acc", "<", 0.8, cooldown=3600, severity="critical")])
    got = []
    for minutes, v in [(0, 0.7), (10, 0.9), (20, 0.7), (50, 0.7), (61, 0.7)]:
        got += [
            (minutes, e.state) for e in s.observe({"acc": v}, at=t0 + timedelta(minutes=minutes))
        ]
    assert got == [(0, "fired"), (10, "resolved"), (61, "fired")]


def test_nan_policy_raise_and_skip():
    strict = AlertManager([AlertRule("low", "acc", "<", 0.8), AlertRule("hi", "psi", ">", 0.2)])
    with pytest.raises(ValidationError, match="'acc' watched by rule 'low' is NaN"):
        strict.observe({"acc": float("nan"), "psi": 0.5})
    with pytest.raises(ValidationError, match="'psi' watched by rule 'hi' is missing"):
        strict.observe({"acc": 0.5})
    assert strict.active == [] and strict.n_observations == 0  # nothing changed
    lax = AlertManager([AlertRule("low", "acc", "<", 0.8, for_chunks=2)], nan_policy="skip")
    # NaN neither breaks the run of breaches nor counts as one
    assert _run(lax, [0.7, np.nan, 0.7, np.nan, 0.9]) == {2: "fired", 4: "resolved"}
    assert lax.observe({}) == []


def test_save_restore_continues_exactly(tmp_path, rng):
    rules = [
        AlertRule("low", "acc", "<", 0.8, clear_threshold=0.83, for_chunks=2, cooldown=4),
        AlertRule("drift", "psi", ">", 0.25, severity="critical"),
    ]
    obs = [
        {"acc": float(a), "psi": float(p)}
        for a, p in zip(rng.uniform(0.7, 0.9, 60), rng.uniform(0, 0.4, 60))
    ]
    whole = AlertManager(rules)
    want = [e.to_dict() for o in obs for e in whole.observe(o)]
    first = AlertManager(rules)
    got = [e.to_dict() for o in obs[:31] for e in first.observe(o)]
    path = first.save(tmp_path / "alerts.json")
    second = AlertManager.load(path)
    got += [e.to_dict() for o in obs[31:] for e in second.observe(o)]
    assert got == want and len(want) > 6
    assert AlertManager.from_dict(whole.to_dict()).to_dict() == whole.to_dict()
    bad = whole.to_dict()
    bad["kind"] = "cbpe"
    with pytest.raises(SchemaError, match="not a 'alert_manager'"):
        AlertManager.from_dict(bad)


def test_events_jsonl_round_trip(tmp_path):
    m = AlertManager([AlertRule("low", "acc", "<", 0.8)])
    events = [e for v in (0.9, 0.7, 0.9) for e in m.observe({"acc": v})]
    path = tmp_path / "events.jsonl"
    assert write_events_jsonl(events[:1], path) == 1
    write_events_jsonl(events[1:], path)  # appends
    assert read_events_jsonl(path) == events
    write_events_jsonl(events[1:], path, append=False)
    assert read_events_jsonl(path) == events[1:]
    buf = io.StringIO()
    write_events_jsonl(events, buf)
    lines = buf.getvalue().splitlines()
    assert [json.loads(x)["state"] for x in lines] == ["fired", "resolved"]
    assert read_events_jsonl(io.StringIO(buf.getvalue() + "\n")) == events
    assert AlertEvent.from_dict(events[0].to_dict()) == events[0]
    with pytest.raises(SchemaError, match="line 2"):
        read_events_jsonl(io.StringIO(lines[0] + "\n{not json\n"))


def test_invalid_rules_and_observations():
    with pytest.raises(ValidationError, match="op must be one of"):
        AlertRule("r", "acc", "==", 0.8)
    with pytest.raises(ValidationError, match="clear_threshold must be at least"):
        AlertRule("r", "acc", "<", 0.8, clear_threshold=0.7)
    with pytest.raises(ValidationError, match="clear_threshold must be at most"):
        AlertRule("r", "psi", ">", 0.2, clear_threshold=0.3)
    with pytest.raises(ValidationError, match="for_chunks must be at least 1"):
        AlertRule("r", "acc", "<", 0.8, for_chunks=0)
    with pytest.raises(ValidationError, match="cooldown must be >= 0"):
        AlertRule("r", "acc", "<", 0.8, cooldown=-1)
    with pytest.raises(ValidationError, match="threshold must be finite"):
        AlertRule("r", "acc", "<", float("nan"))
    with pytest.raises(ValidationError, match="severity"):
        AlertRule("r", "acc", "<", 0.8, severity="info")
    with pytest.raises(ValidationError, match="unique"):
        AlertManager([AlertRule("r", "a", "<", 1), AlertRule("r", "b", "<", 1)])
    m = AlertManager([AlertRule("r", "acc", "<", 0.8)])
    m.observe({"acc": 0.9}, at=10)
    with pytest.raises(ValidationError, match="earlier than the previous"):
        m.observe({"acc": 0.9}, at=5)
    with pytest.raises(ValidationError, match="time zone"):
        m.observe({"acc": 0.9}, at=datetime(2024, 1, 1))
    with pytest.raises(ConfideTypeError, match="must be a number"):
        m.observe({"acc": "low"}, at=11)
