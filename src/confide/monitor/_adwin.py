"""ADWIN: an adaptive window over an exponential histogram (Bifet & Gavaldà 2007), as river has it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from confide._validation import check_positive_int
from confide.monitor._detector_base import DriftDetector, check_number, kernel_for

__all__ = ["ADWIN"]

#: Levels of the histogram: level l holds buckets of 2^l values, so 48 levels cover windows of
#: more than 10^14 values.
_LEVELS = 48

# Indices of the scalar state (float64 array ``fs``; int64 array ``ist``).
_TOTAL, _VARIANCE, _WIDTH = 0, 1, 2
_N_LEVELS, _TICK, _DRIFT = 0, 1, 2


def _py_adwin_run(
    xs: np.ndarray,
    tot: np.ndarray,
    var: np.ndarray,
    cnt: np.ndarray,
    fs: np.ndarray,
    ist: np.ndarray,
    delta: float,
    clock: int,
    max_buckets: int,
    min_len: float,
    grace: float,
    alarms: np.ndarray,
) -> int:  # pragma: no cover - compiled by numba
    """ADWIN value by value, in the order of operations of river's implementation.

    ``tot[l, j]``/``var[l, j]`` are the sum and the sum of squared deviations of bucket ``j``
    (oldest first) of level ``l``; ``cnt[l]`` the buckets in use. ``fs`` = [total, variance,
    width]; ``ist`` = [levels in use, tick, drift]. Returns the number of alarms.
    """
    n_alarms = 0
    for i in range(xs.shape[0]):
        if ist[2] != 0:  # an alarm on the previous value: start afresh (river's convention)
            for lev in range(ist[0]):
                cnt[lev] = 0
                for j in range(max_buckets + 1):
                    tot[lev, j] = 0.0
                    var[lev, j] = 0.0
            ist[0] = 1
            ist[1] = 0
            ist[2] = 0
            fs[0] = 0.0
            fs[1] = 0.0
            fs[2] = 0.0
        value = xs[i]
        # -- insert the value as a bucket of size 1 and update the window's moments
        c0 = cnt[0]
        tot[0, c0] = value
        var[0, c0] = 0.0
        cnt[0] = c0 + 1
        width = fs[2] + 1.0
        inc = 0.0
        if width > 1.0:
            dv = value - fs[0] / (width - 1.0)
            inc = (width - 1.0) * dv * dv / width
        fs[1] += inc
        fs[0] += value
        fs[2] = width
        # -- merge the two oldest buckets of every full level into the next level
        lev = 0
        while cnt[lev] == max_buckets + 1:
            n1 = float(1 << lev)
            t0 = tot[lev, 0]
            t1 = tot[lev, 1]
            mu1 = t0 / n1
            mu2 = t1 / n1
            v12 = var[lev, 0] + var[lev, 1] + n1 * 0.5 * (mu1 - mu2) * (mu1 - mu2)
            if lev + 1 >= ist[0]:
                ist[0] = lev + 2
            c = cnt[lev + 1]
            tot[lev + 1, c] = t0 + t1
            var[lev + 1, c] = v12
            cnt[lev + 1] = c + 1
            k = cnt[lev]
            for j in range(k - 2):
                tot[lev, j] = tot[lev, j + 2]
                var[lev, j] = var[lev, j + 2]
            for j in range(k - 2, k):
                tot[lev, j] = 0.0
                var[lev, j] = 0.0
            cnt[lev] = k - 2
            if cnt[lev + 1] <= max_buckets:
                break
            lev += 1
        # -- every `clock` values, drop the oldest bucket while some cut separates two means
        ist[1] += 1
        change = False
        if ist[1] % clock == 0 and fs[2] > grace:
            reduce = True
            while reduce:
                reduce = False
                n0 = 0.0
                n1 = fs[2]
                u0 = 0.0
                u1 = fs[0]
                done = False
                for lev in range(ist[0] - 1, -1, -1):
                    size = float(1 << lev)
                    nb = cnt[lev]
                    for k in range(nb):
                        n0 += size
                        n1 -= size
                        u0 += tot[lev, k]
                        u1 -= tot[lev, k]
                        if lev == 0 and k == nb - 1:
                            done = True
                            break
                        dmean = (u0 / n0) - (u1 / n1)
                        if n1 >= min_len and n0 >= min_len:
                            w = fs[2]
                            dprime = math.log(2.0 * math.log(w) / delta)
                            m_recip = 1.0 / (n0 - min_len + 1.0) + 1.0 / (n1 - min_len + 1.0)
                            eps = math.sqrt(2.0 * m_recip * (fs[1] / w) * dprime)
                            eps += 2.0 / 3.0 * dprime * m_recip
                            if abs(dmean) > eps:
                                reduce = True
                                change = True
                                if fs[2] > 0.0:
                                    # delete the oldest bucket
                                    last = ist[0] - 1
                                    nl = float(1 << last)
                                    u = tot[last, 0]
                                    mu = u / nl
                                    fs[2] -= nl
                                    fs[0] -= u
                                    mu_w = fs[0] / fs[2]
                                    fs[1] -= var[last, 0] + nl * fs[2] * (mu - mu_w) * (
                                        mu - mu_w
                                    ) / (nl + fs[2])
                                    kk = cnt[last]
                                    for j in range(kk - 1):
                                        tot[last, j] = tot[last, j + 1]
                                        var[last, j] = var[last, j + 1]
                                    tot[last, kk - 1] = 0.0
                                    var[last, kk - 1] = 0.0
                                    cnt[last] = kk - 1
                                    if kk - 1 == 0 and last > 0:
                                        ist[0] = last
                                    done = True
                                    break
                    if done:
                        break
        if change:
            ist[2] = 1
            alarms[n_alarms] = i
            n_alarms += 1
    return n_alarms


class ADWIN(DriftDetector):
    r"""ADaptive WINdowing: keep the longest recent window whose halves have equal means.

    The window is stored as an exponential histogram (ADWIN2): level :math:`l` holds up to
    ``max_buckets`` buckets of :math:`2^l` values, each with its sum and sum of squared
    deviations, so memory is :math:`O(\text{max\_buckets} \cdot \log W)`. Every ``clock``
    values, each split of the window into an older part :math:`W_0` (:math:`n_0` values) and a
    newer :math:`W_1` (:math:`n_1`) at a bucket boundary, both at least ``min_window_length``
    long, is tested; the oldest bucket is dropped while some split has

    .. math::

        |\hat\mu_{W_0} - \hat\mu_{W_1}| > \sqrt{\tfrac{2}{m}\,\hat\sigma^2_W\,\delta'}
        + \tfrac{2}{3m}\,\delta', \qquad \delta' = \ln\frac{2 \ln W}{\delta},\quad
        \tfrac{1}{m} = \tfrac{1}{n_0 - \ell + 1} + \tfrac{1}{n_1 - \ell + 1},

    (:math:`\ell` = ``min_window_length``), and a drop is an alarm. As in river, the value after
    an alarm starts a new window. The arithmetic follows river 0.26's implementation operation
    for operation, so the alarms fall on exactly the same values as ``river.drift.ADWIN`` with
    the same arguments (tested on several streams).

    Parameters
    ----------
    delta : float, default 0.002
        Confidence: the probability of a false alarm at a check is at most ``delta``.
    clock : int, default 32
        Check for a change every ``clock`` values.
    max_buckets : int, default 5
        Buckets kept per level before the two oldest merge.
    min_window_length : int, default 5
        Shortest sub-window tested.
    grace_period : int, default 10
        No check until the window holds more values than this.

    Notes
    -----
    ``update_many`` runs a compiled loop when numba is installed and the same Python function
    otherwise (exact but about 100 times slower): the bucket merges are sequential by nature.

    References
    ----------
    A. Bifet and R. Gavaldà (2007). Learning from time-changing data with adaptive windowing.
    *Proceedings of the 2007 SIAM International Conference on Data Mining*, 443-448.
    """

    name = "adwin"

    def __init__(
        self,
        *,
        delta: float = 0.002,
        clock: int = 32,
        max_buckets: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
    ) -> None:
        self.delta = check_number(delta, "delta", low=0.0, high=1.0)
        if not 0.0 < self.delta < 1.0:
            from confide.exceptions import ValidationError

            raise ValidationError(f"delta must lie strictly between 0 and 1, got {delta!r}.")
        self.clock = check_positive_int(clock, "clock")
        self.max_buckets = check_positive_int(max_buckets, "max_buckets")
        self.min_window_length = check_positive_int(min_window_length, "min_window_length")
        self.grace_period = check_positive_int(grace_period, "grace_period", minimum=0)
        self.reset()

    def _reset_state(self) -> None:
        self._tot = np.zeros((_LEVELS, self.max_buckets + 1))
        self._var = np.zeros((_LEVELS, self.max_buckets + 1))
        self._cnt = np.zeros(_LEVELS, dtype=np.int64)
        self._fs = np.zeros(3)
        self._ist = np.array([1, 0, 0], dtype=np.int64)

    @property
    def width(self) -> int:
        """Values in the current window."""
        return int(self._fs[_WIDTH])

    @property
    def estimation(self) -> float:
        """Mean of the current window (0 when empty, as in river)."""
        w = self._fs[_WIDTH]
        return float(self._fs[_TOTAL] / w) if w > 0 else 0.0

    @property
    def variance(self) -> float:
        """Sum of squared deviations from the mean over the window (river's ``variance``)."""
        return float(self._fs[_VARIANCE])

    def _params(self) -> dict[str, Any]:
        return {
            "delta": self.delta,
            "clock": self.clock,
            "max_buckets": self.max_buckets,
            "min_window_length": self.min_window_length,
            "grace_period": self.grace_period,
        }

    def _get_state(self) -> dict[str, Any]:
        levels = int(self._ist[_N_LEVELS])
        return {
            "totals": [self._tot[lev, : self._cnt[lev]].tolist() for lev in range(levels)],
            "variances": [self._var[lev, : self._cnt[lev]].tolist() for lev in range(levels)],
            "total": float(self._fs[_TOTAL]),
            "variance": float(self._fs[_VARIANCE]),
            "width": float(self._fs[_WIDTH]),
            "tick": int(self._ist[_TICK]),
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self._reset_state()
        totals, variances = state["totals"], state["variances"]
        if not 1 <= len(totals) <= _LEVELS or len(variances) != len(totals):
            raise ValueError(f"{len(totals)} histogram levels")
        for lev, (t, v) in enumerate(zip(totals, variances, strict=True)):
            if len(t) != len(v) or len(t) > self.max_buckets:
                raise ValueError(f"level {lev} holds {len(t)} buckets")
            self._tot[lev, : len(t)] = t
            self._var[lev, : len(v)] = v
            self._cnt[lev] = len(t)
        self._fs[:] = [float(state["total"]), float(state["variance"]), float(state["width"])]
        self._ist[:] = [len(totals), int(state["tick"]), 0]

    def _run(self, xs: np.ndarray) -> list[int]:
        kernel = kernel_for(_py_adwin_run) or _py_adwin_run
        self._ist[_DRIFT] = 1 if self._drift else 0
        out = np.empty(xs.shape[0], dtype=np.int64)
        na = kernel(
            xs,
            self._tot,
            self._var,
            self._cnt,
            self._fs,
            self._ist,
            self.delta,
            self.clock,
            self.max_buckets,
            float(self.min_window_length),
            float(self.grace_period),
            out,
        )
        self._drift = bool(self._ist[_DRIFT])
        self._stat = self.estimation
        return [int(a) for a in out[:na]]
