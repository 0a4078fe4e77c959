r"""Adaptive conformal inference (ACI) for streams whose distribution drifts.

Split conformal prediction fixes its threshold once; under a distribution shift its coverage
drifts away from the target. ACI (Gibbs & Candès 2021) instead moves the miscoverage level it
asks for after every observation,

.. math:: \alpha_{t+1} = \alpha_t + \gamma\,(\alpha - \mathrm{err}_t), \qquad
    \mathrm{err}_t = [S_t > \hat Q_t(1 - \alpha_t)],

raising the threshold after each miss and lowering it slowly while covered. Whatever the
sequence of scores (no exchangeability needed), the long-run miscoverage is pinned:

.. math:: \Big|\frac1T \sum_{t=1}^T \mathrm{err}_t - \alpha\Big| \le
    \frac{\max(\alpha_1, 1 - \alpha_1) + \gamma}{\gamma\,T}.

Here :math:`\hat Q_t(p)` is the split-conformal quantile of the last ``window`` scores: their
``ceil((m + 1) p)``-th smallest (``m`` scores held), ``+inf`` when that rank exceeds ``m``
(always the case while ``alpha_t <= 0``, and before any score arrived) and ``-inf`` when it is
below 1 (``alpha_t >= 1``). Memory is ``O(window)``: a ring buffer plus a sorted copy.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from confide._validation import as_float_array, check_fraction, check_positive_int
from confide.decision._conformal_scores import SavedConformal, check_level, exact_level
from confide.exceptions import NonFiniteError, ValidationError

__all__ = ["AdaptiveConformalInference", "AdaptiveConformalRun"]


@dataclass(frozen=True, eq=False)
class AdaptiveConformalRun:
    """What :meth:`AdaptiveConformalInference.run` saw at every step.

    Attributes
    ----------
    covered : ndarray of bool, shape (T,)
        Whether score ``t`` was at most the threshold in force at step ``t``.
    alphas : ndarray of float64, shape (T,)
        :math:`\\alpha_t` used at each step (before its update).
    thresholds : ndarray of float64, shape (T,)
        :math:`\\hat Q_t(1 - \\alpha_t)` at each step (``inf`` / ``-inf`` at the extremes).
    miscoverage : float
        Fraction of steps not covered.
    bound : float
        Gibbs & Candès' bound on ``|miscoverage - alpha|`` for this run's length.
    """

    covered: np.ndarray
    alphas: np.ndarray
    thresholds: np.ndarray
    miscoverage: float
    bound: float

    def __post_init__(self) -> None:
        for name in ("covered", "alphas", "thresholds"):
            getattr(self, name).setflags(write=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (infinite thresholds as ``"inf"`` / ``"-inf"``)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "covered":
                out[f.name] = [bool(c) for c in v.tolist()]
            elif isinstance(v, np.ndarray):
                out[f.name] = [
                    x if math.isfinite(x) else ("inf" if x > 0 else "-inf") for x in v.tolist()
                ]
            else:
                out[f.name] = v
        return out


class AdaptiveConformalInference(SavedConformal):
    r"""Online conformal thresholds whose miscoverage tracks ``1 - confidence_level`` under drift.

    Feed the nonconformity score of each labelled observation, in time order, to
    :meth:`update`; before it arrives, :meth:`threshold` is the threshold to use for the
    prediction set (``{y : s(x, y) <= threshold}``) or interval of the next input.

    Parameters
    ----------
    confidence_level : float in (0, 1)
        Target long-run coverage; :math:`\alpha = 1 - \mathrm{level}`.
    gamma : float > 0, default 0.005
        Step size: larger adapts faster to a shift, with a more jittery :math:`\alpha_t`.
    window : int, default 1000
        Number of most recent scores the quantile is taken over (fixed memory).
    alpha_init : float in (0, 1), optional
        :math:`\alpha_1`; defaults to :math:`\alpha`.

    Attributes
    ----------
    alpha_t : float
        Current miscoverage level asked of the quantile.
    n_steps : int
        Scores seen.
    n_errors : int
        Scores above the threshold in force when they arrived.

    References
    ----------
    Gibbs, I. and Candès, E. (2021). Adaptive conformal inference under distribution shift.
    NeurIPS 34 (Proposition 4.1 for the bound).
    """

    _kind = "adaptive_conformal_inference"

    def __init__(
        self,
        confidence_level: float = 0.9,
        *,
        gamma: float = 0.005,
        window: int = 1000,
        alpha_init: float | None = None,
    ) -> None:
        self.confidence_level = check_level(confidence_level)
        g = float(gamma) if isinstance(gamma, int | float | np.number) else math.nan
        if isinstance(gamma, bool) or not (math.isfinite(g) and g > 0):
            raise ValidationError(f"gamma must be a finite number > 0, got {gamma!r}.")
        self.gamma = g
        self.window = check_positive_int(window, "window")
        self.alpha = float(1 - exact_level(self.confidence_level))  # 0.1 for 0.9, exactly
        self.alpha_init = (
            self.alpha if alpha_init is None else check_fraction(alpha_init, "alpha_init")
        )
        self.reset()

    def reset(self) -> AdaptiveConformalInference:
        """Forget every score and return to :math:`\\alpha_1`."""
        self.alpha_t = self.alpha_init
        self.n_steps = 0
        self.n_errors = 0
        self._ring = np.zeros(self.window)
        self._head = 0  # next slot to overwrite once the ring is full
        self._sorted: list[float] = []
        return self

    # -- the online step ----------------------------------------------------------------
    def threshold(self) -> float:
        r""":math:`\hat Q_t(1 - \alpha_t)`: the ``ceil((m + 1)(1 - alpha_t))``-th smallest held score."""
        m = len(self._sorted)
        rank = math.ceil((m + 1) * (1.0 - self.alpha_t))
        if rank > m:
            return math.inf
        if rank < 1:
            return -math.inf
        return self._sorted[rank - 1]

    def update(self, score: float) -> bool:
        """Take the score of the next observation; return whether it was covered.

        Covered means ``score <= threshold()`` before the update. Then
        :math:`\\alpha_{t+1} = \\alpha_t + \\gamma(\\alpha - \\mathrm{err}_t)` and the score joins
        the window (the oldest leaves once ``window`` are held).
        """
        s = float(score)
        if not math.isfinite(s):
            raise NonFiniteError(f"score must be a finite number, got {score!r}.")
        covered = s <= self.threshold()
        self._step(s, covered)
        return covered

    def _step(self, s: float, covered: bool) -> None:
        self.alpha_t += self.gamma * (self.alpha - (0.0 if covered else 1.0))
        self.n_steps += 1
        self.n_errors += 0 if covered else 1
        if len(self._sorted) < self.window:
            self._ring[len(self._sorted)] = s
        else:
            old = float(self._ring[self._head])
            del self._sorted[bisect.bisect_left(self._sorted, old)]
            self._ring[self._head] = s
            self._head = (self._head + 1) % self.window
        bisect.insort(self._sorted, s)

    def run(self, scores: Any) -> AdaptiveConformalRun:
        """Process a sequence of scores in order (``update`` on each); return the trajectory."""
        x = as_float_array(scores, "scores", ndim=1, min_samples=0).astype(np.float64)
        steps = x.shape[0]
        covered = np.empty(steps, dtype=bool)
        alphas = np.empty(steps)
        thresholds = np.empty(steps)
        for t, s in enumerate(x.tolist()):  # a time loop is inherent: each step moves alpha_t
            alphas[t] = self.alpha_t
            q = self.threshold()
            thresholds[t] = q
            covered[t] = s <= q
            self._step(s, bool(covered[t]))
        return AdaptiveConformalRun(
            covered=covered,
            alphas=alphas,
            thresholds=thresholds,
            miscoverage=float(1.0 - covered.mean()) if steps else math.nan,
            bound=self.miscoverage_bound(steps) if steps else math.inf,
        )

    # -- the guarantee -------------------------------------------------------------------
    @property
    def miscoverage(self) -> float:
        """Fraction of the scores seen so far that were not covered (NaN before any)."""
        return self.n_errors / self.n_steps if self.n_steps else math.nan

    def miscoverage_bound(self, n_steps: int | None = None) -> float:
        r"""Gibbs & Candès' bound :math:`(\max(\alpha_1, 1 - \alpha_1) + \gamma) / (\gamma T)`.

        ``|miscoverage - alpha|`` over any ``T`` consecutive steps started from
        :math:`\alpha_1` = ``alpha_init`` is at most this, whatever the scores.
        """
        t = self.n_steps if n_steps is None else check_positive_int(n_steps, "n_steps")
        if t == 0:
            return math.inf
        return (max(self.alpha_init, 1.0 - self.alpha_init) + self.gamma) / (self.gamma * t)

    # -- storage ---------------------------------------------------------------------------
    def _window_in_order(self) -> list[float]:
        held = len(self._sorted)
        if held < self.window:
            return [float(v) for v in self._ring[:held]]
        return [float(v) for v in np.roll(self._ring, -self._head)]

    def _payload(self) -> dict[str, Any]:
        return {
            "config": {
                "confidence_level": self.confidence_level,
                "gamma": self.gamma,
                "window": self.window,
                "alpha_init": self.alpha_init,
            },
            "alpha_t": self.alpha_t,
            "n_steps": self.n_steps,
            "n_errors": self.n_errors,
            "scores": self._window_in_order(),  # oldest first
        }

    @classmethod
    def _from_payload(cls, payload: dict[str, Any]) -> AdaptiveConformalInference:
        obj = cls(**payload["config"])
        held = np.asarray(payload["scores"], dtype=np.float64)
        if held.ndim != 1 or held.shape[0] > obj.window or not np.isfinite(held).all():
            raise ValueError(f"expected at most {obj.window} finite scores in the window")
        obj._ring[: held.shape[0]] = held
        obj._sorted = sorted(held.tolist())
        obj.alpha_t = float(payload["alpha_t"])
        obj.n_steps = int(payload["n_steps"])
        obj.n_errors = int(payload["n_errors"])
        if not math.isfinite(obj.alpha_t) or not 0 <= obj.n_errors <= obj.n_steps:
            raise ValueError("alpha_t must be finite and 0 <= n_errors <= n_steps")
        return obj

    def __repr__(self) -> str:
        return (
            f"AdaptiveConformalInference(confidence_level={self.confidence_level!r}, "
            f"gamma={self.gamma!r}, window={self.window}, alpha_init={self.alpha_init!r})"
        )
