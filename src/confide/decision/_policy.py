r"""Decision policies: accept / review / reject / fallback, with guarantees, saved as JSON.

* :class:`ThresholdPolicy`, :class:`ThreeWayPolicy` (:mod:`._policy_threshold`),
  :class:`CascadePolicy` (:mod:`._policy_cascade`), the :class:`Decisions` they return and
  :func:`load_policy` (:mod:`._policy_base`);
* :func:`evaluate_policy`: rates, error among accepted with its Clopper-Pearson bound, and the
  expected cost per item of a policy on labelled data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from confide._validation import check_binary_labels
from confide.decision._bounds import clopper_pearson_upper
from confide.decision._policy_base import (
    ACCEPT,
    ACTIONS,
    FALLBACK,
    REJECT,
    REVIEW,
    Decisions,
    Policy,
    check_same_length,
    load_policy,
)
from confide.decision._policy_cascade import CascadeGuarantee, CascadePolicy
from confide.decision._policy_threshold import ReviewBudgetError, ThreeWayPolicy, ThresholdPolicy
from confide.decision._threshold_common import as_dict, check_binary, check_level
from confide.exceptions import ConfideTypeError, ValidationError

__all__ = [
    "ACTIONS",
    "CascadeGuarantee",
    "CascadePolicy",
    "Decisions",
    "Policy",
    "PolicyEvaluation",
    "ReviewBudgetError",
    "ThreeWayPolicy",
    "ThresholdPolicy",
    "evaluate_policy",
    "load_policy",
]


@dataclass(frozen=True)
class PolicyEvaluation:
    """How a policy does on labelled data.

    Attributes
    ----------
    n : int
        Items.
    accept_rate, review_rate, reject_rate, fallback_rate : float
        Fraction of items per action (cascade: ``fallback`` = accepted by the secondary model).
    auto_accept_rate : float
        ``accept_rate + fallback_rate``: items decided without a person.
    n_accepted, n_errors : int
        Auto-accepted items and the errors among them.
    error : float
        ``n_errors / n_accepted`` (NaN when nothing is accepted).
    error_upper_bound : float
        One-sided Clopper-Pearson ``1 - delta`` upper bound on that error (1 with no item).
    n_rejected, n_reject_errors : int
        Three-way policies: rejected items (predicted negative) and the positives among them.
    reject_error, reject_error_upper_bound : float
        Their false-omission rate and its upper bound (NaN / 1 when not applicable or empty).
    delta : float
    cost_error, cost_review, cost_reject : float
        The costs used.
    expected_cost : float
        Per item: ``(cost_error * (n_errors + n_reject_errors) + cost_review * n_review +
        cost_reject * n_rejected) / n``.
    """

    n: int
    accept_rate: float
    review_rate: float
    reject_rate: float
    fallback_rate: float
    auto_accept_rate: float
    n_accepted: int
    n_errors: int
    error: float
    error_upper_bound: float
    n_rejected: int
    n_reject_errors: int
    reject_error: float
    reject_error_upper_bound: float
    delta: float
    cost_error: float
    cost_review: float
    cost_reject: float
    expected_cost: float

    def to_dict(self) -> dict[str, Any]:
        """Plain Python types (NaN as the string "nan")."""
        return as_dict(self)


def _cost(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfideTypeError(f"{name} must be a number, got {value!r}.")
    v = float(value)
    if not (math.isfinite(v) and v >= 0):
        raise ValidationError(f"{name} must be a finite cost >= 0, got {value!r}.")
    return v


def _rate(errors: int, n: int, delta: float) -> tuple[float, float]:
    if n == 0:
        return math.nan, 1.0
    return errors / n, float(clopper_pearson_upper(errors, n, delta))


def evaluate_policy(
    policy: Policy,
    outcome: Any,
    confidence: Any,
    secondary: Any = None,
    *,
    outcome2: Any = None,
    cost_error: float = 1.0,
    cost_review: float = 0.1,
    cost_reject: float = 0.0,
    delta: float = 0.05,
) -> PolicyEvaluation:
    r"""Rates, error among accepted items with its bound, and the expected cost per item.

    What ``outcome`` means depends on the policy:

    * :class:`ThresholdPolicy`: ``correct`` (1 when the model was right); an accepted item is an
      error when it was wrong;
    * :class:`ThreeWayPolicy`: ``y_true`` in {0, 1} with ``confidence = P(y = 1)``; an accepted
      item (predicted positive) is an error when ``y = 0``, a rejected one when ``y = 1``;
    * :class:`CascadePolicy`: ``correct`` of the primary model, ``outcome2`` that of the
      secondary model (read for items it accepted); ``secondary`` must be given for every item
      below ``t1``.

    The error bound is the one-sided Clopper-Pearson bound
    :math:`B^{-1}(1 - \delta; e + 1, n_A - e)` on the accepted items (a bound on *this*
    policy's error, valid when the evaluation data were not used to fit it). The expected cost
    per item is :math:`(c_e\,(e_A + e_R) + c_v\,n_{\text{review}} + c_r\,n_R) / n`.

    References
    ----------
    Clopper, C. J. and Pearson, E. S. (1934). Biometrika 26(4), 404-413. Chow, C. K. (1970).
    On optimum recognition error and reject tradeoff. IEEE Trans. Inf. Theory 16(1), 41-46.
    """
    if not isinstance(policy, Policy):
        raise ConfideTypeError(f"policy must be a confide Policy, got a {type(policy).__name__}.")
    d = check_level(delta, "delta")
    ce, cv, cr = (
        _cost(v, k)
        for v, k in (
            (cost_error, "cost_error"),
            (cost_review, "cost_review"),
            (cost_reject, "cost_reject"),
        )
    )
    decisions: Decisions = policy.decide(confidence, secondary)
    codes, n = decisions.codes, decisions.n
    if isinstance(policy, ThreeWayPolicy):
        y = check_binary_labels(outcome)
        wrong_acc = y == 0
        wrong_rej = y == 1
    else:
        wrong_acc = check_binary(outcome, "outcome", "1 when the prediction was right") == 0
        wrong_rej = np.zeros(n, dtype=bool)
    check_same_length(decisions.confidence, wrong_acc, "confidence", "outcome")
    if isinstance(policy, CascadePolicy):
        if (decisions.rules == 1).any():
            raise ValidationError(
                f"{int((decisions.rules == 1).sum())} item(s) below t1 have no secondary "
                "confidence: pass the secondary model's confidence for every item below t1."
            )
        if outcome2 is None:
            raise ConfideTypeError(
                "a cascade needs outcome2: 1 when the secondary model was right."
            )
        wrong2 = check_binary(outcome2, "outcome2", "1 when the secondary model was right") == 0
        check_same_length(decisions.confidence, wrong2, "confidence", "outcome2")
        wrong_acc = np.where(codes == FALLBACK, wrong2, wrong_acc)
    accepted = (codes == ACCEPT) | (codes == FALLBACK)
    rejected = codes == REJECT
    n_acc, n_err = int(accepted.sum()), int((accepted & wrong_acc).sum())
    n_rej, n_rej_err = int(rejected.sum()), int((rejected & wrong_rej).sum())
    n_rev = int((codes == REVIEW).sum())
    err, err_ub = _rate(n_err, n_acc, d)
    rerr, rerr_ub = _rate(n_rej_err, n_rej, d)
    rates = decisions.rates
    total = max(n, 1)
    return PolicyEvaluation(
        n=n,
        accept_rate=rates["accept"],
        review_rate=rates["review"],
        reject_rate=rates["reject"],
        fallback_rate=rates["fallback"],
        auto_accept_rate=n_acc / total,
        n_accepted=n_acc,
        n_errors=n_err,
        error=err,
        error_upper_bound=err_ub,
        n_rejected=n_rej,
        n_reject_errors=n_rej_err,
        reject_error=rerr,
        reject_error_upper_bound=rerr_ub,
        delta=d,
        cost_error=ce,
        cost_review=cv,
        cost_reject=cr,
        expected_cost=(ce * (n_err + n_rej_err) + cv * n_rev + cr * n_rej) / total,
    )
