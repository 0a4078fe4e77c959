"""ADWIN and PageHinkley raise their alarms on exactly the values where river's do.

river 0.26 (ADWIN in Rust, PageHinkley in Python) is fed the same Python floats one by one;
confide gets the whole stream in one ``update_many`` call, on both the compiled and the NumPy
paths. Alarm indices must be identical, and so must ADWIN's window (width, sum, variance).
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from confide import _accel
from confide.monitor._adwin import ADWIN
from confide.monitor._page_hinkley import PageHinkley

drift = pytest.importorskip("river.drift")


def _streams() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2)
    return {
        "confidence_shift": np.r_[rng.beta(5, 2, 3000), rng.beta(3, 2, 3000)],
        "integers": np.r_[rng.choice([0, 1], 1000), rng.choice(np.arange(4, 8), 1000)].astype(
            float
        ),
        "no_change": rng.beta(5, 2, 20000),
        "normal_shift": np.r_[rng.normal(0, 1, 8000), rng.normal(0.5, 1, 8000)],
        "several": np.r_[
            rng.beta(5, 2, 3000), rng.beta(2, 2, 3000), rng.beta(5, 2, 3000), rng.random(3000)
        ],
    }


STREAMS = _streams()


@pytest.fixture(params=["auto", "numpy"])
def accelerator(request: pytest.FixtureRequest):
    if request.param == "auto" and not _accel.numba_available():
        pytest.skip("numba is not installed")
    before = _accel.accelerator()
    _accel.set_accelerator(request.param)
    yield request.param
    _accel.set_accelerator(before)


def _river_alarms(detector, xs: np.ndarray) -> list[int]:
    alarms = []
    for i, v in enumerate(xs.tolist()):
        detector.update(v)
        if detector.drift_detected:
            alarms.append(i)
    return alarms


ADWIN_SETTINGS = [
    {},
    {"delta": 0.1, "clock": 1},
    {"delta": 0.01, "clock": 4, "max_buckets": 2, "min_window_length": 2, "grace_period": 0},
    {"delta": 0.5, "clock": 1, "max_buckets": 3},
]


@pytest.mark.parametrize(
    "settings", ADWIN_SETTINGS, ids=lambda s: ",".join(map(str, s.values())) or "defaults"
)
@pytest.mark.parametrize("stream", list(STREAMS))
def test_adwin_alarms_are_rivers(stream: str, settings: dict, accelerator: str) -> None:
    xs = STREAMS[stream]
    if accelerator == "numpy":
        xs = xs[:6000]  # the NumPy path runs the same kernel in Python: keep it short
    theirs = drift.ADWIN(**settings)
    expected = _river_alarms(theirs, xs)
    ours = ADWIN(**settings)
    assert list(ours.update_many(xs).alarms) == expected
    assert ours.width == theirs.width
    assert ours.estimation == theirs.estimation
    assert ours.variance == theirs.variance  # the same bits: same operations in the same order


PH_SETTINGS = [
    {},
    {"threshold": 5.0},
    {"threshold": 2.0, "delta": 0.001, "alpha": 0.99, "min_instances": 10},
    {"mode": "up", "threshold": 5.0},
    {"mode": "down", "threshold": 5.0, "alpha": 1.0},
]


@pytest.mark.parametrize(
    "settings", PH_SETTINGS, ids=lambda s: ",".join(map(str, s.values())) or "defaults"
)
@pytest.mark.parametrize("stream", list(STREAMS))
def test_page_hinkley_alarms_are_rivers(stream: str, settings: dict, accelerator: str) -> None:
    xs = STREAMS[stream]
    expected = _river_alarms(drift.PageHinkley(**settings), xs)
    assert list(PageHinkley(**settings).update_many(xs).alarms) == expected


def test_rivers_documented_examples() -> None:
    """The change indices printed in river's docstrings (1023 for ADWIN, 1006 for PH)."""
    rng = random.Random(12345)
    data = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
    assert ADWIN().update_many(data).alarms == (1023,)
    rng = random.Random(12345)
    data = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
    assert PageHinkley().update_many(data).alarms[0] == 1006


def test_adwin_resumed_from_a_saved_state_stays_rivers(tmp_path) -> None:
    xs = STREAMS["several"]
    expected = _river_alarms(drift.ADWIN(delta=0.05), xs)
    first = ADWIN(delta=0.05)
    got = list(first.update_many(xs[:4500]).alarms)
    resumed = ADWIN.load(first.save(tmp_path / "adwin.json"))
    got += list(resumed.update_many(xs[4500:]).global_alarms)
    assert got == expected
