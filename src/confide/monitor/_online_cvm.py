"""Online two-sample Cramér-von Mises test over a sliding window, calibrated to an expected run time."""

from __future__ import annotations

import math
from typing import Any, Self

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from confide._validation import as_float_array, check_positive_int
from confide.exceptions import ValidationError
from confide.monitor._detector_base import DriftDetector, check_number, kernel_for

__all__ = ["OnlineCramerVonMises"]

_MAX_BLOCK = 4096
_SIM_ELEMENTS = 1 << 21


def _py_cvm_run(
    xs: np.ndarray,
    u: np.ndarray,
    C: np.ndarray,
    Q1: np.ndarray,
    Q2: np.ndarray,
    thr: np.ndarray,
    ring: np.ndarray,
    skey: np.ndarray,
    skl: np.ndarray,
    skr: np.ndarray,
    ist: np.ndarray,
    consts: np.ndarray,
    stats: np.ndarray,
    alarms: np.ndarray,
) -> int:  # pragma: no cover - compiled by numba
    """Value by value for each row ``b`` of ``xs`` (one stream online, many when simulating).

    The window is kept twice: ``ring[b]`` in arrival order and ``skey[b]`` sorted, with the
    reference ranks of each sorted value (``skl`` = unique reference values below it, ``skr``
    = at or below it). ``ist[b]`` = [values since restart, window count, ring head, drift].
    ``C, Q1, Q2`` (one row, or one per stream) are the reference tables of
    :func:`_reference_tables`. ``consts`` = [n, inv_n, inv_n2, prod, mu, sd]. The statistic is
    summed in the order of :func:`_window_stats`, so both give the same bits.
    """
    n_rows, n_steps = xs.shape
    m = ring.shape[1]
    n_unique = u.shape[0]
    n_ref = consts[0]
    inv_n = consts[1]
    inv_n2 = consts[2]
    n_thr = thr.shape[0]
    n_alarms = 0
    for b in range(n_rows):
        r = b if C.shape[0] > 1 else 0
        for i in range(n_steps):
            if ist[b, 3] != 0:
                ist[b, 0] = 0
                ist[b, 1] = 0
                ist[b, 2] = 0
                ist[b, 3] = 0
            x = xs[b, i]
            cw = ist[b, 1]
            head = ist[b, 2]
            if cw == m:
                p = np.searchsorted(skey[b, :cw], ring[b, head])
                for j in range(p, cw - 1):
                    skey[b, j] = skey[b, j + 1]
                    skl[b, j] = skl[b, j + 1]
                    skr[b, j] = skr[b, j + 1]
                cw -= 1
            ring[b, head] = x
            ist[b, 2] = (head + 1) % m
            q = np.searchsorted(skey[b, :cw], x, side="right")
            for j in range(cw, q, -1):
                skey[b, j] = skey[b, j - 1]
                skl[b, j] = skl[b, j - 1]
                skr[b, j] = skr[b, j - 1]
            skey[b, q] = x
            skl[b, q] = np.searchsorted(u, x)
            skr[b, q] = np.searchsorted(u, x, side="right")
            cw += 1
            ist[b, 1] = cw
            ist[b, 0] += 1
            stat = np.nan
            if cw == m:
                acc = 0.0
                lo = 0
                for k in range(m + 1):
                    hi = skl[b, k] if k < m else n_unique
                    g = k / m
                    d1 = Q1[r, hi] - Q1[r, lo]
                    d2 = Q2[r, hi] - Q2[r, lo]
                    cnt = C[r, hi] - C[r, lo]
                    acc += d2 * inv_n2 - 2.0 * g * d1 * inv_n + g * g * cnt
                    lo = hi
                j = 0
                while j < m:
                    e = j
                    while e + 1 < m and skey[b, e + 1] == skey[b, j]:
                        e += 1
                    d = C[r, skr[b, j]] / n_ref - (e + 1) / m
                    acc += (e - j + 1) * d * d
                    j = e + 1
                stat = (acc * consts[3] - consts[4]) / consts[5]
                ti = min(ist[b, 0] - 1, n_thr - 1)
                if stat > thr[ti]:
                    ist[b, 3] = 1
                    alarms[n_alarms] = i
                    n_alarms += 1
            stats[b, i] = stat
    return n_alarms


def _reference_tables(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prefix tables over the sorted unique values of one reference per row of ``counts``.

    With ``a_k = C[k+1]`` the number of reference values at or below unique value ``k``:
    ``C`` cumulates the counts, ``Q1``/``Q2`` cumulate ``count * a`` and ``count * a^2`` —
    the sums of ``F(z)`` and ``F(z)^2`` (times n, n^2) over the reference points below a cut.
    """
    rows, k = counts.shape
    C = np.zeros((rows, k + 1))
    np.cumsum(counts, axis=1, out=C[:, 1:])
    a = C[:, 1:]
    Q1 = np.zeros((rows, k + 1))
    Q2 = np.zeros((rows, k + 1))
    np.cumsum(counts * a, axis=1, out=Q1[:, 1:])
    np.cumsum(counts * a * a, axis=1, out=Q2[:, 1:])
    return C, Q1, Q2


def _window_stats(
    keys: np.ndarray,
    kl: np.ndarray,
    kr: np.ndarray,
    tables: tuple[np.ndarray, np.ndarray, np.ndarray],
    consts: np.ndarray,
) -> np.ndarray:
    """Normalised statistic of each row of ``keys`` (one window per row; vectorised twin of
    the kernel's sum, term for term and in the same order)."""
    C, Q1, Q2 = tables
    rows, m = keys.shape
    order = np.argsort(keys, axis=1, kind="stable")
    sk = np.take_along_axis(keys, order, axis=1)
    skl = np.take_along_axis(kl, order, axis=1)
    skr = np.take_along_axis(kr, order, axis=1)

    def at(table: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return table[0][idx] if table.shape[0] == 1 else np.take_along_axis(table, idx, axis=1)

    lo = np.zeros((rows, m + 1), dtype=np.int64)
    lo[:, 1:] = skl
    hi = np.full((rows, m + 1), C.shape[1] - 1, dtype=np.int64)
    hi[:, :m] = skl
    g = np.arange(m + 1) / m
    d1 = at(Q1, hi) - at(Q1, lo)
    d2 = at(Q2, hi) - at(Q2, lo)
    cnt = at(C, hi) - at(C, lo)
    terms = np.empty((rows, 2 * m + 1))
    terms[:, : m + 1] = d2 * consts[2] - 2.0 * g * d1 * consts[1] + g * g * cnt
    same = sk[:, 1:] == sk[:, :-1]
    start = np.ones((rows, m), dtype=bool)
    start[:, 1:] = ~same
    idx = np.arange(m)
    end = np.full((rows, m), m, dtype=np.int64)
    end[:, -1] = m - 1
    end[:, :-1] = np.where(same, m, idx[:-1])
    end = np.minimum.accumulate(end[:, ::-1], axis=1)[:, ::-1]
    d = at(C, skr) / consts[0] - (end + 1) / m
    terms[:, m + 1 :] = np.where(start, (end - idx + 1) * d * d, 0.0)
    acc = np.cumsum(terms, axis=1)[:, -1]
    return np.asarray((acc * consts[3] - consts[4]) / consts[5])


def _anderson_constants(n: int, m: int) -> np.ndarray:
    """[n, 1/n, 1/n^2, nm/N^2, E T, sd T] of Anderson's T for sample sizes n, m (N = n + m)."""
    N = n + m
    mu = 1.0 / 6.0 + 1.0 / (6.0 * N)
    var = (N + 1) * (4 * n * m * N - 3 * (n * n + m * m) - 2 * n * m) / (45.0 * N * N * 4 * n * m)
    return np.array([float(n), 1.0 / n, 1.0 / (float(n) * n), n * m / (N * N), mu, math.sqrt(var)])


class OnlineCramerVonMises(DriftDetector):
    r"""Sliding-window Cramér-von Mises test against a fixed reference, tuned to an ERT.

    At each value, once ``window_size`` values arrived, the last :math:`m` values are compared
    with the :math:`n` reference values by Anderson's two-sample statistic

    .. math::

        T = \frac{nm}{(n+m)^2} \sum_{z \in R \cup W} \bigl(F_R(z) - G_W(z)\bigr)^2,

    (:math:`F_R`, :math:`G_W` the empirical CDFs), reported standardised,
    :math:`(T - \mathrm E T)/\mathrm{sd}\,T`. An alarm is raised when it exceeds the threshold of
    its time step. Thresholds are set, as in Ross & Adams' online CvM (and alibi-detect's
    ``CVMDriftOnline``), for an expected run time ``ert`` in the absence of change: per-step
    false-alarm probability :math:`\beta = 1/\mathrm{ERT}`. ``n_bootstraps`` null streams are
    simulated by resampling (a reference and a stream both drawn with replacement from
    ``reference``, which keeps any ties of the data); at each step from the window's filling to
    :math:`2m-2` the threshold is the :math:`(1-\beta)` quantile (upper order statistic) of the
    statistic over the streams with no alarm yet, and the last one holds afterwards. The run
    time counts from the step at which the window is full; after an alarm the window refills.

    Each value costs :math:`O(m + \log n)`: the window is kept sorted with its reference ranks,
    and the sum over the reference points is taken segment by segment from prefix tables.

    Parameters
    ----------
    reference : array-like, 1-D
        Values from the undrifted stream (e.g. confidences on validation data).
    window_size : int, default 100
    ert : float, default 1000
        Expected run time (values) between false alarms.
    n_bootstraps : int, default 10000
        Simulated null streams; at least ``ert`` (ten times more is better).
    seed : int, default 0
        Seed of the simulation (thresholds are reproducible).

    References
    ----------
    T. W. Anderson (1962). On the distribution of the two-sample Cramér-von Mises criterion.
    *Annals of Mathematical Statistics* 33(3), 1148-1159.
    G. J. Ross and N. M. Adams (2012). Two nonparametric control charts for detecting arbitrary
    distribution changes. *Journal of Quality Technology* 44(2), 102-116.
    """

    name = "online_cvm"

    def __init__(
        self,
        reference: Any,
        *,
        window_size: int = 100,
        ert: float = 1000.0,
        n_bootstraps: int = 10000,
        seed: int = 0,
    ) -> None:
        self._configure(window_size, ert, n_bootstraps, seed)
        ref = as_float_array(reference, "reference", ndim=1, min_samples=2).astype(np.float64)
        u, counts = np.unique(ref, return_counts=True)
        self._set_reference(u, counts.astype(np.float64))
        self.thresholds_ = self._calibrate()
        self.reset()

    def _configure(self, window_size: Any, ert: Any, n_bootstraps: Any, seed: Any) -> None:
        self.window_size = check_positive_int(window_size, "window_size", minimum=2)
        self.ert = check_number(ert, "ert", low=2.0, high=1e9)
        self.n_bootstraps = check_positive_int(n_bootstraps, "n_bootstraps")
        if self.n_bootstraps < self.ert:
            raise ValidationError(
                f"n_bootstraps={self.n_bootstraps} is below ert={self.ert:g}: the thresholds "
                "could not reach a per-step false-alarm rate of 1/ert. Use at least ert, "
                "ideally ten times more."
            )
        self.seed = check_positive_int(seed, "seed", minimum=0)

    def _set_reference(self, u: np.ndarray, counts: np.ndarray) -> None:
        self.reference_values_ = u
        self.reference_counts_ = counts
        self.n_reference_ = int(counts.sum())
        self._tables = _reference_tables(counts[None, :])
        self._consts = _anderson_constants(self.n_reference_, self.window_size)

    # -- calibration -------------------------------------------------------------------------
    def _calibrate(self) -> np.ndarray:
        m = self.window_size
        steps = 2 * m - 1
        stats = self._simulate(steps)
        beta = 1.0 / self.ert
        thr = np.full(steps, np.inf)
        alive = np.ones(stats.shape[0], dtype=bool)
        for t in range(m - 1, steps):
            q = float(np.quantile(stats[alive, t], 1.0 - beta, method="higher"))
            thr[t] = q
            alive &= stats[:, t] <= q
        return thr

    def _simulate(self, steps: int) -> np.ndarray:
        """Statistics of ``n_bootstraps`` null streams of ``steps`` values (NaN before full)."""
        u, counts = self.reference_values_, self.reference_counts_
        n, m, k = self.n_reference_, self.window_size, u.shape[0]
        atom = np.repeat(np.arange(k), counts.astype(np.int64))
        rng = np.random.default_rng(self.seed)
        out = np.full((self.n_bootstraps, steps), np.nan)
        per = max(1, _SIM_ELEMENTS // max(n, k, steps * m))
        kernel = kernel_for(_py_cvm_run)
        no_thr = np.full(steps, np.inf)
        for s in range(0, self.n_bootstraps, per):
            rows = min(per, self.n_bootstraps - s)
            ref_atoms = atom[rng.integers(0, n, (rows, n))]
            flat = (ref_atoms + k * np.arange(rows)[:, None]).ravel()
            boot = np.bincount(flat, minlength=rows * k).reshape(rows, k).astype(np.float64)
            tables = _reference_tables(boot)
            stream = atom[rng.integers(0, n, (rows, steps))]
            if kernel is not None:
                ring = np.zeros((rows, m))
                sk, skl, skr = (
                    np.zeros((rows, m)),
                    np.zeros((rows, m), np.int64),
                    np.zeros((rows, m), np.int64),
                )
                ist = np.zeros((rows, 4), dtype=np.int64)
                alarms = np.zeros(steps, dtype=np.int64)
                kernel(
                    u[stream],
                    u,
                    *tables,
                    no_thr,
                    ring,
                    sk,
                    skl,
                    skr,
                    ist,
                    self._consts,
                    out[s : s + rows],
                    alarms,
                )
            else:
                keys = stream.astype(np.float64)
                for t in range(m - 1, steps):
                    sl = slice(t - m + 1, t + 1)
                    out[s : s + rows, t] = _window_stats(
                        keys[:, sl], stream[:, sl], stream[:, sl] + 1, tables, self._consts
                    )
        return out

    # -- state -------------------------------------------------------------------------------
    def _reset_state(self) -> None:
        self._window = np.zeros(0)
        self._t = 0

    def _params(self) -> dict[str, Any]:
        return {
            "window_size": self.window_size,
            "ert": self.ert,
            "n_bootstraps": self.n_bootstraps,
            "seed": self.seed,
        }

    def _get_state(self) -> dict[str, Any]:
        return {
            "reference_values": self.reference_values_.tolist(),
            "reference_counts": self.reference_counts_.astype(np.int64).tolist(),
            "thresholds": self.thresholds_.tolist(),
            "window": self._window.tolist(),
            "t": self._t,
        }

    @classmethod
    def _from_params(cls, params: dict[str, Any], state: dict[str, Any]) -> Self:
        obj = cls.__new__(cls)
        obj._configure(params["window_size"], params["ert"], params["n_bootstraps"], params["seed"])
        obj.reset()
        return obj

    def _set_state(self, state: dict[str, Any]) -> None:
        u = np.asarray(state["reference_values"], dtype=np.float64)
        counts = np.asarray(state["reference_counts"], dtype=np.float64)
        if u.ndim != 1 or u.shape != counts.shape or u.size == 0 or np.any(np.diff(u) <= 0):
            raise ValueError("reference values must be sorted, unique and match their counts")
        self._set_reference(u, counts)
        thr = np.asarray([float(v) for v in state["thresholds"]], dtype=np.float64)
        if thr.shape != (2 * self.window_size - 1,):
            raise ValueError(f"{thr.size} thresholds for a window of {self.window_size}")
        self.thresholds_ = thr
        self._window = np.asarray(state["window"], dtype=np.float64)
        if self._window.shape[0] > self.window_size:
            raise ValueError(f"a window of {self._window.shape[0]} values")
        self._t = int(state["t"])

    # -- streaming ---------------------------------------------------------------------------
    def _run(self, xs: np.ndarray) -> list[int]:
        kernel = kernel_for(_py_cvm_run)
        return self._run_compiled(kernel, xs) if kernel is not None else self._run_numpy(xs)

    def _run_compiled(self, kernel: Any, xs: np.ndarray) -> list[int]:
        m, u, win = self.window_size, self.reference_values_, self._window
        cw = win.shape[0]
        ring = np.zeros((1, m))
        ring[0, :cw] = win
        sk = np.zeros((1, m))
        sk[0, :cw] = np.sort(win)
        skl = np.zeros((1, m), dtype=np.int64)
        skr = np.zeros((1, m), dtype=np.int64)
        skl[0, :cw] = np.searchsorted(u, sk[0, :cw])
        skr[0, :cw] = np.searchsorted(u, sk[0, :cw], side="right")
        ist = np.array([[self._t, cw, cw % m, int(self._drift)]], dtype=np.int64)
        stats = np.empty((1, xs.shape[0]))
        alarms = np.empty(xs.shape[0], dtype=np.int64)
        na = kernel(
            xs[None, :],
            u,
            *self._tables,
            self.thresholds_,
            ring,
            sk,
            skl,
            skr,
            ist,
            self._consts,
            stats,
            alarms,
        )
        t, cw, head, drift = (int(v) for v in ist[0])
        self._window = (
            np.concatenate([ring[0, head:], ring[0, :head]]) if cw == m else ring[0, :cw].copy()
        )
        self._t, self._drift, self._stat = t, bool(drift), float(stats[0, -1])
        return [int(a) for a in alarms[:na]]

    def _run_numpy(self, xs: np.ndarray) -> list[int]:
        """Vectorised: the statistics of a block of steps at once (sliding windows), restarting
        after the first alarm of the block."""
        m, u, thr = self.window_size, self.reference_values_, self.thresholds_
        win, t0, drift, stat = self._window, self._t, self._drift, self._stat
        alarms: list[int] = []
        i, n, block = 0, xs.shape[0], 2 * m
        while i < n:
            if drift:
                win, t0, drift = np.zeros(0), 0, False
            end = min(n, i + block)
            hist = np.concatenate([win, xs[i:end]])
            c, L = win.shape[0], end - i
            stats = np.full(L, np.nan)
            first = max(0, m - 1 - c)
            if first < L:
                kl = np.searchsorted(u, hist)
                kr = np.searchsorted(u, hist, side="right")
                rows = slice(c + first - m + 1, c + L - m + 1)
                keys, ranks_l, ranks_r = (sliding_window_view(a, m)[rows] for a in (hist, kl, kr))
                stats[first:] = _window_stats(keys, ranks_l, ranks_r, self._tables, self._consts)
            steps = np.minimum(t0 + np.arange(L), thr.shape[0] - 1)
            hit = stats > thr[steps]
            if hit.any():
                a = int(np.argmax(hit))
                alarms.append(i + a)
                win, t0, drift, stat = (
                    hist[max(0, c + a + 1 - m) : c + a + 1],
                    t0 + a + 1,
                    True,
                    stats[a],
                )
                i += a + 1
                block = 2 * m
            else:
                win, t0, stat = hist[-m:], t0 + L, stats[-1]
                i = end
                block = min(2 * block, _MAX_BLOCK)
        self._window, self._t, self._drift, self._stat = win.copy(), t0, drift, float(stat)
        return alarms
