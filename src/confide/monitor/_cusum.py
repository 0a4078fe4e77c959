"""Page's CUSUM on standardised values, and the threshold for a target in-control run length."""

from __future__ import annotations

import math
from typing import Any, Self

import numpy as np
from scipy.optimize import brentq

from confide._validation import as_float_array, check_choice, check_positive_int
from confide.exceptions import ConfideTypeError, ValidationError
from confide.monitor._detector_base import DriftDetector, check_number, kernel_for

__all__ = ["CUSUM", "threshold_for_arl"]

#: Fixed-point scale of the sums: increments are rounded to multiples of 2^-32 standard
#: deviations, so that every sum is an exact integer and the vectorised batch path (cumulative
#: sums and minima) gives bit for bit what the one-value recursion gives.
_SCALE = 2.0**32
_FIRST_BLOCK = 256
_CHUNK = 1 << 16
_MAX_H = 2.0**20


def _lindley(y: np.ndarray, s0: int) -> np.ndarray:
    """``S_t = max(0, S_{t-1} + y_t)`` from ``S_0 = s0 >= 0`` for all t at once.

    With ``C_t = s0 + y_1 + ... + y_t``: ``S_t = C_t - min(0, min_{j<=t} C_j)`` (the Lindley
    recursion unrolled). Exact on integers.
    """
    c = np.cumsum(y)
    c += s0
    low = np.minimum.accumulate(c)
    np.minimum(low, 0, out=low)
    return c - low


def _py_cusum_run(
    zq: np.ndarray, kq: int, hq: int, two_sided: bool, state: np.ndarray, alarms: np.ndarray
) -> int:  # pragma: no cover - compiled by numba
    """The recursion value by value on the fixed-point increments (the compiled path).

    ``state`` is ``[S+, S-, drift]`` (int64), updated in place; returns the number of alarms
    written to ``alarms``. Integer arithmetic: equal to the vectorised path exactly.
    """
    sp = state[0]
    sn = state[1]
    drift = state[2]
    n_alarms = 0
    for i in range(zq.shape[0]):
        if drift == 1:
            sp = 0
            sn = 0
            drift = 0
        v = zq[i]
        sn = sn - v - kq
        if sn < 0:
            sn = 0
        if two_sided:
            sp = sp + v - kq
            if sp < 0:
                sp = 0
        if sn > hq or sp > hq:
            drift = 1
            alarms[n_alarms] = i
            n_alarms += 1
    state[0] = sp
    state[1] = sn
    state[2] = drift
    return n_alarms


class CUSUM(DriftDetector):
    r"""Page's cumulative-sum test for a shift of the mean of a stream (e.g. mean confidence).

    Each value is standardised with a reference mean and standard deviation,
    :math:`z_t = (x_t - \mu_0) / \sigma_0`, and two one-sided sums are kept:

    .. math::

        S^+_t = \max(0, S^+_{t-1} + z_t - k), \qquad S^-_t = \max(0, S^-_{t-1} - z_t - k).

    An alarm is raised when :math:`S^+_t > h` or :math:`S^-_t > h` (only :math:`S^-`, a drop of
    the mean, when ``two_sided=False``; feed ``-x`` to watch for a rise instead). ``k`` is half
    the shift (in standard deviations) the test is tuned to detect fastest; ``h`` sets the
    in-control average run length, see :func:`threshold_for_arl`.

    Parameters
    ----------
    target_mean, std : float or None
        Reference mean and standard deviation. Missing ones come from :meth:`fit` on a
        reference sample or, failing that, from the first ``warmup`` values of the stream
        (self-starting; those values raise no alarm).
    k : float, default 0.5
        Allowance (reference value) in standard deviations.
    h : float, default 5.0
        Decision interval in standard deviations (at most 2^20).
    two_sided : bool, default True
        Watch both directions; otherwise only a decrease.
    warmup : int, default 100
        Values used to estimate a missing mean/standard deviation when :meth:`fit` was not
        called. A constant warm-up gives a standard deviation of one ulp, so any later change
        alarms.

    Notes
    -----
    Sums are kept in fixed point (multiples of 2^-32 standard deviations) so that
    ``update_many`` (vectorised: cumulative sums and running minima, block by block) and
    ``update`` agree exactly (with numba installed a compiled loop runs instead, on the same
    integers, so again exactly). Standardised values are clipped to :math:`\pm(h + k + 1)`, which
    changes no alarm and no sum below ``h``.

    References
    ----------
    E. S. Page (1954). Continuous inspection schemes. *Biometrika* 41(1/2), 100-115.
    D. C. Montgomery (2009). *Introduction to Statistical Quality Control*, 6th ed., §9.1.
    """

    name = "cusum"

    def __init__(
        self,
        *,
        target_mean: float | None = None,
        std: float | None = None,
        k: float = 0.5,
        h: float = 5.0,
        two_sided: bool = True,
        warmup: int = 100,
    ) -> None:
        self.target_mean = (
            None
            if target_mean is None
            else check_number(target_mean, "target_mean", low=-math.inf, high=math.inf)
        )
        self.std = None if std is None else check_number(std, "std", low=0.0)
        if self.std == 0.0:
            raise ValidationError("std must be positive, got 0. Pass std=None to estimate it.")
        self.k = check_number(k, "k", low=0.0, high=_MAX_H)
        self.h = check_number(h, "h", low=0.0, high=_MAX_H)
        if self.h == 0.0:
            raise ValidationError("h must be positive, got 0; see threshold_for_arl to choose it.")
        if not isinstance(two_sided, bool | np.bool_):
            raise ConfideTypeError(f"two_sided must be True or False, got {two_sided!r}.")
        self.two_sided = bool(two_sided)
        self.warmup = check_positive_int(warmup, "warmup", minimum=2)
        self._ref_mean = self.target_mean
        self._ref_std = self.std
        self.reset()

    def fit(self, reference: Any) -> Self:
        """Take the missing reference mean / standard deviation (ddof=1) from ``reference``."""
        ref = as_float_array(reference, "reference", ndim=1, min_samples=2).astype(np.float64)
        mean = self.target_mean if self.target_mean is not None else float(np.mean(ref))
        std = self.std if self.std is not None else float(np.std(ref, ddof=1))
        if std == 0.0:
            raise ValidationError(
                f"reference is constant ({ref[0]!r}): its standard deviation is 0, so no "
                "value can be standardised. Pass std= explicitly."
            )
        self._ref_mean, self._ref_std = mean, std
        self.reset()
        return self

    # -- state -------------------------------------------------------------------------------
    def _reset_state(self) -> None:
        self.mean_: float | None = self._ref_mean
        self.std_: float | None = self._ref_std
        self._buf: list[float] = []
        self._sp = 0
        self._sn = 0

    @property
    def s_upper(self) -> float:
        """:math:`S^+` after the last value (standard deviations)."""
        return self._sp / _SCALE

    @property
    def s_lower(self) -> float:
        """:math:`S^-` after the last value (standard deviations)."""
        return self._sn / _SCALE

    def _params(self) -> dict[str, Any]:
        return {
            "target_mean": self.target_mean,
            "std": self.std,
            "k": self.k,
            "h": self.h,
            "two_sided": self.two_sided,
            "warmup": self.warmup,
        }

    def _get_state(self) -> dict[str, Any]:
        return {
            "ref_mean": self._ref_mean,
            "ref_std": self._ref_std,
            "mean": self.mean_,
            "std": self.std_,
            "warmup_values": list(self._buf),
            "s_upper": self._sp,
            "s_lower": self._sn,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        def opt(v: Any) -> float | None:
            return None if v is None else float(v)

        self._ref_mean, self._ref_std = opt(state["ref_mean"]), opt(state["ref_std"])
        self.mean_, self.std_ = opt(state["mean"]), opt(state["std"])
        self._buf = [float(v) for v in state["warmup_values"]]
        self._sp, self._sn = int(state["s_upper"]), int(state["s_lower"])

    # -- the recursion -----------------------------------------------------------------------
    def _finish_warmup(self) -> None:
        buf = np.asarray(self._buf, dtype=np.float64)
        if self.mean_ is None:
            self.mean_ = float(np.mean(buf))
        if self.std_ is None:
            std = float(np.std(buf, ddof=1))
            self.std_ = std if std > 0.0 else float(np.spacing(max(1.0, abs(self.mean_))))
        self._buf = []

    def _run(self, xs: np.ndarray) -> list[int]:
        pos = 0
        if self.mean_ is None or self.std_ is None:
            take = min(self.warmup - len(self._buf), xs.shape[0])
            self._buf.extend(xs[:take].tolist())
            pos = take
            self._drift = False
            if len(self._buf) < self.warmup:
                return []
            self._finish_warmup()
            self._stat = 0.0
            if pos == xs.shape[0]:
                return []
        assert self.mean_ is not None
        assert self.std_ is not None
        alarms: list[int] = []
        kernel = kernel_for(_py_cusum_run)
        for lo in range(pos, xs.shape[0], _CHUNK):
            zq = self._fixed_point(xs[lo : lo + _CHUNK])
            found = self._chunk_compiled(kernel, zq) if kernel is not None else self._chunk(zq)
            alarms.extend(lo + a for a in found)
        self._stat = max(self._sp, self._sn) / _SCALE
        return alarms

    def _fixed_point(self, x: np.ndarray) -> np.ndarray:
        """Standardised values, clipped to +-(h + k + 1), as int64 multiples of 2^-32."""
        assert self.mean_ is not None
        assert self.std_ is not None
        lim = self.h + self.k + 1.0
        z = x - self.mean_
        z /= self.std_
        np.clip(z, -lim, lim, out=z)
        z *= _SCALE
        np.rint(z, out=z)
        return z.astype(np.int64)

    def _chunk_compiled(self, kernel: Any, zq: np.ndarray) -> list[int]:
        state = np.array([self._sp, self._sn, int(self._drift)], dtype=np.int64)
        out = np.empty(zq.shape[0], dtype=np.int64)
        kq, hq = int(np.rint(self.k * _SCALE)), int(np.rint(self.h * _SCALE))
        na = kernel(zq, np.int64(kq), np.int64(hq), self.two_sided, state, out)
        self._sp, self._sn, self._drift = int(state[0]), int(state[1]), bool(state[2])
        return [int(a) for a in out[:na]]

    def _chunk(self, zq: np.ndarray) -> list[int]:
        """Vectorised: Lindley by cumulative sums/minima, block by block, restarting after
        each alarm (blocks double while no alarm comes)."""
        kq, hq = int(np.rint(self.k * _SCALE)), int(np.rint(self.h * _SCALE))
        bound = int((self.h + self.k + 1.0) * _SCALE) + kq + 2
        max_block = int(max(1, min(_CHUNK, (2**62 - hq - bound) // bound)))
        sp, sn = (0, 0) if self._drift else (self._sp, self._sn)
        drift = False
        alarms: list[int] = []
        i, n, block = 0, zq.shape[0], min(_FIRST_BLOCK, max_block)
        while i < n:
            end = min(n, i + block)
            seg = zq[i:end]
            dn = _lindley(-seg - kq, sn)
            up = _lindley(seg - kq, sp) if self.two_sided else np.zeros_like(dn)
            hit = (dn > hq) | (up > hq)
            if hit.any():
                a = int(np.argmax(hit))
                alarms.append(i + a)
                sp, sn = int(up[a]), int(dn[a])
                i += a + 1
                drift = True
                block = min(_FIRST_BLOCK, max_block)
                if i < n:
                    sp, sn, drift = 0, 0, False
            else:
                sp, sn = int(up[-1]), int(dn[-1])
                i = end
                drift = False
                block = min(2 * block, max_block)
        self._sp, self._sn, self._drift = sp, sn, drift
        return alarms


def _siegmund_arl(h: float, k: float) -> float:
    """One-sided in-control ARL of a normal CUSUM, Siegmund's approximation (b = h + 1.166)."""
    b = h + 1.166
    if k == 0.0:
        return b * b
    return (math.expm1(2.0 * k * b) - 2.0 * k * b) / (2.0 * k * k)


def _simulated_streams(
    rng: np.random.Generator, ref: np.ndarray | None, estimated: bool, rows: int, horizon: int
) -> np.ndarray:
    """Standardised in-control streams: normal, or bootstrap draws from ``ref`` standardised
    by the reference's moments or, when ``estimated``, by those of a bootstrap reference
    drawn for each stream (so the estimation error of ``CUSUM.fit`` is part of the null)."""
    if ref is None:
        return rng.standard_normal((rows, horizon))
    x = ref[rng.integers(0, ref.size, (rows, horizon))]
    if not estimated:
        x -= float(np.mean(ref))
        x /= float(np.std(ref, ddof=1))
        return x
    mean, sd = np.empty(rows), np.empty(rows)
    step = max(1, 4_000_000 // ref.size)
    for lo in range(0, rows, step):
        boot = ref[rng.integers(0, ref.size, (min(step, rows - lo), ref.size))]
        mean[lo : lo + step] = boot.mean(axis=1)
        sd[lo : lo + step] = boot.std(axis=1, ddof=1)
    np.maximum(sd, np.finfo(np.float64).tiny, out=sd)
    x -= mean[:, None]
    x /= sd[:, None]
    return x


def _simulated_threshold(
    arl0: float,
    k: float,
    two_sided: bool,
    ref: np.ndarray | None,
    estimated: bool,
    n_streams: int,
    seed: int,
) -> float:
    """Smallest h whose mean simulated run length (censored at 8 ARL0) reaches ``arl0``."""
    rng = np.random.default_rng(seed)
    horizon = int(min(max(8.0 * arl0, 64.0), 2e6))
    rows_per_chunk = max(1, 2_000_000 // horizon)
    rows_l, t_l, v_l = [], [], []
    for start in range(0, n_streams, rows_per_chunk):
        r = min(rows_per_chunk, n_streams - start)
        x = _simulated_streams(rng, ref, estimated, r, horizon)
        c = np.cumsum(-x - k, axis=1)
        s = c - np.minimum(np.minimum.accumulate(c, axis=1), 0.0)
        if two_sided:
            c = np.cumsum(x - k, axis=1)
            np.maximum(s, c - np.minimum(np.minimum.accumulate(c, axis=1), 0.0), out=s)
        top = np.maximum.accumulate(s, axis=1)
        new = np.ones_like(top, dtype=bool)
        new[:, 1:] = top[:, 1:] > top[:, :-1]
        rr, tt = np.nonzero(new)
        rows_l.append(rr + start)
        t_l.append(tt)
        v_l.append(top[rr, tt])
    rows, times, vals = np.concatenate(rows_l), np.concatenate(t_l), np.concatenate(v_l)

    def mean_run_length(h: float) -> float:
        hit = vals > h
        first = np.full(n_streams, float(horizon))
        uniq, idx = np.unique(rows[hit], return_index=True)
        first[uniq] = times[hit][idx] + 1.0
        return float(first.mean())

    lo, hi = 0.0, float(vals.max())
    if mean_run_length(lo) >= arl0:
        return 0.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if mean_run_length(mid) >= arl0:
            hi = mid
        else:
            lo = mid
    return hi


def threshold_for_arl(
    arl0: float,
    k: float = 0.5,
    *,
    two_sided: bool = True,
    method: str = "siegmund",
    reference: Any = None,
    estimated: bool = True,
    n_streams: int = 4000,
    seed: int = 0,
) -> float:
    r"""Decision interval ``h`` of :class:`CUSUM` for an in-control average run length ``arl0``.

    ``method="siegmund"`` inverts Siegmund's approximation for normal data,

    .. math::

        \mathrm{ARL}_0(h) \approx \frac{e^{2kb} - 2kb - 1}{2k^2}, \qquad b = h + 1.166,

    halved for the two-sided test (:math:`1/\mathrm{ARL} = 1/\mathrm{ARL}^+ + 1/\mathrm{ARL}^-`).
    ``method="simulation"`` runs ``n_streams`` seeded in-control streams, censored at
    ``8 arl0`` values, and returns the smallest ``h`` whose mean run length reaches ``arl0``
    (censoring only lowers the estimate, so it errs long). The streams are standard normal, or
    bootstrap draws from ``reference`` when given (right for skewed data such as confidences).
    With ``estimated=True`` (the default: the detector is fitted on that same ``reference``)
    each stream is standardised by the mean and standard deviation of its own bootstrap
    reference of the same size, so ``arl0`` is the run length averaged over reference samples.
    That average moves little, but the run length of one fitted detector varies with its
    reference sample (Jones, Champ and Rigdon 2004): with 1000 reference values we measured
    0.75 to 1.2 times ``arl0`` across references; 20000 values bring it within about 5 %.
    Pass ``estimated=False`` when the mean and standard deviation are known exactly.

    References
    ----------
    D. Siegmund (1985). *Sequential Analysis: Tests and Confidence Intervals*, Springer, §X.2.
    L. A. Jones, C. W. Champ and S. E. Rigdon (2004). The run length distribution of the CUSUM
    with estimated parameters. *Journal of Quality Technology* 36(1), 95-108.
    """
    arl0 = check_number(arl0, "arl0", low=1.0, high=1e9)
    k = check_number(k, "k", low=0.0, high=_MAX_H)
    method = check_choice(method, "method", ("siegmund", "simulation"))
    if method == "simulation":
        n_streams = check_positive_int(n_streams, "n_streams", minimum=10)
        ref = None
        if reference is not None:
            ref = as_float_array(reference, "reference", ndim=1, min_samples=2).astype(np.float64)
            if float(np.std(ref, ddof=1)) == 0.0:
                raise ValidationError("reference is constant: it cannot be standardised.")
        return _simulated_threshold(
            arl0, k, bool(two_sided), ref, bool(estimated), n_streams, int(seed)
        )
    factor = 0.5 if two_sided else 1.0

    def gap(h: float) -> float:
        return math.log(factor * _siegmund_arl(h, k)) - math.log(arl0)

    if gap(0.0) >= 0.0:
        raise ValidationError(
            f"arl0={arl0} is below the run length of h=0 ({factor * _siegmund_arl(0.0, k):.3g}) "
            f"for k={k}: ask for a longer in-control run length or a smaller k."
        )
    hi = 1.0
    while gap(hi) < 0.0:
        hi *= 2.0
    return float(brentq(gap, 0.0, hi, xtol=1e-12))
