"""The Page-Hinkley test with a fading factor, alarm for alarm the same as river's PageHinkley."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from confide._validation import check_choice, check_positive_int
from confide.exceptions import ValidationError
from confide.monitor._detector_base import DriftDetector, check_number, kernel_for

__all__ = ["PageHinkley"]

_MODES = ("both", "up", "down")
_FIRST_BLOCK = 256
_MAX_BLOCK = 1 << 14


def _py_ph_run(
    xs: np.ndarray,
    st: np.ndarray,
    delta: float,
    threshold: float,
    alpha: float,
    min_instances: float,
    mode: int,
    alarms: np.ndarray,
) -> int:  # pragma: no cover - compiled by numba
    """The recursion value by value. ``st`` = [n, mean, sum_inc, sum_dec, min_inc, max_dec,
    drift] (float64, in place); ``mode`` 0 both, 1 up, 2 down. Returns the number of alarms."""
    n = st[0]
    mean = st[1]
    s_inc = st[2]
    s_dec = st[3]
    min_inc = st[4]
    max_dec = st[5]
    drift = st[6]
    n_alarms = 0
    for i in range(xs.shape[0]):
        if drift != 0.0:
            n = 0.0
            mean = 0.0
            s_inc = 0.0
            s_dec = 0.0
            min_inc = np.inf
            max_dec = -1.0
            drift = 0.0
        x = xs[i]
        n += 1.0
        mean += (1.0 / n) * (x - mean)
        dev = x - mean
        s_inc = alpha * s_inc + dev - delta
        s_dec = alpha * s_dec + dev + delta
        if s_inc < min_inc:
            min_inc = s_inc
        if s_dec > max_dec:
            max_dec = s_dec
        if n >= min_instances:
            up = s_inc - min_inc > threshold
            down = max_dec - s_dec > threshold
            hit = (up or down) if mode == 0 else (up if mode == 1 else down)
            if hit:
                drift = 1.0
                alarms[n_alarms] = i
                n_alarms += 1
    st[0] = n
    st[1] = mean
    st[2] = s_inc
    st[3] = s_dec
    st[4] = min_inc
    st[5] = max_dec
    st[6] = drift
    return n_alarms


def _fresh_state() -> np.ndarray:
    return np.array([0.0, 0.0, 0.0, 0.0, np.inf, -1.0, 0.0])


class PageHinkley(DriftDetector):
    r"""Page-Hinkley test for a change of the mean, with a fading factor.

    With :math:`\bar x_t` the running mean since the last restart,

    .. math::

        m^+_t = \alpha\, m^+_{t-1} + (x_t - \bar x_t) - \delta, \qquad
        m^-_t = \alpha\, m^-_{t-1} + (x_t - \bar x_t) + \delta,

    an increase is signalled when :math:`m^+_t - \min_{s \le t} m^+_s > \lambda` and a decrease
    when :math:`\max_{s \le t} m^-_s - m^-_t > \lambda` (``mode`` picks which), once
    ``min_instances`` values were seen. The running maximum of :math:`m^-` starts at -1, as in
    river. With the same arguments, alarms fall on exactly the values where
    ``river.drift.PageHinkley`` raises them (tested), and the detector restarts after each one.

    Parameters
    ----------
    delta : float, default 0.005
        Magnitude of changes tolerated (:math:`\delta`).
    threshold : float, default 50
        Detection threshold :math:`\lambda`.
    alpha : float, default 1 - 1e-4
        Fading factor in (0, 1].
    min_instances : int, default 30
        Values needed after a restart before an alarm may be raised.
    mode : {"both", "up", "down"}, default "both"
        Watch increases, decreases or both.

    Notes
    -----
    ``update_many`` runs a compiled loop when numba is installed (the same IEEE operations as
    ``update``, hence bit-identical). Without numba, batches of 64 values or more are
    vectorised block by block: running means from cumulative sums and the fading sums from
    :math:`\alpha^t \sum_j \alpha^{-j} c_j` (blocks short enough that :math:`\alpha^{-j}`
    stays finite). That path agrees with the recursion up to rounding (about 1e-12 relative),
    so an alarm can differ only where a statistic lies within rounding of the threshold.

    References
    ----------
    E. S. Page (1954). Continuous inspection schemes. *Biometrika* 41(1/2), 100-115.
    D. V. Hinkley (1971). Inference about the change-point from cumulative sum tests.
    *Biometrika* 58(3), 509-523.
    """

    name = "page_hinkley"

    def __init__(
        self,
        *,
        delta: float = 0.005,
        threshold: float = 50.0,
        alpha: float = 1 - 0.0001,
        min_instances: int = 30,
        mode: str = "both",
    ) -> None:
        self.delta = check_number(delta, "delta", low=0.0)
        self.threshold = check_number(threshold, "threshold", low=0.0)
        self.alpha = check_number(alpha, "alpha", low=0.0, high=1.0)
        if self.alpha == 0.0:
            raise ValidationError("alpha must be in (0, 1], got 0.")
        self.min_instances = check_positive_int(min_instances, "min_instances", minimum=1)
        self.mode = check_choice(mode, "mode", _MODES)
        self.reset()

    def _reset_state(self) -> None:
        self._st = _fresh_state()

    def _params(self) -> dict[str, Any]:
        return {
            "delta": self.delta,
            "threshold": self.threshold,
            "alpha": self.alpha,
            "min_instances": self.min_instances,
            "mode": self.mode,
        }

    def _get_state(self) -> dict[str, Any]:
        keys = ("n", "mean", "sum_increase", "sum_decrease", "min_increase", "max_decrease")
        return {k: float(v) for k, v in zip(keys, self._st[:6], strict=True)}

    def _set_state(self, state: dict[str, Any]) -> None:
        keys = ("n", "mean", "sum_increase", "sum_decrease", "min_increase", "max_decrease")
        self._st = np.array([float(state[k]) for k in keys] + [0.0])

    def _test_values(self) -> float:
        up = self._st[2] - self._st[4]
        down = self._st[5] - self._st[3]
        value = {"both": max(up, down), "up": up, "down": down}[self.mode]
        return float(value) if math.isfinite(value) else math.nan

    def _run(self, xs: np.ndarray) -> list[int]:
        self._st[6] = 1.0 if self._drift else 0.0
        kernel = kernel_for(_py_ph_run)
        if kernel is None and xs.shape[0] < 64:
            kernel = _py_ph_run
        if kernel is not None:
            out = np.empty(xs.shape[0], dtype=np.int64)
            args = (self.delta, self.threshold, self.alpha, float(self.min_instances))
            na = kernel(xs, self._st, *args, _MODES.index(self.mode), out)
            alarms = [int(a) for a in out[:na]]
        else:
            alarms = self._run_vectorised(xs)
        self._drift = bool(self._st[6])
        self._stat = self._test_values()
        return alarms

    # -- the NumPy path ----------------------------------------------------------------------
    def _max_block(self) -> int:
        if self.alpha == 1.0:
            return _MAX_BLOCK
        return int(max(1, min(_MAX_BLOCK, 300.0 / -math.log(self.alpha))))

    def _block(self, x: np.ndarray, st: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """States after each value of ``x`` from ``st`` (no restart inside): (n, test hits)."""
        n0, m0, si0, sd0, mi0, md0 = (float(v) for v in st[:6])
        L = x.shape[0]
        n = n0 + np.arange(1, L + 1, dtype=np.float64)
        mean = (n0 * m0 + np.cumsum(x)) / n
        dev = x - mean
        if self.alpha == 1.0:
            grow = np.ones(L)
            decay = np.ones(L)
        else:
            j = np.arange(1, L + 1, dtype=np.float64)
            decay = np.power(self.alpha, j)
            grow = 1.0 / decay
        s_inc = decay * (si0 + np.cumsum((dev - self.delta) * grow))
        s_dec = decay * (sd0 + np.cumsum((dev + self.delta) * grow))
        min_inc = np.minimum(np.minimum.accumulate(s_inc), mi0)
        max_dec = np.maximum(np.maximum.accumulate(s_dec), md0)
        up = (s_inc - min_inc) > self.threshold
        down = (max_dec - s_dec) > self.threshold
        hit = {"both": up | down, "up": up, "down": down}[self.mode] & (n >= self.min_instances)
        states = np.stack([n, mean, s_inc, s_dec, min_inc, max_dec], axis=1)
        return states, hit

    def _run_vectorised(self, xs: np.ndarray) -> list[int]:
        st = _fresh_state() if self._st[6] else self._st.copy()
        st[6] = 0.0
        alarms: list[int] = []
        i, n = 0, xs.shape[0]
        cap = self._max_block()
        block = min(_FIRST_BLOCK, cap)
        while i < n:
            end = min(n, i + block)
            states, hit = self._block(xs[i:end], st)
            if hit.any():
                a = int(np.argmax(hit))
                alarms.append(i + a)
                i += a + 1
                block = min(_FIRST_BLOCK, cap)
                st = _fresh_state()
                if i == n:
                    st[:6] = states[a]
                    st[6] = 1.0
            else:
                st[:6] = states[-1]
                i = end
                block = min(2 * block, cap)
        self._st = st
        return alarms
