r"""A two-model cascade: the primary model, then a secondary model, then a person.

An item is accepted on the primary model's answer when ``c1 >= t1``; otherwise it goes to the
secondary model (action ``"fallback"``), whose answer is accepted when ``c2 >= t2``; otherwise a
person reviews it. :meth:`CascadePolicy.fit` chooses ``(t1, t2)`` so that the error rate among
*all* automatically accepted items is certified.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from confide._validation import check_positive_int
from confide.decision._bounds import clopper_pearson_upper, min_samples_for_zero_errors
from confide.decision._policy_base import (
    ACCEPT,
    FALLBACK,
    REVIEW,
    Decisions,
    Policy,
    as_confidence,
    check_same_length,
    check_threshold,
    restore_result,
)
from confide.decision._threshold_common import as_dict, check_binary, check_level, check_scores
from confide.decision._threshold_ltt import (
    DEFAULT_GRID,
    InfeasibleTargetError,
    InsufficientSamplesError,
    SortedScores,
    fixed_sequence,
    quantile_grid,
    start_samples,
)

__all__ = ["CascadeGuarantee", "CascadePolicy"]


@dataclass(frozen=True)
class CascadeGuarantee:
    """The certified operating point of a cascade.

    Attributes
    ----------
    t1, t2 : float
        Primary and secondary accept thresholds (``t2 = inf``: the secondary accepts nothing).
    max_error, delta : float
        ``P(error | auto-accepted) <= max_error`` with probability ``>= 1 - delta``.
    n : int
        Calibration items (each scored by both models).
    n_primary_candidates : int
        Candidate values of ``t1`` (Bonferroni: each family is tested at ``delta / m``).
    n_accepted_primary, n_accepted_secondary, n_errors : int
        Calibration items accepted at each stage, and the errors among all accepted.
    auto_accept_rate : float
        ``(n_accepted_primary + n_accepted_secondary) / n``.
    review_rate : float
        ``1 - auto_accept_rate``.
    error : float
        Empirical error among accepted items.
    error_upper_bound : float
        Clopper-Pearson upper bound at level ``1 - delta / m`` (``<= max_error``).
    p_value : float
        Exact binomial p-value at the chosen pair.
    """

    t1: float
    t2: float
    max_error: float
    delta: float
    n: int
    n_primary_candidates: int
    n_accepted_primary: int
    n_accepted_secondary: int
    n_errors: int
    auto_accept_rate: float
    review_rate: float
    error: float
    error_upper_bound: float
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        """Plain Python types (``inf`` as the string "inf")."""
        return as_dict(self)


class CascadePolicy(Policy):
    r"""Primary model, then secondary model, then a person.

    Parameters
    ----------
    t1 : float
        Accept the primary answer when ``c1 >= t1``.
    t2 : float
        Below ``t1``, accept the secondary answer when ``c2 >= t2`` (``inf``: never).

    Attributes
    ----------
    guarantee_ : CascadeGuarantee or None
        Set by :meth:`fit`.
    """

    type = "cascade"

    def __init__(self, t1: float, t2: float) -> None:
        self.t1 = check_threshold(t1, "t1")
        self.t2 = check_threshold(t2, "t2")
        self.guarantee_: CascadeGuarantee | None = None

    @classmethod
    def fit(
        cls,
        correct1: Any,
        conf1: Any,
        correct2: Any,
        conf2: Any,
        *,
        max_error: float,
        delta: float = 0.05,
        n_primary: int = 10,
        grid2: Any = None,
    ) -> CascadePolicy:
        r"""Choose ``(t1, t2)`` maximising the auto-accept rate with a certified overall error.

        For a pair :math:`(t_1, t_2)` the items accepted automatically are
        :math:`A = \{c_1 \ge t_1\} \cup \{c_1 < t_1, c_2 \ge t_2\}`, each with the error of the
        model whose answer is used, and the risk is :math:`R(t_1, t_2) = P(\text{error} \mid A)`.
        For fixed thresholds the ``n_A`` accepted calibration items are i.i.d. given ``n_A``, so
        the errors are :math:`\mathrm{Bin}(n_A, R)` and
        :math:`p = P(\mathrm{Bin}(n_A, \varepsilon) \le e)` is an exact p-value of
        :math:`H: R > \varepsilon`.

        The procedure (Learn then Test over the 2-D grid):

        1. ``t1`` takes ``m = n_primary`` values, the quantiles of ``c1`` (the ``ceil(k n / m)``-th
           largest, ``k = 1..m``), computed from the confidences alone.
        2. For each ``t1``, the family of ``t2`` values is ``+inf`` (the primary stage alone)
           followed by decreasing candidates: ``grid2`` if given, else 50 quantiles of ``c2`` among
           the items with ``c1 < t1`` (label-free). Candidates accepting fewer than the start
           count of :func:`~confide.decision._threshold_ltt.start_samples` at level ``delta / m``
           are dropped (also label-free).
        3. Each family is tested by fixed-sequence testing at level ``delta / m``, stopping at
           the first p-value above it; by Bonferroni over the ``m`` families every rejected
           pair has :math:`R \le \varepsilon` simultaneously with probability ``>= 1 - delta``.
        4. Among all rejected pairs, the one accepting the most calibration items is returned
           (ties: the first in ``t1`` order, i.e. the higher ``t1``).

        Quantile grids carry the one-boundary-item caveat described in
        :func:`threshold_for_error`; pass ``grid2`` (a fixed array) for a guarantee exact by
        construction in ``t2``.

        Parameters
        ----------
        correct1, conf1 : arrays of shape (n,)
            Whether the primary model was right, and its confidence.
        correct2, conf2 : arrays of shape (n,)
            The same for the secondary model, on the same items.
        max_error : float
            Target error among all auto-accepted items, in (0, 1).
        delta : float, default 0.05
        n_primary : int, default 10
            Number of ``t1`` candidates (the Bonferroni factor).
        grid2 : array of float, optional
            Fixed ``t2`` candidates.

        Raises
        ------
        InsufficientSamplesError
            Too few items to certify ``max_error`` at level ``delta / n_primary``.
        InfeasibleTargetError
            No pair is certified.

        References
        ----------
        Angelopoulos, A. N., Bates, S., Candès, E. J., Jordan, M. I. and Lei, L. (2021). Learn then
        test. arXiv:2110.01052. Bauer, P. (1991). Multiple testing in clinical trials. Stat. Med.
        10(6), 871-890. Viola, P. and Jones, M. (2001). Rapid object detection using a boosted
        cascade of simple features. CVPR.
        """
        eps = check_level(max_error, "max_error")
        d = check_level(delta, "delta")
        m = check_positive_int(n_primary, "n_primary")
        c1, c2 = check_scores(conf1, "conf1"), check_scores(conf2, "conf2")
        w1 = 1 - check_binary(correct1, "correct1", "1 when the primary model was right")
        w2 = 1 - check_binary(correct2, "correct2", "1 when the secondary model was right")
        for name, arr in (("correct1", w1), ("correct2", w2), ("conf2", c2)):
            check_same_length(c1, arr, "conf1", name)
        n, level = int(c1.shape[0]), d / m
        n_min = min_samples_for_zero_errors(eps, level)
        if n < n_min:
            raise InsufficientSamplesError(
                f"CascadePolicy.fit cannot certify an error <= {eps!r} at delta={d!r} over "
                f"{m} primary thresholds (level {level:.3g} each) with {n} items; at least "
                f"{n_min} are needed. Add data, loosen max_error, or lower n_primary.",
                n_required=n_min,
                n=n,
                best_bound=float(clopper_pearson_upper(0, n, level)),
            )
        n_start = min(max(n_min, start_samples(eps, level)), n)
        fixed = None if grid2 is None else np.unique(np.asarray(grid2, np.float64))[::-1]
        best: tuple[int, float, float, int, int, int, float] | None = None
        for t1 in quantile_grid(np.sort(c1), m):
            above = c1 >= t1
            n1, e1 = int(above.sum()), int(w1[above].sum())
            data = SortedScores.build(c2[~above], w2[~above])
            if data.n == 0:
                grid = np.empty(0, dtype=np.float64)
            else:
                grid = fixed if fixed is not None else quantile_grid(data.scores, DEFAULT_GRID)
            t2s = np.concatenate([[math.inf], grid])
            n2, e2 = data.counts(t2s)
            n_acc, n_err = n1 + n2, e1 + e2
            keep = n_acc >= n_start
            t2s, n2, n_acc, n_err = t2s[keep], n2[keep], n_acc[keep], n_err[keep]
            p = special.bdtr(n_err, n_acc, eps)
            k = fixed_sequence(p, level)
            if k == 0:
                continue
            j = int(np.argmax(n_acc[:k]))
            if best is None or n_acc[j] > best[0]:
                best = (
                    int(n_acc[j]),
                    float(t1),
                    float(t2s[j]),
                    n1,
                    int(n2[j]),
                    int(n_err[j]),
                    float(p[j]),
                )
        if best is None:
            raise InfeasibleTargetError(
                f"CascadePolicy.fit: no (t1, t2) pair certifies an error <= {eps!r} among "
                f"auto-accepted items with probability >= {1 - d:.4g} (each of the {m} primary "
                "thresholds failed its first test). Loosen max_error, raise delta, or add data."
            )
        n_acc_b, t1_b, t2_b, n1_b, n2_b, e_b, p_b = best
        policy = cls(t1_b, t2_b)
        policy.guarantee_ = CascadeGuarantee(
            t1=t1_b,
            t2=t2_b,
            max_error=eps,
            delta=d,
            n=n,
            n_primary_candidates=m,
            n_accepted_primary=n1_b,
            n_accepted_secondary=n2_b,
            n_errors=e_b,
            auto_accept_rate=n_acc_b / n,
            review_rate=1.0 - n_acc_b / n,
            error=e_b / n_acc_b,
            error_upper_bound=float(clopper_pearson_upper(e_b, n_acc_b, level)),
            p_value=p_b,
        )
        return policy

    def decide(self, confidence: Any, secondary: Any = None) -> Decisions:
        """Route each item: ``accept`` (primary), ``fallback`` (secondary), ``review``.

        ``secondary`` holds the secondary model's confidence, NaN (or None for all) where the
        item was not sent to it; it is read only for items with ``c1 < t1``. An item below
        ``t1`` without a secondary confidence gets ``fallback`` (send it to the secondary model);
        with one, ``fallback`` means the secondary answer is accepted (``c2 >= t2``) and
        ``review`` that it is not.
        """
        c1 = as_confidence(confidence, "confidence")
        if secondary is None:
            c2: np.ndarray = np.full(c1.shape, np.nan)
        else:
            c2 = np.asarray(secondary, dtype=np.float64).ravel()
            check_same_length(c1, c2, "confidence", "secondary")
        first = c1 >= self.t1
        missing = np.isnan(c2)
        ok2 = ~missing & (c2 >= self.t2)
        rule = np.where(first, 0, np.where(missing, 1, np.where(ok2, 2, 3))).astype(np.int8)
        codes = np.array([ACCEPT, FALLBACK, FALLBACK, REVIEW], dtype=np.int8)[rule]
        t1, t2 = f"{self.t1:.6g}", f"{self.t2:.6g}"
        return Decisions(
            codes=codes,
            rules=rule,
            templates=(
                f"confidence {{c}} >= primary threshold {t1}",
                f"confidence {{c}} < primary threshold {t1}: send to the secondary model",
                f"confidence {{c}} < primary threshold {t1}; secondary {{c2}} >= {t2}",
                f"confidence {{c}} < primary threshold {t1}; secondary {{c2}} < {t2}: review",
            ),
            confidence=c1,
            secondary=c2,
        )

    def params(self) -> dict[str, Any]:
        return {"t1": self.t1, "t2": self.t2}

    def guarantee(self) -> dict[str, Any] | None:
        return None if self.guarantee_ is None else self.guarantee_.to_dict()

    def _set_guarantee(self, data: dict[str, Any] | None) -> None:
        self.guarantee_ = restore_result(CascadeGuarantee, data)
