r"""Threshold policies: accept above one threshold, or accept / review / reject with two.

* :class:`ThresholdPolicy` — accept when ``confidence >= threshold``, else review (or reject).
  :meth:`ThresholdPolicy.fit` takes the threshold of :func:`threshold_for_error` (Learn then
  Test) and keeps its guarantee.
* :class:`ThreeWayPolicy` — for binary ``p = P(y = 1)``: accept (predict positive) when
  ``p >= accept_threshold``, reject (predict negative) when ``p <= reject_threshold``, review in
  between. :meth:`ThreeWayPolicy.fit` certifies both sides.

When a review budget is given and the certified policy sends more items to review than the
budget allows, :class:`ReviewBudgetError` says by how much the targets must be relaxed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from confide._validation import check_binary_labels, check_choice, check_probabilities
from confide.decision._policy_base import (
    ACCEPT,
    REJECT,
    REVIEW,
    Decisions,
    Policy,
    as_confidence,
    check_threshold,
    restore_result,
)
from confide.decision._threshold_common import check_level
from confide.decision._threshold_ltt import InfeasibleTargetError
from confide.decision._thresholds import ErrorThreshold, threshold_for_error
from confide.exceptions import ValidationError

__all__ = ["ReviewBudgetError", "ThreeWayPolicy", "ThresholdPolicy"]

#: Relaxed targets tried by the budget search: ``max_error * RELAX_STEP**k``, 3 significant
#: digits, up to (excluding) ``RELAX_CAP``.
RELAX_STEP = 1.1
RELAX_CAP = 0.5


class ReviewBudgetError(ValidationError):
    """The certified policy needs more review than the budget allows.

    Attributes
    ----------
    needed_review : float
        Review rate (on the calibration data) of the policy certified at the requested targets.
    budget : float
        The review budget passed.
    suggested_max_error : float or None
        The smallest relaxed ``max_error`` tried (a grid ``max_error * 1.1^k`` rounded to 3
        significant digits, below 0.5) at which the fitted policy fits the budget; None when
        none does.
    suggested_max_error_reject : float or None
        For three-way policies, the reject-side target relaxed by the same factor.
    """

    def __init__(
        self,
        message: str,
        *,
        needed_review: float,
        budget: float,
        suggested_max_error: float | None,
        suggested_max_error_reject: float | None = None,
    ) -> None:
        super().__init__(message)
        self.needed_review = needed_review
        self.budget = budget
        self.suggested_max_error = suggested_max_error
        self.suggested_max_error_reject = suggested_max_error_reject


def _round3(x: float) -> float:
    return float(f"{x:.3g}")


def relax_for_budget(
    review_at: Callable[[float, float | None], float],
    max_error: float,
    max_error_reject: float | None,
    needed: float,
    budget: float,
    what: str,
) -> ReviewBudgetError:
    """Search the relaxed targets; return the error to raise (with the smallest that fits)."""
    suggested: tuple[float, float | None] | None = None
    k, previous = 1, max_error
    while True:
        eps = _round3(max_error * RELAX_STEP**k)
        k += 1
        if eps <= previous:
            continue
        if eps >= RELAX_CAP:
            break
        previous = eps
        factor = eps / max_error
        eps_r = None if max_error_reject is None else _round3(max_error_reject * factor)
        if eps_r is not None and eps_r >= 1.0:
            break
        try:
            review = review_at(eps, eps_r)
        except InfeasibleTargetError:
            continue
        if review <= budget:
            suggested = (eps, eps_r)
            break
    head = (
        f"the {what} certified at max_error={max_error!r}"
        + ("" if max_error_reject is None else f", max_error_reject={max_error_reject!r}")
        + f" sends {needed:.2%} of the calibration items to review, above the budget of {budget:.2%}."
    )
    if suggested is None:
        tail = (
            f" No relaxed target below {RELAX_CAP} fits the budget: raise the budget, "
            "use a better model, or add calibration data."
        )
    else:
        tail = f" Relax max_error to {suggested[0]!r}" + (
            "" if suggested[1] is None else f" and max_error_reject to {suggested[1]!r}"
        )
        tail += f" (x{suggested[0] / max_error:.3g}) to fit the budget, or raise the budget."
    return ReviewBudgetError(
        head + tail,
        needed_review=needed,
        budget=budget,
        suggested_max_error=None if suggested is None else suggested[0],
        suggested_max_error_reject=None if suggested is None else suggested[1],
    )


def _check_budget(budget: Any) -> float | None:
    return None if budget is None else check_level(budget, "review_budget", allow_one=True)


class ThresholdPolicy(Policy):
    r"""Accept when ``confidence >= threshold``; otherwise review (or reject).

    Parameters
    ----------
    threshold : float
        The accept threshold (``-inf`` accepts everything, ``inf`` nothing).
    below : {"review", "reject"}, default "review"
        The action for items below the threshold.

    Attributes
    ----------
    guarantee_ : ErrorThreshold or None
        Set by :meth:`fit`: the certified error bound, ``delta``, ``n`` and coverage.
    """

    type = "threshold"

    def __init__(self, threshold: float, *, below: str = "review") -> None:
        self.threshold = check_threshold(threshold, "threshold")
        self.below = check_choice(below, "below", ("review", "reject"))
        self.guarantee_: ErrorThreshold | None = None

    @classmethod
    def fit(
        cls,
        correct: Any,
        confidence: Any,
        *,
        max_error: float,
        delta: float = 0.05,
        below: str = "review",
        review_budget: float | None = None,
        grid: Any = None,
    ) -> ThresholdPolicy:
        r"""The lowest threshold with :math:`P(\text{wrong} \mid \text{accepted}) \le` ``max_error``
        with probability ``>= 1 - delta`` (:func:`threshold_for_error`, Learn then Test).

        With ``review_budget``, a policy whose calibration review rate ``1 - coverage`` exceeds
        the budget raises :class:`ReviewBudgetError` naming the smallest relaxed ``max_error``
        that fits (see :func:`relax_for_budget`).

        References
        ----------
        Angelopoulos, A. N., Bates, S., Candès, E. J., Jordan, M. I. and Lei, L. (2021). Learn
        then test: calibrating predictive algorithms to achieve risk control. arXiv:2110.01052.
        """
        budget = _check_budget(review_budget)
        g = threshold_for_error(correct, confidence, max_error=max_error, delta=delta, grid=grid)
        if budget is not None and 1.0 - g.coverage > budget:

            def review_at(eps: float, _: float | None) -> float:
                r = threshold_for_error(correct, confidence, max_error=eps, delta=delta, grid=grid)
                return 1.0 - r.coverage

            raise relax_for_budget(
                review_at, g.max_error, None, 1.0 - g.coverage, budget, "threshold policy"
            )
        policy = cls(g.threshold, below=below)
        policy.guarantee_ = g
        return policy

    def decide(self, confidence: Any, secondary: Any = None) -> Decisions:
        """``accept`` when ``confidence >= threshold``, else ``below`` (vectorised)."""
        c = as_confidence(confidence)
        below = c < self.threshold
        code = REVIEW if self.below == "review" else REJECT
        t = f"{self.threshold:.6g}"
        return Decisions(
            codes=np.where(below, code, ACCEPT).astype(np.int8),
            rules=below.astype(np.int8),
            templates=(
                f"confidence {{c}} >= accept threshold {t}",
                f"confidence {{c}} < accept threshold {t}: {self.below}",
            ),
            confidence=c,
        )

    def params(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "below": self.below}

    def guarantee(self) -> dict[str, Any] | None:
        return None if self.guarantee_ is None else self.guarantee_.to_dict()

    def _set_guarantee(self, data: dict[str, Any] | None) -> None:
        self.guarantee_ = restore_result(ErrorThreshold, data)


class ThreeWayPolicy(Policy):
    r"""Binary three-way decisions on ``p = P(y = 1)``.

    ``p >= accept_threshold``: accept (predict positive); ``p <= reject_threshold``: reject
    (predict negative); in between: review.

    Parameters
    ----------
    accept_threshold, reject_threshold : float
        With ``reject_threshold < accept_threshold``.

    Attributes
    ----------
    accept_guarantee_ : ErrorThreshold or None
        Set by :meth:`fit`: the accept side (false discoveries among accepted items).
    reject_guarantee_ : ErrorThreshold or None
        The reject side, on the score ``1 - p`` (false omissions among rejected items).
    review_rate_ : float or None
        Fraction of calibration items between the thresholds.
    delta_ : float or None
        Both guarantees hold together with probability ``>= 1 - delta_``.
    """

    type = "three_way"

    def __init__(self, accept_threshold: float, reject_threshold: float) -> None:
        a = check_threshold(accept_threshold, "accept_threshold")
        r = check_threshold(reject_threshold, "reject_threshold")
        if not r < a:
            raise ValidationError(
                f"reject_threshold ({r!r}) must be below accept_threshold ({a!r}): an item "
                "cannot be both accepted and rejected."
            )
        self.accept_threshold, self.reject_threshold = a, r
        self.accept_guarantee_: ErrorThreshold | None = None
        self.reject_guarantee_: ErrorThreshold | None = None
        self.review_rate_: float | None = None
        self.delta_: float | None = None

    @classmethod
    def fit(
        cls,
        y_true: Any,
        y_prob: Any,
        *,
        max_error: float,
        max_error_reject: float | None = None,
        delta: float = 0.05,
        review_budget: float | None = None,
        grid: Any = None,
    ) -> ThreeWayPolicy:
        r"""Certify both sides with Learn then Test, each at level ``delta / 2``.

        Accept side: :func:`threshold_for_error` with ``correct = (y == 1)`` and confidence
        ``p``, so that :math:`P(y = 0 \mid p \ge a) \le \varepsilon_+`. Reject side: the same on
        the confidence ``1 - p`` with ``correct = (y == 0)``, so that
        :math:`P(y = 1 \mid 1 - p \ge t_-) \le \varepsilon_-`; the stored
        ``reject_threshold`` is the largest calibration ``p`` with ``1 - p >= t_-`` (the same
        calibration items). By Bonferroni both statements hold together with probability
        :math:`\ge 1 - \delta`. The review rate is the calibration mass strictly between.

        Parameters
        ----------
        y_true : array of shape (n,)
            Labels in {0, 1}.
        y_prob : array of shape (n,)
            ``P(y = 1)``.
        max_error : float
            Target false-discovery rate among accepted items, in (0, 1).
        max_error_reject : float, optional
            Target false-omission rate among rejected items (default ``max_error``).
        delta : float, default 0.05
        review_budget : float, optional
            Largest review rate allowed; exceeding it raises :class:`ReviewBudgetError`.
        grid : passed to :func:`threshold_for_error` on both sides.

        Raises
        ------
        InfeasibleTargetError
            A side cannot be certified, or the certified regions overlap.
        ReviewBudgetError
            The certified policy sends more than ``review_budget`` to review.

        References
        ----------
        Angelopoulos et al. (2021), Learn then test, arXiv:2110.01052. Chow, C. K. (1970). On
        optimum recognition error and reject tradeoff. IEEE Trans. Inf. Theory 16(1), 41-46.
        """
        eps = check_level(max_error, "max_error")
        eps_r = (
            eps if max_error_reject is None else check_level(max_error_reject, "max_error_reject")
        )
        d = check_level(delta, "delta")
        budget = _check_budget(review_budget)
        p = check_probabilities(y_prob, "y_prob", ndim=1).astype(np.float64, copy=False)
        y = check_binary_labels(y_true)
        if y.shape[0] != p.shape[0]:
            raise ValidationError(
                f"y_true and y_prob differ in length ({y.shape[0]} != {p.shape[0]})."
            )

        def fit_at(e_acc: float, e_rej: float) -> ThreeWayPolicy:
            return cls._fit_sides(y, p, e_acc, e_rej, d, grid)

        policy = fit_at(eps, eps_r)
        review = float(policy.review_rate_ or 0.0)
        if budget is not None and review > budget:

            def review_at(e_acc: float, e_rej: float | None) -> float:
                return float(fit_at(e_acc, eps_r if e_rej is None else e_rej).review_rate_ or 0.0)

            raise relax_for_budget(review_at, eps, eps_r, review, budget, "three-way policy")
        return policy

    @classmethod
    def _fit_sides(
        cls, y: np.ndarray, p: np.ndarray, eps: float, eps_r: float, delta: float, grid: Any
    ) -> ThreeWayPolicy:
        half = delta / 2.0
        acc = threshold_for_error(y == 1, p, max_error=eps, delta=half, grid=grid)
        q = 1.0 - p
        rej = threshold_for_error(y == 0, q, max_error=eps_r, delta=half, grid=grid)
        r = float(p[q >= rej.threshold].max())
        if not r < acc.threshold:
            raise InfeasibleTargetError(
                f"the certified accept region (p >= {acc.threshold:.6g}) and reject region "
                f"(p <= {r:.6g}) overlap: with max_error={eps!r} and max_error_reject={eps_r!r} "
                "both sides are so loose that every item could be decided either way. Tighten "
                "the targets, or use ThresholdPolicy."
            )
        policy = cls(acc.threshold, r)
        policy.accept_guarantee_, policy.reject_guarantee_ = acc, rej
        policy.review_rate_ = float(np.mean((p > r) & (p < acc.threshold)))
        policy.delta_ = delta
        return policy

    def decide(self, confidence: Any, secondary: Any = None) -> Decisions:
        """Accept / review / reject each ``p = P(y = 1)`` (vectorised)."""
        p = as_confidence(confidence, "y_prob")
        a, r = self.accept_threshold, self.reject_threshold
        code = np.where(p >= a, ACCEPT, np.where(p <= r, REJECT, REVIEW)).astype(np.int8)
        ta, tr = f"{a:.6g}", f"{r:.6g}"
        return Decisions(
            codes=code,
            rules=code,
            templates=(
                f"P(y=1) {{c}} >= accept threshold {ta}",
                f"P(y=1) {{c}} between reject threshold {tr} and accept threshold {ta}: review",
                f"P(y=1) {{c}} <= reject threshold {tr}",
            ),
            confidence=p,
        )

    def params(self) -> dict[str, Any]:
        return {
            "accept_threshold": self.accept_threshold,
            "reject_threshold": self.reject_threshold,
        }

    def guarantee(self) -> dict[str, Any] | None:
        if self.accept_guarantee_ is None or self.reject_guarantee_ is None:
            return None
        return {
            "accept": self.accept_guarantee_.to_dict(),
            "reject": self.reject_guarantee_.to_dict(),
            "review_rate": self.review_rate_,
            "delta": self.delta_,
        }

    def _set_guarantee(self, data: dict[str, Any] | None) -> None:
        if not data:
            return
        self.accept_guarantee_ = restore_result(ErrorThreshold, data["accept"])
        self.reject_guarantee_ = restore_result(ErrorThreshold, data["reject"])
        rate = data.get("review_rate")
        self.review_rate_ = None if rate is None else float(rate)
        dl = data.get("delta")
        self.delta_ = (
            None if dl is None or (isinstance(dl, float) and math.isnan(dl)) else float(dl)
        )
