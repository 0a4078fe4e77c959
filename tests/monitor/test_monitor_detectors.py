"""Streaming drift detectors: batch == one by one, save/resume bit for bit, exact values, bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.stats as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from confide import _accel
from confide._serialization import load_json, save_json
from confide.exceptions import ConfideTypeError, NonFiniteError, SchemaError, ValidationError
from confide.monitor._adwin import ADWIN
from confide.monitor._cusum import CUSUM, threshold_for_arl
from confide.monitor._detector_base import (
    DetectorStep,
    DriftDetector,
    load_detector,
)
from confide.monitor._online_cvm import OnlineCramerVonMises, _anderson_constants
from confide.monitor._page_hinkley import PageHinkley

RNG = np.random.default_rng(20261129)
REF = RNG.beta(5, 2, 400)
STREAM = np.concatenate([RNG.beta(5, 2, 1500), RNG.beta(3, 2, 1000), RNG.uniform(size=500)])

MAKERS = {
    "cusum": lambda: CUSUM(h=4.0).fit(REF),
    "cusum_warmup": lambda: CUSUM(h=3.0, two_sided=False, warmup=40),
    "page_hinkley": lambda: PageHinkley(threshold=3.0),
    "adwin": lambda: ADWIN(delta=0.05, clock=4),
    "online_cvm": lambda: OnlineCramerVonMises(REF, window_size=20, ert=50, n_bootstraps=500),
}
NEEDS_NUMBA = pytest.mark.skipif(not _accel.numba_available(), reason="numba is not installed")


@pytest.fixture(params=["auto", "numpy"])
def accelerator(request: pytest.FixtureRequest):
    if request.param == "auto" and not _accel.numba_available():
        pytest.skip("numba is not installed")
    before = _accel.accelerator()
    _accel.set_accelerator(request.param)
    yield request.param
    _accel.set_accelerator(before)


def _state(det: DriftDetector) -> dict:
    return det.to_dict()["payload"]


def _compiled() -> bool:
    return _accel.accelerator() != "numpy" and _accel.numba_available()


def _assert_same_state(a: DriftDetector, b: DriftDetector, exact: bool) -> None:
    if exact:  # the running state, to the last bit
        assert _state(a) == _state(b)
        return
    # PageHinkley's vectorised NumPy path agrees with its recursion up to rounding
    sa, sb = _state(a), _state(b)
    assert sa["counts"] == sb["counts"]
    assert sa["drift"] == sb["drift"]
    for key, value in sa["state"].items():
        assert sb["state"][key] == pytest.approx(value, rel=1e-9, abs=1e-9)


def _one_by_one(det: DriftDetector, xs: np.ndarray) -> list[int]:
    return [i for i, v in enumerate(xs) if det.update(float(v))]


def _chunked(det: DriftDetector, xs: np.ndarray, cuts: list[int]) -> list[int]:
    alarms: list[int] = []
    for lo, hi in zip([0, *cuts], [*cuts, len(xs)], strict=True):
        res = det.update_many(xs[lo:hi])
        alarms += list(res.global_alarms)
    return alarms


@pytest.mark.parametrize("name", list(MAKERS))
def test_update_many_equals_repeated_update(name: str, accelerator: str) -> None:
    whole = MAKERS[name]()
    batch_alarms = list(whole.update_many(STREAM).alarms)
    assert batch_alarms, "the stream changes: every detector must alarm at least once"
    single = MAKERS[name]()
    assert _one_by_one(single, STREAM) == batch_alarms
    chunked = MAKERS[name]()
    assert _chunked(chunked, STREAM, [1, 7, 300, 301, 1499, 2100, 2999]) == batch_alarms
    for other in (single, chunked):
        _assert_same_state(whole, other, exact=name != "page_hinkley" or _compiled())


@NEEDS_NUMBA
@pytest.mark.parametrize("name", list(MAKERS))
def test_compiled_and_numpy_paths_agree(name: str) -> None:
    states, alarms = [], []
    before = _accel.accelerator()
    for mode in ("numba", "numpy"):
        _accel.set_accelerator(mode)
        try:
            det = MAKERS[name]()
            alarms.append(det.update_many(STREAM).alarms)
            states.append(_state(det))
        finally:
            _accel.set_accelerator(before)
    assert alarms[0] == alarms[1]
    if name != "page_hinkley":
        assert states[0] == states[1]  # thresholds (OnlineCvM) and sums: bit for bit


@pytest.mark.parametrize("name", list(MAKERS))
@pytest.mark.parametrize("cut", [1, 20, 1501, 2999])
def test_save_load_resumes_bit_for_bit(name: str, cut: int, tmp_path) -> None:
    whole = MAKERS[name]()
    expected = list(whole.update_many(STREAM).alarms)
    first = MAKERS[name]()
    got = list(first.update_many(STREAM[:cut]).alarms)
    path = first.save(tmp_path / "detector.json")
    resumed = type(first).load(path)
    assert type(resumed) is type(first)
    assert resumed.n_seen == cut
    got += list(resumed.update_many(STREAM[cut:]).global_alarms)
    assert got == expected
    if name != "page_hinkley" or _compiled():
        assert json.dumps(resumed.to_dict(), sort_keys=True) == json.dumps(
            whole.to_dict(), sort_keys=True
        )
    _assert_same_state(whole, resumed, exact=name != "page_hinkley" or _compiled())
    again = load_detector(resumed.to_dict())
    assert _state(again) == _state(resumed)


def test_loading_another_kind_or_version_is_refused(tmp_path) -> None:
    cusum = CUSUM(h=4.0).fit(REF)
    path = cusum.save(tmp_path / "c.json")
    with pytest.raises(SchemaError, match="holds a 'cusum' detector, not a 'adwin'"):
        ADWIN.load(path)
    assert isinstance(DriftDetector.load(path), CUSUM)
    payload = load_json(path, "detector")
    save_json(tmp_path / "other_kind.json", "calibrator", payload)
    with pytest.raises(SchemaError, match="not a 'detector'"):
        CUSUM.load(tmp_path / "other_kind.json")
    save_json(tmp_path / "layout.json", "detector", {**payload, "state_format": 99})
    with pytest.raises(SchemaError, match="layout 99"):
        CUSUM.load(tmp_path / "layout.json")
    save_json(tmp_path / "unknown.json", "detector", {**payload, "detector": "kswin"})
    with pytest.raises(SchemaError, match="unknown detector 'kswin'"):
        load_detector(tmp_path / "unknown.json")
    doc = cusum.to_dict()
    doc["schema"] = 2
    with pytest.raises(SchemaError, match="schema version 2"):
        load_detector(doc)
    doc = cusum.to_dict()
    doc["payload"]["state"]["s_upper"] = 12345
    with pytest.raises(SchemaError, match="altered"):
        load_detector(doc)
    broken = {**payload, "state": {"s_upper": 0}}
    save_json(tmp_path / "broken.json", "detector", broken)
    with pytest.raises(SchemaError, match="malformed 'cusum' state"):
        CUSUM.load(tmp_path / "broken.json")


@pytest.mark.parametrize("name", list(MAKERS))
def test_nan_in_a_batch_names_the_index_and_leaves_the_state(name: str) -> None:
    det = MAKERS[name]()
    det.update_many(STREAM[:700])
    before = _state(det)
    bad = STREAM[700:900].copy()
    bad[37] = np.nan
    with pytest.raises(NonFiniteError, match="index 37"):
        det.update_many(bad)
    bad[37] = np.inf
    with pytest.raises(NonFiniteError, match="infinity"):
        det.update_many(bad)
    with pytest.raises(NonFiniteError, match="value number 700"):
        det.update(float("nan"))
    assert _state(det) == before
    empty = det.update_many([])
    assert (empty.alarms, empty.start, empty.n_values) == ((), 700, 0)
    assert _state(det) == before
    with pytest.raises(ConfideTypeError):
        det.update("0.5")
    with pytest.raises(ConfideTypeError, match="update_many"):
        det.update(np.array([0.1, 0.2]))
    with pytest.raises(ValidationError, match="1-D"):
        det.update_many(np.ones((3, 2)))


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: CUSUM(h=0.0), "h must be positive"),
        (lambda: CUSUM(k=-1.0), "k must lie in"),
        (lambda: CUSUM(target_mean=np.inf), "target_mean must be a finite number"),
        (lambda: CUSUM(std=0.0), "std must be positive"),
        (lambda: CUSUM(warmup=1), "warmup must be at least 2"),
        (lambda: CUSUM().fit(np.ones(10)), "constant"),
        (lambda: PageHinkley(alpha=0.0), "alpha must be in"),
        (lambda: PageHinkley(alpha=1.5), "alpha must lie in"),
        (lambda: PageHinkley(mode="sideways"), "mode must be one of"),
        (lambda: PageHinkley(min_instances=0), "min_instances must be at least 1"),
        (lambda: ADWIN(delta=1.0), "delta must lie strictly"),
        (lambda: ADWIN(clock=0), "clock must be at least 1"),
        (lambda: OnlineCramerVonMises(REF, window_size=1), "window_size must be at least 2"),
        (lambda: OnlineCramerVonMises(REF, ert=1000, n_bootstraps=100), "n_bootstraps=100"),
        (lambda: OnlineCramerVonMises([0.5]), "at least 2"),
        (lambda: threshold_for_arl(1.02, 0.5), "arl0=1.02 is below"),
        (lambda: threshold_for_arl(100, method="exact"), "method must be one of"),
    ],
)
def test_invalid_parameters_are_refused(factory, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        factory()
    with pytest.raises(ConfideTypeError):
        CUSUM(two_sided="yes")  # type: ignore[arg-type]


def test_results_are_frozen_and_json() -> None:
    det = CUSUM(h=4.0).fit(REF)
    step = det.update(0.1)
    assert isinstance(step, DetectorStep)
    assert bool(step) is step.drift
    assert step.n_seen == 1
    res = det.update_many(STREAM)
    assert res.start == 1
    assert res.global_alarms == tuple(a + 1 for a in res.alarms)
    json.dumps(res.to_dict(), allow_nan=False)
    json.dumps(step.to_dict(), allow_nan=False)
    with pytest.raises(AttributeError):
        res.start = 3  # type: ignore[misc]
    fresh = OnlineCramerVonMises(REF, window_size=20, ert=50, n_bootstraps=500)
    assert fresh.update(0.3).to_dict()["statistic"] is None  # NaN before the window is full


def test_reset_keeps_the_reference_and_forgets_the_stream() -> None:
    det = CUSUM(h=4.0).fit(REF)
    alarms = det.update_many(STREAM).alarms
    det.reset()
    assert (det.n_seen, det.n_alarms, det.drift_detected) == (0, 0, False)
    assert det.update_many(STREAM).alarms == alarms
    warm = CUSUM(h=3.0, warmup=40)
    warm.update_many(STREAM[:100])
    assert warm.mean_ == pytest.approx(np.mean(STREAM[:40]))
    warm.reset()
    assert warm.mean_ is None


def test_cusum_is_pages_recursion() -> None:
    """Against the textbook recursion in floats: same alarms, sums within fixed-point rounding."""
    det = CUSUM(h=4.0, k=0.5).fit(REF)
    res = det.update_many(STREAM)
    mean, sd = np.mean(REF), np.std(REF, ddof=1)
    sp = sn = 0.0
    alarms, drift = [], False
    for i, v in enumerate(STREAM):
        if drift:
            sp = sn = 0.0
        z = (v - mean) / sd
        sp, sn = max(0.0, sp + z - 0.5), max(0.0, sn - z - 0.5)
        drift = sp > 4.0 or sn > 4.0
        if drift:
            alarms.append(i)
    assert list(res.alarms) == alarms
    assert det.s_upper == pytest.approx(sp, abs=1e-6)
    assert det.s_lower == pytest.approx(sn, abs=1e-6)
    assert det.statistic == max(det.s_upper, det.s_lower)


def test_cusum_warmup_raises_no_alarm_and_estimates_the_reference() -> None:
    warm = np.r_[np.full(25, 0.9), np.full(25, 0.1)]  # would alarm at once if monitored
    det = CUSUM(h=0.5, warmup=50)
    assert det.update_many(warm[:30]).alarms == ()
    assert math.isnan(det.statistic)
    res = det.update_many(np.r_[warm[30:], 0.5, 0.0, 0.0])
    assert det.mean_ == np.mean(warm)
    assert det.std_ == np.std(warm, ddof=1)
    assert res.alarms == (21, 22)  # 0.5 is the mean; each 0.0 is 1.24 sd below it


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 3000), min_size=1, max_size=6))
def test_cusum_batches_split_anywhere(cuts: list[int]) -> None:
    whole = CUSUM(h=2.0).fit(REF)
    expected = list(whole.update_many(STREAM).alarms)
    det = CUSUM(h=2.0).fit(REF)
    assert _chunked(det, STREAM, sorted(set(cuts))) == expected
    assert _state(det) == _state(whole)


def test_threshold_for_arl_matches_siegmund_and_the_tables() -> None:
    # Montgomery (2009), Table 9.3: two-sided tabular CUSUM, k = 1/2: h = 4 -> ARL0 168,
    # h = 5 -> ARL0 465 (exact); Siegmund's approximation gives 169.05 and 469.11.
    assert threshold_for_arl(169.0466, 0.5) == pytest.approx(4.0, abs=1e-5)
    assert threshold_for_arl(469.1112, 0.5) == pytest.approx(5.0, abs=1e-5)
    assert threshold_for_arl(338.0932, 0.5, two_sided=False) == pytest.approx(4.0, abs=1e-5)
    # and they sit within 1 % of the exact (Markov chain) ARLs of the table
    assert threshold_for_arl(168.0, 0.5) == pytest.approx(4.0, abs=0.01)
    assert threshold_for_arl(465.0, 0.5) == pytest.approx(5.0, abs=0.01)
    b = 3.0 + 1.166
    assert threshold_for_arl(b * b, 0.0, two_sided=False) == pytest.approx(3.0, abs=1e-9)
    # the seeded simulation on normal streams lands near Siegmund's value, reproducibly
    sim = threshold_for_arl(200, 0.5, method="simulation", n_streams=1000, seed=1)
    assert sim == threshold_for_arl(200, 0.5, method="simulation", n_streams=1000, seed=1)
    assert sim == pytest.approx(threshold_for_arl(200, 0.5), abs=0.15)


def test_cvm_statistic_is_andersons_t() -> None:
    """Standardised back, the statistic equals scipy's two-sample Cramér-von Mises T."""
    det = OnlineCramerVonMises(REF, window_size=30, ert=50, n_bootstraps=500)
    consts = _anderson_constants(REF.size, 30)
    det.update_many(STREAM[:29])
    for v in STREAM[29:60]:
        z = det.update(v).statistic
        if det.drift_detected:
            break
        expected = ss.cramervonmises_2samp(REF, det._window).statistic
        assert z * consts[5] + consts[4] == pytest.approx(expected, rel=1e-12, abs=1e-13)


def test_cvm_handles_ties_between_reference_and_window() -> None:
    ref = np.round(RNG.beta(5, 2, 300), 1)  # 11 distinct values: heavy ties
    det = OnlineCramerVonMises(ref, window_size=25, ert=40, n_bootstraps=400)
    x = np.round(RNG.beta(5, 2, 600), 1)
    res = det.update_many(x)
    one = OnlineCramerVonMises(ref, window_size=25, ert=40, n_bootstraps=400)
    assert _one_by_one(one, x) == list(res.alarms)
    # brute force: F and G evaluated at every point of the pooled sample (ties counted)
    consts = _anderson_constants(ref.size, 25)
    checked = 0
    for v in x[:200]:
        z = det.update(v).statistic
        w = det._window
        if w.size < 25 or det.drift_detected:
            continue
        pooled = np.concatenate([ref, w])
        F = np.searchsorted(np.sort(ref), pooled, side="right") / ref.size
        G = np.searchsorted(np.sort(w), pooled, side="right") / w.size
        t = ref.size * w.size / pooled.size**2 * np.sum((F - G) ** 2)
        assert z * consts[5] + consts[4] == pytest.approx(t, rel=1e-12)
        checked += 1
    assert checked > 100
